package dispatch

import (
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/plezigo/plezi/codec"
	"github.com/plezigo/plezi/codec/event"
)

type mode uint8

const (
	modeDrop    mode = iota
	modeForward      // write the JSON event frame to the client
	modeMethod       // call the controller's method
	modeUnknown      // call the controller's Unknown
)

// delivery is one event or publish on its way to many connections. It is
// built once, shared read-only by every recipient.
type delivery struct {
	name    string
	local   []any           // Go arguments when sent in this process
	args    []byte          // JSON array of the arguments (nil until needed)
	frame   *codec.Prepared // the frame written to clients (forward / publish)
	modes   []mode          // per controller type index
	exclude *Conn
	origin  *Conn // the connection whose message caused it, or nil: held when a recipient is backlogged
	publish bool

	// Fan-out accounting (fanStart, fanDone): the start time in unix nanos,
	// the loop tasks still running plus one for the caller, and the
	// recipients reached so far.
	born    int64
	left    atomic.Int32
	reached atomic.Int64
}

// newDelivery prepares an event for the controller types in the hub.
func (h *Hub) newDelivery(name string, local []any, args []byte, from *Conn) (*delivery, error) {
	d := &delivery{name: name, local: local, args: args, exclude: from, origin: from}
	types := h.typeList()
	d.modes = make([]mode, len(types))
	forward, unknown := false, false
	for i, t := range types {
		switch {
		case t.events.Has(name):
			d.modes[i] = modeMethod
		case t.unknown:
			d.modes[i] = modeUnknown
			unknown = true
		default:
			d.modes[i] = modeForward
			forward = true
		}
	}
	// The JSON args serve clients, other nodes and Unknown (RawArgs);
	// local event methods take the Go values.
	if forward || unknown || h.broker != nil || local == nil {
		if err := d.encodeArgs(); err != nil {
			return nil, err
		}
	}
	if forward {
		d.frame = codec.NewPrepared(ws.OpText, event.AppendPushArgs(nil, name, d.args))
	}
	return d, nil
}

// mode is how t's connections take d; types added after d was built
// (routes added while serving) drop it.
func (d *delivery) mode(t *ctype) mode {
	if t.idx < len(d.modes) {
		return d.modes[t.idx]
	}
	return modeDrop
}

func (d *delivery) encodeArgs() error {
	if d.args != nil {
		return nil
	}
	b, err := event.AppendArgs(nil, d.local...)
	d.args = b
	return err
}

// fanout hands each event loop with members one task that delivers d to all
// of them.
func (h *Hub) fanout(tg target, d *delivery) {
	d.fanStart()
	for i, ls := range h.sets {
		if ls.count.Load() == 0 {
			continue
		}
		d.left.Add(1)
		h.loops.Run(i, func() { h.fanLoop(ls, tg, d) })
	}
	h.fanDone(d, 0)
}

// fanLoop runs on the loop that owns ls.
func (h *Hub) fanLoop(ls *loopSet, tg target, d *delivery) {
	ls.mu.RLock()
	ls.scratch = ls.collect(ls.scratch[:0], tg)
	ls.mu.RUnlock()
	n := int64(0)
	slow := false // a recipient is backlogged: hold the sender
	for _, c := range ls.scratch {
		if c.closed.Load() || c == d.exclude && !d.publish {
			continue
		}
		if d.publish {
			c.t.SendOnLoop(d.frame)
		} else {
			c.deliverOnLoop(d)
		}
		n++
		if d.origin != nil && !slow {
			slow = c.t.Backlogged()
		}
	}
	h.stats.Delivered.Add(n)
	clear(ls.scratch)
	if slow {
		d.origin.t.Hold()
	}
	h.stats.DeliveryLatency.Observe((time.Now().UnixNano() - d.born) / 1e3)
	h.fanDone(d, n)
}

// Multicast delivers event to every connection of the app, on every node.
func (h *Hub) Multicast(event string, args ...any) { h.multicast(nil, event, args) }

func (h *Hub) multicast(from *Conn, name string, args []any) {
	d, err := h.newDelivery(name, args, nil, from)
	if err != nil {
		h.log.Warn("dispatch: multicast arguments do not encode", "event", name, "err", err)
		return
	}
	h.fanout(target{kind: toAll}, d)
	h.sendRemote("all", envelope{kind: envMulticast, name: name, data: d.args})
}

// Broadcast delivers event to every connection of controller type T
// (a pointer type such as *Chat), on every node.
func Broadcast[T Controller](h *Hub, event string, args ...any) {
	h.broadcast(nil, reflect.TypeFor[T]().Elem().Name(), event, args)
}

// BroadcastTo delivers event to every connection of the controller type
// named ctl (its struct type name).
func (h *Hub) BroadcastTo(ctl, event string, args ...any) { h.broadcast(nil, ctl, event, args) }

func (h *Hub) broadcast(from *Conn, ctl, name string, args []any) {
	d, err := h.newDelivery(name, args, nil, from)
	if err != nil {
		h.log.Warn("dispatch: broadcast arguments do not encode", "event", name, "err", err)
		return
	}
	if t := h.typeByName(ctl); t != nil {
		h.fanout(target{kind: toType, typ: t}, d)
	}
	h.sendRemote("ctl:"+ctl, envelope{kind: envBroadcast, target: ctl, name: name, data: d.args})
}

func (h *Hub) typeByName(name string) *ctype {
	h.typesMu.Lock()
	defer h.typesMu.Unlock()
	return h.byName[name]
}

// Unicast delivers event to the connection id on whichever node holds it.
// It returns false when the target is known to be gone.
func (h *Hub) Unicast(id, event string, args ...any) bool { return h.unicast(nil, id, event, args) }

// unicast delivers to id: a malformed id, like a gone one, fails at once.
func (h *Hub) unicast(from *Conn, id, name string, args []any) bool {
	c, local := h.lookup(id)
	if c == nil && (local || h.broker == nil) {
		if from != nil {
			h.unicastFailed(from.ID(), id, name) // counts
		} else {
			h.stats.UnicastFailed.Add(1)
		}
		return false
	}
	d, err := h.newDelivery(name, args, nil, nil)
	if err != nil {
		h.log.Warn("dispatch: unicast arguments do not encode", "event", name, "err", err)
		return false
	}
	if local {
		c.deliver(d)
		return true
	}
	sender := ""
	if from != nil {
		sender = from.ID()
	}
	var onDead func()
	if sender != "" {
		onDead = func() { h.unicastFailed(sender, id, name) }
	}
	h.sendRemoteTo("node:"+nodeOf(id), envelope{kind: envUnicast, target: id, sender: sender, name: name, data: d.args}, nodeOf(id), onDead)
	return true
}

// unicastFailed tells the sender (a local connection id) that id was gone.
func (h *Hub) unicastFailed(sender, id, name string) {
	h.stats.UnicastFailed.Add(1)
	c, _ := h.lookup(sender)
	if c == nil {
		return
	}
	if f, ok := c.ctrl.(UnicastFailer); ok {
		c.post(job{kind: jobFunc, fn: func() { c.safe("OnUnicastFailed", func() { f.OnUnicastFailed(id, name) }) }})
	}
}

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
	h.publish(from, channel, ws.OpText, event.AppendPushArgs(nil, name, a))
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

// Notify delivers event to identity: stored in its mailbox and sent to each
// of its live connections. It returns false when the identity is not
// registered or has expired, when the note is refused, or when the store
// is unavailable (see NotifyErr). Concurrency-safe; it waits for the
// identity store (a round trip to Redis, bounded by its Timeout).
func (h *Hub) Notify(identity, name string, args ...any) bool {
	_, err := h.NotifyErr(identity, name, args...)
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrNotRegistered), errors.Is(err, ErrNoteTooLarge), errors.Is(err, ErrMailFull),
		errors.Is(err, ErrUnavailable): // counted; the broker logs its outage once
	default:
		h.log.Warn("dispatch: notify failed", "identity", identity, "event", name, "err", err)
	}
	return false
}

// NotifyResult is what one NotifyErr did.
type NotifyResult struct {
	ID      uint64 // the stored note's id
	Dropped int    // older notes the mailbox dropped to make room for it
}

// NotifyErr is Notify with the outcome. The note is stored and sent when
// err is nil, even when older notes were dropped for it (res.Dropped,
// counted in Stats.NotesDropped; the client learns of them from "_gap_").
// Errors: ErrNotRegistered; ErrNoteTooLarge and ErrMailFull (nothing
// stored or sent, counted); an argument that does not encode; ErrUnavailable
// (counted in Stats.Unavailable) or another failure of the store.
// Concurrency-safe, like Notify.
func (h *Hub) NotifyErr(identity, name string, args ...any) (res NotifyResult, err error) {
	a, err := event.AppendArgs(nil, args...)
	if err != nil {
		return res, fmt.Errorf("dispatch: notify %q: %w", name, err)
	}
	r, err := h.ids.Notify(identity, func(id uint64) []byte {
		return event.AppendNotification(nil, name, identity, id, a)
	})
	if err != nil {
		h.countRefusal(err)
		return res, err
	}
	h.stats.NotesDropped.Add(int64(r.Dropped))
	for _, id := range r.Conns {
		h.deliverNote(id, identity, r.Note)
	}
	return NotifyResult{ID: r.Note.ID, Dropped: r.Dropped}, nil
}

// countRefusal counts an identity store's refusal by its bound.
func (h *Hub) countRefusal(err error) {
	switch {
	case errors.Is(err, ErrNoteTooLarge):
		h.stats.NotesTooLarge.Add(1)
	case errors.Is(err, ErrMailFull):
		h.stats.MailFull.Add(1)
	case errors.Is(err, ErrTooManyIdentities):
		h.stats.IdentitiesFull.Add(1)
	case errors.Is(err, ErrUnavailable):
		h.stats.Unavailable.Add(1)
	}
}

func (h *Hub) deliverNote(id, identity string, n Note) {
	c, local := h.lookup(id)
	if c != nil {
		c.noteAsync(identity, n)
		return
	}
	if !local && h.broker != nil {
		h.sendRemote("node:"+nodeOf(id), envelope{kind: envNote, target: id, sender: identity, num: n.ID, data: n.Data})
	}
}

// Registered reports whether identity is registered and alive.
func (h *Hub) Registered(identity string) bool {
	ok, err := h.ids.Registered(identity)
	return ok && err == nil
}

// closeID closes a connection by id on whichever node holds it.
func (h *Hub) closeID(id string, code int, reason string) {
	c, local := h.lookup(id)
	if c != nil {
		c.t.Close(ws.StatusCode(code), reason)
		return
	}
	if !local && h.broker != nil {
		h.sendRemote("node:"+nodeOf(id), envelope{kind: envClose, target: id, num: uint64(code), data: []byte(reason)})
	}
}

// forgetIdentities unregisters a closed connection from its identities, on
// a worker: the store may be remote, and inline routes run this on a loop.
func (h *Hub) forgetIdentities(c *Conn) {
	x := c.x.Load()
	if x == nil || len(x.ids) == 0 {
		return
	}
	ids, id := x.ids, c.ID()
	h.Go(uint64(c.slot), func() {
		for _, st := range ids {
			if err := h.ids.Unregister(st.name, id); err != nil && !errors.Is(err, ErrUnavailable) {
				h.log.Warn("dispatch: unregister failed", "identity", st.name, "err", err)
			}
		}
	})
}
