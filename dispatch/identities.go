package dispatch

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/gobwas/ws"

	"github.com/plezigo/plezi/codec/event"
)

// Identities: a connection registers as an identity (RegisterAs); Notify
// stores a note in the identity's mailbox and sends it to each of its
// connections, on whichever node holds them.

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

// deliverNote sends n to connection id, on whichever node holds it.
// Concurrency-safe.
func (h *Hub) deliverNote(id, identity string, n Note) {
	if !h.atLocal(id, func(c *conn) { c.noteOnLoop(identity, n) }) && h.broker != nil {
		h.sendRemote("node:"+nodeOf(id), envelope{kind: envNote, target: id, sender: identity, num: n.ID, data: n.Data})
	}
}

// Registered reports whether identity is registered and alive.
// Concurrency-safe; it waits for the identity store.
func (h *Hub) Registered(identity string) bool {
	ok, err := h.ids.Registered(identity)
	return ok && err == nil
}

// closeID closes a connection by id on whichever node holds it.
// Concurrency-safe.
func (h *Hub) closeID(id string, code int, reason string) {
	if !h.atLocal(id, func(c *conn) { c.t.Close(ws.StatusCode(code), reason) }) && h.broker != nil {
		h.sendRemote("node:"+nodeOf(id), envelope{kind: envClose, target: id, num: uint64(code), data: []byte(reason)})
	}
}

// forgetIdentities unregisters a closed connection from its identities, on
// a worker: the store may be remote, and inline routes run this on a loop.
func (h *Hub) forgetIdentities(c *conn) {
	x := c.x.Load()
	if x == nil || len(x.ids) == 0 {
		return
	}
	ids, id := x.ids, c.ID()
	h.goWork(uint64(c.slot), func() {
		for _, st := range ids {
			if err := h.ids.Unregister(st.name, id); err != nil && !errors.Is(err, ErrUnavailable) {
				h.log.Warn("dispatch: unregister failed", "identity", st.name, "err", err)
			}
		}
	})
}

func (c *conn) registerAs(identity string, opts []RegisterOption) error {
	if !c.opened() {
		return ErrClosed
	}
	r := registration{lifetime: 7 * 24 * time.Hour, max: 1}
	for _, o := range opts {
		o(&r)
	}
	if r.lifetime < 10*time.Minute {
		r.lifetime = 10 * time.Minute
	}
	if r.max < 1 {
		r.max = 1
	}
	after := max(r.after, c.resumeFrom(identity), c.lastSeen(identity))
	id := c.ID()
	evict, backlog, err := c.hub().ids.Register(identity, id, r.lifetime, r.max, after)
	if err != nil {
		c.hub().countRefusal(err)
		return err
	}
	// Every evicted connection is closed, this one included: the store
	// orders registrations itself, and a connection registering again
	// keeps its place, so it may be the oldest.
	self := false
	for _, e := range evict {
		self = self || e == id
		c.hub().closeID(e, 4009, "replaced")
	}
	if self {
		return ErrReplaced
	}
	st := c.identity(identity)
	st.seen.resume(after)
	st.life, st.max = r.lifetime, r.max
	for _, n := range backlog {
		c.note(identity, n)
	}
	return nil
}

// resumeFrom reads the client's last seen notification id for identity from
// the "_resume" query parameter (a JSON object of identity → id).
func (c *conn) resumeFrom(identity string) uint64 {
	raw := c.req.Load().Query(resumeParam)
	if raw == "" {
		return 0
	}
	var m map[string]uint64
	if json.Unmarshal([]byte(raw), &m) != nil {
		return 0
	}
	return m[identity]
}

// lastSeen is the note id of identity up to which this connection
// delivered every one (notes above it may still be late).
func (c *conn) lastSeen(name string) uint64 {
	if x := c.x.Load(); x != nil {
		for _, st := range x.ids {
			if st.name == name {
				return st.seen.floor
			}
		}
	}
	return 0
}

func (c *conn) identity(name string) *idState {
	x := c.extra()
	for i := range x.ids {
		if x.ids[i].name == name {
			return &x.ids[i]
		}
	}
	x.ids = append(x.ids, idState{name: name})
	return &x.ids[len(x.ids)-1]
}

// note delivers one mailbox entry at most once per connection, in the
// connection's serialized context. A note is dropped only when this
// connection delivered its id before (or the client reported it in
// _resume); one arriving after a higher id still goes out.
func (c *conn) note(identity string, n Note) {
	if !c.t.Open() {
		return
	}
	h := c.hub()
	fresh, skipped := c.identity(identity).seen.add(n.ID, h.cfg.NoteWindow/64)
	if skipped > 0 {
		h.stats.NotesSkipped.Add(int64(skipped))
	}
	if !fresh {
		return
	}
	if w, ok := c.ctrl.(NoteWriter); ok {
		c.safe("OnNote", func() { w.OnNote(identity, n) })
		return
	}
	msg, err := event.Parse(n.Data)
	if err != nil {
		return
	}
	if m := c.typ().events.Lookup(msg.Name); m != nil {
		c.safe(string(msg.Name), func() {
			if _, _, _, decErr := m.Call(reflect.ValueOf(c.ctrl), msg); decErr != nil {
				c.hub().stats.BadArgs.Add(1)
			}
		})
		return
	}
	if !c.route.forward {
		h.stats.Dropped.Add(1)
		return
	}
	if n.Gap > 0 {
		n.Data = withGap(n.Data, n.Gap)
	}
	c.sendText(n.Data)
}

// withGap returns a copy of the notification data with "_gap_":gap added
// as its last field (data is shared with the mailbox, never written).
func withGap(data []byte, gap uint64) []byte {
	if len(data) < 2 || data[len(data)-1] != '}' {
		return data
	}
	out := make([]byte, 0, len(data)+32)
	out = append(out, data[:len(data)-1]...)
	out = append(out, `,"_gap_":`...)
	out = strconv.AppendUint(out, gap, 10)
	return append(out, '}')
}

// noteAsync queues a mailbox delivery into the connection's context.
// Concurrency-safe.
func (c *conn) noteAsync(identity string, n Note) {
	c.schedule(job{kind: jobFunc, fn: func() { c.note(identity, n) }}, false)
}

// noteOnLoop is noteAsync from a task on the connection's loop: an inline
// route runs it now, keeping its place among the loop's tasks (a unicast
// queued after it comes after it). Loop only.
func (c *conn) noteOnLoop(identity string, n Note) {
	c.schedule(job{kind: jobFunc, fn: func() { c.note(identity, n) }}, true)
}

// RegisterOption sets an identity registration's lifetime or connection cap.
type RegisterOption func(*registration)

type registration struct {
	lifetime time.Duration
	max      int
	after    uint64
}

// Lifetime sets how long the identity lives without connections or
// deliveries (default 7 days, minimum 10 minutes). Concurrency-safe.
func Lifetime(d time.Duration) RegisterOption { return func(r *registration) { r.lifetime = d } }

// MaxConnections caps the identity's connections (default 1); past it the
// oldest connection is closed with 4009 "replaced". Concurrency-safe.
func MaxConnections(n int) RegisterOption { return func(r *registration) { r.max = n } }

// After resumes the mailbox after note id: notes up to it count as seen
// by the client, as with "_resume" in the upgrade URL (the larger of the
// two wins). For clients that report what they saw in a message.
// Concurrency-safe.
func After(id uint64) RegisterOption { return func(r *registration) { r.after = id } }

type idState struct {
	name string
	seen seenSet // note ids delivered to this connection
	// The registration, kept to restore it (restore.go); life 0 until
	// RegisterAs succeeded (a note may arrive first).
	life time.Duration
	max  int
}
