package dispatch

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/plezigo/plezi/codec/event"
)

// lifecycle lists the optional callbacks: a method of one of these names
// must have the interface's signature, or it would never be called.
var lifecycle = []struct {
	name  string
	iface reflect.Type
	want  string
}{
	{"PreConnect", reflect.TypeFor[PreConnecter](), "PreConnect(r *dispatch.Request) error"},
	{"OnOpen", reflect.TypeFor[Opener](), "OnOpen()"},
	{"OnMessage", reflect.TypeFor[MessageHandler](), "OnMessage(m dispatch.Message)"},
	{"OnClose", reflect.TypeFor[Closer](), "OnClose(code int, reason string)"},
	{"OnShutdown", reflect.TypeFor[ShutdownHandler](), "OnShutdown()"},
	{"OnUnicastFailed", reflect.TypeFor[UnicastFailer](), "OnUnicastFailed(id, event string)"},
	{"Unknown", reflect.TypeFor[UnknownHandler](), "Unknown(event string, args dispatch.RawArgs)"},
	{"OnNote", reflect.TypeFor[NoteWriter](), "OnNote(identity string, n dispatch.Note)"},
}

// controllerType calls f once and returns the controller's type, a
// pointer to a struct embedding Socket. A panic in f is an error.
func controllerType(f Factory) (rt reflect.Type, err error) {
	if f == nil {
		return nil, ErrNilFactory
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: the factory panicked: %v", ErrNotController, r)
		}
	}()
	sample := f()
	if sample == nil {
		return nil, ErrNotController
	}
	rt = reflect.TypeOf(sample)
	if rt.Kind() != reflect.Pointer || rt.Elem().Kind() != reflect.Struct || reflect.ValueOf(sample).IsNil() || sample.socket() == nil {
		return nil, ErrNotController // sample.socket() is nil for an embedded nil *Socket
	}
	return rt, nil
}

// checkMethods reports every lifecycle method of rt with the wrong
// signature and every exported method that cannot be an event (events
// is rt's table), one *RouteError each, joined.
func checkMethods(pattern string, rt reflect.Type, events *event.Table) error {
	var errs []error
	name := rt.Elem().Name()
	for _, l := range lifecycle {
		m, ok := rt.MethodByName(l.name)
		if !ok || rt.Implements(l.iface) {
			continue
		}
		sig := reflect.New(rt.Elem()).Method(m.Index).Type()
		errs = append(errs, &RouteError{Pattern: pattern, Method: name + "." + l.name,
			Reason: "is " + sig.String() + ", want " + l.want + " (it would never be called)", Err: ErrBadMethod})
	}
	if err := events.Err(); err != nil {
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var me *event.MethodError
			if errors.As(e, &me) {
				errs = append(errs, &RouteError{Pattern: pattern, Method: name + "." + me.Method,
					Reason: "cannot be an event: " + me.Reason, Err: ErrBadMethod})
			}
		}
	}
	return errors.Join(errs...)
}

// checkPattern refuses an empty pattern and one of the same shape as a
// route added before.
func (h *Hub) checkPattern(r *Route) error {
	if r.pattern == "" {
		return &RouteError{Pattern: r.pattern, Reason: `the pattern is empty (use "/" for the root)`, Err: ErrBadPattern}
	}
	shape := r.shape()
	for _, old := range h.router.routes {
		if old.shape() == shape {
			return &RouteError{Pattern: r.pattern, Reason: fmt.Sprintf("matches the same paths as %q, added before", old.pattern), Err: ErrDuplicateRoute}
		}
	}
	return nil
}

// clientTable selects the events the route's clients may call from
// events (see ClientEvents).
func (r *Route) clientTable(events *event.Table) (*event.Table, error) {
	if r.clientAll {
		return events, nil
	}
	var missing []string
	for _, name := range r.clientNames {
		if !events.Has(name) {
			missing = append(missing, strconv.Quote(name))
		}
	}
	if len(missing) > 0 {
		return nil, &RouteError{Pattern: r.pattern, Err: ErrClientEvent,
			Reason: "ClientEvents names " + strings.Join(missing, ", ") + ": no event method answers to it"}
	}
	return events.Only(r.clientNames)
}
