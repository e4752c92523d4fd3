package event

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in              string
		err             error
		name, eid, args string
		nilEID, nilArgs bool
	}{
		{in: `{"event":"said"}`, name: "said", nilEID: true, nilArgs: true},
		{in: ` {"event":"said","_EID_":7,"args":["a",1]} `, name: "said", eid: "7", args: `["a",1]`},
		{in: `{"_EID_":"x-1","event":"said","args":[]}`, name: "said", eid: `"x-1"`, args: `[]`},
		{in: `{"event":"said","_EID_":null,"args":null}`, name: "said", nilEID: true, nilArgs: true},
		{in: `{"event":"said","args":{"a":1}}`, name: "said", nilEID: true, args: `{"a":1}`},
		{in: `{"event":"a","event":"b"}`, name: "b", nilEID: true, nilArgs: true},
		{in: `{"event":"a","event":1}`, err: ErrNoEvent},
		{in: `{"\u0065vent":"x\u00e9\n"}`, name: "xé\n", nilEID: true, nilArgs: true},
		{in: `{"Event":"said"}`, err: ErrNoEvent},
		{in: `{"event":null}`, err: ErrNoEvent},
		{in: `{"event":["said"]}`, err: ErrNoEvent},
		{in: `{}`, err: ErrNoEvent},
		{in: `{"event":""}`, name: "", nilEID: true, nilArgs: true},
		{in: `{"data":{"event":"inner"},"event":"outer"}`, name: "outer", nilEID: true, nilArgs: true},
		{in: `{"event":"said",}`, err: ErrNotJSON},
		{in: `{"event":"said"`, err: ErrNotJSON},
		{in: `{"event":"said"} x`, err: ErrNotJSON},
		{in: `["said"]`, err: ErrNotJSON},
		{in: `"said"`, err: ErrNotJSON},
		{in: ``, err: ErrNotJSON},
		{in: `null`, err: ErrNotJSON},
		{in: `{"event":"said","x":[1,}`, err: ErrNotJSON},
		{in: "{\"event\":\"sa\x01id\"}", err: ErrNotJSON},
		{in: "{\"event\":\"sa\xffid\"}", name: "sa\uFFFDid", nilEID: true, nilArgs: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			m, err := Parse([]byte(tt.in))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if string(m.Name) != tt.name {
				t.Errorf("Name = %q, want %q", m.Name, tt.name)
			}
			checkRaw(t, "EID", m.EID, tt.eid, tt.nilEID)
			checkRaw(t, "Args", m.Args, tt.args, tt.nilArgs)
			if want := strings.Trim(tt.in, " \t\r\n"); string(m.Object) != want {
				t.Errorf("Object = %q, want %q", m.Object, want)
			}
		})
	}
}

func checkRaw(t *testing.T, field string, got []byte, want string, wantNil bool) {
	t.Helper()
	if wantNil != (got == nil) || string(got) != want {
		t.Errorf("%s = %q (nil %v), want %q (nil %v)", field, got, got == nil, want, wantNil)
	}
}

func TestParseNameAliases(t *testing.T) {
	t.Parallel()
	in := []byte(`{"event":"said"}`)
	m, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	in[10] = 'S'
	if string(m.Name) != "Said" {
		t.Errorf("Name does not alias the input: %q", m.Name)
	}
}

func TestParseArgs(t *testing.T) {
	t.Parallel()
	if m := ParseArgs(nil); m.Args != nil || m.Object != nil || m.Name != nil {
		t.Errorf("ParseArgs(nil) = %+v", m)
	}
	if m := ParseArgs([]byte(`["a"]`)); string(m.Args) != `["a"]` || m.Object != nil {
		t.Errorf("ParseArgs = %+v", m)
	}
}

func TestLookupKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ obj, key, want string }{
		{`{"data":5}`, "data", "5"},
		{`{"a":{"data":1},"data":[2]}`, "data", "[2]"},
		{`{"data":1,"data":"x"}`, "data", `"x"`},
		{`{"d\u0061ta":true}`, "data", "true"},
		{`{"Data":1}`, "data", ""},
		{`{}`, "data", ""},
		{``, "data", ""},
	}
	for _, tt := range tests {
		if got := string(lookupKey([]byte(tt.obj), tt.key)); got != tt.want {
			t.Errorf("lookupKey(%s, %s) = %q, want %q", tt.obj, tt.key, got, tt.want)
		}
	}
}
