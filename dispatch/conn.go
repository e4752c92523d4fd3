package dispatch

import (
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync/atomic"
	"unsafe"

	"github.com/gobwas/ws"

	"github.com/plezigo/plezi/codec/event"
	"github.com/plezigo/plezi/internal/bridge"
	"github.com/plezigo/plezi/internal/pool"
)

// conn is dispatch's record of one websocket connection, kept inside the
// controller's Socket (so a connection costs no allocation of dispatch's
// own). The server drives it through serverSide (Open, Receive, End), on
// the connection's event loop; the controller reaches it through Socket.
//
// It is small on purpose (an idle connection costs what it holds): the id
// is formatted when asked for, the request is cut to its path parameters
// once OnOpen has run (unless the route keeps it), and channels and
// identities live in an extra record made on first use. Whether the
// connection is still open is the server's to say (t.Open): the one
// lifecycle is the server's (server/lifecycle.go).
type conn struct {
	t     bridge.Transport // nil until Open
	route *Route
	ctrl  Controller
	req   atomic.Pointer[Request] // after OnOpen: path parameters only (see releaseRequest)
	x     atomic.Pointer[connExtra]
	slot  int32
	lg    uint32 // loop (8 bits, as in the id) << 24 | generation (genMask); set by Open
}

// loop is the index of c's event loop.
func (c *conn) loop() int { return int(c.lg >> 24) }

// gen is c's generation in its slot.
func (c *conn) gen() uint32 { return c.lg & genMask }

// connExtra is the state few connections need, made on first use.
type connExtra struct {
	chans []string  // channels and patterns; loop-owned (table.go)
	ids   []idState // identities; touched only in the connection's callbacks
}

// extra returns c's extra record, making it on first use. Concurrency-safe;
// each field keeps its own rule.
func (c *conn) extra() *connExtra {
	if x := c.x.Load(); x != nil {
		return x
	}
	c.x.CompareAndSwap(nil, new(connExtra))
	return c.x.Load()
}

// chans returns c's channels and patterns. Loop only.
func (c *conn) chans() []string {
	if x := c.x.Load(); x != nil {
		return x.chans
	}
	return nil
}

// opened reports whether Open has run (the connection exists): false in
// PreConnect.
func (c *conn) opened() bool { return c.t != nil }

// hub is the connection's hub.
func (c *conn) hub() *Hub { return c.route.hub }

// typ is the controller type.
func (c *conn) typ() *ctype { return c.route.typ }

// shard is the connection's worker shard; nil for inline routes.
func (c *conn) shard() *shard {
	if c.route.inline {
		return nil
	}
	h := c.hub()
	return h.shards[(uint(c.slot)*31+uint(c.loop())*7)%uint(len(h.shards))]
}

// ID returns the connection id. Concurrency-safe once opened.
func (c *conn) ID() string { return c.hub().makeID(c.loop(), c.slot, c.gen()) }

// receive hands one complete message to the controller. data is valid
// until receive returns (it is copied for worker routes). Loop only.
func (c *conn) receive(data []byte, binary bool) {
	sh := c.shard()
	if sh == nil {
		c.handleMessage(data, binary)
		return
	}
	buf := pool.Get(len(data))
	*buf = append((*buf)[:0], data...)
	sh.push(job{c: c, kind: jobMessage, buf: buf, binary: binary})
}

// releaseRequest drops the upgrade request after OnOpen but for its path
// parameters, unless the route keeps it or the client asked to resume
// mailboxes (RegisterAs may come later and reads "_resume"). The
// connection's context only.
func (c *conn) releaseRequest() {
	if c.route.keepReq {
		return
	}
	if r := c.req.Load(); r != nil && !r.resume {
		c.req.Store(r.pathOnly())
	}
}

// schedule runs j in c's serialized context: queued on its worker shard;
// on an inline route run now as an inline callback when the caller is on
// c's loop (onLoop), else queued on the loop as one. Concurrency-safe with
// onLoop false; loop only with onLoop true.
func (c *conn) schedule(j job, onLoop bool) {
	j.c = c
	if sh := c.shard(); sh != nil {
		sh.push(j)
		return
	}
	if onLoop {
		c.t.Callback(j.exec)
		return
	}
	c.t.QueueCallback(j.exec)
}

// safe runs fn, turning a panic into a logged close with 1011.
func (c *conn) safe(what string, fn func()) {
	defer c.recoverAs(what)
	fn()
}

// recoverAs, deferred, turns a panic in callback what into a close with
// 1011. It is counted every time and logged with its stack the first time
// for the controller type and callback, then at most a line a second.
func (c *conn) recoverAs(what string) {
	r := recover()
	if r == nil {
		return
	}
	h := c.hub()
	h.stats.Panics.Add(1)
	name := c.typ().name
	if log, stack, skipped := h.panicLog.Check(name + "." + what); log {
		args := []any{"controller", name, "callback", what, "id", c.ID(), "panic", fmt.Sprint(r)}
		if stack {
			args = append(args, "stack", string(debug.Stack()))
		} else if skipped > 0 {
			args = append(args, "unlogged_since_last", skipped)
		}
		h.log.Error("dispatch: panic in controller", args...)
	}
	c.t.Close(ws.StatusInternalServerError, "internal error")
}

func (c *conn) handleMessage(data []byte, binary bool) {
	if c.route.auto && !binary {
		c.safe("event", func() { c.handleEvent(data) })
		return
	}
	h, ok := c.ctrl.(MessageHandler)
	if !ok {
		c.hub().stats.Dropped.Add(1)
		return
	}
	c.safe("OnMessage", func() { h.OnMessage(Message{Data: data, Binary: binary}) })
}

// handleEvent runs one client JSON event and answers its _EID_. Clients
// reach only the route's client events; any other name is unknown.
func (c *conn) handleEvent(data []byte) {
	msg, err := event.Parse(data)
	if err != nil {
		c.hub().stats.BadEvents.Add(1)
		c.sendText(event.AppendError(nil, nil, 400, "message is not a JSON event"))
		c.t.Close(ws.StatusInvalidFramePayloadData, "not a JSON event")
		return
	}
	m := c.route.client.Lookup(msg.Name)
	if m == nil {
		if c.typ().events.Lookup(msg.Name) != nil {
			c.hub().stats.DeniedEvents.Add(1)
		}
		c.unknown(msg)
		return
	}
	c.callEvent(m, msg)
}

// callEvent calls m and answers; a panic is the method's (recoverAs).
func (c *conn) callEvent(m *event.Method, msg event.Message) {
	defer c.recoverAs(m.Name())
	res, has, callErr, decErr := m.Call(reflect.ValueOf(c.ctrl), msg)
	switch {
	case decErr != nil:
		c.hub().stats.BadArgs.Add(1)
		c.hub().log.Debug("dispatch: bad event arguments", "id", c.ID(), "err", decErr)
		if msg.EID != nil {
			c.sendText(event.AppendError(nil, msg.EID, 400, decErr.Error()))
		}
	case callErr != nil:
		c.replyError(msg.EID, m.Event(), callErr)
	case msg.EID != nil:
		c.sendAck(msg.EID, m.Event(), res, has)
	}
}

func (c *conn) unknown(msg event.Message) {
	if u, ok := c.ctrl.(UnknownHandler); ok {
		args := msg.Args
		if args == nil {
			args = msg.Object
		}
		u.Unknown(string(msg.Name), RawArgs(args))
		if msg.EID != nil {
			c.sendAck(msg.EID, "Unknown", nil, false)
		}
		return
	}
	c.hub().stats.UnknownEvents.Add(1)
	if msg.EID != nil {
		c.sendText(event.AppendError(nil, msg.EID, 404, "unknown event "+string(msg.Name)))
	}
}

// replyError answers the error of event name: a StatusError with its status
// and text; any other error, whose text may hold what clients must not
// see, with 500 "internal error" and a ref that the log line (the real
// error) carries too.
func (c *conn) replyError(eid []byte, name string, err error) {
	var he *HTTPError
	if errors.As(err, &he) {
		if eid != nil {
			c.sendText(event.AppendError(nil, eid, he.Status, he.Msg))
		}
		return
	}
	h := c.hub()
	ref := h.newRef()
	h.log.Error("dispatch: event failed", "ref", ref, "controller", c.typ().name, "event", name, "id", c.ID(), "err", err)
	if eid != nil {
		c.sendText(event.AppendErrorRef(nil, eid, 500, "internal error", ref))
	}
}

func (c *conn) sendAck(eid []byte, name string, res any, has bool) {
	b, err := event.AppendAck(nil, eid, res, has)
	if err != nil {
		c.replyError(eid, name, fmt.Errorf("dispatch: result does not encode: %w", err))
		return
	}
	c.sendText(b)
}

func (c *conn) sendText(b []byte) { _ = c.send(ws.OpText, b) }

func (c *conn) send(op ws.OpCode, b []byte) error {
	if !c.opened() || !c.t.Open() {
		return ErrClosed
	}
	c.t.Send(op, b)
	return nil
}

func (c *conn) emit(name string, args []any) error {
	b, err := event.AppendPush(nil, name, args...)
	if err != nil {
		return err
	}
	return c.send(ws.OpText, b)
}

// deliver gives a fan-out or unicast delivery to this connection: the
// frame written now, or the method called in the connection's context.
// Loop only (fan-out and lookup tasks).
func (c *conn) deliver(d *delivery) {
	switch c.mode(d) {
	case modeForward:
		c.t.SendOnLoop(d.frame)
	case modeMethod, modeUnknown:
		c.schedule(job{kind: jobDeliver, d: d}, true)
	default:
		c.hub().stats.Dropped.Add(1)
	}
}

// mode is how c takes d: as its type does, but a route that does not
// speak the JSON protocol (see ForwardEvents) drops what would be written
// as an event frame.
func (c *conn) mode(d *delivery) mode {
	m := d.mode(c.typ())
	if m == modeForward && !c.route.forward {
		return modeDrop
	}
	return m
}

// invoke calls the controller's method (or Unknown) for a delivery.
// It runs in the connection's serialized context.
func (c *conn) invoke(d *delivery) {
	if !c.t.Open() {
		return
	}
	c.safe(d.name, func() {
		if m := c.typ().events.Lookup(stringBytes(d.name)); m != nil {
			var decErr error
			if d.local != nil {
				_, _, _, decErr = m.CallValues(reflect.ValueOf(c.ctrl), d.local)
			} else {
				_, _, _, decErr = m.Call(reflect.ValueOf(c.ctrl), event.ParseArgs(d.args))
			}
			if decErr != nil {
				c.hub().stats.BadArgs.Add(1)
				c.hub().log.Warn("dispatch: event arguments do not fit", "event", d.name, "id", c.ID(), "err", decErr)
			}
			return
		}
		if u, ok := c.ctrl.(UnknownHandler); ok {
			u.Unknown(d.name, RawArgs(d.args))
		}
	})
}

func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
