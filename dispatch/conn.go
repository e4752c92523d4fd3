package dispatch

import (
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync/atomic"
	"unsafe"

	"github.com/gobwas/ws"

	"github.com/plezigo/plezi/internal/event"
)

// Conn is dispatch's record of one websocket connection. The server drives
// it with Open, Receive, Closed and Shutdown, all from the connection's event
// loop; the rest of its state is reached through the controller's Socket.
//
// A Conn is small on purpose (an idle connection costs what it holds): the
// server embeds it in its own connection record, the id is formatted when
// asked for, the request is cut to its path parameters once OnOpen has run
// (unless the route keeps it), and channels and identities live in an extra record made on
// first use.
type Conn struct {
	t     Transport
	route *Route
	ctrl  Controller
	req   atomic.Pointer[Request] // after OnOpen: path parameters only (see releaseRequest)
	x     atomic.Pointer[connExtra]
	loop  int32
	slot  int32
	gen   uint32

	closed atomic.Bool

	typeIdx int32 // index in the loop set's byType list; guarded by loopSet.mu
}

// connExtra is the state few connections need, made on first use.
type connExtra struct {
	chans []string  // channels and patterns; guarded by loopSet.mu
	ids   []idState // identities; touched only in the connection's callbacks
}

// extra returns c's extra record, making it on first use. Concurrency-safe;
// each field keeps its own rule.
func (c *Conn) extra() *connExtra {
	if x := c.x.Load(); x != nil {
		return x
	}
	c.x.CompareAndSwap(nil, new(connExtra))
	return c.x.Load()
}

// chans returns c's channels and patterns. Lock should be held.
func (c *Conn) chans() []string {
	if x := c.x.Load(); x != nil {
		return x.chans
	}
	return nil
}

// hub is the connection's hub.
func (c *Conn) hub() *Hub { return c.route.hub }

// typ is the controller type.
func (c *Conn) typ() *ctype { return c.route.typ }

// shard is the connection's worker shard; nil for inline routes.
func (c *Conn) shard() *shard {
	if c.route.inline {
		return nil
	}
	h := c.hub()
	return h.shards[(uint(c.slot)*31+uint(c.loop)*7)%uint(len(h.shards))]
}

// ID returns the connection id.
func (c *Conn) ID() string { return c.hub().makeID(int(c.loop), c.slot, c.gen) }

// Controller returns the connection's controller.
func (c *Conn) Controller() Controller { return c.ctrl }

// Route returns the route the connection came in on.
func (c *Conn) Route() *Route { return c.route }

// Open runs OnOpen. Loop only, once.
func (c *Conn) Open() { c.run(job{kind: jobOpen}) }

// Receive hands one complete message to the controller. data is valid until
// Receive returns (it is copied for worker routes). Loop only.
func (c *Conn) Receive(data []byte, binary bool) {
	sh := c.shard()
	if sh == nil {
		c.handleMessage(data, binary)
		return
	}
	buf := getBuf(len(data))
	*buf = append((*buf)[:0], data...)
	sh.push(job{c: c, kind: jobMessage, buf: buf, binary: binary})
}

// releaseRequest drops the upgrade request after OnOpen but for its path
// parameters, unless the route keeps it or the client asked to resume
// mailboxes (RegisterAs may come later and reads "_resume"). The
// connection's context only.
func (c *Conn) releaseRequest() {
	if c.route.keepReq {
		return
	}
	if r := c.req.Load(); r != nil && !r.resume {
		c.req.Store(r.pathOnly())
	}
}

// Closed unregisters the connection and runs OnClose. Loop only, once.
func (c *Conn) Closed(code int, reason string) {
	if c.closed.Swap(true) {
		return
	}
	c.hub().remove(c)
	c.run(job{kind: jobClose, code: code, reason: reason})
}

// Shutdown runs OnShutdown. Concurrency-safe.
func (c *Conn) Shutdown() { c.post(job{kind: jobShutdown}) }

// post queues j into the connection's serialized context from any
// goroutine: its worker shard, or its event loop for inline routes.
func (c *Conn) post(j job) {
	j.c = c
	sh := c.shard()
	if sh == nil {
		c.t.Run(j.exec)
		return
	}
	sh.push(j)
}

// run executes j now (inline routes, on the loop) or queues it on the
// connection's worker shard.
func (c *Conn) run(j job) {
	j.c = c
	sh := c.shard()
	if sh == nil {
		j.exec()
		return
	}
	sh.push(j)
}

// safe runs fn, turning a panic into a logged close with 1011.
func (c *Conn) safe(what string, fn func()) {
	defer c.recoverAs(what)
	fn()
}

// recoverAs, deferred, turns a panic in callback what into a close with
// 1011. It is counted every time and logged with its stack the first time
// for the controller type and callback, then at most a line a second.
func (c *Conn) recoverAs(what string) {
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

func (c *Conn) handleMessage(data []byte, binary bool) {
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
func (c *Conn) handleEvent(data []byte) {
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
func (c *Conn) callEvent(m *event.Method, msg event.Message) {
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

func (c *Conn) unknown(msg event.Message) {
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
func (c *Conn) replyError(eid []byte, name string, err error) {
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

func (c *Conn) sendAck(eid []byte, name string, res any, has bool) {
	b, err := event.AppendAck(nil, eid, res, has)
	if err != nil {
		c.replyError(eid, name, fmt.Errorf("dispatch: result does not encode: %w", err))
		return
	}
	c.sendText(b)
}

func (c *Conn) sendText(b []byte) { _ = c.send(ws.OpText, b) }

func (c *Conn) send(op ws.OpCode, b []byte) error {
	if c == nil || c.closed.Load() {
		return ErrClosed
	}
	c.t.Send(op, b)
	return nil
}

func (c *Conn) emit(name string, args []any) error {
	b, err := event.AppendEvent(nil, name, args...)
	if err != nil {
		return err
	}
	return c.send(ws.OpText, b)
}

// deliver gives a fan-out delivery to this connection from any goroutine.
func (c *Conn) deliver(d *delivery) {
	switch d.mode(c.typ()) {
	case modeForward:
		if !c.closed.Load() {
			c.t.SendPrepared(d.frame)
		}
	case modeMethod, modeUnknown:
		sh := c.shard()
		if sh == nil {
			c.t.Run(func() { c.invoke(d) })
			return
		}
		sh.push(job{c: c, kind: jobDeliver, d: d})
	default:
		c.hub().stats.Dropped.Add(1)
	}
}

// deliverOnLoop gives a fan-out delivery to this connection. Loop only.
func (c *Conn) deliverOnLoop(d *delivery) {
	if c.closed.Load() || c == d.exclude {
		return
	}
	switch d.mode(c.typ()) {
	case modeForward:
		c.t.SendOnLoop(d.frame)
	case modeMethod, modeUnknown:
		sh := c.shard()
		if sh == nil {
			c.invoke(d)
			return
		}
		sh.push(job{c: c, kind: jobDeliver, d: d})
	default:
		c.hub().stats.Dropped.Add(1)
	}
}

// invoke calls the controller's method (or Unknown) for a delivery.
// It runs in the connection's serialized context.
func (c *Conn) invoke(d *delivery) {
	if c.closed.Load() {
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
