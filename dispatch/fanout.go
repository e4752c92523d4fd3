package dispatch

import (
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
	exclude *conn
	origin  *conn // the connection whose message caused it, or nil: held when a recipient is backlogged
	publish bool

	// Fan-out accounting (fanStart, fanDone): the start time in unix nanos,
	// the loop tasks still running plus one for the caller, and the
	// recipients reached so far.
	born    int64
	left    atomic.Int32
	reached atomic.Int64
}

// newDelivery prepares an event for the controller types in the hub.
func (h *Hub) newDelivery(name string, local []any, args []byte, from *conn) (*delivery, error) {
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

// fanout hands each event loop that may hold a recipient (its table's
// summary says so) one task that delivers d to all of them; the other
// loops are not woken. Concurrency-safe.
func (h *Hub) fanout(tg target, d *delivery) {
	d.fanStart()
	if tg.kind == toChannel {
		tg.bucket = bucket(h.seed, tg.channel)
	}
	for i, t := range h.tables {
		if t.has(&tg) {
			tg := tg // a copy in the task, so that tg itself stays on the stack
			d.left.Add(1)
			h.loops.Submit(i, func() { h.fanLoop(t, tg, d) })
		}
	}
	h.fanDone(d, 0)
}

// fanLoop delivers d to the recipients t holds. Loop only (t's loop).
func (h *Hub) fanLoop(t *table, tg target, d *delivery) {
	t.scratch = t.collect(t.scratch[:0], tg)
	n := int64(0)
	slow := false // a recipient is backlogged: hold the sender
	for _, c := range t.scratch {
		if c == d.exclude && !d.publish {
			continue
		}
		if d.publish {
			c.t.SendOnLoop(d.frame)
		} else {
			c.deliver(d)
		}
		n++
		if d.origin != nil && !slow {
			slow = c.t.Backlogged()
		}
	}
	h.stats.Delivered.Add(n)
	clear(t.scratch)
	if slow {
		d.origin.t.Hold()
	}
	h.stats.DeliveryLatency.Observe((time.Now().UnixNano() - d.born) / 1e3)
	h.fanDone(d, n)
}

// Multicast delivers event to every connection of the app, on every node.
// Concurrency-safe.
func (h *Hub) Multicast(event string, args ...any) { h.multicast(nil, event, args) }

func (h *Hub) multicast(from *conn, name string, args []any) {
	d, err := h.newDelivery(name, args, nil, from)
	if err != nil {
		h.log.Warn("dispatch: multicast arguments do not encode", "event", name, "err", err)
		return
	}
	h.fanout(target{kind: toAll}, d)
	h.sendRemote("all", envelope{kind: envMulticast, name: name, data: d.args})
}

// Broadcast delivers event to every connection of controller type T
// (a pointer type such as *Chat), on every node. Concurrency-safe.
func Broadcast[T Controller](h *Hub, event string, args ...any) {
	h.broadcast(nil, reflect.TypeFor[T]().Elem().Name(), event, args)
}

// BroadcastTo delivers event to every connection of the controller type
// named ctl (its struct type name). Concurrency-safe.
func (h *Hub) BroadcastTo(ctl, event string, args ...any) { h.broadcast(nil, ctl, event, args) }

func (h *Hub) broadcast(from *conn, ctl, name string, args []any) {
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
// It returns false when the target is known to be gone: a malformed id, or
// one of this node that no open connection holds. Concurrency-safe.
func (h *Hub) Unicast(id, event string, args ...any) bool { return h.unicast(nil, id, event, args) }

// unicast delivers to id: a malformed id, like a gone one, fails at once.
// A local target gets it from a task on its loop.
func (h *Hub) unicast(from *conn, id, name string, args []any) bool {
	p, w := h.locate(id)
	if w == gone || w == elsewhere && h.broker == nil {
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
	if w == here {
		h.onConn(p, func(c *conn) { c.deliver(d) }, nil)
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
	p, w := h.locate(sender)
	if w != here {
		return
	}
	h.onConn(p, func(c *conn) {
		if f, ok := c.ctrl.(UnicastFailer); ok {
			c.schedule(job{kind: jobFunc, fn: func() { c.safe("OnUnicastFailed", func() { f.OnUnicastFailed(id, name) }) }}, true) // on the loop: now, in the order of the loop's tasks
		}
	}, nil)
}
