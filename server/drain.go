package server

import "time"

// Some connections wait for gnet to send what is queued for them: a
// static file streams its next chunk once the client has read the last
// ones, a lingering close shuts the write side once the close frame is out,
// a finished connection closes once its last bytes are out. gnet has no
// "outbound drained" callback, so the loop keeps these connections in a
// list and re-checks them from a timer: at once while they move, backing
// off to pumpMaxDelay while nothing does (the loop's re-check timer,
// timers.go). The list is short (streams and closes in progress), never
// every connection.

const (
	pumpMinDelay = time.Millisecond
	pumpMaxDelay = 50 * time.Millisecond
)

// waitDrain adds c to the loop's drain waiters (once: callers add a
// connection only when it starts waiting) and schedules a re-check.
// Loop only.
func (l *loop) waitDrain(c *conn) {
	l.drainers = append(l.drainers, c)
	l.pumpDelay = pumpMinDelay
	l.recheckIn(&l.re.drainAt, l.pumpDelay)
}

// pumpDrainers re-checks every waiting connection; those still waiting
// stay in the list, and the next re-check comes at once if any of them
// moved, later and later if none did. A connection that moves on to
// another wait (a stream that ends and flushes) is added again by that
// step, into the fresh list. Loop only.
func (l *loop) pumpDrainers() {
	list := l.drainers
	l.drainers = l.drainSpare[:0]
	moved := false
	for _, c := range list {
		wait, m := c.onDrain()
		moved = moved || m
		if wait {
			l.drainers = append(l.drainers, c)
		}
	}
	clear(list)
	l.drainSpare = list[:0]
	if len(l.drainers) == 0 {
		return
	}
	if moved {
		l.pumpDelay = 0
	} else {
		l.pumpDelay = min(max(2*l.pumpDelay, pumpMinDelay), pumpMaxDelay)
	}
	l.recheckIn(&l.re.drainAt, l.pumpDelay)
}

// onDrain is one re-check of a waiting connection: wait reports whether it
// still waits in the same state, moved whether it made progress. Loop only.
func (c *conn) onDrain() (wait, moved bool) {
	switch c.state {
	case stateStream:
		return c.pumpFile()
	case stateLinger:
		return !c.shutWrite(), false
	case stateFlushing:
		if c.gc.OutboundBuffered() > 0 {
			return true, false
		}
		c.drop()
	}
	return false, false
}
