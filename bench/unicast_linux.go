package bench

import (
	"bytes"
	"slices"
	"sync"
)

// The unicast scenario (S4). The server's unicast route writes each
// connection's id as its first message; a text message "<id> <payload>"
// then reaches connection <id> as the raw text <payload>. The payload
// starts with a text stamp (TextStampOf), so the receiver measures the
// delivery latency.
//
// Connection i dials Config.Addrs[i%len(Addrs)]. Once every connection is
// up, Engine.Start pairs them within this engine (one worker process): the
// k-th connection of address n sends to the k-th of address n+1, so with
// two nodes every message crosses from one node to the other, in both
// directions. The loops then send Config.Count messages at Config.Rate,
// from each of their connections in turn.

// unicastState is a loop's share of the unicast sends; loop-owned.
type unicastState struct {
	senders []uniSender // in global index order
	next    int         // the sender of the next message
	count   int         // messages this loop sends
	rate    float64     // per second on this loop
	sent    int         // messages sent (or attempted) so far
	t0      int64
	active  bool
}

// uniSender is one sending connection with its frame "<partner-id> <payload>",
// encoded and masked once; only the stamp at payload offset at is
// rewritten before each send.
type uniSender struct {
	c  *conn
	f  *Frame
	at int
}

// peer is a ready connection as Engine.pair sees it. c is only touched on
// its loop.
type peer struct {
	loop, idx, node int
	c               *conn
	id              string
}

// route is one sender and the id it sends to.
type route struct {
	c  *conn
	to string
}

// gotID takes a unicast connection's first message: its id. An empty id or
// one with a space breaks the route's contract and fails the connection.
func (l *loop) gotID(c *conn, p []byte) {
	if len(p) == 0 || bytes.IndexByte(p, ' ') >= 0 {
		l.stats.handshakeErrs++
		l.fail(c)
		return
	}
	c.id = string(p)
	l.ready(c)
}

// pair collects the ready connections of every loop, gives each a partner
// (the connection of the same rank on the next address, or the next one
// on the same address when there is only one) and hands each loop its
// routes with a share of Rate and Count in proportion to its senders.
func (e *Engine) pair() {
	var mu sync.Mutex
	var peers []peer
	e.each(func(l *loop) {
		var mine []peer
		for _, c := range l.conns {
			if c != nil && c.state == stOpen && c.up {
				mine = append(mine, peer{loop: l.id, idx: c.idx, node: c.node, c: c, id: c.id})
			}
		}
		mu.Lock()
		peers = append(peers, mine...)
		mu.Unlock()
	})
	slices.SortFunc(peers, func(a, b peer) int { return a.idx - b.idx })
	byNode := make([][]int, len(e.dsts)) // indexes into peers
	rank := make([]int, len(peers))
	for i, p := range peers {
		rank[i] = len(byNode[p.node])
		byNode[p.node] = append(byNode[p.node], i)
	}
	routes := make([][]route, len(e.loops))
	for i, p := range peers {
		next, shift := (p.node+1)%len(byNode), 0
		if next == p.node {
			shift = 1
		}
		to := byNode[next]
		if len(to) == 0 {
			continue // nobody up on the next address
		}
		t := peers[to[(rank[i]+shift)%len(to)]]
		routes[p.loop] = append(routes[p.loop], route{c: p.c, to: t.id})
	}
	e.share(routes)
}

// share hands each loop its routes, its part of Count (exactly, in all)
// and of Rate.
func (e *Engine) share(routes [][]route) {
	total := 0
	for _, r := range routes {
		total += len(r)
	}
	counts, rates := make([]int, len(routes)), make([]float64, len(routes))
	for i, cum := 0, 0; i < len(routes) && total > 0; i++ {
		lo := e.cfg.Count * cum / total
		cum += len(routes[i])
		counts[i] = e.cfg.Count*cum/total - lo
		rates[i] = e.cfg.Rate * float64(len(routes[i])) / float64(total)
	}
	e.each(func(l *loop) { l.unicastPlan(routes[l.id], counts[l.id], rates[l.id]) })
}

// unicastPlan builds the loop's sender frames (a task).
func (l *loop) unicastPlan(routes []route, count int, rate float64) {
	u := &l.uni
	u.senders, u.next, u.sent = u.senders[:0], 0, 0
	u.count, u.rate = count, rate
	n := l.e.cfg.Payload
	for _, r := range routes {
		p := make([]byte, len(r.to)+1+n)
		copy(p, r.to)
		p[len(r.to)] = ' '
		for i := len(r.to) + 1; i < len(p); i++ {
			p[i] = 'x'
		}
		u.senders = append(u.senders, uniSender{c: r.c, f: NewFrame(OpText, p, l.e.mask()), at: len(r.to) + 1})
	}
}

// unicastStart starts the loop's sends (a task, after every loop counts).
func (l *loop) unicastStart() {
	u := &l.uni
	u.t0, u.active = Now(), u.count > 0 && u.rate > 0 && len(u.senders) > 0
}

// unicastTick sends the messages due by now: the first at once, then one
// every 1/rate seconds, each from the next open sender.
func (l *loop) unicastTick(now int64) {
	u := &l.uni
	if l.stopped {
		u.active = false
		return
	}
	due := min(u.count, int(float64(now-u.t0)*u.rate/1e9)+1)
	for u.sent < due {
		s := u.pick()
		if s == nil {
			u.active = false // every sender is closed
			return
		}
		u.sent++
		ts := Now()
		_ = s.f.StampText(s.at, ts)
		if l.write(s.c, s.f.Bytes()) {
			l.c.sent.Add(1)
			l.stats.sendSpan = ts - u.t0
		}
	}
	u.active = u.sent < u.count
}

// pick returns the next sender that is still open, nil when none is.
func (u *unicastState) pick() *uniSender {
	for range u.senders {
		s := &u.senders[u.next]
		u.next = (u.next + 1) % len(u.senders)
		if s.c.state == stOpen {
			return s
		}
	}
	return nil
}
