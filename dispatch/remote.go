package dispatch

// Cluster input: envelopes from other nodes, checked, parsed and
// delivered; a bad one is dropped and counted, never fatal.

import (
	"fmt"
	"runtime/debug"

	"github.com/gobwas/ws"
)

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
