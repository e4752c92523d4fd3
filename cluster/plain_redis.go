package cluster

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"
)

// plainSub is plain pub/sub on one Redis: a channel per topic and
// pattern, all on one subscription connection. go-redis reconnects that
// connection after an error and subscribes its channels again by itself;
// the reader then restores the node's state (messages were lost in the
// gap, notes among them). A deaf connection is renewed with an overlap:
// a new connection subscribes everything and, once Redis has confirmed
// it, a switch marker is published on the probe channel. Both connections
// hear the marker at the same point of Redis's stream: the old one
// delivers what came before it, the new one what comes after, so a
// renewal loses and repeats nothing the old connection still heard.
type plainSub struct {
	r     *Redis
	cur   *plainReader // gets (un)subscribe commands; guarded by r.mu
	next  *plainReader // the renewal under way, if any; guarded by r.mu
	gen   uint64       // the newest reader's; guarded by r.mu
	clock probeClock
}

// plainReader is one subscription connection and its reader goroutine.
type plainReader struct {
	ps      *redis.PubSub
	gen     uint64
	want    int           // subscriptions it opened with
	standby atomic.Bool   // a renewal's connection before the marker: drops what it hears
	prev    *plainReader  // the connection a renewal replaces (delivers up to the marker); set before the reader starts, then the reader's
	ready   chan struct{} // closed once Redis confirmed want subscriptions
	active  chan struct{} // closed when standby ends
	stopped chan struct{} // closed when the reader returns
}

// activate ends standby, once.
func (rd *plainReader) activate() {
	if rd.standby.CompareAndSwap(true, false) {
		close(rd.active)
	}
}

func (p *plainSub) open() {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	p.gen = 1
	p.cur = p.dialLocked(1, false, nil)
}

func (p *plainSub) publish(ctx context.Context, c redis.Cmdable, topic string, data []byte) *redis.IntCmd {
	return c.Publish(ctx, p.r.key(topic), data)
}

func (p *plainSub) watch(name string, pattern bool) {
	p.command(name, pattern, true)
}

func (p *plainSub) unwatch(name string, pattern bool) {
	p.command(name, pattern, false)
}

// command sends (un)subscribe for name on the connection, and on the
// one it is being switched to.
func (p *plainSub) command(name string, pattern, on bool) {
	r := p.r
	r.mu.Lock()
	var list []*redis.PubSub
	for _, rd := range [...]*plainReader{p.cur, p.next} {
		if rd != nil {
			list = append(list, rd.ps)
		}
	}
	r.mu.Unlock()
	ch := r.key(name)
	for _, ps := range list {
		r.async(func(ctx context.Context) error {
			switch {
			case pattern && on:
				return ps.PSubscribe(ctx, ch)
			case pattern:
				return ps.PUnsubscribe(ctx, ch)
			case on:
				return ps.Subscribe(ctx, ch)
			}
			return ps.Unsubscribe(ctx, ch)
		})
	}
}

// sendProbes publishes the next numbered probe.
func (p *plainSub) sendProbes() error {
	r := p.r
	n := p.clock.next()
	err := r.do("probe", func(ctx context.Context) error {
		return r.c.Publish(ctx, r.key(r.probe), strconv.FormatUint(n, 10)).Err()
	})
	if err == nil {
		p.clock.sent(n)
	}
	return err
}

func (p *plainSub) quiet() time.Duration { return p.clock.quiet() }

// renew starts a renewal (see plainSub) unless one is under way.
func (p *plainSub) renew() {
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.next != nil || r.ctx.Err() != nil {
		return
	}
	p.gen++
	p.next = p.dialLocked(p.gen, true, p.cur)
	r.wg.Add(1)
	go p.switchTo(p.next)
}

// switchTo publishes rd's marker once Redis confirmed its subscriptions,
// waits for rd to hear it and for the old reader to reach it (what it
// has read before the marker is delivered), and retires the old
// connection. Each wait is bounded by twice the Timeout; past it rd takes
// over regardless (a deaf connection never hears the marker).
func (p *plainSub) switchTo(rd *plainReader) {
	r := p.r
	defer r.wg.Done()
	if r.await(rd.ready, 2*r.cfg.Timeout) {
		marker := "s" + strconv.FormatUint(rd.gen, 10)
		_ = r.do("probe", func(ctx context.Context) error {
			return r.c.Publish(ctx, r.key(r.probe), marker).Err()
		})
		r.await(rd.active, 2*r.cfg.Timeout)
	}
	r.mu.Lock()
	if r.ctx.Err() != nil {
		r.mu.Unlock()
		return
	}
	rd.activate()
	old := p.cur
	p.cur, p.next = rd, nil
	r.mu.Unlock()
	r.await(old.stopped, 2*r.cfg.Timeout)
	_ = old.ps.Close()
	p.clock.reset()
	r.restore("redis subscription renewed")
}

func (p *plainSub) close() {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	for _, rd := range [...]*plainReader{p.cur, p.next} {
		if rd != nil {
			_ = rd.ps.Close()
		}
	}
}

// dialLocked opens a subscription connection with every channel and
// pattern and starts its reader; prev is the connection it replaces, if
// any. Lock should be held.
func (p *plainSub) dialLocked(gen uint64, standby bool, prev *plainReader) *plainReader {
	r := p.r
	chans := []string{r.key(r.probe)}
	for topic := range r.subs {
		chans = append(chans, r.key(topic))
	}
	rd := &plainReader{gen: gen, want: len(chans) + len(r.psubs), ready: make(chan struct{}),
		active: make(chan struct{}), stopped: make(chan struct{}), prev: prev}
	rd.standby.Store(standby)
	rd.ps = r.c.Subscribe(r.ctx, chans...)
	if len(r.psubs) > 0 {
		pats := make([]string, 0, len(r.psubs))
		for pat := range r.psubs {
			pats = append(pats, r.key(pat))
		}
		_ = rd.ps.PSubscribe(r.ctx, pats...)
	}
	r.wg.Add(1)
	go p.reader(rd)
	return rd
}

// owns reports whether rd is still one of the broker's connections.
func (p *plainSub) owns(rd *plainReader) bool {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	return p.cur == rd || p.next == rd
}

// reader hands each message of rd to its handlers until rd is closed or
// switched away from. It reads the subscription itself (Receive) rather
// than through PubSub.Channel, which adds a goroutine and a channel
// hand-off per message; after a read error (Redis gone) it pauses
// briefly, and the next read reconnects and resubscribes: the first
// confirmation after that restores the node's state.
func (p *plainSub) reader(rd *plainReader) {
	r := p.r
	defer r.wg.Done()
	defer close(rd.stopped)
	var list []*handler
	broken, confirmed := false, 0
	for {
		m, err := rd.ps.Receive(r.ctx)
		if err != nil {
			if !p.owns(rd) || !r.await(nil, 50*time.Millisecond) {
				return
			}
			broken = true
			continue
		}
		switch m := m.(type) {
		case *redis.Subscription:
			if broken && !rd.standby.Load() {
				r.restore("redis subscription reconnected")
			}
			broken = false
			if m.Kind == "subscribe" || m.Kind == "psubscribe" {
				if confirmed++; confirmed == rd.want {
					close(rd.ready)
				}
			}
		case *redis.Message:
			if !p.handle(rd, m, &list) {
				return
			}
		}
	}
}

// handle runs the handlers of one message; false when rd must stop (a
// newer connection took over).
func (p *plainSub) handle(rd *plainReader, msg *redis.Message, list *[]*handler) bool {
	r := p.r
	topic, ok := strings.CutPrefix(msg.Channel, r.pre)
	if !ok {
		return true
	}
	if topic == r.probe && msg.Pattern == "" {
		return p.probe(rd, msg.Payload)
	}
	if rd.standby.Load() {
		return true
	}
	data := unsafe.Slice(unsafe.StringData(msg.Payload), len(msg.Payload))
	if msg.Pattern == "" {
		r.handleTopic(topic, data, false, list)
	} else if pat, ok := strings.CutPrefix(msg.Pattern, r.pre); ok {
		r.handlePattern(pat, topic, data, list)
	}
	return true
}

// probe takes a probe ("<n>") or a switch marker ("s<gen>") heard on rd;
// false when rd must stop.
func (p *plainSub) probe(rd *plainReader, payload string) bool {
	gen, marker := strings.CutPrefix(payload, "s")
	if !marker {
		if !rd.standby.Load() {
			p.clock.hearText(payload)
		}
		return true
	}
	g, err := strconv.ParseUint(gen, 10, 64)
	switch {
	case err != nil:
	case g == rd.gen:
		// The old connection delivers what came before the marker: wait
		// until it has (it stops at the marker), so the two never deliver
		// at once and order holds across the switch. A deaf old connection
		// never gets there: bounded.
		if rd.prev != nil {
			p.r.await(rd.prev.stopped, 2*p.r.cfg.Timeout)
			rd.prev = nil // read and written by this reader only; no chain of old readers
		}
		rd.activate()
	case g > rd.gen:
		return false
	}
	return true
}
