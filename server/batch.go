package server

import "github.com/plezigo/plezi/internal/pool"

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

// endBatch writes every deferred write and leaves batching. Loop only.
func (l *loop) endBatch() {
	for i := range l.dirty { // writes may close conns, never add dirty ones
		if l.dirty[i].head != 0 {
			l.paceWork()
			l.dirty[i].c.writePending()
		}
	}
	clear(l.dirty)
	l.dirty = l.dirty[:0]
	clear(l.pend)
	l.pend = l.pend[:0]
	l.batching = false
	l.flushCounts()
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
