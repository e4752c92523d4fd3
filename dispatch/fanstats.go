package dispatch

import "time"

// The counters of fan-out and of connections by controller, read by
// monitoring (cmd/plezi's /metrics): one observation per fan-out and per
// loop task, never one per recipient.

// fanStart stamps d at the start of its fan-out and counts the caller's
// own reference (given back by its fanDone(d, 0)).
func (d *delivery) fanStart() {
	d.born = time.Now().UnixNano()
	d.left.Store(1)
}

// fanDone adds n recipients to d; the last of the fan-out's loop tasks
// (or the caller, when none is left) observes its size.
// Concurrency-safe.
func (h *Hub) fanDone(d *delivery, n int64) {
	if n != 0 {
		d.reached.Add(n)
	}
	if d.left.Add(-1) == 0 {
		h.stats.FanoutSize.Observe(d.reached.Load())
	}
}

// Controllers calls fn with each controller type's name (its struct type
// name, as for BroadcastTo) and its open connections, in the order the
// types were first routed. Concurrency-safe; fn must not add routes.
func (h *Hub) Controllers(fn func(name string, conns int64)) {
	for _, t := range h.typeList() {
		fn(t.name, t.conns.Load())
	}
}

// QueueDepth returns the jobs (controller callbacks, HTTP handlers,
// PreConnect) queued on the worker shards that no shard has taken yet; a
// shard takes its whole queue at once and runs it. It takes each shard's
// lock briefly: for monitoring, not for hot paths.
// Concurrency-safe.
func (h *Hub) QueueDepth() int {
	n := 0
	for _, s := range h.shards {
		s.mu.Lock()
		n += len(s.q)
		s.mu.Unlock()
	}
	return n
}

// Channels returns the number of channels (and patterns) with at least one
// local subscriber. Concurrency-safe.
func (h *Hub) Channels() int {
	h.chanMu.Lock()
	defer h.chanMu.Unlock()
	return len(h.chanRefs)
}
