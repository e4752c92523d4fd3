//go:build !race

package event

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestZeroAllocs holds the zero-allocation contracts of the hot paths.
func TestZeroAllocs(t *testing.T) {
	msg := []byte(`{"event":"said","_EID_":12,"args":["bob","hello there"],"extra":{"a":[1,2,{"b":null}]}}`)
	eid := []byte(`12`)
	args := []any{"bob", "hello \"there\"\n", 42, int64(-1), uint(7), 1.5, float32(2.5), true, nil, []byte("raw"), Raw(`{"a":1}`), json.RawMessage(`[1]`)}
	rawArgs := []byte(`["bob","hi"]`)
	var data any = "result"
	buf := make([]byte, 0, 4096)
	tests := []struct {
		name string
		fn   func()
	}{
		{"Parse", func() { _, _ = Parse(msg) }},
		{"Lookup", func() { _ = ctlTable.Lookup(msg[10:14]) }},
		{"Has", func() { _ = ctlTable.Has("chat_message") }},
		{"AppendPush", func() { buf, _ = AppendPush(buf[:0], "said", args...) }},
		{"AppendPushArgs", func() { buf = AppendPushArgs(buf[:0], "said", rawArgs) }},
		{"AppendArgs", func() { buf, _ = AppendArgs(buf[:0], args...) }},
		{"AppendNotification", func() { buf = AppendNotification(buf[:0], "said", "user-1", 99, rawArgs) }},
		{"AppendAck", func() { buf, _ = AppendAck(buf[:0], eid, data, true) }},
		{"AppendError", func() { buf = AppendError(buf[:0], eid, 404, "no such event") }},
		{"validValue", func() { _ = validValue(msg) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(100, tt.fn); n != 0 {
			t.Errorf("%s: %v allocs, want 0", tt.name, n)
		}
	}
}

// TestCallAllocs bounds the allocations of a call with two strings: the
// argument block and the two strings.
func TestCallAllocs(t *testing.T) {
	msg, err := Parse([]byte(`{"event":"said","args":["bob","hello"]}`))
	if err != nil {
		t.Fatal(err)
	}
	m := benchTable.Lookup(msg.Name)
	recv := reflect.ValueOf(&benchCtl{})
	n := testing.AllocsPerRun(100, func() { m.Call(recv, msg) })
	t.Logf("Call(said, 2 strings): %v allocs", n)
	if n > 3 {
		t.Errorf("Call: %v allocs, want at most 3", n)
	}
}
