package server

import (
	"context"
	"time"

	"github.com/gobwas/ws"
)

// A loop runs its connections' timers itself; no connection has a timer of
// its own. Two mechanisms, both here:
//
//   - the sweep, every Config.tick (a quarter of the shortest timeout):
//     handshake, ping, idle, message and close deadlines of every
//     connection of the loop. One sweeper goroutine queues it on each loop.
//   - the re-check: one time.Timer per loop for the short lists that must
//     be looked at sooner: drainers (drain.go: waiting for gnet to send what
//     is queued; re-checked at once while they move, backing off to
//     pumpMaxDelay) and watched (backpressure.go: paused or backlogged;
//     every watchTick). The timer is armed for the earlier of the two.

// recheck is a loop's re-check timer. Loop-owned; the timer's function
// only queues fn on the loop.
type recheck struct {
	timer   *time.Timer
	fn      func() // loop.recheck, bound once
	at      int64  // unix nanos the timer is set for; 0 = not set
	drainAt int64  // when the drainers are due; 0 = none wait
	watchAt int64  // when the watch list is due; 0 = it is empty
}

// recheckIn makes the list whose due time is *due due in d at the latest,
// and sets the timer for it if it is the earliest. Loop only.
func (l *loop) recheckIn(due *int64, d time.Duration) {
	at := time.Now().Add(d).UnixNano()
	if *due == 0 || at < *due {
		*due = at
	}
	l.armRecheck(*due)
}

// armRecheck sets the timer for at unless it is set for earlier. Loop only.
func (l *loop) armRecheck(at int64) {
	r := &l.re
	if r.at != 0 && r.at <= at {
		return
	}
	r.at = at
	d := max(0, time.Duration(at-time.Now().UnixNano()))
	if r.timer == nil {
		r.timer = time.AfterFunc(d, func() { l.submit(task{fn: r.fn}) })
		return
	}
	r.timer.Reset(d)
}

// recheck runs the lists that are due and sets the timer for the next
// one. A stale firing (the timer was moved earlier) finds nothing due and
// only sets the timer again. Loop only.
func (l *loop) recheck() {
	r := &l.re
	r.at = 0
	now := time.Now().UnixNano()
	l.now = now
	if r.drainAt != 0 && now >= r.drainAt {
		r.drainAt = 0
		l.pumpDrainers() // sets drainAt again while some still wait
	}
	if r.watchAt != 0 && now >= r.watchAt {
		r.watchAt = 0
		l.look() // sets watchAt again while the list is not empty
	}
	for _, due := range [...]int64{r.drainAt, r.watchAt} {
		if due != 0 {
			l.armRecheck(due)
		}
	}
}

// sweeper queues the timer sweep on every loop each tick until ctx ends.
// It owns nothing else; Run stops it after draining.
func (s *Server) sweeper(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(s.cfg.tick())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, l := range s.loops {
				if l.bound() {
					l.submit(task{fn: l.sweep})
				}
			}
		}
	}
}

// sweep runs the connection timers of the loop. Loop only.
func (l *loop) sweep() {
	now := time.Now().UnixNano()
	l.now = now
	for i := len(l.conns) - 1; i >= 0; i-- {
		c := l.conns[i]
		l.paceWork()
		switch c.state {
		case stateHTTP: // not statePending: the timeout bounds the client's request, not a handler's work
			if c.deadline != 0 && now > c.deadline {
				l.srv.stats.HandshakeTimeouts.Add(1)
				c.drop()
			}
		case stateWS:
			l.sweepWS(c, now)
		case stateStream:
			if now > c.deadline { // the client read nothing for IdleTimeout
				l.srv.stats.IdleTimeouts.Add(1)
				c.drop()
			}
		case stateClosing, stateLinger, stateFlushing:
			if now > c.deadline {
				c.drop()
			}
		}
	}
}

// sweepWS runs an open websocket's timers: the message in progress, idle
// close (a clean close, waiting for the peer's), ping. Loop only.
func (l *loop) sweepWS(c *conn, now int64) {
	cfg := &l.srv.cfg
	ping := int64(cfg.PingInterval)
	switch quiet := now - c.lastRead; {
	case c.deadline != 0 && now > c.deadline:
		l.srv.stats.MessageTimeouts.Add(1)
		c.unaccountPartial()
		c.fail(ws.StatusPolicyViolation, "message timeout")
	case quiet > int64(cfg.IdleTimeout):
		l.srv.stats.IdleTimeouts.Add(1)
		c.closeWith(ws.StatusGoingAway, "idle timeout")
	case quiet >= ping && now-c.lastPing >= ping:
		c.lastPing = now
		c.writeNow(pingFrame)
	}
}
