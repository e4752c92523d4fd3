// Package dispatch is the application model of Plezi: routes map paths to
// controller factories, each websocket connection is one controller instance,
// and connections talk to each other with Multicast, Broadcast, Unicast,
// Notify (identities with mailboxes) and channel Publish.
//
// A controller is any struct that embeds Socket:
//
//	type Chat struct {
//		dispatch.Socket
//		nick string
//	}
//
//	func (c *Chat) OnOpen()               { c.nick = c.Request().Query("nick") }
//	func (c *Chat) Say(text string) bool  { c.Broadcast("said", c.nick, text); return true }
//
//	srv.Route("/chat", func() dispatch.Controller { return new(Chat) }, dispatch.ClientEvents("say"))
//
// Lifecycle callbacks are optional interfaces (PreConnecter, Opener,
// MessageHandler, Closer, ShutdownHandler, UnicastFailer, UnknownHandler).
// Every other exported method of the controller's pointer type is an event,
// found once per type when the route is added: event "say" or "Say" calls Say
// with its arguments decoded from JSON. The wire protocol (client messages,
// acks, errors, pushes, notifications, resume) and the binding rules are
// documented once, in package github.com/plezigo/plezi/codec/event; a lone
// RawArgs (event.Raw) parameter gets the arguments undecoded.
//
// An event with no method and no Unknown is written to the client as a
// JSON event frame on a JSON route, and dropped and counted
// (Stats.Dropped) on a raw one, whose client does not speak the protocol;
// ForwardEvents changes either.
//
// Who may call an event: server-side deliveries (Multicast, Broadcast,
// Unicast, Notify) reach every event method. A client reaches only the
// events its route lists with ClientEvents (or every one, with
// AllClientEvents); by default none. A client calling any other method
// gets the answer an unknown event gets (404, or Unknown), and
// Stats.DeniedEvents counts it.
//
// Route checks the controller once and refuses, with a *RouteError naming
// the method and why: a lifecycle method of the wrong signature (OnClose(),
// OnOpen(int), OnMessage(string) would never be called), an exported method
// that cannot be an event (a channel or variadic parameter, a result
// without a JSON form), an empty pattern, a pattern matching the same paths
// as an earlier route's, a nil factory, and ClientEvents naming no event.
//
// Event errors: a StatusError answers the client with its status and text.
// Any other error answers {"event":"_err_","status":500,"error":"internal
// error","ref":"<ref>"}; the log line "dispatch: event failed" carries the
// same ref with the real error, which never reaches the client. A panic in
// a callback closes the connection with 1011; it is counted every time and
// its stack is logged once per controller type and callback, later ones at
// most one line a second.
//
// Connection ids are "<node>-<hex>" (the node may hold dashes; the number
// follows the last one). Every id and cluster envelope from outside is
// parsed by total parsers (fuzzed): a malformed id is a connection that is
// gone (Unicast false, OnUnicastFailed); a malformed envelope, or a panic
// while handling one, drops that envelope and counts it (BadEnvelopes,
// Panics), never the goroutine that read it.
//
// The upgrade request (Request) answers in full in PreConnect and OnOpen;
// after OnOpen only the path parameters (Params) remain, so an idle
// connection keeps no copy of its headers: copy what later callbacks need
// into the controller, as above, or add the route with KeepRequest.
//
// Callbacks run in order per connection. By default they run on a sharded
// worker pool off the event loops (no goroutine per connection); a route
// added with Inline runs them on the connection's event loop instead, for
// handlers that never block. RegisterAs, Notify and Registered ask the
// identity store, which with Redis is a network round trip (bounded by the
// broker's Timeout; at once ErrUnavailable while Redis is down): call them
// from worker routes. A broker that can lose state (Restorer) makes the
// hub register every open connection's identities again when it is back,
// and deliver the notes they missed.
//
// Package dispatch does no I/O itself: package server drives it (through
// internal/bridge, not this API) and owns every connection on its event
// loop; what dispatch keeps per loop (ids, types, channels) is touched only
// there, so fan-out, Subscribe and lookups by id are tasks on the loops. A
// Broker (package cluster, built from a URL by cluster.FromURL) carries
// envelopes to other nodes and an Identities store keeps identity
// registrations and mailboxes. A hub with neither is one node on its own:
// deliveries stay local and identities live in its own MemoryIdentities.
//
// Every exported function and method says which goroutines may call it;
// nearly all are concurrency-safe.
package dispatch
