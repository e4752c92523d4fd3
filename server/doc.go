// Package server is Plezi's websocket server: a gnet/v2 reactor where each
// connection is owned by its event loop, with no goroutine per connection.
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
// socket; writes and requests from other goroutines reach the loop through
// its inbox, drained in one coalesced task per batch. A per-loop sweep runs
// the handshake, ping and idle timers; no timer per connection. Every
// exported method says which goroutines may call it.
package server
