package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Outages. A command that fails for want of Redis (a timeout, a refused
// or dropped connection, a server still loading its data) puts the broker
// in an outage: from then on every command fails at once with
// ErrUnavailable, counted in Refused, instead of waiting its Timeout on a
// Redis that is not there, and one goroutine PINGs Redis (20 ms, doubling
// to 500 ms apart) until it answers. So a dead or frozen Redis costs one
// Timeout per caller at the start of an outage and nothing after it, and
// nothing is queued for a Redis that would deliver it late. The outage is
// logged once when it starts and once when it ends; its end restores what
// this node owns in Redis (see restore).

// do runs one command with the broker's Timeout: at once ErrUnavailable
// during an outage; a failure for want of Redis starts one. Failures of
// Redis (error replies included) are counted in Errors; cmd's own errors
// (a note over its bound) pass through as they are.
func (r *Redis) do(what string, cmd func(ctx context.Context) error) error {
	if r.down.Load() {
		r.Refused.Add(1)
		return fmt.Errorf("cluster: %s: %w", what, ErrUnavailable)
	}
	ctx, cancel := r.cmdCtx()
	defer cancel()
	err := cmd(ctx)
	var reply redis.Error
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		return err
	case r.unreachable(err):
		r.Errors.Add(1)
		r.startOutage(err)
	case errors.As(err, &reply):
		r.Errors.Add(1)
	}
	return fmt.Errorf("cluster: %s: %w", what, err)
}

func (r *Redis) cmdCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.ctx, r.cfg.Timeout)
}

// busyReplies are the error replies of a Redis that is there but cannot
// serve yet (loading its data, a cluster without a quorum).
var busyReplies = []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY"}

// unreachable reports whether err means Redis is not serving (a network
// error or timeout, a dropped connection, no pooled connection in time,
// a busy reply), rather than that it refused this command or the broker
// is closing.
func (r *Redis) unreachable(err error) bool {
	if r.ctx.Err() != nil {
		return false
	}
	var ne net.Error
	var reply redis.Error
	switch {
	case errors.As(err, &reply):
		for _, p := range busyReplies {
			if strings.HasPrefix(reply.Error(), p) {
				return true
			}
		}
		return false
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, redis.ErrPoolTimeout):
		return true
	}
	return false
}

// startOutage begins an outage, once: logged, and the reviver started.
func (r *Redis) startOutage(err error) {
	if !r.down.CompareAndSwap(false, true) {
		return
	}
	r.Outages.Add(1)
	r.log.Warn("cluster: redis unavailable; commands fail at once until it answers", "err", err)
	r.goBroker(r.revive)
}

// revive PINGs Redis until it answers, then ends the outage and restores
// this node's state.
func (r *Redis) revive() {
	refused := r.Refused.Load()
	for pause := 20 * time.Millisecond; ; pause = min(2*pause, 500*time.Millisecond) {
		select {
		case <-r.ctx.Done():
			return
		case <-time.After(pause):
		}
		ctx, cancel := r.cmdCtx()
		err := r.c.Ping(ctx).Err()
		if err == nil {
			// Before anything runs again: no liveness answer may find a
			// node's key lapsed in the outage before it re-announced.
			err = r.c.Set(ctx, r.key("nodes-restored"), 1, restoreGrace).Err()
		}
		cancel()
		if err == nil && r.ctx.Err() == nil {
			r.down.Store(false)
			r.log.Info("cluster: redis answers again", "refused", r.Refused.Load()-refused)
			r.kickProbe()
			r.restoreHooks("redis answers again")
			return
		}
	}
}

// OnRestore adds fn to what runs when this node's state in Redis may be
// lost or its subscription may have missed messages: Redis answers again
// after an outage, the subscription connection came back, or a deaf one
// was renewed (see dispatch.Restorer). fn runs on a broker goroutine and
// must not block. Concurrency-safe.
func (r *Redis) OnRestore(fn func()) {
	r.mu.Lock()
	r.restorers = append(r.restorers, fn)
	r.mu.Unlock()
}

// restore starts the liveness grace and runs the OnRestore functions, on
// their own goroutine. Called from a goroutine of the broker's (which
// holds r.wg).
func (r *Redis) restore(why string) {
	r.restoreWith(why, true)
}

// restoreHooks is restore when the grace was started already.
func (r *Redis) restoreHooks(why string) { r.restoreWith(why, false) }

func (r *Redis) restoreWith(why string, grace bool) {
	if r.ctx.Err() != nil {
		return
	}
	r.log.Info("cluster: restoring this node's state in redis", "why", why)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if grace {
			r.markRestored()
		}
		r.mu.Lock()
		fns := r.restorers
		r.mu.Unlock()
		for _, fn := range fns {
			fn()
		}
	}()
}
