package event

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func addSeeds(f *testing.F, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	for _, s := range jsonCases {
		f.Add([]byte(s))
	}
	for _, tt := range callCases {
		f.Add([]byte(tt.msg))
	}
}

// FuzzParse checks Parse against encoding/json: the same inputs are valid
// objects, and the same "event", "_EID_" and "args" come out.
func FuzzParse(f *testing.F) {
	addSeeds(f, `{"event":"said","_EID_":1,"args":["a"]}`, `{"\u0065vent":"\ud83d"}`, `{"event":"a","event":2}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		var ref map[string]json.RawMessage
		refErr := json.Unmarshal(b, &ref)
		if i := skipWS(b, 0); refErr != nil || i >= len(b) || b[i] != '{' {
			if err != ErrNotJSON {
				t.Fatalf("Parse(%q) = %v; encoding/json: %v", b, err, refErr)
			}
			return
		}
		var name string
		raw, ok := ref["event"]
		if !ok || json.Unmarshal(raw, &name) != nil || raw[0] != '"' {
			if err != ErrNoEvent {
				t.Fatalf("Parse(%q) = %v, want ErrNoEvent", b, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Parse(%q) = %v", b, err)
		}
		if string(m.Name) != name {
			t.Fatalf("Name %q, encoding/json %q", m.Name, name)
		}
		if !bytes.Equal(m.EID, nonNull(ref["_EID_"])) || !bytes.Equal(m.Args, nonNull(ref["args"])) {
			t.Fatalf("EID %q Args %q; encoding/json %q %q", m.EID, m.Args, ref["_EID_"], ref["args"])
		}
		if !bytes.Equal(m.Object, bytes.Trim(b, " \t\r\n")) {
			t.Fatalf("Object %q", m.Object)
		}
	})
}

// FuzzValid checks the scanner against json.Valid on any input.
func FuzzValid(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validValue(b), json.Valid(b); got != want {
			t.Fatalf("validValue(%q) = %v, json.Valid %v", b, got, want)
		}
	})
}

// FuzzCall feeds random messages and argument arrays to every method of
// the test controller: nothing panics, and the fast decoding of scalars
// agrees with encoding/json.
func FuzzCall(f *testing.F) {
	addSeeds(f, `["s",true,-1,-8,1,16,1.5,2.5]`, `["\u00e9",false,9223372036854775807,127,0,65535,1e308,3.4e38]`)
	methods := ctlTable.methods
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range methods {
			var c ctl
			m.Call(reflect.ValueOf(&c), ParseArgs(b))
			if msg, err := Parse(b); err == nil {
				m.Call(reflect.ValueOf(&c), msg)
			}
		}
		checkScalars(t, b)
	})
}

// checkScalars decodes b as the args of Scalars, and compares with
// encoding/json decoding each element into the same parameter type.
func checkScalars(t *testing.T, b []byte) {
	m := ctlTable.Lookup([]byte("scalars"))
	var c ctl
	_, _, _, decErr := m.Call(reflect.ValueOf(&c), ParseArgs(b))
	if len(b) == 0 {
		return
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(b, &elems); err != nil || len(elems) > len(m.params) {
		if decErr == nil {
			t.Fatalf("Call(%q) decoded; encoding/json: %v, %d elements", b, err, len(elems))
		}
		return
	}
	want := make([]any, len(m.params))
	refOK := true
	for i, p := range m.params {
		v := reflect.New(p)
		if i < len(elems) && json.Unmarshal(elems[i], v.Interface()) != nil {
			refOK = false
		}
		want[i] = v.Elem().Interface()
	}
	if refOK != (decErr == nil) {
		t.Fatalf("Call(%q) decodeErr %v; encoding/json ok %v", b, decErr, refOK)
	}
	if refOK && !reflect.DeepEqual(c.got, want) {
		t.Fatalf("Call(%q) got %#v; encoding/json %#v", b, c.got, want)
	}
}

// FuzzAppendString checks the string encoder against encoding/json.
func FuzzAppendString(f *testing.F) {
	for _, s := range stringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendString(nil, s)), stdString(t, s); got != want {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
		var back string
		if err := json.Unmarshal(appendString(nil, s), &back); err != nil {
			t.Fatal(err)
		}
	})
}
