package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// callCase is one message for one method of ctl.
type callCase struct {
	name    string
	event   string // method lookup name
	msg     string // a client message, or a raw args array when isArgs
	isArgs  bool
	got     []any // arguments the method saw; nil: not called
	result  any
	hasRes  bool
	callErr string // text of the error the method returned
	decErr  error  // errors.Is target, or errArgError for any *ArgError
}

// errArgError stands for "an *ArgError" in callCase.decErr.
var errArgError = errors.New("any *ArgError")

var ann = &person{Name: "Ann", Age: 30}

var callCases = []callCase{
	// positional args
	{name: "two strings", event: "said", msg: `{"event":"said","args":["bob","hi"]}`, got: []any{"bob", "hi"}},
	{name: "fewer args", event: "said", msg: `{"event":"said","args":["bob"]}`, got: []any{"bob", ""}},
	{name: "empty args", event: "said", msg: `{"event":"said","args":[ ]}`, got: []any{"", ""}},
	{name: "no args two params", event: "said", msg: `{"event":"said","data":"x"}`, got: []any{"", ""}},
	{name: "escaped strings", event: "said", msg: `{"event":"said","args":["b\u00e9","x\ny\ud83d\ude00"]}`, got: []any{"bé", "x\ny😀"}},
	{name: "null string", event: "said", msg: `{"event":"said","args":[null,"b"]}`, got: []any{"", "b"}},
	{name: "more args", event: "said", msg: `{"event":"said","args":["a","b","c"]}`, decErr: ErrTooManyArgs},
	{name: "number into string", event: "said", msg: `{"event":"said","args":[1,"x"]}`, decErr: ErrArgType},
	{name: "args object", event: "said", msg: `{"event":"said","args":{"a":1}}`, decErr: ErrArgsNotArray},
	{name: "args string", event: "said", msg: `{"event":"said","args":"x"}`, decErr: ErrArgsNotArray},
	{name: "args broken", event: "said", msg: `["a",`, isArgs: true, decErr: ErrNotJSON},
	{name: "args trailing", event: "said", msg: `["a"] x`, isArgs: true, decErr: ErrNotJSON},
	{name: "args no comma", event: "said", msg: `["a" "b"]`, isArgs: true, decErr: ErrNotJSON},
	{name: "raw args", event: "said", msg: ` ["a","b"] `, isArgs: true, got: []any{"a", "b"}},
	{name: "no params no args", event: "http_request", msg: `{"event":"http_request"}`, got: []any{}, result: "ok", hasRes: true},
	{name: "no params empty args", event: "http_request", msg: `{"event":"http_request","args":[]}`, got: []any{}, result: "ok", hasRes: true},
	{name: "no params with args", event: "http_request", msg: `{"event":"http_request","args":[1]}`, decErr: ErrTooManyArgs},
	{name: "no params bad args", event: "http_request", msg: `{"event":"http_request","args":3}`, decErr: ErrArgsNotArray},

	// one parameter without args: "data"
	{name: "data string", event: "chat_message", msg: `{"event":"chat_message","data":"hello"}`, got: []any{"hello"}, result: "echo:hello", hasRes: true},
	{name: "data missing", event: "chat_message", msg: `{"event":"chat_message"}`, got: []any{""}, result: "echo:", hasRes: true},
	{name: "data via args", event: "chat_message", msg: `{"event":"chat_message","args":["x"],"data":"y"}`, got: []any{"x"}, result: "echo:x", hasRes: true},
	{name: "data wrong type", event: "chat_message", msg: `{"event":"chat_message","data":5}`, decErr: ErrArgType},
	{name: "data bool", event: "flag", msg: `{"event":"flag","data":true}`, got: []any{true}, result: false, hasRes: true},
	{name: "data string into bool", event: "flag", msg: `{"event":"flag","args":["true"]}`, decErr: ErrArgType},
	{name: "data any", event: "anything", msg: `{"event":"anything","data":{"a":[1]}}`, got: []any{map[string]any{"a": []any{1.0}}}, result: map[string]any{"a": []any{1.0}}, hasRes: true},
	{name: "data any missing", event: "anything", msg: `{"event":"anything"}`, got: []any{nil}, result: nil, hasRes: true},
	{name: "data slice", event: "list", msg: `{"event":"list","data":["a","b"]}`, got: []any{[]string{"a", "b"}}, result: 2, hasRes: true},
	{name: "data slice mismatch", event: "list", msg: `{"event":"list","data":[1]}`, decErr: errArgError},
	{name: "data custom struct", event: "when", msg: `{"event":"when","data":"2024-01-02T03:04:05Z"}`, got: []any{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}, result: 2024, hasRes: true},
	{name: "data custom int", event: "level", msg: `{"event":"level","data":"high"}`, got: []any{level(2)}, result: level(2), hasRes: true},
	{name: "custom int rejects", event: "level", msg: `{"event":"level","args":["bad"]}`, decErr: errArgError},
	{name: "named string", event: "paint", msg: `{"event":"paint","data":"red"}`, got: []any{color("red")}},
	{name: "duration", event: "dur", msg: `{"event":"dur","args":[1000000000]}`, got: []any{time.Second}},

	// one parameter without args: the whole object
	{name: "struct object", event: "profile", msg: `{"event":"profile","name":"Ann","age":30}`, got: []any{*ann}, result: "Ann", hasRes: true},
	{name: "struct via args", event: "profile", msg: `{"event":"profile","args":[{"name":"Bo"}]}`, got: []any{person{Name: "Bo"}}, result: "Bo", hasRes: true},
	{name: "struct mismatch", event: "profile", msg: `{"event":"profile","args":["x"]}`, decErr: errArgError},
	{name: "struct field mismatch", event: "profile", msg: `{"event":"profile","age":"old"}`, decErr: errArgError},
	{name: "struct no object", event: "profile", msg: ``, isArgs: true, got: []any{person{}}, result: "", hasRes: true},
	{name: "pointer object", event: "profile_ptr", msg: `{"event":"profile_ptr","name":"Ann","age":30}`, got: []any{ann}, result: true, hasRes: true},
	{name: "pointer no object", event: "profile_ptr", msg: ``, isArgs: true, got: []any{&person{}}, result: true, hasRes: true},
	{name: "pointer null arg", event: "profile_ptr", msg: `{"event":"profile_ptr","args":[null]}`, got: []any{(*person)(nil)}, result: false, hasRes: true},
	{name: "pointer missing arg", event: "profile_ptr", msg: `{"event":"profile_ptr","args":[]}`, got: []any{(*person)(nil)}, result: false, hasRes: true},
	{name: "map object", event: "settings", msg: `{"event":"settings","_EID_":4,"a":1,"b":2}`, got: []any{map[string]int{"a": 1, "b": 2}}, result: 2, hasRes: true},
	{name: "map escaped keys", event: "settings", msg: `{"\u0065vent":"settings","\u0061":1}`, got: []any{map[string]int{"a": 1}}, result: 1, hasRes: true},
	{name: "map mismatch", event: "settings", msg: `{"event":"settings","a":"x"}`, decErr: errArgError},

	// raw parameters
	{name: "raw object", event: "echo", msg: `{"event":"echo", "x":[1]}`, got: []any{`{"event":"echo", "x":[1]}`}, result: `{"event":"echo", "x":[1]}`, hasRes: true},
	{name: "raw args", event: "echo", msg: `{"event":"echo","args":[1, 2]}`, got: []any{`[1, 2]`}, result: `[1, 2]`, hasRes: true},
	{name: "raw message", event: "echo_msg", msg: `{"event":"echo_msg","args":[true]}`, got: []any{`[true]`}, result: Raw(`[true]`), hasRes: true},
	{name: "raw message object", event: "echo_msg", msg: `{"event":"echo_msg"}`, got: []any{`{"event":"echo_msg"}`}, result: Raw(`{"event":"echo_msg"}`), hasRes: true},
	{name: "mixed", event: "mixed", msg: `{"event":"mixed","args":["a",2,{"name":"x"},{"k":[1]}]}`, got: []any{"a", 2, &person{Name: "x"}, `{"k":[1]}`}},

	// numbers
	{name: "ints", event: "add", msg: `{"event":"add","args":[2,-3]}`, got: []any{2, -3}, result: -1, hasRes: true},
	{name: "string into int", event: "add", msg: `{"event":"add","args":["x"]}`, decErr: ErrArgType},
	{name: "fraction into int", event: "add", msg: `{"event":"add","args":[1.5,1]}`, decErr: ErrArgType},
	{name: "exponent into int", event: "add", msg: `{"event":"add","args":[1,1e2]}`, decErr: ErrArgType},
	{name: "null int", event: "add", msg: `{"event":"add","args":[null,2]}`, got: []any{0, 2}, result: 2, hasRes: true},
	{name: "bool into int", event: "add", msg: `{"event":"add","args":[true]}`, decErr: ErrArgType},
	{name: "int8 max", event: "small", msg: `{"event":"small","args":[127]}`, got: []any{int8(127)}},
	{name: "int8 overflow", event: "small", msg: `{"event":"small","args":[128]}`, decErr: ErrArgType},
	{name: "int8 underflow", event: "small", msg: `{"event":"small","args":[-129]}`, decErr: ErrArgType},
	{name: "uint16 max", event: "unsigned", msg: `{"event":"unsigned","args":[65535]}`, got: []any{uint16(65535)}},
	{name: "uint negative", event: "unsigned", msg: `{"event":"unsigned","args":[-1]}`, decErr: ErrArgType},
	{name: "floats", event: "div", msg: `{"event":"div","args":[1,4e0]}`, got: []any{1.0, 4.0}, result: 0.25, hasRes: true},
	{name: "scalars", event: "scalars", msg: `{"event":"scalars","args":["s",true,-1,-8,1,16,1.5,2.5]}`, got: []any{"s", true, -1, int8(-8), uint(1), uint16(16), 1.5, float32(2.5)}},

	// results
	{name: "value and error", event: "div", msg: `{"event":"div","args":[1,0]}`, got: []any{1.0, 0.0}, callErr: "division by zero"},
	{name: "error", event: "fail", msg: `{"event":"fail"}`, got: []any{}, callErr: "boom"},
	{name: "nil error", event: "succeed", msg: `{"event":"succeed"}`, got: []any{}},
}

func TestCall(t *testing.T) {
	t.Parallel()
	for _, tt := range callCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := message(t, tt.msg, tt.isArgs)
			m := ctlTable.Lookup([]byte(tt.event))
			if m == nil {
				t.Fatalf("no method for %q", tt.event)
			}
			var c ctl
			res, hasRes, callErr, decErr := m.Call(reflect.ValueOf(&c), msg)
			checkCall(t, tt, &c, res, hasRes, callErr, decErr)
		})
	}
}

// message builds the Message of a test case.
func message(t *testing.T, in string, isArgs bool) Message {
	t.Helper()
	if isArgs {
		return ParseArgs([]byte(in))
	}
	msg, err := Parse([]byte(in))
	if err != nil {
		t.Fatalf("Parse(%s): %v", in, err)
	}
	return msg
}

func checkCall(t *testing.T, tt callCase, c *ctl, res any, hasRes bool, callErr, decErr error) {
	t.Helper()
	if why := callMismatch(tt, c, res, hasRes, callErr, decErr); why != "" {
		t.Error(why)
	}
}

// callMismatch says how a call's outcome differs from the case's, or "".
// It does not use a *testing.T, so any goroutine may call it.
func callMismatch(tt callCase, c *ctl, res any, hasRes bool, callErr, decErr error) string {
	switch {
	case tt.decErr == errArgError:
		var ae *ArgError
		if !errors.As(decErr, &ae) {
			return fmt.Sprintf("decodeErr = %v, want an *ArgError", decErr)
		}
	case !errors.Is(decErr, tt.decErr):
		return fmt.Sprintf("decodeErr = %v, want %v", decErr, tt.decErr)
	}
	if decErr != nil {
		if c.got != nil || res != nil || hasRes || callErr != nil {
			return fmt.Sprintf("method called despite decodeErr: got %v", c.got)
		}
		if decErr.Error() == "" {
			return "empty error text"
		}
		return ""
	}
	if !reflect.DeepEqual(c.got, tt.got) {
		return fmt.Sprintf("method got %#v, want %#v", c.got, tt.got)
	}
	if hasRes != tt.hasRes || !reflect.DeepEqual(res, tt.result) {
		return fmt.Sprintf("result = %#v (%v), want %#v (%v)", res, hasRes, tt.result, tt.hasRes)
	}
	if gotText := errText(callErr); gotText != tt.callErr {
		return fmt.Sprintf("callErr = %q, want %q", gotText, tt.callErr)
	}
	return ""
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestArgErrorText(t *testing.T) {
	t.Parallel()
	var c ctl
	_, _, _, err := ctlTable.Lookup([]byte("add")).Call(reflect.ValueOf(&c), ParseArgs([]byte(`[1,"x"]`)))
	var ae *ArgError
	if !errors.As(err, &ae) || ae.Index != 1 || ae.Type != reflect.TypeFor[int]() || !errors.Is(err, ErrArgType) {
		t.Fatalf("err = %#v", err)
	}
	if want := "event: argument 1 (int): event: argument type mismatch"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

// TestCallCopies checks that decoded values do not alias the message
// buffer, which the caller reuses after Call returns.
func TestCallCopies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		event, msg string
		want       []any
	}{
		{"said", `{"event":"said","args":["bob","hi"]}`, []any{"bob", "hi"}},
		{"list", `{"event":"list","data":["x","y"]}`, []any{[]string{"x", "y"}}},
		{"anything", `{"event":"anything","data":{"k":"v"}}`, []any{map[string]any{"k": "v"}}},
		{"profile", `{"event":"profile","name":"Ann"}`, []any{person{Name: "Ann"}}},
		{"echo_msg", `{"event":"echo_msg","args":[1]}`, []any{`[1]`}},
	}
	for _, tt := range tests {
		buf := []byte(tt.msg)
		msg, err := Parse(buf)
		if err != nil {
			t.Fatal(err)
		}
		var c ctl
		if _, _, _, err := ctlTable.Lookup(msg.Name).Call(reflect.ValueOf(&c), msg); err != nil {
			t.Fatal(err)
		}
		for i := range buf {
			buf[i] = '#'
		}
		if !reflect.DeepEqual(c.got, tt.want) {
			t.Errorf("%s: after reuse of the buffer got %#v, want %#v", tt.event, c.got, tt.want)
		}
	}
}

// TestCallConcurrent runs one table from many goroutines (run with -race)
// and checks every call's outcome, as TestCall does one at a time.
func TestCallConcurrent(t *testing.T) {
	t.Parallel()
	msgs := make([]Message, len(callCases)) // parsed once: Parse is tested elsewhere
	for i, tt := range callCases {
		msgs[i] = message(t, tt.msg, tt.isArgs)
	}
	const goroutines, calls = 8, 200
	errs := make(chan string, goroutines*calls)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				k := (g + i) % len(callCases)
				tt := callCases[k]
				var c ctl
				res, hasRes, callErr, decErr := ctlTable.Lookup([]byte(tt.event)).Call(reflect.ValueOf(&c), msgs[k])
				if why := callMismatch(tt, &c, res, hasRes, callErr, decErr); why != "" {
					errs <- tt.name + ": " + why
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for why := range errs {
		t.Error(why)
	}
}

func TestCallJSONResult(t *testing.T) {
	t.Parallel()
	// The ack of a method result decodes to what the method returned.
	var c ctl
	msg, _ := Parse([]byte(`{"event":"profile","_EID_":"e1","name":"Zoë","age":7}`))
	res, ok, _, _ := ctlTable.Lookup(msg.Name).Call(reflect.ValueOf(&c), msg)
	out, err := AppendAck(nil, msg.EID, res, ok)
	if err != nil {
		t.Fatal(err)
	}
	var ack struct {
		Event string          `json:"event"`
		EID   json.RawMessage `json:"_EID_"`
		Data  string          `json:"data"`
	}
	if err := json.Unmarshal(out, &ack); err != nil || ack.Event != "_ack_" || string(ack.EID) != `"e1"` || ack.Data != "Zoë" {
		t.Errorf("ack %s → %+v, %v", out, ack, err)
	}
}

func TestCallRawInvalid(t *testing.T) {
	t.Parallel()
	var c ctl
	_, _, _, err := ctlTable.Lookup([]byte("echo")).Call(reflect.ValueOf(&c), ParseArgs([]byte(`[1,`)))
	if !errors.Is(err, ErrNotJSON) || c.got != nil {
		t.Fatalf("err = %v, got %v", err, c.got)
	}
	_, _, _, err = ctlTable.Lookup([]byte("echo")).Call(reflect.ValueOf(&c), ParseArgs([]byte(` [1] `)))
	if err != nil || !reflect.DeepEqual(c.got, []any{` [1] `}) {
		t.Fatalf("err = %v, got %v", err, c.got)
	}
}
