package cluster

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/lograte"
)

var (
	_ dispatch.Broker            = (*Memory)(nil)
	_ dispatch.PatternSubscriber = (*Memory)(nil)
	_ dispatch.Identities        = (*Memory)(nil)
	_ dispatch.NodeRegistry      = (*Memory)(nil)
)

// Memory is an in-process Broker and Identities store: several hubs (the
// servers of one process) sharing one Memory behave as the nodes of one
// cluster. Safe for concurrent use. Publish calls subscribers
// synchronously on the caller's goroutine. The identity half, with its
// bounds (MaxMail, MaxMailBytes, MaxNoteBytes, MaxNodeMailBytes,
// MaxIdentities; set them before the first Register), is the embedded
// dispatch.MemoryIdentities: the store a hub without Identities makes
// for itself.
type Memory struct {
	*dispatch.MemoryIdentities

	mu    sync.RWMutex
	subs  map[string]map[*handler]struct{} // guarded by mu
	psubs map[*handler]struct{}            // guarded by mu

	nodeMu sync.Mutex
	nodes  map[string]time.Time // node → announcement expiry; guarded by nodeMu
	now    func() time.Time     // guarded by nodeMu

	panicLog lograte.Limiter
	Panics   atomic.Int64 // subscriber panics Publish recovered (the message is lost to that subscriber only)
}

// handler is one subscription's callback, in either broker: fn for a
// topic, pfn for a pattern (topic holds it).
type handler struct {
	topic string
	fn    func(data []byte)
	pfn   func(topic string, data []byte)
}

// NewMemory returns an empty in-memory broker and identity store.
func NewMemory() *Memory {
	return &Memory{
		MemoryIdentities: dispatch.NewMemoryIdentities(),
		subs:             map[string]map[*handler]struct{}{},
		psubs:            map[*handler]struct{}{},
		nodes:            map[string]time.Time{},
		now:              time.Now,
	}
}

// Close does nothing and returns nil: a Memory holds no connection. It
// makes Memory a Backend, like Redis. Concurrency-safe.
func (m *Memory) Close() error { return nil }

// SetClock replaces the clock of identity lifetimes and node announcements
// (tests). Concurrency-safe.
func (m *Memory) SetClock(now func() time.Time) {
	m.MemoryIdentities.SetClock(now)
	m.nodeMu.Lock()
	m.now = now
	m.nodeMu.Unlock()
}

// Publish calls every subscriber of topic with data.
func (m *Memory) Publish(topic string, data []byte) error {
	m.mu.RLock()
	var list []*handler
	for s := range m.subs[topic] {
		list = append(list, s)
	}
	for s := range m.psubs {
		if dispatch.MatchGlob(s.topic, topic) {
			list = append(list, s)
		}
	}
	m.mu.RUnlock()
	for _, s := range list {
		m.deliver(s, topic, data)
	}
	return nil
}

// deliver calls one subscriber; a panic is recovered, counted and logged
// (to slog.Default, rate-limited), so the publisher goes on.
func (m *Memory) deliver(s *handler, topic string, data []byte) {
	defer recoverHandler(&m.Panics, &m.panicLog, slog.Default())
	if s.fn != nil {
		s.fn(data)
	} else {
		s.pfn(topic, data)
	}
}

// recoverHandler, deferred around a subscriber's call, recovers its panic:
// counted in n, logged with the stack the first time, then at most a line
// a second.
func recoverHandler(n *atomic.Int64, l *lograte.Limiter, log *slog.Logger) {
	r := recover()
	if r == nil {
		return
	}
	n.Add(1)
	if ok, stack, skipped := l.Check("handler"); ok {
		args := []any{"panic", fmt.Sprint(r)}
		if stack {
			args = append(args, "stack", string(debug.Stack()))
		} else {
			args = append(args, "unlogged_since_last", skipped)
		}
		log.Error("cluster: panic in a subscriber; message dropped", args...)
	}
}

// Subscribe calls fn for each message on topic until cancel.
func (m *Memory) Subscribe(topic string, fn func(data []byte)) (func(), error) {
	s := &handler{topic: topic, fn: fn}
	m.mu.Lock()
	set := m.subs[topic]
	if set == nil {
		set = map[*handler]struct{}{}
		m.subs[topic] = set
	}
	set[s] = struct{}{}
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		delete(m.subs[topic], s)
		if len(m.subs[topic]) == 0 {
			delete(m.subs, topic)
		}
		m.mu.Unlock()
	}, nil
}

// PSubscribe calls fn for each message on a topic matching the glob.
func (m *Memory) PSubscribe(pattern string, fn func(topic string, data []byte)) (func(), error) {
	s := &handler{topic: pattern, pfn: fn}
	m.mu.Lock()
	m.psubs[s] = struct{}{}
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		delete(m.psubs, s)
		m.mu.Unlock()
	}, nil
}

// Announce marks node alive for ttl; ttl 0 retires it.
func (m *Memory) Announce(node string, ttl time.Duration) error {
	m.nodeMu.Lock()
	defer m.nodeMu.Unlock()
	if ttl <= 0 {
		delete(m.nodes, node)
		return nil
	}
	m.nodes[node] = m.now().Add(ttl)
	return nil
}

// Alive reports whether node's announcement has not expired.
func (m *Memory) Alive(node string) (bool, error) {
	m.nodeMu.Lock()
	defer m.nodeMu.Unlock()
	exp, ok := m.nodes[node]
	return ok && m.now().Before(exp), nil
}
