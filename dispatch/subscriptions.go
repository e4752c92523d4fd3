package dispatch

import (
	"github.com/gobwas/ws"

	"github.com/plezigo/plezi/codec"
	"github.com/plezigo/plezi/codec/event"
)

// Channels: a connection subscribes to channels and patterns; Publish
// writes to every subscriber, on every node, as-is.

// Publish writes text as-is to every subscriber of channel, on every node.
// Concurrency-safe.
func (h *Hub) Publish(channel, text string) {
	h.publish(nil, channel, ws.OpText, stringBytes(text))
}

// PublishBinary writes b as-is (binary frame) to every subscriber of
// channel, on every node. Concurrency-safe; b is not retained.
func (h *Hub) PublishBinary(channel string, b []byte) { h.publish(nil, channel, ws.OpBinary, b) }

// PublishEvent publishes the JSON event {"event":name,"args":[...]}; the
// error is an argument that does not encode. Concurrency-safe.
func (h *Hub) PublishEvent(channel, name string, args ...any) error {
	return h.publishEvent(nil, channel, name, args)
}

func (h *Hub) publishEvent(from *conn, channel, name string, args []any) error {
	a, err := event.AppendArgs(nil, args...)
	if err != nil {
		return err
	}
	h.publish(from, channel, ws.OpText, event.AppendPushArgs(nil, name, a))
	return nil
}

// publish writes payload to channel's subscribers; from is the connection
// whose message caused it, or nil.
func (h *Hub) publish(from *conn, channel string, op ws.OpCode, payload []byte) {
	d := &delivery{frame: codec.NewPrepared(op, payload), publish: true, origin: from}
	h.fanout(target{kind: toChannel, channel: channel}, d)
	kind := envPublishText
	if op == ws.OpBinary {
		kind = envPublishBinary
	}
	h.sendRemote("pub:"+channel, envelope{kind: kind, target: channel, data: payload})
}

// publishLocal writes payload to the local subscribers tg selects.
func (h *Hub) publishLocal(tg target, op ws.OpCode, payload []byte) {
	d := &delivery{frame: codec.NewPrepared(op, payload), publish: true}
	h.fanout(tg, d)
}

// subscribe joins c to ch (a pattern when pattern is set). The summary of
// c's loop counts it at once, so that a publish made after Subscribe
// returns wakes that loop; the node's broker subscription is made on the
// caller's goroutine; the join itself is a task on c's loop, queued behind
// c's writes, which finds c gone when it closed meanwhile (then both are
// undone). Concurrency-safe.
func (h *Hub) subscribe(c *conn, ch string, pattern bool) {
	if pattern {
		ch = "\x00" + ch
	}
	if !c.t.Open() {
		return
	}
	t := h.tables[c.loop()]
	t.expect(ch, 1)
	h.refChannel(ch)
	h.loops.Submit(c.loop(), func() {
		if !t.join(c, ch) {
			t.expect(ch, -1)
			h.unrefChannel(ch)
		}
	})
}

// unsubscribe leaves ch, or the pattern ch, in a task on c's loop: a
// publish made after Unsubscribe returns is queued behind it.
// Concurrency-safe.
func (h *Hub) unsubscribe(c *conn, ch string) {
	t := h.tables[c.loop()]
	h.loops.Submit(c.loop(), func() {
		if left := t.unsubscribe(c, ch); left != "" {
			t.expect(left, -1)
			h.unrefChannel(left)
		}
	})
}

// chanRef is the node's interest in one channel (or "\x00"+pattern): how
// many local subscriptions, and the broker subscription that the first
// made. Guarded by Hub.chanMu.
type chanRef struct {
	n      int
	cancel func() // nil until the broker subscription is made (and without a broker)
}

// refChannel counts a local subscriber and, for the first one, subscribes
// the node to the channel's cluster topic. The broker is called with no
// lock held (LOCKING.md): a subscription made for a count that went back
// to 0 meanwhile is cancelled at once. Concurrency-safe; it may wait for
// the broker.
func (h *Hub) refChannel(ch string) {
	h.chanMu.Lock()
	r := h.chanRefs[ch]
	if r == nil {
		r = &chanRef{}
		h.chanRefs[ch] = r
	}
	r.n++
	first := r.n == 1 && h.broker != nil && h.started.Load()
	h.chanMu.Unlock()
	if !first {
		return
	}
	cancel, err := h.subscribeChannel(ch)
	if err != nil {
		h.log.Warn("dispatch: channel subscribe failed", "channel", ch, "err", err)
		return
	}
	h.chanMu.Lock()
	kept := h.chanRefs[ch] == r && r.n > 0 && r.cancel == nil
	if kept {
		r.cancel = cancel
	}
	h.chanMu.Unlock()
	if !kept && cancel != nil {
		cancel()
	}
}

// subscribeChannel makes the broker subscription for ch. No lock held.
func (h *Hub) subscribeChannel(ch string) (func(), error) {
	if isPattern(ch) {
		ps, ok := h.broker.(PatternSubscriber)
		if !ok {
			return nil, nil
		}
		return ps.PSubscribe("pub:"+ch[1:], func(_ string, data []byte) { h.onPublish(data, ch) })
	}
	return h.broker.Subscribe("pub:"+ch, func(data []byte) { h.onPublish(data, ch) })
}

// unrefChannel counts a local subscriber out and, with the last one, ends
// the node's broker subscription (outside the lock). Concurrency-safe.
func (h *Hub) unrefChannel(ch string) {
	h.chanMu.Lock()
	r := h.chanRefs[ch]
	if r == nil {
		h.chanMu.Unlock()
		return
	}
	var cancel func()
	if r.n--; r.n == 0 {
		delete(h.chanRefs, ch)
		cancel = r.cancel
	}
	h.chanMu.Unlock()
	if cancel != nil {
		cancel()
	}
}
