package event

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"time"
	"unsafe"
)

// socket stands for the embedded dispatch.Socket: its methods are excluded.
type socket struct{}

func (socket) Write(string)      {}
func (*socket) ID() string       { return "node-1" }
func (*socket) Broadcast(string) {}

type person struct {
	Name string `json:"name"`
	Age  int    `json:"age"`
}

// level decodes itself from a name.
type level int

func (l *level) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"low"`:
		*l = 1
	case `"high"`:
		*l = 2
	default:
		return errors.New("bad level")
	}
	return nil
}

type color string

// ctl is the controller of the tests; every event method records its
// arguments in got.
type ctl struct {
	socket
	got []any
}

func (c *ctl) record(v ...any) { c.got = append([]any{}, v...) }

// Lifecycle callbacks, excluded by name.
func (c *ctl) OnOpen()                { c.record("OnOpen") }
func (c *ctl) OnClose(int, string)    {}
func (c *ctl) OnMessage(b []byte)     {}
func (c *ctl) Said(from, text string) { c.record(from, text) }
func (c *ctl) ChatMessage(text string) string {
	c.record(text)
	return "echo:" + text
}
func (c *ctl) Add(a, b int) int { c.record(a, b); return a + b }
func (c *ctl) Div(a, b float64) (float64, error) {
	c.record(a, b)
	if b == 0 {
		return 0, errors.New("division by zero")
	}
	return a / b, nil
}
func (c *ctl) Fail() error                   { c.record(); return errors.New("boom") }
func (c *ctl) Succeed() error                { c.record(); return nil }
func (c *ctl) Profile(p person) string       { c.record(p); return p.Name }
func (c *ctl) ProfilePtr(p *person) bool     { c.record(p); return p != nil }
func (c *ctl) Settings(m map[string]int) int { c.record(m); return len(m) }
func (c *ctl) Echo(r Raw) string             { c.record(string(r)); return string(r) }
func (c *ctl) EchoMsg(r json.RawMessage) Raw { c.record(string(r)); return Raw(r) }
func (c *ctl) Flag(b bool) bool              { c.record(b); return !b }
func (c *ctl) Small(n int8)                  { c.record(n) }
func (c *ctl) Unsigned(n uint16)             { c.record(n) }
func (c *ctl) Anything(v any) any            { c.record(v); return v }
func (c *ctl) List(xs []string) int          { c.record(xs); return len(xs) }
func (c *ctl) When(t time.Time) int          { c.record(t); return t.Year() }
func (c *ctl) HTTPRequest() string           { c.record(); return "ok" }
func (c *ctl) Level(l level) level           { c.record(l); return l }
func (c *ctl) Paint(k color)                 { c.record(k) }
func (c *ctl) Mixed(a string, n int, p *person, r Raw) {
	c.record(a, n, p, string(r))
}
func (c *ctl) Scalars(s string, b bool, i int, i8 int8, u uint, u16 uint16, f float64, f32 float32) {
	c.record(s, b, i, i8, u, u16, f, f32)
}
func (c *ctl) Dur(d time.Duration) { c.record(d) }

// Methods that are never events.
func (c *ctl) Ch(chan int)              {}
func (c *ctl) Fn(func())                {}
func (c *ctl) Vari(...int)              {}
func (c *ctl) Three() (int, int, error) { return 0, 0, nil }
func (c *ctl) Two() (int, int)          { return 0, 0 }
func (c *ctl) RetChan() chan int        { return nil }
func (c *ctl) Reader(io.Reader)         {}
func (c *ctl) Cplx(complex128)          {}
func (c *ctl) Ptr(unsafe.Pointer)       {}
func (c *ctl) PtrFn(*func())            {}

// excluded lists the callbacks and socket methods, as dispatch does.
var excluded = map[string]bool{
	"OnOpen": true, "OnClose": true, "OnMessage": true,
	"Write": true, "ID": true, "Broadcast": true,
}

var ctlTable = NewTable(reflect.TypeFor[*ctl](), excluded)
