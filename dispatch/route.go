package dispatch

import (
	"reflect"
	"strings"
	"sync/atomic"

	"github.com/plezigo/plezi/codec/event"
)

// Factory makes one controller per connection.
type Factory func() Controller

// RouteOption changes how a route runs its controllers.
type RouteOption func(*Route)

// Inline runs the route's callbacks on the connection's event loop: no
// hand-off between threads, so they must never block. Concurrency-safe.
func Inline() RouteOption { return func(r *Route) { r.inline = true } }

// AutoDispatch turns the JSON event protocol on or off for the route. It is on
// by default for controllers that have event methods. Concurrency-safe.
func AutoDispatch(on bool) RouteOption { return func(r *Route) { r.auto = on; r.autoSet = true } }

// ForwardEvents writes server-side events (Multicast, Broadcast, Unicast,
// Notify) that the controller has no method for, and no Unknown, to the
// client as JSON event frames, as on a JSON route. It is on for routes
// whose text messages are JSON events (AutoDispatch) and off for raw
// routes, whose clients do not speak the JSON protocol: there such events
// are dropped and counted (Stats.Dropped). Concurrency-safe.
func ForwardEvents(on bool) RouteOption {
	return func(r *Route) { r.forward = on; r.forwardSet = true }
}

// Protocols lists the subprotocols the route accepts, in order of preference
// of the client's offer. Concurrency-safe.
func Protocols(p ...string) RouteOption { return func(r *Route) { r.protocols = p } }

// KeepRequest keeps each connection's upgrade request for its whole life,
// so Request() answers in full in every callback. Without it only the path
// parameters remain once OnOpen has run (an idle connection then holds no
// copy of its headers): read the rest in PreConnect or OnOpen into the
// controller. Concurrency-safe.
func KeepRequest() RouteOption { return func(r *Route) { r.keepReq = true } }

// ClientEvents lists the event methods the route's clients may call, each
// by any name the event answers to ("say", "Say"). Without it (or
// AllClientEvents) clients may call none: every client event then answers
// like an unknown one (404, or Unknown). Server-side deliveries
// (Multicast, Broadcast, Unicast, Notify) reach every event method either
// way. Route fails when a name selects no event method. Options combine:
// names add up. The names are resolved once, when the route is added.
// Concurrency-safe.
func ClientEvents(names ...string) RouteOption {
	return func(r *Route) { r.clientNames = append(r.clientNames, names...) }
}

// AllClientEvents lets the route's clients call every event method of the
// controller, as ClientEvents listing them all would. Use it only for a
// controller whose every exported method is meant for clients.
// Concurrency-safe.
func AllClientEvents() RouteOption { return func(r *Route) { r.clientAll = true } }

// Route maps a path pattern to a controller factory. Immutable once added.
type Route struct {
	pattern     string
	segs        []string
	factory     Factory
	typ         *ctype
	client      *event.Table // the events clients may call (a subset of typ.events)
	clientNames []string
	clientAll   bool
	inline      bool
	auto        bool
	autoSet     bool
	forward     bool // write events without a method as JSON frames
	forwardSet  bool
	keepReq     bool
	hub         *Hub
	protocols   []string
}

// Pattern returns the route's path pattern. Concurrency-safe.
func (r *Route) Pattern() string { return r.pattern }

// Inline reports whether the route runs its callbacks on the event loop.
// Concurrency-safe.
func (r *Route) Inline() bool { return r.inline }

// Protocols returns the subprotocols the route accepts. Concurrency-safe.
func (r *Route) Protocols() []string { return r.protocols }

// AutoDispatch reports whether text messages are JSON events.
// Concurrency-safe.
func (r *Route) AutoDispatch() bool { return r.auto }

// ClientEvents returns the snake_case names of the events the route's
// clients may call, sorted, in a new slice the caller owns.
// Concurrency-safe.
func (r *Route) ClientEvents() []string { return r.client.Names() }

// ctype is what is known once about a controller type.
type ctype struct {
	name    string
	idx     int
	rtype   reflect.Type
	events  *event.Table
	unknown bool         // has Unknown(event, args)
	conns   atomic.Int64 // open connections of this type (Hub.Controllers)
}

// lifecycle and Socket method names are never events.
var reserved = func() map[string]bool {
	m := map[string]bool{
		"PreConnect": true, "OnOpen": true, "OnMessage": true, "OnClose": true,
		"OnShutdown": true, "OnUnicastFailed": true, "Unknown": true, "OnNote": true,
	}
	t := reflect.TypeOf((*Socket)(nil))
	for i := 0; i < t.NumMethod(); i++ {
		m[t.Method(i).Name] = true
	}
	return m
}()

func newRoute(pattern string, f Factory, opts []RouteOption) *Route {
	r := &Route{pattern: pattern, segs: splitPath(pattern), factory: f}
	for _, o := range opts {
		o(r)
	}
	return r
}

// shape is the pattern with parameter names dropped: two routes of one
// shape match the same paths, so the second would never be reached.
func (r *Route) shape() string {
	var b strings.Builder
	for _, s := range r.segs {
		b.WriteByte('/')
		if strings.HasPrefix(s, ":") {
			s = ":"
		}
		b.WriteString(s)
	}
	return b.String()
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match reports whether path matches the route, appending its parameters.
// A pattern segment ":name" takes one path segment, "*" the rest.
func (r *Route) match(path string, params Params) (Params, bool) {
	segs := r.segs
	path = strings.Trim(path, "/")
	for _, s := range segs {
		if s == "*" {
			return append(params, Param{"*", path}), true
		}
		if path == "" {
			return params, false
		}
		var part string
		part, path, _ = strings.Cut(path, "/")
		switch {
		case strings.HasPrefix(s, ":"):
			params = append(params, Param{s[1:], part})
		case s != part:
			return params, false
		}
	}
	return params, path == ""
}

// router holds routes in the order they were added; the first match wins.
// Adding is not safe for concurrent use with Match: add routes before
// serving.
type router struct {
	routes []*Route
}

// Match finds the route for path and returns it with its parameters.
func (rt *router) Match(path string) (*Route, Params) {
	for _, r := range rt.routes {
		if params, ok := r.match(path, nil); ok {
			return r, params
		}
	}
	return nil, nil
}
