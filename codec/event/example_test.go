package event_test

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/plezigo/plezi/codec/event"
)

type Chat struct{ log []string }

func (c *Chat) Said(from, text string) { c.log = append(c.log, from+": "+text) }

func (c *Chat) Sum(a, b int) (int, error) {
	if a < 0 || b < 0 {
		return 0, errors.New("negative")
	}
	return a + b, nil
}

func (c *Chat) OnOpen() {}

func Example() {
	tb := event.NewTable(reflect.TypeFor[*Chat](), map[string]bool{"OnOpen": true})
	fmt.Println(tb.Names())

	c := new(Chat)
	var out []byte
	for _, in := range []string{
		`{"event":"said","args":["bob","hi"]}`,
		`{"event":"sum","_EID_":1,"args":[2,3]}`,
		`{"event":"sum","_EID_":2,"args":[-1,3]}`,
		`{"event":"sum","_EID_":3,"args":["x"]}`,
		`{"event":"on_open","_EID_":4}`,
	} {
		msg, err := event.Parse([]byte(in))
		if err != nil {
			fmt.Println(err)
			continue
		}
		m := tb.Lookup(msg.Name)
		if m == nil {
			out = event.AppendError(out[:0], msg.EID, 404, "no such event")
			fmt.Println(string(out))
			continue
		}
		res, hasRes, callErr, decErr := m.Call(reflect.ValueOf(c), msg)
		switch {
		case decErr != nil:
			out = event.AppendError(out[:0], msg.EID, 400, decErr.Error())
		case callErr != nil:
			out = event.AppendError(out[:0], msg.EID, 500, callErr.Error())
		case msg.EID != nil:
			out, _ = event.AppendAck(out[:0], msg.EID, res, hasRes)
		default:
			continue
		}
		fmt.Println(string(out))
	}
	fmt.Println(c.log)

	out, _ = event.AppendPush(out[:0], "said", "server", "welcome")
	fmt.Println(string(out))
	// Output:
	// [said sum]
	// {"event":"_ack_","_EID_":1,"data":5}
	// {"event":"_err_","_EID_":2,"status":500,"error":"negative"}
	// {"event":"_err_","_EID_":3,"status":400,"error":"event: argument 0 (int): event: argument type mismatch"}
	// {"event":"_err_","_EID_":4,"status":404,"error":"no such event"}
	// [bob: hi]
	// {"event":"said","args":["server","welcome"]}
}

func ExampleMethod_CallValues() {
	tb := event.NewTable(reflect.TypeFor[*Chat](), nil)
	c := new(Chat)
	// A local Broadcast("said", ...) calls the method with Go values.
	tb.Lookup([]byte("said")).CallValues(reflect.ValueOf(c), []any{"alice", "hello"})
	res, _, _, _ := tb.Lookup([]byte("sum")).CallValues(reflect.ValueOf(c), []any{int8(1), uint(2)})
	fmt.Println(c.log, res)
	// Output: [alice: hello] 3
}

func ExampleAppendNotification() {
	args, _ := event.AppendArgs(nil, "you have mail", 3)
	fmt.Println(string(event.AppendNotification(nil, "inbox", "user-42", 7, args)))
	// Output: {"event":"inbox","_NID_":7,"_identity":"user-42","args":["you have mail",3]}
}
