package dispatch

import (
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// Controller is a pointer to a struct that embeds Socket.
type Controller interface{ socket() *Socket }

// Optional controller callbacks. Each runs in order per connection, on a
// worker (default) or on the event loop (Inline routes).
type (
	// PreConnecter runs before the upgrade; an error refuses it (use Refuse
	// for a specific HTTP status; any other error answers 403).
	PreConnecter interface{ PreConnect(r *Request) error }
	// Opener runs once the websocket is open.
	Opener interface{ OnOpen() }
	// MessageHandler gets every message that auto-dispatch does not take.
	MessageHandler interface{ OnMessage(m Message) }
	// Closer runs once when the connection has closed.
	Closer interface{ OnClose(code int, reason string) }
	// ShutdownHandler runs when the server starts draining; writes still work.
	ShutdownHandler interface{ OnShutdown() }
	// UnicastFailer learns that a Unicast from this connection found no target.
	UnicastFailer interface{ OnUnicastFailed(id, event string) }
	// UnknownHandler gets events that no method takes.
	UnknownHandler interface {
		Unknown(event string, args RawArgs)
	}
	// NoteWriter writes each identity notification (RegisterAs, Notify) to
	// its client itself, in its own format, instead of the default frame
	// (n.Data with "_gap_" added). It runs in the connection's order, once
	// per note id (repeats are dropped before it); n.Data is shared and
	// must not be modified, and is valid until OnNote returns.
	NoteWriter interface {
		OnNote(identity string, n Note)
	}
)

// Socket is embedded in every controller; it is the controller's
// connection, and holds dispatch's record of it (so embed it by value and
// never copy a controller). All its methods are safe for concurrent use.
// Before the connection exists (in PreConnect) ID is "", Request is nil
// and writes return ErrClosed.
type Socket struct{ c conn }

func (s *Socket) socket() *Socket { return s }

// ID returns the connection id "<node>-<conn>", valid across the cluster.
// Concurrency-safe.
func (s *Socket) ID() string {
	if !s.c.opened() {
		return ""
	}
	return s.c.ID()
}

// Request returns the request that opened the connection: in full in
// PreConnect and OnOpen, its path parameters only after (unless the route
// has KeepRequest). Concurrency-safe.
func (s *Socket) Request() *Request { return s.c.req.Load() }

// Params returns the path parameter name. Concurrency-safe.
func (s *Socket) Params(name string) string { return s.Request().Param(name) }

// Write sends text as a text frame. Text that is not valid UTF-8 is refused.
// Concurrency-safe.
func (s *Socket) Write(text string) error {
	if !utf8.ValidString(text) {
		return ErrInvalidUTF8
	}
	return s.c.send(ws.OpText, stringBytes(text))
}

// WriteText sends b as a text frame. b must be valid UTF-8 and is not
// retained. Concurrency-safe.
func (s *Socket) WriteText(b []byte) error {
	if !utf8.Valid(b) {
		return ErrInvalidUTF8
	}
	return s.c.send(ws.OpText, b)
}

// WriteBinary sends b as a binary frame. b is not retained. Concurrency-safe.
func (s *Socket) WriteBinary(b []byte) error { return s.c.send(ws.OpBinary, b) }

// Emit sends the JSON event {"event":name,"args":[...]} to this connection's
// client (no server-side method is called). Concurrency-safe.
func (s *Socket) Emit(event string, args ...any) error { return s.c.emit(event, args) }

// Close closes the connection with 1000. Concurrency-safe.
func (s *Socket) Close() { s.CloseWith(1000, "") }

// CloseWith closes the connection with code and reason. Concurrency-safe.
func (s *Socket) CloseWith(code int, reason string) {
	if s.c.opened() {
		s.c.t.Close(ws.StatusCode(code), reason)
	}
}

// Hub returns the hub the connection belongs to. Concurrency-safe.
func (s *Socket) Hub() *Hub { return s.c.hub() }

// Multicast delivers event to every connection of the app but this one.
// Concurrency-safe.
func (s *Socket) Multicast(event string, args ...any) {
	s.c.hub().multicast(&s.c, event, args)
}

// Broadcast delivers event to every connection of this controller type but
// this one. Concurrency-safe.
func (s *Socket) Broadcast(event string, args ...any) {
	s.c.hub().broadcast(&s.c, s.c.typ().name, event, args)
}

// Unicast delivers event to the connection id. It returns false when the
// target is known to be gone; a failure found later calls OnUnicastFailed.
// Concurrency-safe.
func (s *Socket) Unicast(id, event string, args ...any) bool {
	return s.c.hub().unicast(&s.c, id, event, args)
}

// Subscribe adds the connection to channel: Publish writes to it as-is.
// Concurrency-safe.
func (s *Socket) Subscribe(channel string) { s.c.hub().subscribe(&s.c, channel, false) }

// SubscribePattern subscribes to every channel matching a Redis-style glob.
// Concurrency-safe.
func (s *Socket) SubscribePattern(pattern string) { s.c.hub().subscribe(&s.c, pattern, true) }

// Unsubscribe removes a channel or pattern subscription. Concurrency-safe.
func (s *Socket) Unsubscribe(channel string) { s.c.hub().unsubscribe(&s.c, channel) }

// Publish writes text to every subscriber of channel, as a text frame.
// A sender whose publishes reach a backlogged subscriber is held (see
// Transport.Hold). Concurrency-safe.
func (s *Socket) Publish(channel, text string) {
	s.c.hub().publish(&s.c, channel, ws.OpText, stringBytes(text))
}

// PublishBinary writes b to every subscriber of channel, as a binary frame.
// Concurrency-safe; b is not retained.
func (s *Socket) PublishBinary(channel string, b []byte) {
	s.c.hub().publish(&s.c, channel, ws.OpBinary, b)
}

// PublishEvent publishes the JSON event {"event":name,"args":[...]}.
// Concurrency-safe.
func (s *Socket) PublishEvent(channel, event string, args ...any) error {
	return s.c.hub().publishEvent(&s.c, channel, event, args)
}

// Notify delivers event to identity; false when it is not registered or
// the note is refused (see NotifyErr).
// Concurrency-safe; it waits for the identity store.
func (s *Socket) Notify(identity, event string, args ...any) bool {
	return s.c.hub().Notify(identity, event, args...)
}

// NotifyErr is Notify with the outcome (see Hub.NotifyErr): the note's id
// and the older notes dropped for it, or why it was refused.
// Concurrency-safe; it waits for the identity store.
func (s *Socket) NotifyErr(identity, event string, args ...any) (NotifyResult, error) {
	return s.c.hub().NotifyErr(identity, event, args...)
}

// Registered reports whether identity is registered and alive.
// Concurrency-safe; it waits for the identity store.
func (s *Socket) Registered(identity string) bool { return s.c.hub().Registered(identity) }

// RegisterAs joins this connection to identity and delivers its mailbox,
// oldest first (after the id the client reported in "_resume"). When
// the mailbox dropped notes the client had not seen, the first delivered
// note carries "_gap_":n (how many). Past the identity's MaxConnections
// the oldest registrations are closed with 4009, in the order the store
// took them; when that is this connection (it registered before and is
// the oldest), it is closed too and RegisterAs returns ErrReplaced. A
// store bounded in identities may refuse a new one
// (ErrTooManyIdentities); one that is down fails within its Timeout, at
// once during an outage (ErrUnavailable). A registration lives on through
// a Redis restart while the connection is open: the hub registers it again
// (see Restorer). Call it from the controller's callbacks.
func (s *Socket) RegisterAs(identity string, opts ...RegisterOption) error {
	return s.c.registerAs(identity, opts)
}
