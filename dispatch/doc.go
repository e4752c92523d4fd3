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
// Lifecycle callbacks are optional interfaces (PreConnecter, Opener,
// MessageHandler, Closer, ShutdownHandler, UnicastFailer, UnknownHandler).
// Every other exported method of the controller's pointer type is an event,
// found once per type when the route is added: event "say" or "Say" calls Say
// with its arguments decoded from JSON (see package internal/event for the
// wire format).
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
// identity store, which with Redis is a network round trip: call them from
// worker routes.
//
// Package dispatch does no I/O itself: the server implements Transport for
// each connection and runs fan-out tasks on its loops; a Broker (package
// cluster) carries envelopes to other nodes and an Identities store keeps
// identity registrations and mailboxes.
package dispatch
