package server

import "sync/atomic"

// The node's traffic counters, read by monitoring (cmd/plezi's /metrics):
// one atomic add per read batch, per write call or per drain, never a lock
// or an allocation per message.

// traffic is a loop's share of the websocket traffic counters. The
// atomics are read from any goroutine; outMsgs and outBytes gather what
// the loop wrote while draining (loop-owned) and are added to them once
// per drain (flushCounts).
type traffic struct {
	bytesIn           atomic.Int64 // websocket bytes parsed (frame headers included)
	msgsOut, bytesOut atomic.Int64 // data messages handed to connections; bytes written (control frames included)
	outMsgs, outBytes int64        // loop-owned, not yet in msgsOut, bytesOut
}

// countOut counts msgs data messages and n bytes written by the loop:
// gathered while it drains, added at once otherwise. Loop only.
func (l *loop) countOut(msgs, n int) {
	if l.batching {
		l.outMsgs += int64(msgs)
		l.outBytes += int64(n)
		return
	}
	if msgs != 0 {
		l.msgsOut.Add(int64(msgs))
	}
	l.bytesOut.Add(int64(n))
}

// flushCounts adds what the drain gathered to the loop's counters.
// Loop only.
func (l *loop) flushCounts() {
	if l.outMsgs != 0 {
		l.msgsOut.Add(l.outMsgs)
		l.outMsgs = 0
	}
	if l.outBytes != 0 {
		l.bytesOut.Add(l.outBytes)
		l.outBytes = 0
	}
}

func iovLen(iov [][]byte) int {
	n := 0
	for _, b := range iov {
		n += len(b)
	}
	return n
}

// sumLoops adds up one counter over the loops.
func (s *Server) sumLoops(f func(l *loop) *atomic.Int64) int64 {
	var n int64
	for _, l := range s.loops {
		n += f(l).Load()
	}
	return n
}

// BytesIn returns the websocket bytes received and parsed (frame headers
// included; HTTP requests not). Concurrency-safe.
func (s *Server) BytesIn() int64 {
	return s.sumLoops(func(l *loop) *atomic.Int64 { return &l.bytesIn })
}

// MessagesOut returns the websocket data messages handed to connections
// for writing (fan-out deliveries, direct writes, event replies).
// Concurrency-safe.
func (s *Server) MessagesOut() int64 {
	return s.sumLoops(func(l *loop) *atomic.Int64 { return &l.msgsOut })
}

// BytesOut returns the websocket bytes written to connections, control
// frames included (HTTP responses not). Concurrency-safe.
func (s *Server) BytesOut() int64 {
	return s.sumLoops(func(l *loop) *atomic.Int64 { return &l.bytesOut })
}

// StatusCounts counts events by HTTP status, 100 to 599; any other status
// counts as 0. Fixed size (600 words), lock-free. Concurrency-safe.
type StatusCounts struct{ n [600]atomic.Int64 }

func (c *StatusCounts) add(status int) {
	if status < 100 || status >= len(c.n) {
		status = 0
	}
	c.n[status].Add(1)
}

// Each calls fn for every status counted at least once, lowest first.
// Concurrency-safe.
func (c *StatusCounts) Each(fn func(status int, n int64)) {
	for i := range c.n {
		if n := c.n[i].Load(); n != 0 {
			fn(i, n)
		}
	}
}

// refuse counts a refused upgrade or connection answered with status.
func (s *Server) refuse(status int) {
	s.stats.Refused.Add(1)
	s.stats.RefusedStatus.add(status)
}
