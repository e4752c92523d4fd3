package dispatch

import (
	"github.com/gobwas/ws"

	"github.com/plezigo/plezi/codec"
)

// Transport is the server's side of one websocket connection.
type Transport interface {
	// Send encodes one message frame for this connection and queues it.
	// Concurrency-safe; payload is not retained after Send returns.
	Send(op ws.OpCode, payload []byte)
	// SendPrepared queues a shared frame. Concurrency-safe.
	SendPrepared(p *codec.Prepared)
	// SendOnLoop writes a shared frame now. Call it only on the
	// connection's event loop.
	SendOnLoop(p *codec.Prepared)
	// Close sends a close frame and closes the connection. Concurrency-safe
	// and idempotent.
	Close(code ws.StatusCode, reason string)
	// Run queues fn to run on the connection's event loop as one of its
	// inline callbacks: what fn writes to this connection goes out when fn
	// returns, with no further hand-off. Concurrency-safe.
	Run(fn func())
	// Backlogged reports whether the connection's unsent output is over
	// its high-water mark. Fan-out asks each recipient of a message that
	// came from a connection. Called on the connection's event loop.
	Backlogged() bool
	// Hold asks the connection to stop reading for a while: a fan-out its
	// message caused reached a backlogged recipient, and the sender is the
	// one to slow down. Concurrency-safe.
	Hold()
}

// Loops runs functions on the server's event loops.
type Loops interface {
	// Run queues fn to run on event loop i. Concurrency-safe; wake-ups of
	// a loop are coalesced. After shutdown fn may never run.
	Run(i int, fn func())
}

// LoopsFunc adapts a function to Loops.
type LoopsFunc func(i int, fn func())

// Run calls f(i, fn).
func (f LoopsFunc) Run(i int, fn func()) { f(i, fn) }
