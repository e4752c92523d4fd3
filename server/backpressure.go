package server

import (
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// Read gating. gnet has no way to stop reading a socket: it reads whatever
// arrives and keeps what OnTraffic leaves unread in the connection's
// inbound buffer. So a connection is "paused" by not consuming its input:
// the bytes wait in gnet's buffer, the connection's loop watches it, and a
// Wake resumes it once the reason is gone. What waits is bounded by
// MaxInbound; past it the connection is closed (websocket 1008) and
// counted. A connection is paused while
//
//   - its own unsent output is over highWater (half MaxOutbound), until it
//     drains to half of that (HTTP and websocket alike; pongs count);
//   - it ran past its inbound rates (ratelimit.go), until it is back
//     within its burst (checked between messages: one up to MaxMessage
//     always passes, and its cost delays the next);
//   - a fan-out it caused reached a backlogged recipient, one whose
//     unsent output is over backlogMark, a quarter of MaxOutbound
//     ("held"), until no connection is backlogged (down to half the
//     mark), or for half BacklogTimeout at most (a recipient backlogged
//     that long is about to be closed). The other three quarters of the
//     cap take what the sender had sent before it was held.
//
// A websocket that stays backlogged for BacklogTimeout is a slow
// consumer: closed with 4008, as when it passes MaxOutbound.

// watchTick is how often a loop looks at its watched connections.
const watchTick = 5 * time.Millisecond

// Reasons to pause reading.
const (
	pauseOutput uint8 = 1 << iota // own unsent output over highWater
	pauseRate                     // past the inbound rates
	pauseHold                     // fan-out reached a backlogged recipient
)

// backpressure is the server's side of read gating, fixed by New but for
// backlogged.
type backpressure struct {
	highWater   int          // own unsent output that pauses reading: half the outbound cap
	backlogMark int          // unsent output that makes a recipient backlogged: a quarter of the cap
	backlogged  atomic.Int64 // websocket connections over backlogMark, server-wide
	lim         limiter
}

func newBackpressure(cfg *Config, maxOutbound int) backpressure {
	return backpressure{highWater: maxOutbound / 2, backlogMark: maxOutbound / 4, lim: newLimiter(cfg)}
}

// watched is a connection its loop looks at every watchTick: paused, or
// backlogged. Loop-owned.
type watched struct {
	c            *conn
	holdSince    int64 // loop clock when the loop first saw it held; 0 = not held
	backlogSince int64 // loop clock when the loop first saw it backlogged
}

func (c *conn) isPaused() bool { return c.flags.Load()&flagPaused != 0 }

// gate runs first in OnTraffic: it closes a connection whose unread input
// passed MaxInbound, and reports whether c stays paused. Loop only.
func (c *conn) gate() (gnet.Action, bool) {
	if c.state == stateWS {
		c.freshen()
	}
	if c.gc.InboundBuffered() > c.l.srv.cfg.MaxInbound {
		if a, closed := c.overflow(); closed {
			return a, true
		}
	}
	if !c.isPaused() {
		return gnet.None, false
	}
	if (c.state == stateWS || c.state == stateHTTP) && c.why() != 0 {
		return gnet.None, true
	}
	c.flags.And(^flagPaused) // resumed, or closing: a closing connection drains its input
	return gnet.None, false
}

// overflow closes a connection whose unread input passed MaxInbound.
// Loop only.
func (c *conn) overflow() (gnet.Action, bool) {
	switch c.state {
	case stateHTTP, statePending:
		c.l.srv.stats.InboundOverflows.Add(1)
		c.to(stateClosed)
		return gnet.Close, true
	case stateWS:
		c.l.srv.stats.InboundOverflows.Add(1)
		c.fail(1008, "input backlog") // then read and dropped until closed
	}
	return gnet.None, false
}

// mayRead reports whether c may consume more input now; when it may not,
// c is paused and watched. Loop only, between frames or requests.
func (c *conn) mayRead() bool {
	why := c.why()
	if why == 0 {
		return true
	}
	st := &c.l.srv.stats
	if why&pauseOutput != 0 {
		st.ReadPauses.Add(1)
	}
	if why&pauseRate != 0 {
		st.Throttled.Add(1)
	}
	c.flags.Or(flagPaused)
	c.watch()
	return false
}

// why is what keeps c from reading now, or 0. A paused connection resumes
// once its output is down to half of highWater. Loop only.
func (c *conn) why() uint8 {
	bp := &c.l.srv.bp
	var w uint8
	hw := bp.highWater
	if c.isPaused() {
		hw /= 2
	}
	if c.gc.OutboundBuffered() > hw {
		w |= pauseOutput
	}
	f := c.flags.Load()
	if c.state != stateWS || f&flagMidMessage != 0 { // a message once begun is read whole
		return w
	}
	if f&flagHeld != 0 {
		if bp.backlogged.Load() > 0 {
			w |= pauseHold
		} else {
			c.flags.And(^flagHeld)
		}
	}
	if c.overRate() {
		w |= pauseRate
	}
	return w
}

// Backlogged reports whether c's unsent output is over the backlog mark
// (dispatch's fan-out asks each recipient of a sender's message).
// Concurrency-safe; meant for c's loop.
func (c *conn) Backlogged() bool { return c.flags.Load()&flagBacklogged != 0 }

// Hold asks c to stop reading for a while: a fan-out it caused reached a
// backlogged recipient. Concurrency-safe.
func (c *conn) Hold() {
	if c.flags.Load()&flagHeld == 0 {
		c.flags.Or(flagHeld)
	}
}

// backlog marks a websocket whose output went over backlogMark. Loop only.
func (c *conn) backlog() {
	if c.flags.Load()&flagBacklogged != 0 {
		return
	}
	c.flags.Or(flagBacklogged)
	c.l.srv.bp.backlogged.Add(1)
	c.watch()
}

// watch adds c to its loop's watch list. Loop only.
func (c *conn) watch() {
	if c.flags.Load()&flagWatched != 0 {
		return
	}
	c.flags.Or(flagWatched)
	c.l.watch = append(c.l.watch, watched{c: c})
	c.l.recheckIn(&c.l.re.watchAt, watchTick)
}

// unwatch clears what watching c set, when it leaves the list. Loop only.
func (c *conn) unwatch() {
	if c.flags.Load()&flagBacklogged != 0 {
		c.l.srv.bp.backlogged.Add(-1)
	}
	c.flags.And(^(flagWatched | flagBacklogged | flagPaused | flagHeld))
}

// look resumes the watched connections whose reasons are gone and closes
// the slow consumers among them; the loop's re-check timer calls it every
// watchTick while the list is not empty. Loop only.
func (l *loop) look() {
	for i := len(l.watch) - 1; i >= 0; i-- {
		if l.watch[i].keep(l) {
			continue
		}
		last := len(l.watch) - 1
		l.watch[i] = l.watch[last]
		l.watch[last] = watched{}
		l.watch = l.watch[:last]
	}
	if len(l.watch) > 0 {
		l.recheckIn(&l.re.watchAt, watchTick)
	}
}

// keep updates a watched connection and reports whether it stays watched.
func (w *watched) keep(l *loop) bool {
	c := w.c
	if c.state != stateWS && c.state != stateHTTP {
		c.unwatch()
		return false
	}
	f := c.flags.Load()
	keep := f&flagBacklogged != 0 && w.keepBacklog(l)
	if f&flagPaused != 0 && w.keepPaused(l) {
		keep = true
	}
	if !keep {
		c.unwatch()
	}
	return keep
}

// keepBacklog ends a backlog that drained to half of backlogMark, or
// closes the slow consumer it lasted BacklogTimeout for.
func (w *watched) keepBacklog(l *loop) bool {
	c, bp := w.c, &l.srv.bp
	switch {
	case c.state != stateWS || c.gc.OutboundBuffered() <= bp.backlogMark/2:
	case w.backlogSince == 0:
		w.backlogSince = l.now
		return true
	case l.now-w.backlogSince <= int64(l.srv.cfg.BacklogTimeout):
		return true
	default:
		l.srv.stats.SlowConsumers.Add(1)
		l.srv.log.Debug("server: closing slow consumer", "id", c.sock.ID(), "buffered", c.gc.OutboundBuffered())
		c.closeWith(4008, "slow consumer")
	}
	w.backlogSince = 0
	bp.backlogged.Add(-1)
	c.flags.And(^flagBacklogged)
	return false
}

// keepPaused resumes a paused connection whose reasons are gone, ending a
// hold after half BacklogTimeout.
func (w *watched) keepPaused(l *loop) bool {
	c := w.c
	switch {
	case c.flags.Load()&flagHeld == 0:
		w.holdSince = 0
	case w.holdSince == 0: // counted here: a connection paused already may be held too
		w.holdSince = l.now
		l.srv.stats.Held.Add(1)
	case l.now-w.holdSince >= int64(l.srv.cfg.BacklogTimeout/2):
		w.holdSince = 0
		c.flags.And(^flagHeld)
	}
	if c.why() != 0 {
		return true
	}
	c.flags.And(^flagPaused)
	_ = c.gc.Wake(nil) // reads what waits in gnet's buffer
	return false
}
