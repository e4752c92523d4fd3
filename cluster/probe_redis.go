package cluster

import (
	"strconv"
	"sync"
	"time"
)

// Deaf probes. Every Probe period the broker publishes a numbered probe on
// a channel only it hears (one per subscription connection on Redis
// Cluster); a subscription is deaf when a probe that Redis took (its
// PUBLISH answered) goes unheard for two periods. A probe that failed to
// send counts for nothing: while Redis is frozen or away, time passes but
// the subscription is not silent, and once Redis thaws the old
// subscription still delivers what Redis queued for it, so it must not be
// thrown away. A deaf subscription is renewed (plain_redis.go overlaps
// the old and the new one; shard_redis.go rebuilds its layout).

// probeClock measures how long the oldest probe Redis took has gone
// unheard. Concurrency-safe.
type probeClock struct {
	mu     sync.Mutex
	seq    uint64    // last number handed out
	heard  uint64    // highest number heard
	wait   uint64    // oldest sent probe not heard; 0: none
	waitAt time.Time // when wait was sent
	last   uint64    // newest sent probe
	lastAt time.Time
}

// next numbers a probe about to be sent.
func (c *probeClock) next() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	return c.seq
}

// sent records that Redis took probe n.
func (c *probeClock) sent(n uint64) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if n <= c.heard {
		return // heard before its PUBLISH returned
	}
	if c.wait == 0 {
		c.wait, c.waitAt = n, now
	}
	c.last, c.lastAt = n, now
}

// hear records that probe n arrived (those before it arrived or are lost).
func (c *probeClock) hear(n uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.heard = max(c.heard, n)
	if c.wait == 0 || n < c.wait {
		return
	}
	c.wait = 0
	if c.last > n {
		c.wait, c.waitAt = c.last, c.lastAt
	}
}

// hearText records a probe whose payload is its number in decimal.
func (c *probeClock) hearText(payload string) {
	if n, err := strconv.ParseUint(payload, 10, 64); err == nil {
		c.hear(n)
	}
}

// quiet is how long the oldest probe Redis took has gone unheard.
func (c *probeClock) quiet() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.wait == 0 {
		return 0
	}
	return time.Since(c.waitAt)
}

// prober sends the probes every period, or at once when kicked (Redis
// answers again after an outage), and judges the subscription.
func (r *Redis) prober() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.Probe)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		case <-r.probeNow:
		}
		r.judge(r.sub.sendProbes(), r.sub.quiet())
		if r.ctx.Err() != nil {
			return
		}
	}
}

// kickProbe asks the prober for a round now.
func (r *Redis) kickProbe() {
	select {
	case r.probeNow <- struct{}{}:
	default:
	}
}

// judge sets the health from one probe round: unhealthy while probes
// fail to send (an outage logs itself), deaf — counted, logged,
// renewed — when a probe Redis took went unheard for two periods.
func (r *Redis) judge(err error, quiet time.Duration) {
	switch {
	case r.ctx.Err() != nil:
	case err != nil:
		if r.healthy.Swap(false) && !r.down.Load() {
			r.log.Warn("cluster: redis probe failed", "err", err)
		}
	case quiet > 2*r.cfg.Probe:
		r.Deaf.Add(1)
		r.healthy.Store(false)
		r.log.Warn("cluster: redis subscription deaf; resubscribing", "quiet", quiet)
		r.sub.renew()
	default:
		redisLogRecovered()
		if !r.healthy.Swap(true) {
			r.log.Info("cluster: redis healthy again")
		}
	}
}

// reset forgets the probes sent so far (a renewed subscription cannot
// hear them).
func (c *probeClock) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wait, c.heard = 0, c.seq
}

// await waits for ch to close (nil: never) for at most d; false when the
// broker closed first or d passed.
func (r *Redis) await(ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-r.ctx.Done():
		return false
	case <-t.C:
		return ch == nil
	}
}
