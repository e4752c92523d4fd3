// Package server is Plezi's websocket server: a gnet/v2 reactor with one
// connection table per event loop and no goroutine per connection.
//
//	srv := server.New(server.Config{Addr: ":3000"})
//	err := errors.Join(
//		srv.Route("/chat/:room", func() dispatch.Controller { return new(Chat) }, dispatch.ClientEvents("say")),
//		srv.Static("/", "./public"),
//	) // mistakes are errors, never panics
//	err = srv.Run(ctx) // until ctx ends (SIGTERM too with Config.HandleSignals); then drain; once
//
// Inbound frames are parsed in place from gnet's buffer (package codec) and
// handed to package dispatch. Writes from the loop go straight to the
// socket; writes from other goroutines are staged per connection and reach
// the loop in one coalesced task per batch. A per-loop sweep runs the
// handshake, ping and idle timers; no timer per connection.
package server
