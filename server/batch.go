package server

import (
	"context"
	"time"

	"github.com/plezigo/plezi/internal/pool"
)

// Writes made while the loop drains its task inbox (fan-out deliveries,
// staged writes from other goroutines) are deferred to the end of the drain
// and then written with one write or writev per connection. When broadcasts
// queue up faster than the loop writes them, each connection gets all of
// its pending frames in one system call instead of one call per frame: the
// further behind, the larger the batches.

// maxIOV is the most buffers one writev takes (Linux IOV_MAX).
const maxIOV = 1024

// pendWrite is one deferred write. The deferred writes of a connection form
// a list through next.
type pendWrite struct {
	b    []byte  // shared frame bytes, or a pooled staging buffer
	put  *[]byte // the pooled buffer to release once written, or nil
	next int32   // index+1 of the connection's next deferred write; 0 = last
}

// dirtyConn is a connection with deferred writes in this drain: the first
// and last of them, as index+1 in pend (head 0: already written).
type dirtyConn struct {
	c          *conn
	head, tail int32
}

// deferWrite queues b for c until the end of the drain. Loop only.
func (l *loop) deferWrite(c *conn, b []byte, put *[]byte) {
	l.pend = append(l.pend, pendWrite{b: b, put: put})
	i := int32(len(l.pend))
	if c.dirty == 0 {
		l.dirty = append(l.dirty, dirtyConn{c: c, head: i, tail: i})
		c.dirty = int32(len(l.dirty))
		return
	}
	d := &l.dirty[c.dirty-1]
	l.pend[d.tail-1].next = i
	d.tail = i
}

// flushBudget bounds one uninterrupted flush of deferred writes while
// connections wait for their handshake (more TCP connections than
// websockets: a reconnect storm, or plain HTTP clients). Past it the loop
// leaves the rest to a continuation task and returns to gnet, whose next
// poll reads what arrived meanwhile — handshakes and their 101s, other
// clients' messages — before the rest goes out. Without it a fan-out to
// 10k sockets holds the loop for 100 ms or more and new connections wait
// behind it (S8). Order per connection holds: while some of its deferred
// writes are left, a connection defers its new ones behind them
// (deferring).
const flushBudget = 4 * time.Millisecond

// endBatch writes every deferred write and leaves batching; with
// connections waiting for their handshake and the flush over flushBudget,
// it writes only part of them and queues the rest (resumeFlush). Loop
// only.
func (l *loop) endBatch() {
	start, split := int64(0), l.srv.tcpCount.Load() > l.srv.wsCount.Load()
	if split {
		start = monoNow()
	}
	for l.flushed < len(l.dirty) { // writes may close conns, never add dirty ones
		d := &l.dirty[l.flushed]
		l.flushed++
		if d.head == 0 {
			continue
		}
		l.paceWork()
		d.c.writePending()
		if split && l.flushed%32 == 0 && l.flushed < len(l.dirty) && monoNow()-start > int64(flushBudget) {
			l.batching = false
			l.flushCounts()
			l.queueResume()
			return
		}
	}
	clear(l.dirty)
	l.dirty = l.dirty[:0]
	clear(l.pend)
	l.pend = l.pend[:0]
	l.flushed = 0
	l.batching = false
	l.flushCounts()
}

// deferring reports whether c still has deferred writes of a flush that
// was split: its new writes go behind them. Loop only.
func (c *conn) deferring() bool { return c.dirty != 0 }

// queueResume queues the rest of a split flush as a task. It goes through
// another goroutine: gnet runs the tasks queued while it runs tasks in the
// same turn, before polling, and the point is to poll first. Loop only.
func (l *loop) queueResume() {
	l.srv.stats.FlushSplits.Add(1)
	if l.resumeQueued {
		return
	}
	l.resumeQueued = true
	go func() {
		// A failure is the engine stopping: nothing runs on the loop again.
		_ = l.el.Execute(context.Background(), l.resumeTask)
	}()
}

// resumeFlush writes what a split flush left (unless a drain meanwhile
// did). Loop only.
func (l *loop) resumeFlush(context.Context) error {
	l.resumeQueued = false
	if l.flushed < len(l.dirty) {
		l.batching = true
		l.endBatch()
	}
	return nil
}

// writePending writes c's deferred frames, in order, in one call. Loop only.
func (c *conn) writePending() {
	if c.dirty == 0 {
		return
	}
	l := c.l
	d := &l.dirty[c.dirty-1]
	head := d.head
	d.head, d.tail = 0, 0
	c.dirty = 0
	iov := l.iov[:0]
	for i := head; i != 0; i = l.pend[i-1].next {
		iov = append(iov, l.pend[i-1].b)
	}
	l.iov = iov // keep the grown scratch
	if c.state == stateWS || c.state == stateClosing {
		l.countOut(0, iovLen(iov))
		if len(iov) == 1 {
			_, _ = c.gc.Write(iov[0])
		} else {
			for rest := iov; len(rest) > 0 && c.state != stateClosed; { // writev takes at most IOV_MAX buffers
				n := min(len(rest), maxIOV)
				_, _ = c.gc.Writev(rest[:n])
				rest = rest[n:]
			}
		}
	}
	clear(iov)
	for i := head; i != 0; i = l.pend[i-1].next {
		if p := l.pend[i-1].put; p != nil {
			pool.Put(p)
			l.pend[i-1].put = nil
		}
	}
	c.checkOutbound()
}
