package dispatch

import (
	"github.com/gobwas/ws"

	"github.com/plezigo/plezi/codec"
	"github.com/plezigo/plezi/internal/event"
)

// Channels: a connection subscribes to channels and patterns; Publish
// writes to every subscriber, on every node, as-is.

// Publish writes text as-is to every subscriber of channel, on every node.
func (h *Hub) Publish(channel, text string) {
	h.publish(nil, channel, ws.OpText, stringBytes(text))
}

// PublishBinary writes b as-is (binary frame) to every subscriber of channel.
func (h *Hub) PublishBinary(channel string, b []byte) { h.publish(nil, channel, ws.OpBinary, b) }

// PublishEvent publishes the JSON event {"event":name,"args":[...]}.
func (h *Hub) PublishEvent(channel, name string, args ...any) error {
	return h.publishEvent(nil, channel, name, args)
}

func (h *Hub) publishEvent(from *Conn, channel, name string, args []any) error {
	a, err := event.AppendArgs(nil, args...)
	if err != nil {
		return err
	}
	h.publish(from, channel, ws.OpText, appendEventRaw(nil, name, a))
	return nil
}

// publish writes payload to channel's subscribers; from is the connection
// whose message caused it, or nil.
func (h *Hub) publish(from *Conn, channel string, op ws.OpCode, payload []byte) {
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

func (h *Hub) subscribe(c *Conn, ch string, pattern bool) {
	if pattern {
		ch = "\x00" + ch
	}
	ls := h.sets[c.loop]
	ls.mu.Lock()
	joined := !c.closed.Load() && ls.join(c, ch)
	if joined {
		x := c.extra()
		x.chans = append(x.chans, ch)
	}
	ls.mu.Unlock()
	if joined {
		h.refChannel(ch)
	}
}

func (h *Hub) unsubscribe(c *Conn, ch string) {
	ls := h.sets[c.loop]
	ls.mu.Lock()
	left := ls.leave(c, ch)
	if !left && ls.leave(c, "\x00"+ch) {
		ch, left = "\x00"+ch, true
	}
	if left {
		x := c.extra()
		for i, name := range x.chans {
			if name == ch {
				x.chans = append(x.chans[:i], x.chans[i+1:]...)
				break
			}
		}
	}
	ls.mu.Unlock()
	if left {
		h.unrefChannel(ch)
	}
}

// refChannel counts a local subscriber and subscribes the node to the
// channel's cluster topic on the first one.
func (h *Hub) refChannel(ch string) {
	h.chanMu.Lock()
	defer h.chanMu.Unlock()
	r := h.chanRefs[ch]
	if r == nil {
		r = &chanRef{}
		h.chanRefs[ch] = r
	}
	r.n++
	if r.n > 1 || h.broker == nil || !h.started.Load() {
		return
	}
	var err error
	if isPattern(ch) {
		ps, ok := h.broker.(PatternSubscriber)
		if !ok {
			return
		}
		r.cancel, err = ps.PSubscribe("pub:"+ch[1:], func(_ string, data []byte) { h.onPublish(data, ch) })
	} else {
		r.cancel, err = h.broker.Subscribe("pub:"+ch, func(data []byte) { h.onPublish(data, ch) })
	}
	if err != nil {
		h.log.Warn("dispatch: channel subscribe failed", "channel", ch, "err", err)
	}
}

func (h *Hub) unrefChannel(ch string) {
	h.chanMu.Lock()
	defer h.chanMu.Unlock()
	r := h.chanRefs[ch]
	if r == nil {
		return
	}
	if r.n--; r.n > 0 {
		return
	}
	delete(h.chanRefs, ch)
	if r.cancel != nil {
		r.cancel()
	}
}

type chanRef struct {
	n      int
	cancel func()
}
