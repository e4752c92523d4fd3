package event

import (
	"errors"
	"reflect"
	"testing"
)

func TestCallValues(t *testing.T) {
	t.Parallel()
	shared := []string{"a"}
	tests := []struct {
		name, event string
		args        []any
		got         []any
		result      any
		hasRes      bool
		callErr     string
		decErr      error
	}{
		{name: "assignable", event: "said", args: []any{"bob", "hi"}, got: []any{"bob", "hi"}},
		{name: "fewer", event: "said", args: []any{"bob"}, got: []any{"bob", ""}},
		{name: "none", event: "said", got: []any{"", ""}},
		{name: "nil arg", event: "said", args: []any{nil, "x"}, got: []any{"", "x"}},
		{name: "more", event: "said", args: []any{"a", "b", "c"}, decErr: ErrTooManyArgs},
		{name: "int into string", event: "said", args: []any{1}, decErr: ErrArgType},
		{name: "named string", event: "paint", args: []any{"red"}, got: []any{color("red")}},
		{name: "string into named", event: "said", args: []any{color("red"), "x"}, got: []any{"red", "x"}},
		{name: "int kinds", event: "add", args: []any{int8(2), uint(3)}, got: []any{2, 3}, result: 5, hasRes: true},
		{name: "whole float into int", event: "add", args: []any{2.0, 3}, got: []any{2, 3}, result: 5, hasRes: true},
		{name: "fraction into int", event: "add", args: []any{2.5, 3}, decErr: ErrArgType},
		{name: "int into float", event: "div", args: []any{1, uint8(4)}, got: []any{1.0, 4.0}, result: 0.25, hasRes: true},
		{name: "float32 into float64", event: "div", args: []any{float32(1.5), 1}, got: []any{1.5, 1.0}, result: 1.5, hasRes: true},
		{name: "overflow", event: "small", args: []any{300}, decErr: ErrArgType},
		{name: "negative into uint", event: "unsigned", args: []any{-1}, decErr: ErrArgType},
		{name: "uint fits", event: "unsigned", args: []any{uint64(7)}, got: []any{uint16(7)}},
		{name: "struct", event: "profile", args: []any{*ann}, got: []any{*ann}, result: "Ann", hasRes: true},
		{name: "map into struct", event: "profile", args: []any{map[string]any{"name": "Z"}}, got: []any{person{Name: "Z"}}, result: "Z", hasRes: true},
		{name: "struct into pointer", event: "profile_ptr", args: []any{*ann}, got: []any{ann}, result: true, hasRes: true},
		{name: "raw", event: "echo", args: []any{Raw(`[1]`)}, got: []any{`[[1]]`}, result: `[[1]]`, hasRes: true},
		{name: "bytes into raw", event: "echo", args: []any{[]byte(`{}`)}, got: []any{`["e30="]`}, result: `["e30="]`, hasRes: true},
		{name: "raw takes every arg", event: "echo", args: []any{"x", 1, nil}, got: []any{`["x",1,null]`}, result: `["x",1,null]`, hasRes: true},
		{name: "raw no args", event: "echo", got: []any{`[]`}, result: `[]`, hasRes: true},
		{name: "raw unencodable", event: "echo", args: []any{make(chan int)}, decErr: ErrUnsupportedValue},
		{name: "struct into raw", event: "echo_msg", args: []any{person{Name: "n"}}, got: []any{`[{"name":"n","age":0}]`}, result: Raw(`[{"name":"n","age":0}]`), hasRes: true},
		{name: "slice shared", event: "list", args: []any{shared}, got: []any{shared}, result: 1, hasRes: true},
		{name: "any slice into strings", event: "list", args: []any{[]any{"a", "b"}}, got: []any{[]string{"a", "b"}}, result: 2, hasRes: true},
		{name: "custom decoder", event: "level", args: []any{"high"}, got: []any{level(2)}, result: level(2), hasRes: true},
		{name: "custom decoder direct", event: "level", args: []any{level(1)}, got: []any{level(1)}, result: level(1), hasRes: true},
		{name: "any", event: "anything", args: []any{[]int{1}}, got: []any{[]int{1}}, result: []int{1}, hasRes: true},
		{name: "unencodable", event: "anything", args: []any{make(chan int)}, got: []any{nil}, hasRes: true},
		{name: "unencodable into string", event: "said", args: []any{make(chan int)}, decErr: ErrUnsupportedValue},
		{name: "no params", event: "http_request", got: []any{}, result: "ok", hasRes: true},
		{name: "no params extra", event: "http_request", args: []any{1}, decErr: ErrTooManyArgs},
		{name: "error", event: "div", args: []any{1, 0}, got: []any{1.0, 0.0}, callErr: "division by zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c ctl
			res, hasRes, callErr, decErr := ctlTable.Lookup([]byte(tt.event)).CallValues(reflect.ValueOf(&c), tt.args)
			if !errors.Is(decErr, tt.decErr) {
				t.Fatalf("decodeErr = %v, want %v", decErr, tt.decErr)
			}
			if decErr != nil {
				if c.got != nil {
					t.Fatalf("method called: %v", c.got)
				}
				return
			}
			if tt.name == "unencodable" { // any takes the channel as it is
				if ch, ok := c.got[0].(chan int); !ok || ch == nil {
					t.Fatalf("got %#v", c.got)
				}
				return
			}
			if !reflect.DeepEqual(c.got, tt.got) {
				t.Errorf("method got %#v, want %#v", c.got, tt.got)
			}
			if hasRes != tt.hasRes || !reflect.DeepEqual(res, tt.result) {
				t.Errorf("result = %#v (%v), want %#v (%v)", res, hasRes, tt.result, tt.hasRes)
			}
			if errText(callErr) != tt.callErr {
				t.Errorf("callErr = %v, want %q", callErr, tt.callErr)
			}
		})
	}
}

// TestCallValuesMatchesCall checks that a local call sees what a remote
// node sees after AppendArgs and ParseArgs.
func TestCallValuesMatchesCall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		event string
		args  []any
	}{
		{"said", []any{"bob", "hé\n"}},
		{"add", []any{2, int64(-7)}},
		{"div", []any{1.25, 2}},
		{"profile", []any{person{Name: "x", Age: 3}}},
		{"list", []any{[]string{"a", "b"}}},
		{"scalars", []any{"s", true, -1, int8(2), uint(3), uint16(4), 0.5, float32(0.25)}},
		{"mixed", []any{"a", 1, &person{Name: "p"}, Raw(`{"k":[1,2]}`)}},
		{"level", []any{"low"}},
		{"echo", []any{"x", 1, Raw(`{"k":[1]}`)}},
		{"echo", nil},
		{"echo_msg", []any{[]byte("b"), person{Name: "p"}}},
	}
	for _, tt := range tests {
		m := ctlTable.Lookup([]byte(tt.event))
		var local, remote ctl
		r1, ok1, e1, d1 := m.CallValues(reflect.ValueOf(&local), tt.args)
		raw, err := AppendArgs(nil, tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		r2, ok2, e2, d2 := m.Call(reflect.ValueOf(&remote), ParseArgs(raw))
		if d1 != nil || d2 != nil || e1 != nil || e2 != nil {
			t.Fatalf("%s: errors %v %v %v %v", tt.event, d1, d2, e1, e2)
		}
		if !reflect.DeepEqual(local.got, remote.got) || ok1 != ok2 || !reflect.DeepEqual(r1, r2) {
			t.Errorf("%s: local %#v → %#v, remote (%s) %#v → %#v", tt.event, local.got, r1, raw, remote.got, r2)
		}
	}
}
