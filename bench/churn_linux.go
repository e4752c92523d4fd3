package bench

// churnState is the churn scenario's pacing, loop-owned.
type churnState struct {
	active   bool
	total    int // connections to open on this loop
	started  int
	inFlight int
	rate     float64 // per second on this loop
	half     deadlines
}

const stallNanos = int64(1e9) // a handshake slower than this is a stall

func (l *loop) churnStart() {
	cfg := &l.e.cfg
	ch := &l.churn
	ch.active = true
	ch.rate = cfg.ChurnRate / float64(cfg.Loops)
	ch.total = cfg.churnTotal() / cfg.Loops
	l.pending = 0
}

// churnTick opens the connections due by now and resets expired halves.
func (l *loop) churnTick(now int64) {
	ch := &l.churn
	ch.half.expire(now, l.halfExpired)
	due := int(float64(now-l.t0) * ch.rate / 1e9)
	if due > ch.total {
		due = ch.total
	}
	for ch.started < due {
		half := ch.started%2 == 1
		ch.started++
		ch.inFlight++
		l.open(l.e.cfg.Base+ch.started, half)
		l.stats.span = now - l.t0
	}
	if ch.started == ch.total && ch.inFlight == 0 {
		ch.active = false
		l.e.churnDone.Add(1)
	}
}

// churnOpened records a completed handshake and closes it cleanly.
func (l *loop) churnOpened(c *conn) {
	lat := Now() - c.t0
	l.hist.Record(lat)
	if lat > stallNanos {
		l.stats.stalls++
	}
	l.stats.fullDone++
	l.churn.inFlight--
	l.write(c, l.closing)
	l.release(c, false)
}

// halfSent starts the hold of a half-finished handshake.
func (l *loop) halfSent(c *conn) {
	l.churn.half.push(c, Now()+int64(l.e.cfg.HalfHold))
}

// halfExpired resets a half-finished handshake after its hold.
func (l *loop) halfExpired(c *conn) {
	if c.state != stHandshake || l.conns[c.fd] != c {
		return
	}
	l.stats.halfDone++
	l.churn.inFlight--
	l.pending--
	l.release(c, true)
}

// halfClosed counts a half-finished handshake the server gave up on.
func (l *loop) halfClosed(c *conn) {
	l.stats.halfDone++
	l.stats.resets++
	l.churn.inFlight--
	l.pending--
	l.release(c, true)
}
