package dispatch

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/gobwas/ws"
)

// Envelope kinds. The wire format is versioned and never executable:
//
//	version(1) kind(1) uvarint-prefixed: origin, target, sender, name;
//	uvarint num; data (the rest)
const envVersion = 1

// batchVersion opens a batch of envelopes (see appendBatch).
const batchVersion = 2

type envKind uint8

const (
	envMulticast envKind = iota + 1
	envBroadcast
	envUnicast
	envPublishText
	envPublishBinary
	envNote
	envClose
	envUnicastFailed
	envMax
)

// targetsConn reports whether envelopes of kind k name a connection id
// as their target.
func (k envKind) targetsConn() bool {
	return k == envUnicast || k == envNote || k == envClose || k == envUnicastFailed
}

type envelope struct {
	kind   envKind
	origin string
	target string // controller name, conn id, channel
	sender string // sending conn id; identity for notes
	name   string // event
	num    uint64 // note id, close code
	data   []byte // args JSON, payload, note data, close reason
}

// appendEnvelope encodes e after dst.
func appendEnvelope(dst []byte, e *envelope) []byte {
	dst = append(dst, envVersion, byte(e.kind))
	for _, s := range [...]string{e.origin, e.target, e.sender, e.name} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	dst = binary.AppendUvarint(dst, e.num)
	return append(dst, e.data...)
}

// parseEnvelope decodes b; e's strings are copies, e.data aliases b.
func parseEnvelope(b []byte, e *envelope) error {
	if len(b) < 2 || b[0] != envVersion || b[1] == 0 || envKind(b[1]) >= envMax {
		return ErrBadEnvelope
	}
	e.kind = envKind(b[1])
	b = b[2:]
	for _, s := range [...]*string{&e.origin, &e.target, &e.sender, &e.name} {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return ErrBadEnvelope
		}
		*s = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return ErrBadEnvelope
	}
	e.num = n
	e.data = b[k:]
	return nil
}

// appendBatch starts a batch message after dst with first as its first
// envelope. A batch is
//
//	batchVersion(1) { uvarint length; envelope }...
//
// and carries, in order, envelopes published to one topic in one round.
func appendBatch(dst, first []byte) []byte {
	dst = append(dst, batchVersion)
	dst = binary.AppendUvarint(dst, uint64(len(first)))
	return append(dst, first...)
}

// eachEnvelope calls fn with every envelope of a published message: the
// message itself, or each envelope of a batch. A malformed batch is
// rejected whole before fn runs.
func eachEnvelope(b []byte, fn func(env []byte)) error {
	if len(b) == 0 || b[0] != batchVersion {
		fn(b)
		return nil
	}
	rest := b[1:]
	if len(rest) == 0 {
		return ErrBadEnvelope
	}
	for len(rest) > 0 {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n == 0 || n > uint64(len(rest)-k) {
			return ErrBadEnvelope
		}
		rest = rest[k+int(n):]
	}
	rest = b[1:]
	for len(rest) > 0 {
		n, k := binary.Uvarint(rest)
		fn(rest[k : k+int(n)])
		rest = rest[k+int(n):]
	}
	return nil
}

// sendRemote queues an envelope for the cluster; it never blocks the
// caller (a full queue drops and counts).
func (h *Hub) sendRemote(topic string, e envelope) { h.sendRemoteTo(topic, e, "", nil) }

// sendRemoteTo is sendRemote for an envelope to one node: when the broker
// knows node liveness and node is dead, onDead runs instead.
func (h *Hub) sendRemoteTo(topic string, e envelope, node string, onDead func()) {
	if h.broker == nil || !h.started.Load() {
		return
	}
	e.origin = h.node
	data := appendEnvelope(nil, &e)
	select {
	case h.out <- outEnvelope{topic: topic, data: data, node: node, onDead: onDead}:
	default:
		h.stats.PublishErrors.Add(1)
	}
}

// Publisher batching: the publisher takes what is queued when it wakes (at
// most maxBatchEnvelopes or about maxBatchBytes), joins consecutive
// envelopes for the same topic into one batch message, and hands all the
// messages to the broker at once (one pipelined round trip on Redis). It
// never waits for more: at a low rate every envelope goes out alone and at
// once; under load the batches grow with the queue.
const (
	maxBatchEnvelopes = 1024
	maxBatchBytes     = 512 << 10
)

// publisher sends queued envelopes to the broker until the hub stops.
func (h *Hub) publisher() {
	defer h.wg.Done()
	p := publisher{h: h, alive: newAliveCache(h.broker)}
	p.batcher, _ = h.broker.(BatchPublisher)
	for {
		select {
		case o := <-h.out:
			p.add(o)
			for n := 1; n < maxBatchEnvelopes && p.size < maxBatchBytes; n++ {
				select {
				case o = <-h.out:
					p.add(o)
					continue
				default:
				}
				break
			}
			p.flush()
		case <-h.stop:
			return
		}
	}
}

// publisher is the state of the publisher goroutine.
type publisher struct {
	h       *Hub
	alive   *aliveCache
	batcher BatchPublisher
	down    bool // the last publish failed (logged once per outage)

	msgs  []Publication // messages of this round
	count []int         // envelopes in each message
	size  int
}

// add queues o for this round, joining it to the previous message when
// both go to the same topic (order across topics is kept: only neighbours
// join).
func (p *publisher) add(o outEnvelope) {
	if o.node != "" && !p.alive.check(o.node) {
		if o.onDead != nil {
			o.onDead() // counts
		} else {
			p.h.stats.UnicastFailed.Add(1)
		}
		return
	}
	p.size += len(o.data)
	if n := len(p.msgs); n > 0 && p.msgs[n-1].Topic == o.topic {
		last := &p.msgs[n-1]
		if p.count[n-1] == 1 {
			last.Data = appendBatch(nil, last.Data)
		}
		last.Data = binary.AppendUvarint(last.Data, uint64(len(o.data)))
		last.Data = append(last.Data, o.data...)
		p.count[n-1]++
		return
	}
	p.msgs = append(p.msgs, Publication{Topic: o.topic, Data: o.data})
	p.count = append(p.count, 1)
}

// flush signs and sends this round's messages, then resets.
func (p *publisher) flush() {
	h := p.h
	if len(p.msgs) == 0 {
		return
	}
	envelopes := 0
	for i := range p.msgs {
		envelopes += p.count[i]
		if h.cfg.Secret != nil {
			p.msgs[i].Data = appendMAC(p.msgs[i].Data, h.cfg.Secret)
		}
	}
	var err error
	if p.batcher != nil {
		err = p.batcher.PublishBatch(p.msgs)
		h.stats.ClusterRoundTrips.Add(1)
	} else {
		for _, m := range p.msgs {
			if e := h.broker.Publish(m.Topic, m.Data); e != nil {
				err = e
			}
			h.stats.ClusterRoundTrips.Add(1)
		}
	}
	h.stats.ClusterEnvelopes.Add(int64(envelopes))
	h.stats.ClusterMessages.Add(int64(len(p.msgs)))
	switch {
	case err != nil && !p.down:
		p.down = true
		h.stats.PublishErrors.Add(int64(envelopes))
		h.log.Warn("dispatch: cluster publish failing", "err", err)
	case err != nil:
		h.stats.PublishErrors.Add(int64(envelopes))
	case p.down:
		p.down = false
		h.log.Info("dispatch: cluster publish recovered")
	}
	clear(p.msgs)
	p.msgs, p.count, p.size = p.msgs[:0], p.count[:0], 0
}

// onEnvelope handles one envelope from the broker.
func (h *Hub) onEnvelope(b []byte) { h.handleEnvelope(b, target{kind: toChannel}) }

// onPublish handles an envelope that came through the node's subscription
// via (a channel, or "\x00"+pattern).
func (h *Hub) onPublish(b []byte, via string) {
	h.handleEnvelope(b, target{kind: toChannel, remote: true, via: via})
}

// handleEnvelope handles one envelope; pub selects the local subscribers
// of a publish. Nothing in b can make it panic; if something does anyway
// (a bug), the panic is recovered, counted and logged (rate-limited).
func (h *Hub) handleEnvelope(b []byte, pub target) {
	defer h.recoverEnvelope()
	if h.cfg.Secret != nil {
		var ok bool
		if b, ok = checkMAC(b, h.cfg.Secret); !ok {
			h.stats.BadEnvelopes.Add(1)
			return
		}
	}
	if err := eachEnvelope(b, func(env []byte) { h.handleOne(env, pub) }); err != nil {
		h.badEnvelope("bad cluster batch", err)
	}
}

// badEnvelope counts a dropped envelope and logs it, rate-limited.
func (h *Hub) badEnvelope(what string, err error) {
	h.stats.BadEnvelopes.Add(1)
	if log, _, skipped := h.envLog.Check(what); log {
		h.log.Warn("dispatch: "+what, "err", err, "unlogged_since_last", skipped)
	}
}

// recoverEnvelope, deferred, drops the envelope being handled when it
// panicked: counted in Panics and BadEnvelopes, logged with the stack the
// first time, then at most a line a second.
func (h *Hub) recoverEnvelope() {
	r := recover()
	if r == nil {
		return
	}
	h.stats.Panics.Add(1)
	h.stats.BadEnvelopes.Add(1)
	if log, stack, skipped := h.envLog.Check("panic"); log {
		args := []any{"panic", fmt.Sprint(r)}
		if stack {
			args = append(args, "stack", string(debug.Stack()))
		} else {
			args = append(args, "unlogged_since_last", skipped)
		}
		h.log.Error("dispatch: panic handling a cluster envelope", args...)
	}
}

// handleOne handles one envelope of a published message; one that panics
// is dropped alone, not with the rest of its batch.
func (h *Hub) handleOne(b []byte, pub target) {
	defer h.recoverEnvelope()
	var e envelope
	if err := parseEnvelope(b, &e); err != nil {
		h.badEnvelope("bad cluster envelope", err)
		return
	}
	if e.origin == h.node {
		return
	}
	if e.kind.targetsConn() && !validID(e.target) {
		h.badEnvelope("bad connection id in a cluster envelope", ErrBadID)
		return
	}
	h.stats.RemoteIn.Add(1)
	data := append([]byte(nil), e.data...)
	switch e.kind {
	case envMulticast, envBroadcast, envUnicast:
		h.remoteEvent(&e, data)
	case envPublishText, envPublishBinary:
		op := ws.OpText
		if e.kind == envPublishBinary {
			op = ws.OpBinary
		}
		pub.channel = e.target
		h.publishLocal(pub, op, data)
	case envNote:
		identity, n := e.sender, Note{ID: e.num, Data: data}
		h.atLocal(e.target, func(c *conn) { c.noteOnLoop(identity, n) })
	case envClose:
		code, reason := ws.StatusCode(e.num), string(data)
		h.atLocal(e.target, func(c *conn) { c.t.Close(code, reason) })
	case envUnicastFailed:
		h.unicastFailed(e.target, e.sender, e.name)
	}
}

func (h *Hub) remoteEvent(e *envelope, args []byte) {
	d, err := h.newDelivery(e.name, nil, args, nil)
	if err != nil {
		return
	}
	switch e.kind {
	case envMulticast:
		h.fanout(target{kind: toAll}, d)
	case envBroadcast:
		if t := h.typeByName(e.target); t != nil {
			h.fanout(target{kind: toType, typ: t}, d)
		}
	case envUnicast:
		back := envelope{kind: envUnicastFailed, target: e.sender, sender: e.target, name: e.name}
		failed := func() {
			if back.target != "" {
				h.sendRemote("node:"+e.origin, back)
			}
		}
		p, w := h.locate(e.target)
		if w != here {
			failed()
			return
		}
		h.onConn(p, func(c *conn) { c.deliver(d) }, failed)
	}
}

// appendMAC signs an envelope: HMAC-SHA256 of it, appended.
func appendMAC(b, secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(b)
	return m.Sum(b)
}

// checkMAC verifies and strips the signature.
func checkMAC(b, secret []byte) ([]byte, bool) {
	if len(b) < sha256.Size {
		return nil, false
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return body, hmac.Equal(m.Sum(nil), sum)
}

// aliveFor is how long the publisher keeps a liveness answer (see
// NodeTTL).
const aliveFor = 250 * time.Millisecond

// aliveCache remembers node liveness answers for aliveFor, so a burst of
// unicasts to one node asks the registry once. A failed answer is kept
// too (as alive: the envelope is sent, and fails with the broker), so an
// unreachable registry costs one call per node per period. Owned by the
// publisher.
type aliveCache struct {
	nr   NodeRegistry
	seen map[string]aliveEntry
}

type aliveEntry struct {
	alive bool
	at    time.Time
}

func newAliveCache(b Broker) *aliveCache {
	nr, _ := b.(NodeRegistry)
	return &aliveCache{nr: nr, seen: map[string]aliveEntry{}}
}

// check reports whether node is alive; without a registry, or when it
// cannot answer, every node counts as alive.
func (a *aliveCache) check(node string) bool {
	if a.nr == nil {
		return true
	}
	if e, ok := a.seen[node]; ok && time.Since(e.at) < aliveFor {
		return e.alive
	}
	ok, err := a.nr.Alive(node)
	if err != nil {
		ok = true
	}
	if len(a.seen) > 4096 {
		clear(a.seen)
	}
	a.seen[node] = aliveEntry{alive: ok, at: time.Now()}
	return ok
}

// announcer keeps this node's liveness announced (Start made the first
// announcement) every NodeTTL/5 until the hub stops, then retires it. A
// failure is logged once until an announcement succeeds again.
func (h *Hub) announcer(nr NodeRegistry) {
	defer h.wg.Done()
	t := time.NewTicker(NodeTTL / 5)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-t.C:
		case <-h.stop:
			_ = nr.Announce(h.node, 0)
			return
		}
		err := nr.Announce(h.node, NodeTTL)
		switch {
		case err != nil && !failing:
			h.log.Warn("dispatch: node announce failing", "err", err)
		case err == nil && failing:
			h.log.Info("dispatch: node announced again")
		}
		failing = err != nil
	}
}
