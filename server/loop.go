package server

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"

	"github.com/plezigo/plezi/codec"
	"github.com/plezigo/plezi/internal/pool"
)

// loop is our side of one gnet event loop: its connections (for the
// timers) and an inbox of tasks from other goroutines, drained in one gnet
// task per batch. The loop owns its connections: what other goroutines do
// to one is a task in this inbox (dispatch's table of the loop's
// websockets is the loop's too, and reached the same way).
type loop struct {
	idx       int
	el        gnet.EventLoop // set once when the first connection opens on it; guarded by Server.bindMu
	bindDone  atomic.Bool    // el is set
	srv       *Server
	drainTask gnet.Runnable // l.drain, bound once

	mu        sync.Mutex
	inbox     []task  // guarded by mu
	spare     []task  // loop-owned
	scheduled bool    // guarded by mu
	cb        *conn   // guarded by mu, written by the loop only (which reads it without): the connection whose inline callback runs
	staged    *[]byte // guarded by mu: frames written to cb during its callback with the inbox empty, written when it returns

	ctl []byte // loop-owned scratch for control frames

	batching bool        // loop-owned: a drain runs; writes are deferred (batch.go)
	pend     []pendWrite // loop-owned: deferred writes
	dirty    []dirtyConn // loop-owned: connections with deferred writes
	flushed  int         // loop-owned: dirty[:flushed] are written (a split flush resumes there)

	resumeQueued bool          // loop-owned: resumeTask is queued
	resumeTask   gnet.Runnable // l.resumeFlush, bound once
	iov          [][]byte      // loop-owned: scratch for writev

	reading *conn // loop-owned: the connection readFrames is parsing, nil outside it

	drainers   []*conn       // loop-owned: connections waiting for their outbound to drain (drain.go)
	drainSpare []*conn       // loop-owned: the other list, swapped in while pumpDrainers runs
	pumpDelay  time.Duration // loop-owned: the drainers' next re-check, backing off while nothing moves
	fileBuf    []byte        // loop-owned scratch: one static file chunk (static.go)

	watch []watched // loop-owned: paused or backlogged connections (backpressure.go)
	re    recheck   // the one timer re-checking drainers and watch (timers.go)

	// conns is every TCP connection of the loop, for its timers; the
	// websockets among them are in dispatch's table of the loop too (ids,
	// types, channels). Both are the loop's alone.
	conns  []*conn      // loop-owned
	msgsIn atomic.Int64 // written by the loop only; one per loop so loops share no cache line
	now    int64        // loop-owned coarse clock (unix nanos), set by OnTraffic and the sweep

	traffic // websocket bytes and messages in and out (counts.go)

	pace pacer // loop-owned: when the loop goroutine yields (paceWork)
}

// yieldEvery is the longest the loop goroutine runs before it yields
// (runtime.Gosched) once. Go's system monitor (sysmon) treats a goroutine
// that has not been rescheduled for 10 ms as running too long: it preempts
// it and takes its P away at its next system call (nearly every call of a
// loop is one), and each such take sends the monitor back to polling every
// 20 µs. On a loop that writes for 100 ms or more to fan a broadcast out to
// 10k sockets, that was a monitor wake-up (and a preemption of the loop)
// every 20-70 µs for most of the fan-out: most of the context switches of
// S3 (bench/ANALYSIS.md). A yield costs one wake-up of an idle thread at
// most. 7 ms leaves the monitor's 10 ms a margin for the loop thread being
// descheduled.
const yieldEvery = 7 * time.Millisecond

// pacer times the loop goroutine's runs for paceWork.
type pacer struct {
	n     uint32 // calls of paceWork; the clock is read every paceStride
	start int64  // monotonic nanos: start of the current run without a yield
	last  int64  // monotonic nanos of the last reading
}

// paceStride is how many calls of paceWork read the clock once.
const paceStride = 8

// monoBase anchors monotonic readings (monoNow).
var monoBase = time.Now()

func monoNow() int64 { return int64(time.Since(monoBase)) }

// paceWork is called for each unit of loop work (a task, a connection's
// writes, a read callback, a swept connection): it yields when the loop has
// run yieldEvery since its last yield. A gap longer than yieldEvery between
// two readings is taken as the loop having waited (gnet reschedules it
// before it blocks), and starts a new run. Loop only.
func (l *loop) paceWork() {
	p := &l.pace
	if p.n++; p.n%paceStride != 0 {
		return
	}
	now := monoNow()
	switch {
	case now-p.last > int64(yieldEvery):
		p.start = now
	case now-p.start >= int64(yieldEvery):
		runtime.Gosched()
		now = monoNow()
		p.start = now
		l.srv.stats.LoopYields.Add(1)
	}
	p.last = now
}

// task is one queued item: a function, or a frame to write to a
// connection.
type task struct {
	fn  func()  // a function; with c, an inline callback of c
	c   *conn   // a write task: buf for c
	buf *[]byte // pooled encoded frame
}

func newLoop(s *Server, idx int) *loop {
	l := &loop{idx: idx, srv: s}
	l.drainTask = gnet.RunnableFunc(l.drain)
	l.resumeTask = gnet.RunnableFunc(l.resumeFlush)
	l.re.fn = l.recheck
	return l
}

// submit queues t and wakes the loop if it is not already woken.
// Concurrency-safe.
func (l *loop) submit(t task) {
	l.mu.Lock()
	l.inbox = append(l.inbox, t)
	wake := !l.scheduled
	l.scheduled = true
	l.mu.Unlock()
	if !wake {
		return
	}
	if err := l.el.Execute(context.Background(), l.drainTask); err != nil {
		// The engine is stopping: nothing will run on the loop again.
		l.mu.Lock()
		l.inbox = l.inbox[:0]
		l.scheduled = false
		l.mu.Unlock()
	}
}

// queue hands an encoded frame for c to the loop. Writes reach a
// connection in the order they entered the loop's inbox, whatever
// primitive made them (fan-out tasks, unicasts, direct writes). Inside c's
// inline callback, with nothing queued before it (the inbox empty and no
// write task of c later in the batch the loop drains: c's queuedOne
// count), the frame is staged and written when the callback returns, with
// no task and no wake-up.
// Concurrency-safe.
func (l *loop) queue(c *conn, b *[]byte) {
	l.mu.Lock()
	if l.cb == c && len(l.inbox) == 0 && c.flags.Load() < queuedOne {
		if l.staged == nil {
			l.staged = b
		} else {
			*l.staged = append(*l.staged, *b...)
			pool.Put(b)
		}
		l.mu.Unlock()
		return
	}
	c.flags.Add(queuedOne) // taken off by runTask
	l.mu.Unlock()
	l.submit(task{c: c, buf: b})
}

// stageFirst puts b (the 101 of an inline route, copied) first in what the
// running callback writes when it returns. Loop only, at the start of a
// callback.
func (l *loop) stageFirst(b []byte) {
	buf := pool.Get(len(b))
	*buf = append(*buf, b...)
	l.mu.Lock()
	if l.staged != nil {
		*buf = append(*buf, *l.staged...)
		pool.Put(l.staged)
	}
	l.staged = buf
	l.mu.Unlock()
}

// swapCallback makes c the connection whose inline callback runs (nil: none)
// and returns what was staged for the one before. Loop only.
func (l *loop) swapCallback(c *conn) *[]byte {
	l.mu.Lock()
	b := l.staged
	l.staged, l.cb = nil, c
	l.mu.Unlock()
	return b
}

// drain runs every queued task, in order. Loop only.
func (l *loop) drain(context.Context) error {
	l.mu.Lock()
	batch := l.inbox
	l.inbox = l.spare[:0]
	l.scheduled = false
	l.mu.Unlock()
	l.batching = true
	for i := range batch {
		l.paceWork()
		l.runTask(&batch[i])
		batch[i] = task{}
	}
	l.endBatch()
	l.spare = batch
	return nil
}

// runTask runs one task; a panic (a bug) is logged and counted, and the
// loop goes on with the next task instead of taking the process down.
func (l *loop) runTask(t *task) {
	defer func() {
		if r := recover(); r != nil {
			l.srv.stats.Panics.Add(1)
			l.srv.log.Error("server: panic in loop task", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	switch {
	case t.c == nil:
		t.fn()
	case t.fn != nil:
		t.c.inCallback(t.fn)
	default:
		t.c.flags.Add(^(queuedOne - 1)) // one write task of c fewer
		t.c.write(t.buf)
	}
}

// add registers c for sweeps. Loop only.
func (l *loop) add(c *conn) {
	c.idx = int32(len(l.conns))
	l.conns = append(l.conns, c)
}

// del removes c from sweeps. Loop only.
func (l *loop) del(c *conn) {
	i := c.idx
	if i < 0 || int(i) >= len(l.conns) || l.conns[i] != c {
		return
	}
	last := len(l.conns) - 1
	l.conns[i] = l.conns[last]
	l.conns[i].idx = i
	l.conns[last] = nil
	l.conns = l.conns[:last]
	c.idx = -1
}

// The control frames sent without a payload, encoded once (gnet copies
// what the socket does not take, so they are shared read-only).
var (
	pingFrame       = codec.AppendFrame(nil, ws.OpPing, true, nil)
	emptyCloseFrame = codec.AppendFrame(nil, ws.OpClose, true, nil)
)

// frame encodes a control frame into the loop's scratch. Loop only; valid
// until the next call.
func (l *loop) frame(op ws.OpCode, payload []byte) []byte {
	l.ctl = codec.AppendFrame(l.ctl[:0], op, true, payload)
	return l.ctl
}

// closeFrame encodes a close frame into the loop's scratch. Loop only.
func (l *loop) closeFrame(code ws.StatusCode, reason string) []byte {
	l.ctl = codec.AppendClose(l.ctl[:0], code, reason)
	return l.ctl
}

func (l *loop) bound() bool { return l.bindDone.Load() }
