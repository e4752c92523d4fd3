// Package bridge is the contract between package server (event loops,
// sockets) and package dispatch (controllers, fan-out): what each calls in
// the other that applications never call. Keeping it here keeps it out of
// both packages' documentation.
//
// The server implements Transport (one per websocket) and Loops; dispatch
// sets Dispatch, in its init, to a value of an unexported type whose
// methods the server calls through an interface of its own (the methods'
// signatures name dispatch's types, which this package cannot).
package bridge

import (
	"log/slog"

	"github.com/gobwas/ws"

	"github.com/plezigo/plezi/codec"
)

// Transport is the server's side of one websocket connection, as dispatch
// drives it. Each method says which goroutines may call it.
type Transport interface {
	// Send encodes one message frame for this connection and queues it;
	// payload is not retained. Concurrency-safe.
	Send(op ws.OpCode, payload []byte)
	// SendPrepared queues a shared frame. Concurrency-safe.
	SendPrepared(p *codec.Prepared)
	// SendOnLoop writes a shared frame now. Loop only.
	SendOnLoop(p *codec.Prepared)
	// Close sends a close frame and closes the connection.
	// Concurrency-safe and idempotent.
	Close(code ws.StatusCode, reason string)
	// Open reports whether the websocket is still open: false from the
	// moment it starts closing, for good. Concurrency-safe.
	Open() bool
	// Callback runs fn now as one of the connection's inline callbacks:
	// what fn writes to this connection goes out when fn returns, in the
	// same loop turn. Loop only.
	Callback(fn func())
	// QueueCallback queues fn to run on the connection's loop as one of its
	// inline callbacks, after everything queued there before it.
	// Concurrency-safe.
	QueueCallback(fn func())
	// Backlogged reports whether the connection's unsent output is over
	// its high-water mark (fan-out asks each recipient of a message that
	// came from a connection). Loop only.
	Backlogged() bool
	// Hold asks the connection to stop reading for a while: a fan-out its
	// message caused reached a backlogged recipient, and the sender is the
	// one to slow down. Concurrency-safe.
	Hold()
}

// Loops runs tasks on the server's event loops.
type Loops interface {
	// Submit queues fn to run on event loop i, after everything queued
	// there before it (a connection's writes, callbacks and tasks share
	// one inbox, so they keep their order). Wake-ups are coalesced.
	// Concurrency-safe; after shutdown fn may never run.
	Submit(i int, fn func())
}

// LoopsFunc adapts a function to Loops (tests run tasks at once with it).
type LoopsFunc func(i int, fn func())

// Submit calls f(i, fn).
func (f LoopsFunc) Submit(i int, fn func()) { f(i, fn) }

// HubConfig is what the server tells dispatch when it makes its hub,
// besides the broker and identity store. Zero values get defaults.
type HubConfig struct {
	Node    string       // node id; random when ""
	Loops   int          // number of event loops (≥ 1)
	Runner  Loops        // runs fan-out and lookup tasks on the loops
	Workers int          // worker shards; 0 → 4 × GOMAXPROCS (at least 8)
	Logger  *slog.Logger // nil → slog.Default()
	Secret  []byte       // signs cluster envelopes (HMAC-SHA256) when set
	// NoteWindow is how many note ids above the highest contiguous one a
	// connection remembers per identity to drop repeats but deliver late
	// notes; a note further behind the newest counts as given up
	// (Stats.NotesSkipped). 0 → 256 (the default mailbox bound); rounded
	// up to a multiple of 64. The bits are made on the first late note.
	NoteWindow int
}

// Dispatch is package dispatch's server side, set by dispatch's init
// (package server asserts it to its own interface). Read-only after init.
var Dispatch any
