package dispatch

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"hash/maphash"
	"log/slog"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gobwas/ws"

	"github.com/plezigo/plezi/codec/event"
	"github.com/plezigo/plezi/internal/bridge"
	"github.com/plezigo/plezi/internal/lograte"
)

// hubConfig is what a hub is made with (serverSide.NewHub, the tests).
// Zero values get the defaults.
type hubConfig struct {
	bridge.HubConfig
	Broker     Broker     // nil: single node, no cluster traffic
	Identities Identities // nil: a MemoryIdentities of this hub alone
}

// Stats are the hub's counters. Read with Load; concurrency-safe.
// Panics counts every panic the hub recovered: in a controller's callback
// (the connection closes with 1011) and while handling a cluster envelope
// (the envelope is dropped and counted in BadEnvelopes too). BadEnvelopes
// also counts envelopes that do not parse, fail their signature, or name a
// malformed connection id. DeniedEvents counts client calls to event
// methods the route does not let clients call (answered as unknown).
// Dropped counts what had nowhere to go: a message on a route without
// OnMessage, an event for a controller type added after it was sent, an
// event or note with no method on a route that does not forward events
// (a raw route, see ForwardEvents).
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
	// without having delivered them (see server.Config.NoteWindow).
	NotesSkipped atomic.Int64
	// FanoutSize gets one observation per fan-out (Multicast, Broadcast,
	// Publish, and those arriving from the cluster): the local connections
	// it reached, summed over the loops. DeliveryLatency gets one per loop
	// a fan-out reached: microseconds from the fan-out's start on this node
	// (the publish, or the envelope's arrival) to the loop queueing its
	// frames, which the loop writes at the end of the same task batch.
	FanoutSize, DeliveryLatency Histogram
	// Unavailable counts identity calls (Notify, RegisterAs) that failed
	// because the store was unavailable (ErrUnavailable).
	Unavailable atomic.Int64
	// Restores counts the restorations the broker asked for (Restorer);
	// Restored, the registrations they restored; RestoreErrors, those
	// the store failed (restored at the next restoration).
	Restores, Restored, RestoreErrors atomic.Int64
}

// Hub owns routes, connections, fan-out and identities of one node; get
// it from server.Server.Hub. Its methods are concurrency-safe unless they
// say otherwise.
type Hub struct {
	node   string
	cfg    hubConfig
	log    *slog.Logger
	loops  bridge.Loops
	ids    Identities
	broker Broker
	stats  Stats

	tables []*table // one per event loop, each owned by its loop
	seed   maphash.Seed
	shards []*shard
	router router

	typesMu sync.Mutex
	types   []*ctype // append-only; guarded by typesMu (typeList for readers)
	byName  map[string]*ctype

	chanMu   sync.Mutex
	chanRefs map[string]*chanRef // guarded by chanMu; never held across a broker call

	out        chan outEnvelope // cluster publishes, sent by the publisher goroutine
	restoreReq chan struct{}    // one buffered: a restoration is due (restore.go)
	stop       chan struct{}
	wg         sync.WaitGroup
	cancels    []func()
	started    atomic.Bool

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

// newHub makes a hub. Call start before serving and stop after.
func newHub(cfg hubConfig) *Hub {
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
	if cfg.Identities == nil {
		cfg.Identities = NewMemoryIdentities()
	}
	h := &Hub{
		node: cfg.Node, cfg: cfg, log: cfg.Logger, loops: cfg.Runner, ids: cfg.Identities,
		broker: cfg.Broker, byName: map[string]*ctype{}, chanRefs: map[string]*chanRef{},
		out: make(chan outEnvelope, 4096), restoreReq: make(chan struct{}, 1), stop: make(chan struct{}),
		refBase: randomHex(4), seed: maphash.MakeSeed(),
	}
	for i := 0; i < cfg.Loops; i++ {
		h.tables = append(h.tables, newTable(h.seed))
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

// Node returns the node id. Concurrency-safe.
func (h *Hub) Node() string { return h.node }

// Stats returns the hub's counters. Concurrency-safe.
func (h *Hub) Stats() *Stats { return &h.stats }

// Route adds a websocket route. pattern segments ":name" are parameters and
// a last segment "*" takes the rest. Route calls f once, to learn the
// controller's type, and refuses (with a *RouteError naming the method or
// pattern and why, errors.Is one of ErrBadMethod, ErrBadPattern,
// ErrDuplicateRoute, ErrClientEvent; or ErrNilFactory, ErrNotController) a
// lifecycle method of the wrong signature, an exported method that cannot
// be an event, an empty pattern, a pattern of the same shape as an earlier
// route's, and ClientEvents naming no event method. Not safe for
// concurrent use: add routes before serving (server.Server.Route, which
// refuses once the server runs).
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
	if !r.forwardSet {
		r.forward = r.auto
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

// start starts the worker shards and the cluster subscriptions. The hub
// stops when stop is called.
func (h *Hub) start() error {
	if h.started.Swap(true) {
		return nil
	}
	for _, s := range h.shards {
		h.wg.Add(1)
		go func(s *shard) {
			defer h.wg.Done()
			s.work(h.stop)
		}(s)
	}
	if h.broker == nil {
		return nil
	}
	h.wg.Add(1)
	go h.publisher()
	if rs, ok := h.broker.(Restorer); ok {
		rs.OnRestore(h.requestRestore)
		h.wg.Add(1)
		go h.restorer()
	}
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

// shutdown ends cluster subscriptions and waits for queued callbacks to
// finish. No lock is held while a subscription is cancelled.
func (h *Hub) shutdown() {
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
	h.chanMu.Lock()
	for ch, r := range h.chanRefs {
		if r.cancel != nil {
			cancels = append(cancels, r.cancel)
		}
		delete(h.chanRefs, ch)
	}
	h.chanMu.Unlock()
	for _, c := range cancels {
		c()
	}
	close(h.stop)
	h.wg.Wait()
}

// goWork runs fn on the worker shard chosen by key (off the event loops).
// Concurrency-safe.
func (h *Hub) goWork(key uint64, fn func()) {
	h.shards[key%uint64(len(h.shards))].push(job{kind: jobFunc, fn: fn})
}

// Count returns the number of open websocket connections of this node.
// Concurrency-safe.
func (h *Hub) Count() int {
	n := 0
	for _, t := range h.tables {
		n += int(t.count.Load())
	}
	return n
}

// shutdownAll runs OnShutdown on every connection, then closes each with
// 1001 in its own order, after anything OnShutdown wrote. Each loop
// queues its own connections'. Concurrency-safe.
func (h *Hub) shutdownAll() {
	for i, t := range h.tables {
		h.loops.Submit(i, func() {
			for _, c := range t.slots {
				if c == nil {
					continue
				}
				c.schedule(job{kind: jobShutdown}, false)
				c.schedule(job{kind: jobFunc, fn: func() { c.t.Close(ws.StatusGoingAway, "server shutting down") }}, false)
			}
		})
	}
}
