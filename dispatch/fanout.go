package dispatch

import (
	"reflect"

	"github.com/gobwas/ws"

	"github.com/plezigo/plezi/codec"
	"github.com/plezigo/plezi/internal/event"
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
}

// newDelivery prepares an event for the controller types in the hub.
func (h *Hub) newDelivery(name string, local []any, args []byte, from *Conn) (*delivery, error) {
	d := &delivery{name: name, local: local, args: args, exclude: from, origin: from}
	types := h.typeList()
	d.modes = make([]mode, len(types))
	forward := false
	for i, t := range types {
		switch {
		case t.events.Has(name):
			d.modes[i] = modeMethod
		case t.unknown:
			d.modes[i] = modeUnknown
		default:
			d.modes[i] = modeForward
			forward = true
		}
	}
	if forward || h.broker != nil || local == nil {
		if err := d.encodeArgs(); err != nil {
			return nil, err
		}
	}
	if forward {
		d.frame = codec.NewPrepared(ws.OpText, appendEventRaw(nil, name, d.args))
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

// appendEventRaw appends {"event":name,"args":args} with args already JSON.
func appendEventRaw(dst []byte, name string, args []byte) []byte {
	dst = append(dst, `{"event":`...)
	dst = appendJSONString(dst, name)
	if len(args) > 2 {
		dst = append(dst, `,"args":`...)
		dst = append(dst, args...)
	}
	return append(dst, '}')
}

func appendJSONString(dst []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b == '"' || b == '\\':
			dst = append(dst, '\\', b)
		case b < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexd[b>>4], hexd[b&15])
		default:
			dst = append(dst, b)
		}
	}
	return append(dst, '"')
}

// fanout hands each event loop with members one task that delivers d to all
// of them.
func (h *Hub) fanout(tg target, d *delivery) {
	for i, ls := range h.sets {
		if ls.count.Load() == 0 {
			continue
		}
		h.loops.Run(i, func() { h.fanLoop(ls, tg, d) })
	}
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
