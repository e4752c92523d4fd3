package server

import "time"

// The inbound rate limit is one GCRA ("virtual scheduling") per websocket
// connection, on the loop's coarse clock, with no timer: c.tat is the time
// at which the connection's input so far would be paid for at its rates,
// in microseconds of the loop clock. Each frame costs 1/InboundMessages s
// plus its bytes/InboundBytes s; a connection is read while tat is at most
// InboundBurst ahead of now. The microsecond clock wraps every 71 minutes
// in a uint32: tat is kept within maxAhead of now, and a connection quiet
// for maxQuiet starts afresh, so int32(tat-now) always has the right sign.

const (
	maxBurst = 10 * time.Minute // InboundBurst is clamped to it
	maxAhead = 20 * time.Minute // tat never runs further ahead of now
	maxQuiet = 15 * time.Minute // unread this long: tat starts again at now
	minBytes = 1 << 10          // InboundBytes below 1 KiB/s counts as 1 KiB/s
)

// limiter is the server's inbound rates, fixed by New. Read-only.
type limiter struct {
	perFrame  int64 // µs per frame; 0 = frames are free
	psPerByte int64 // picoseconds per byte; 0 = bytes are free
	burst     int32 // µs a connection may run ahead of its rates
	off       bool  // no rate at all
}

func newLimiter(cfg *Config) limiter {
	var l limiter
	if cfg.InboundMessages > 0 {
		l.perFrame = int64(time.Second/time.Microsecond) / int64(cfg.InboundMessages)
	}
	if cfg.InboundBytes > 0 {
		l.psPerByte = 1e12 / int64(max(cfg.InboundBytes, minBytes))
	}
	l.burst = int32(cfg.InboundBurst / time.Microsecond)
	l.off = l.perFrame == 0 && l.psPerByte == 0
	return l
}

// clock is the loop clock in wrapping microseconds. Loop only.
func (l *loop) clock() uint32 { return uint32(l.now / int64(time.Microsecond)) }

// freshen starts c's rates afresh when its tat fell behind the clock or
// it was quiet for maxQuiet; before lastRead moves. Loop only.
func (c *conn) freshen() {
	now := c.l.clock()
	if int32(c.tat-now) < 0 || c.l.now-c.lastRead > int64(maxQuiet) {
		c.tat = now
	}
}

// overRate reports whether c ran past its burst. The coarse clock is read
// afresh before saying yes. Loop only.
func (c *conn) overRate() bool {
	lim := &c.l.srv.bp.lim
	if lim.off || int32(c.tat-c.l.clock()) <= lim.burst {
		return false
	}
	c.l.now = time.Now().UnixNano()
	return int32(c.tat-c.l.clock()) > lim.burst
}

// charge pays for n bytes of input and, when frame, one frame. Loop only.
func (c *conn) charge(n int, frame bool) {
	lim := &c.l.srv.bp.lim
	if lim.off {
		return
	}
	now := c.l.clock()
	if int32(c.tat-now) < 0 {
		c.tat = now
	}
	cost := int64(n) * lim.psPerByte / 1e6
	if frame {
		cost += lim.perFrame
	}
	room := int64(maxAhead/time.Microsecond) - int64(int32(c.tat-now))
	c.tat += uint32(max(0, min(cost, room)))
}
