package event

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestTableLookup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string // "" when no method
	}{
		{"said", "Said"},
		{"Said", "Said"},
		{"chat_message", "ChatMessage"},
		{"chatMessage", "ChatMessage"},
		{"ChatMessage", "ChatMessage"},
		{"http_request", "HTTPRequest"},
		{"httpRequest", "HTTPRequest"},
		{"HTTPRequest", "HTTPRequest"},
		{"profile_ptr", "ProfilePtr"},
		{"chatmessage", ""},
		{"CHAT_MESSAGE", ""},
		{"", ""},
		// lifecycle callbacks and socket methods are excluded
		{"on_open", ""}, {"OnOpen", ""}, {"onOpen", ""},
		{"write", ""}, {"id", ""}, {"broadcast", ""},
		// unexported helper
		{"record", ""},
		// signatures that cannot be events
		{"ch", ""}, {"fn", ""}, {"vari", ""}, {"three", ""}, {"two", ""},
		{"ret_chan", ""}, {"reader", ""}, {"cplx", ""}, {"ptr", ""}, {"ptr_fn", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := ctlTable.Lookup([]byte(tt.name))
			if tt.method == "" {
				if m != nil || ctlTable.Has(tt.name) {
					t.Fatalf("Lookup(%q) = %s, want nil", tt.name, m.Name())
				}
				return
			}
			if m == nil || m.Name() != tt.method || !ctlTable.Has(tt.name) {
				t.Fatalf("Lookup(%q) = %v, want %s", tt.name, m, tt.method)
			}
			if m.Event() != snakeCase(tt.method) {
				t.Errorf("Event() = %q", m.Event())
			}
		})
	}
}

func TestTableNames(t *testing.T) {
	t.Parallel()
	want := []string{
		"add", "anything", "chat_message", "div", "dur", "echo", "echo_msg", "fail",
		"flag", "http_request", "level", "list", "mixed", "paint", "profile",
		"profile_ptr", "said", "scalars", "settings", "small", "succeed",
		"unsigned", "when",
	}
	got := ctlTable.Names()
	if !slices.Equal(got, want) {
		t.Fatalf("Names() =\n%q\nwant\n%q", got, want)
	}
	if ctlTable.Len() != len(want) {
		t.Errorf("Len() = %d", ctlTable.Len())
	}
	got[0] = "changed"
	if ctlTable.Names()[0] != "add" {
		t.Error("Names shares its slice")
	}
}

func TestTableNilExclude(t *testing.T) {
	t.Parallel()
	tb := NewTable(reflect.TypeFor[*ctl](), nil)
	for _, name := range []string{"on_open", "write", "id", "broadcast", "said"} {
		if !tb.Has(name) {
			t.Errorf("without exclusions, %q is missing", name)
		}
	}
	var c ctl
	if _, _, _, err := tb.Lookup([]byte("on_open")).Call(reflect.ValueOf(&c), Message{}); err != nil || !reflect.DeepEqual(c.got, []any{"OnOpen"}) {
		t.Errorf("on_open: err %v, got %v", err, c.got)
	}
}

// clash has methods whose derived names collide with other methods.
type clash struct{}

func (clash) ChatMessage() string  { return "ChatMessage" }
func (clash) Chat_message() string { return "Chat_message" }
func (clash) ChatMESSAGE() string  { return "ChatMESSAGE" }

func TestTableClash(t *testing.T) {
	t.Parallel()
	tb := NewTable(reflect.TypeFor[*clash](), nil)
	tests := map[string]string{
		"ChatMessage":  "ChatMessage",
		"Chat_message": "Chat_message",
		"ChatMESSAGE":  "ChatMESSAGE",
		// All three snake_case to chat_message: the first in Go's method
		// order (sorted by name) wins, so the table is deterministic.
		"chat_message": "ChatMESSAGE",
		"chatMessage":  "ChatMessage",
		"chatMESSAGE":  "ChatMESSAGE",
	}
	for name, want := range tests {
		m := tb.Lookup([]byte(name))
		if m == nil {
			t.Errorf("%q: no method", name)
			continue
		}
		if m.Name() != want {
			t.Errorf("%q → %s, want %s", name, m.Name(), want)
		}
	}
}

// TestTableErr: every exported method that cannot be an event is named in
// Err with its reason; the others are not.
func TestTableErr(t *testing.T) {
	t.Parallel()
	err := ctlTable.Err()
	if !errors.Is(err, ErrNotEventMethod) {
		t.Fatalf("Err() = %v", err)
	}
	want := map[string]string{
		"Ch":      "parameter 1 (chan int) cannot be decoded from JSON",
		"Fn":      "parameter 1 (func()) cannot be decoded from JSON",
		"Vari":    "it is variadic",
		"Three":   "it has 3 results; want nothing, T, error or (T, error)",
		"Two":     "its second result is int; want nothing, T, error or (T, error)",
		"RetChan": "its result (chan int) has no JSON form",
		"Reader":  "parameter 1 (io.Reader) cannot be decoded from JSON",
		"Cplx":    "parameter 1 (complex128) cannot be decoded from JSON",
		"Ptr":     "parameter 1 (unsafe.Pointer) cannot be decoded from JSON",
		"PtrFn":   "parameter 1 (*func()) cannot be decoded from JSON",
	}
	got := map[string]string{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var me *MethodError
		if !errors.As(e, &me) {
			t.Fatalf("%v is not a *MethodError", e)
		}
		got[me.Method] = me.Reason
		if !strings.Contains(e.Error(), me.Method) || !strings.Contains(e.Error(), me.Reason) {
			t.Errorf("%q does not name the method and reason", e.Error())
		}
	}
	if !maps.Equal(got, want) {
		t.Fatalf("rejected:\n%v\nwant\n%v", got, want)
	}
	if err := NewTable(reflect.TypeFor[*clash](), nil).Err(); err != nil {
		t.Errorf("clash: %v", err)
	}
}

// TestTableOnly: the subset answers every spelling of the selected methods
// as the full table does, nothing else; unknown names are errors.
func TestTableOnly(t *testing.T) {
	t.Parallel()
	sub, err := ctlTable.Only([]string{"said", "ChatMessage", "http_request", "Said"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"said", "Said", "chat_message", "chatMessage", "ChatMessage", "HTTPRequest", "httpRequest", "http_request"} {
		if m := sub.Lookup([]byte(name)); m == nil || m != ctlTable.Lookup([]byte(name)) {
			t.Errorf("%q: %v", name, m)
		}
	}
	for _, name := range []string{"add", "echo", "fail", "on_open", "ch"} {
		if sub.Has(name) {
			t.Errorf("%q is in the subset", name)
		}
	}
	if got := sub.Names(); !slices.Equal(got, []string{"chat_message", "http_request", "said"}) || sub.Len() != 3 {
		t.Errorf("Names() = %q", got)
	}
	_, err = ctlTable.Only([]string{"add", "nope", "on_open", "Ch"})
	if !errors.Is(err, ErrNoSuchEvent) {
		t.Fatalf("unknown names: %v", err)
	}
	for _, name := range []string{`"nope"`, `"on_open"`, `"Ch"`} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%v does not name %s", err, name)
		}
	}
	if empty, err := ctlTable.Only(nil); err != nil || empty.Len() != 0 || empty.Has("add") {
		t.Errorf("Only(nil) = %v, %v", empty, err)
	}
}
