package dispatch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gobwas/ws"

	"github.com/plezigo/plezi/internal/event"
	"github.com/plezigo/plezi/internal/lograte"
)

// HubConfig configures a Hub. Zero values get the documented defaults.
type HubConfig struct {
	Node       string       // node id; random when ""
	Loops      int          // number of event loops (≥ 1)
	Runner     Loops        // runs fan-out tasks on loops; required before Open
	Broker     Broker       // nil: single node, no cluster traffic
	Identities Identities   // required for RegisterAs/Notify
	Workers    int          // worker shards; 0 → 4 × GOMAXPROCS (at least 8)
	Logger     *slog.Logger // nil → slog.Default()
	Secret     []byte       // signs cluster envelopes (HMAC-SHA256) when set
	// NoteWindow is how many note ids above the highest contiguous one a
	// connection remembers per identity to drop repeats but deliver late
	// notes; a note further behind the newest counts as given up
	// (Stats.NotesSkipped). 0 → 256 (the default mailbox bound); rounded
	// up to a multiple of 64. The bits are made on the first late note.
	NoteWindow int
}

// Stats are the hub's counters. Read with Load; safe for concurrent use.
// Panics counts every panic the hub recovered: in a controller's callback
// (the connection closes with 1011) and while handling a cluster envelope
// (the envelope is dropped and counted in BadEnvelopes too). BadEnvelopes
// also counts envelopes that do not parse, fail their signature, or name a
// malformed connection id. DeniedEvents counts client calls to event
// methods the route does not let clients call (answered as unknown).
type Stats struct {
	Delivered, Dropped, Panics, BadEvents, BadArgs, UnknownEvents atomic.Int64
	UnicastFailed, PublishErrors, RemoteIn, BadEnvelopes          atomic.Int64
	DeniedEvents                                                  atomic.Int64
	// Cluster output: envelopes handed to the broker, the messages they
	// were joined into, and the broker calls (round trips) that sent them.
	ClusterEnvelopes, ClusterMessages, ClusterRoundTrips atomic.Int64
	// Mailboxes (Notify, RegisterAs): notes dropped, oldest first, to keep a
	// mailbox within its bounds; notes refused as larger than the per-note
	// bound; notes refused because the store's total is used up
	// (ErrMailFull); registrations refused for ErrTooManyIdentities.
	NotesDropped, NotesTooLarge, MailFull, IdentitiesFull atomic.Int64
	// NotesSkipped counts note ids a connection's window moved past
	// without having delivered them (see HubConfig.NoteWindow).
	NotesSkipped atomic.Int64
}

// Hub owns routes, connections, fan-out and identities of one node.
type Hub struct {
	node   string
	cfg    HubConfig
	log    *slog.Logger
	loops  Loops
	ids    Identities
	broker Broker
	stats  Stats

	sets   []*loopSet
	shards []*shard
	router Router

	typesMu sync.Mutex
	types   []*ctype // append-only; guarded by typesMu (typeList for readers)
	byName  map[string]*ctype

	chanMu   sync.Mutex
	chanRefs map[string]*chanRef // guarded by chanMu

	out     chan outEnvelope // cluster publishes, sent by the publisher goroutine
	stop    chan struct{}
	wg      sync.WaitGroup
	cancels []func()
	started atomic.Bool

	panicLog lograte.Limiter // controller panics: a stack once per type and callback
	envLog   lograte.Limiter // bad or panicking cluster envelopes
	refBase  string          // random per hub: error refs are refBase-seq
	refSeq   atomic.Uint64
}

type outEnvelope struct {
	topic  string
	data   []byte
	node   string // for unicasts: the target node, checked alive first
	onDead func() // called when node is not alive
}

// NewHub makes a hub. Call Start before serving and Stop after.
func NewHub(cfg HubConfig) *Hub {
	if cfg.Node == "" {
		cfg.Node = randomHex(6)
	}
	if cfg.Loops < 1 {
		cfg.Loops = 1
	}
	if cfg.Workers <= 0 {
		cfg.Workers = max(8, 4*runtime.GOMAXPROCS(0))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NoteWindow <= 0 {
		cfg.NoteWindow = 256
	}
	cfg.NoteWindow = (cfg.NoteWindow + 63) / 64 * 64
	h := &Hub{
		node: cfg.Node, cfg: cfg, log: cfg.Logger, loops: cfg.Runner, ids: cfg.Identities,
		broker: cfg.Broker, byName: map[string]*ctype{}, chanRefs: map[string]*chanRef{},
		out: make(chan outEnvelope, 4096), stop: make(chan struct{}), refBase: randomHex(4),
	}
	h.router.hub = h
	for i := 0; i < cfg.Loops; i++ {
		h.sets = append(h.sets, newLoopSet())
	}
	for i := 0; i < cfg.Workers; i++ {
		h.shards = append(h.shards, newShard())
	}
	return h
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newRef returns a new error reference, unique to this hub's life.
// Concurrency-safe.
func (h *Hub) newRef() string {
	return h.refBase + "-" + strconv.FormatUint(h.refSeq.Add(1), 36)
}

// Node returns the node id.
func (h *Hub) Node() string { return h.node }

// Stats returns the hub's counters.
func (h *Hub) Stats() *Stats { return &h.stats }

// SetCluster replaces the broker and identity store. Call before Start.
func (h *Hub) SetCluster(b Broker, ids Identities) {
	h.broker, h.ids = b, ids
}

// SetRunner sets the loop runner (the server does this before serving).
func (h *Hub) SetRunner(l Loops) { h.loops = l }

// Router returns the hub's routes.
func (h *Hub) Router() *Router { return &h.router }

// Route adds a websocket route. pattern segments ":name" are parameters and
// a last segment "*" takes the rest. Route calls f once, to learn the
// controller's type, and refuses (with a *RouteError naming the method or
// pattern and why, errors.Is one of ErrBadMethod, ErrBadPattern,
// ErrDuplicateRoute, ErrClientEvent; or ErrNilFactory, ErrNotController) a
// lifecycle method of the wrong signature, an exported method that cannot
// be an event, an empty pattern, a pattern of the same shape as an earlier
// route's, and ClientEvents naming no event method. Not safe for
// concurrent use; add routes before serving.
func (h *Hub) Route(pattern string, f Factory, opts ...RouteOption) (*Route, error) {
	rt, err := controllerType(f)
	if err != nil {
		return nil, err
	}
	r := newRoute(pattern, f, opts)
	events := event.NewTable(rt, reserved)
	if err := errors.Join(h.checkPattern(r), checkMethods(pattern, rt, events)); err != nil {
		return nil, err
	}
	if _, err := r.clientTable(events); err != nil {
		return nil, err
	}
	r.hub = h
	r.typ = h.typeOf(rt, events)
	r.client, _ = r.clientTable(r.typ.events) // the same names resolve in the same type's table
	if !r.autoSet {
		r.auto = r.typ.events.Len() > 0
	}
	h.router.routes = append(h.router.routes, r)
	return r, nil
}

func (h *Hub) typeOf(rt reflect.Type, events *event.Table) *ctype {
	t, added := h.addType(rt, events)
	if added && h.started.Load() && h.broker != nil {
		if err := h.subscribeBroker("ctl:"+t.name, h.onEnvelope); err != nil {
			h.log.Warn("dispatch: controller subscribe failed", "controller", t.name, "err", err)
		}
	}
	return t
}

// addType registers rt, whose table is events, once; added reports
// whether it is new.
func (h *Hub) addType(rt reflect.Type, events *event.Table) (*ctype, bool) {
	h.typesMu.Lock()
	defer h.typesMu.Unlock()
	for _, t := range h.types {
		if t.rtype == rt {
			return t, false
		}
	}
	name := rt.Elem().Name()
	if _, taken := h.byName[name]; taken {
		name = rt.Elem().PkgPath() + "." + name
	}
	t := &ctype{name: name, idx: len(h.types), rtype: rt, events: events}
	_, t.unknown = reflect.New(rt.Elem()).Interface().(UnknownHandler)
	h.types = append(h.types, t)
	h.byName[name] = t
	return t, true
}

// typeList returns the controller types registered so far.
func (h *Hub) typeList() []*ctype {
	h.typesMu.Lock()
	defer h.typesMu.Unlock()
	return h.types
}

// Start starts the worker shards and the cluster subscriptions. The hub
// stops when Stop is called.
func (h *Hub) Start(ctx context.Context) error {
	if h.started.Swap(true) {
		return nil
	}
	for _, s := range h.shards {
		h.wg.Add(1)
		go func(s *shard) {
			defer h.wg.Done()
			s.loop(h.stop)
		}(s)
	}
	if h.broker == nil {
		return nil
	}
	h.wg.Add(1)
	go h.publisher()
	if nr, ok := h.broker.(NodeRegistry); ok {
		if err := nr.Announce(h.node, NodeTTL); err != nil {
			h.log.Warn("dispatch: node announce failed", "err", err)
		}
		h.wg.Add(1)
		go h.announcer(nr)
	}
	topics := []string{"all", "node:" + h.node}
	for _, t := range h.typeList() {
		topics = append(topics, "ctl:"+t.name)
	}
	for _, topic := range topics {
		if err := h.subscribeBroker(topic, h.onEnvelope); err != nil {
			return err
		}
	}
	return nil
}

func (h *Hub) subscribeBroker(topic string, fn func([]byte)) error {
	cancel, err := h.broker.Subscribe(topic, fn)
	if err != nil {
		return err
	}
	h.typesMu.Lock()
	h.cancels = append(h.cancels, cancel)
	h.typesMu.Unlock()
	return nil
}

// Stop ends cluster subscriptions and waits for queued callbacks to finish.
func (h *Hub) Stop() {
	if !h.started.Load() {
		return
	}
	select {
	case <-h.stop:
		return
	default:
	}
	h.typesMu.Lock()
	cancels := h.cancels
	h.cancels = nil
	h.typesMu.Unlock()
	for _, c := range cancels {
		c()
	}
	h.chanMu.Lock()
	for ch, r := range h.chanRefs {
		if r.cancel != nil {
			r.cancel()
		}
		delete(h.chanRefs, ch)
	}
	h.chanMu.Unlock()
	close(h.stop)
	h.wg.Wait()
}

// Open registers c, a new connection of route on event loop loop, bound to
// t; c is zero or unused (the server embeds it in its own record). The
// controller must come from route's factory. Loop only.
func (h *Hub) Open(c *Conn, t Transport, route *Route, ctrl Controller, req *Request, loop int) {
	*c = Conn{t: t, route: route, ctrl: ctrl, loop: int32(loop)}
	c.req.Store(req)
	ctrl.socket().c = c
	ls := h.sets[loop]
	ls.mu.Lock()
	// Every field is set before the lock is released: Each, lookup and
	// fan-out find c through the loop set from other goroutines.
	c.slot, c.gen = ls.add(c)
	ls.mu.Unlock()
}

// NewController makes a controller for route with its request, for
// PreConnect before the connection exists.
func (h *Hub) NewController(route *Route, req *Request) Controller {
	return route.factory()
}

// PreConnect runs the controller's PreConnect (if any) with req. It returns
// the HTTP status to refuse with, or 0 to upgrade. A panic refuses with 500.
func PreConnect(ctrl Controller, req *Request) (status int, msg string) {
	p, ok := ctrl.(PreConnecter)
	if !ok {
		return 0, ""
	}
	defer func() {
		if r := recover(); r != nil {
			status, msg = 500, "internal error"
		}
	}()
	err := p.PreConnect(req)
	if err == nil {
		return 0, ""
	}
	if he, ok := err.(*HTTPError); ok {
		return he.Status, he.Msg
	}
	return 403, err.Error()
}

// Go runs fn on the worker shard chosen by key (off the event loops).
func (h *Hub) Go(key uint64, fn func()) {
	h.shards[key%uint64(len(h.shards))].push(job{kind: jobFunc, fn: fn})
}

// remove unregisters c from its loop set. Loop only.
func (h *Hub) remove(c *Conn) {
	ls := h.sets[c.loop]
	ls.mu.Lock()
	ls.del(c)
	var chans []string
	if x := c.x.Load(); x != nil {
		chans, x.chans = x.chans, nil
	}
	ls.mu.Unlock()
	for _, ch := range chans {
		h.unrefChannel(ch)
	}
}

// Each calls fn for every open connection (a snapshot). Concurrency-safe.
func (h *Hub) Each(fn func(c *Conn)) {
	var list []*Conn
	for _, ls := range h.sets {
		ls.mu.RLock()
		for _, c := range ls.slots {
			if c != nil {
				list = append(list, c)
			}
		}
		ls.mu.RUnlock()
	}
	for _, c := range list {
		fn(c)
	}
}

// Count returns the number of open connections.
func (h *Hub) Count() int {
	n := 0
	for _, ls := range h.sets {
		n += int(ls.count.Load())
	}
	return n
}

// ShutdownAll runs OnShutdown on every connection, then closes each with
// 1001 in its own order, after anything OnShutdown wrote.
func (h *Hub) ShutdownAll() {
	h.Each(func(c *Conn) {
		c.Shutdown()
		c.post(job{kind: jobFunc, fn: func() { c.t.Close(ws.StatusGoingAway, "server shutting down") }})
	})
}
