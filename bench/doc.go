// Package bench is the client engine of the plezi load generator
// (cmd/plezi-bench): websocket connections driven by epoll event loops, one
// OS thread per loop and no goroutine per connection, with frames pre-masked
// and pre-encoded once per loop.
//
// A run is split into workers. A Worker opens its share of the connections
// (spread over several 127.0.0.x source addresses), reports progress, and
// plays one scenario when told to start:
//
//	idle     hold connections open (S1)
//	echo     one message in flight per connection, latency per round trip (S2)
//	push     one sender, every connection receives; delivery latency (S3, S5)
//	churn    connect and disconnect at a fixed rate, half of the handshakes
//	         left unfinished (S6)
//	unicast  connections on two nodes (Config.Addrs) send to each other at a
//	         fixed rate through the server's unicast route (S4)
//	pubsub   every connection subscribes over a push server's own JSON
//	         protocol (plezi's /push or Centrifugo's); Publisher publishes
//	         through its HTTP API (S9, see pubsub.go)
//
// Latencies come from a timestamp the sender writes into the first 8 bytes of
// each payload (16 hex digits at the start of a unicast text payload):
// CLOCK_MONOTONIC nanoseconds, shared by every process on the machine, so a
// receiver in another process computes the delivery latency from its own
// clock. They are collected into a Histogram (log buckets, no allocation
// per value).
//
// Goroutine rule: an Engine's loops own their connections; every exported
// Engine method is safe to call from any goroutine and talks to the loops
// through queued tasks.
//
// Memory lifetime: payloads handed to a scenario are valid only until the
// callback returns (they point into the loop's read buffer).
package bench
