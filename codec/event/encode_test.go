package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestAppendExact(t *testing.T) {
	t.Parallel()
	type pt struct {
		X int `json:"x"`
	}
	tests := []struct {
		name string
		run  func(dst []byte) ([]byte, error)
		want string
		err  error
	}{
		{"event", func(d []byte) ([]byte, error) { return AppendPush(d, "said", "bob", "hi") }, `{"event":"said","args":["bob","hi"]}`, nil},
		{"event no args", func(d []byte) ([]byte, error) { return AppendPush(d, "ping") }, `{"event":"ping"}`, nil},
		{"event escaped name", func(d []byte) ([]byte, error) { return AppendPush(d, "a\"b", nil) }, `{"event":"a\"b","args":[null]}`, nil},
		{"event scalars", func(d []byte) ([]byte, error) {
			return AppendPush(d, "s", true, false, -1, int64(-2), int32(3), uint(4), uint64(5), uint32(6), 1.5, float32(0.1))
		}, `{"event":"s","args":[true,false,-1,-2,3,4,5,6,1.5,0.1]}`, nil},
		{"event bytes raw", func(d []byte) ([]byte, error) {
			return AppendPush(d, "b", []byte("hi"), []byte(nil), Raw(` {"a":1}`), json.RawMessage(`[1]`), Raw(nil))
		}, `{"event":"b","args":["aGk=",null, {"a":1},[1],null]}`, nil},
		{"event sonic", func(d []byte) ([]byte, error) {
			return AppendPush(d, "m", map[string]int{"b": 2, "a": 1}, pt{7}, []string{"x"}, int8(-8), uint16(16), color("red"))
		}, `{"event":"m","args":[{"a":1,"b":2},{"x":7},["x"],-8,16,"red"]}`, nil},
		{"push args", func(d []byte) ([]byte, error) { return AppendPushArgs(d, "said", []byte(`["bob",1]`)), nil }, `{"event":"said","args":["bob",1]}`, nil},
		{"push args empty", func(d []byte) ([]byte, error) { return AppendPushArgs(d, "ping", []byte(`[]`)), nil }, `{"event":"ping"}`, nil},
		{"push args nil", func(d []byte) ([]byte, error) { return AppendPushArgs(d, "ping", nil), nil }, `{"event":"ping"}`, nil},
		{"push args name escaped", func(d []byte) ([]byte, error) { return AppendPushArgs(d, "\xff\u2028\"", nil), nil }, `{"event":"\ufffd\u2028\""}`, nil},
		{"event NaN", func(d []byte) ([]byte, error) { return AppendPush(d, "n", math.NaN()) }, ``, ErrUnsupportedValue},
		{"event Inf", func(d []byte) ([]byte, error) { return AppendPush(d, "n", float32(math.Inf(1))) }, ``, ErrUnsupportedValue},
		{"event chan", func(d []byte) ([]byte, error) { return AppendPush(d, "n", make(chan int)) }, ``, ErrUnsupportedValue},
		{"event nested NaN", func(d []byte) ([]byte, error) { return AppendPush(d, "n", []float64{math.NaN()}) }, ``, ErrUnsupportedValue},
		{"event bad raw", func(d []byte) ([]byte, error) { return AppendPush(d, "n", Raw(`{`)) }, ``, ErrInvalidRaw},
		{"args", func(d []byte) ([]byte, error) { return AppendArgs(d, "a", 1) }, `["a",1]`, nil},
		{"args none", func(d []byte) ([]byte, error) { return AppendArgs(d) }, `[]`, nil},
		{"args error", func(d []byte) ([]byte, error) { return AppendArgs(d, 1, math.Inf(-1)) }, ``, ErrUnsupportedValue},
		{"ack", func(d []byte) ([]byte, error) { return AppendAck(d, []byte(`7`), nil, false) }, `{"event":"_ack_","_EID_":7}`, nil},
		{"ack string eid", func(d []byte) ([]byte, error) { return AppendAck(d, []byte(`"e-1"`), "ok", true) }, `{"event":"_ack_","_EID_":"e-1","data":"ok"}`, nil},
		{"ack nil data", func(d []byte) ([]byte, error) { return AppendAck(d, []byte(`1`), nil, true) }, `{"event":"_ack_","_EID_":1,"data":null}`, nil},
		{"ack struct", func(d []byte) ([]byte, error) { return AppendAck(d, []byte(`1`), pt{1}, true) }, `{"event":"_ack_","_EID_":1,"data":{"x":1}}`, nil},
		{"ack no eid", func(d []byte) ([]byte, error) { return AppendAck(d, nil, 2, true) }, `{"event":"_ack_","data":2}`, nil},
		{"ack error", func(d []byte) ([]byte, error) { return AppendAck(d, []byte(`1`), math.NaN(), true) }, ``, ErrUnsupportedValue},
		{"error", func(d []byte) ([]byte, error) { return AppendError(d, []byte(`7`), 404, "no such event"), nil }, `{"event":"_err_","_EID_":7,"status":404,"error":"no such event"}`, nil},
		{"error no eid", func(d []byte) ([]byte, error) { return AppendError(d, nil, 500, "a \"b\"\n"), nil }, `{"event":"_err_","status":500,"error":"a \"b\"\n"}`, nil},
		{"error ref", func(d []byte) ([]byte, error) {
			return AppendErrorRef(d, []byte(`"x"`), 500, "internal error", "ab-1"), nil
		}, `{"event":"_err_","_EID_":"x","status":500,"error":"internal error","ref":"ab-1"}`, nil},
		{"notification", func(d []byte) ([]byte, error) {
			return AppendNotification(d, "said", "user-1", 42, []byte(`["x"]`)), nil
		}, `{"event":"said","_NID_":42,"_identity":"user-1","args":["x"]}`, nil},
		{"notification no args", func(d []byte) ([]byte, error) {
			return AppendNotification(d, "said", "ü", math.MaxUint64, nil), nil
		}, `{"event":"said","_NID_":18446744073709551615,"_identity":"ü"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prefix := []byte("prefix:")
			got, err := tt.run(prefix)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if string(got) != "prefix:"+tt.want {
				t.Fatalf("got  %s\nwant prefix:%s", got, tt.want)
			}
			if err == nil && !json.Valid(got[len(prefix):]) {
				t.Errorf("invalid JSON %s", got)
			}
		})
	}
}

// stdString encodes s as encoding/json does, without HTML escaping.
func stdString(t testing.TB, s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

var stringCases = []string{
	"", "plain", `q"uote`, `back\slash`, "\x00\x01\x1f\x7f", "\b\f\n\r\t", "<a&b>",
	"é😀", "\u2028\u2029", "\xff", "a\xc3", "\xed\xa0\x80", "mixed \xfe é \n end",
	strings.Repeat("long ", 100),
}

func TestAppendString(t *testing.T) {
	t.Parallel()
	for _, s := range stringCases {
		if got, want := string(appendString(nil, s)), stdString(t, s); got != want {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	t.Parallel()
	for _, f := range []float64{0, -0.0, 1, -1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64, 0.1} {
		want, _ := json.Marshal(f)
		if got, _ := appendFloat(nil, f, 64); string(got) != string(want) {
			t.Errorf("appendFloat(%v, 64) = %s, want %s", f, got, want)
		}
		f32 := float32(f)
		if math.IsInf(float64(f32), 0) {
			continue
		}
		want, _ = json.Marshal(f32)
		if got, _ := appendFloat(nil, float64(f32), 32); string(got) != string(want) {
			t.Errorf("appendFloat(%v, 32) = %s, want %s", f32, got, want)
		}
	}
}

// TestAppendSonicUTF8 checks that values encoded by sonic get the same
// replacement of invalid UTF-8 as the fast path.
func TestAppendSonicUTF8(t *testing.T) {
	t.Parallel()
	got, err := appendValue([]byte("x"), []string{"a\xffb"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `x["a\ufffdb"]`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestAppendPushRoundTrip(t *testing.T) {
	t.Parallel()
	out, err := AppendPush(nil, "mixed", "bob\n", 3, person{Name: "p"}, Raw(`[true]`))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(%s): %v", out, err)
	}
	var c ctl
	if _, _, _, err := ctlTable.Lookup(msg.Name).Call(reflect.ValueOf(&c), msg); err != nil {
		t.Fatal(err)
	}
	if want := []any{"bob\n", 3, &person{Name: "p"}, `[true]`}; !reflect.DeepEqual(c.got, want) {
		t.Errorf("got %#v, want %#v", c.got, want)
	}
}
