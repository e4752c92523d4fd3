package dispatch

// Node liveness: the announcer that keeps this node's registration and
// the publisher's cache of other nodes' answers.

import (
	"time"
)

// aliveFor is how long the publisher keeps a liveness answer (see
// NodeTTL).
const aliveFor = 250 * time.Millisecond

// aliveCache remembers node liveness answers for aliveFor, so a burst of
// unicasts to one node asks the registry once. A failed answer is kept
// too (as alive: the envelope is sent, and fails with the broker), so an
// unreachable registry costs one call per node per period. Owned by the
// publisher.
type aliveCache struct {
	nr   NodeRegistry
	seen map[string]aliveEntry
}

type aliveEntry struct {
	alive bool
	at    time.Time
}

func newAliveCache(b Broker) *aliveCache {
	nr, _ := b.(NodeRegistry)
	return &aliveCache{nr: nr, seen: map[string]aliveEntry{}}
}

// check reports whether node is alive; without a registry, or when it
// cannot answer, every node counts as alive.
func (a *aliveCache) check(node string) bool {
	if a.nr == nil {
		return true
	}
	if e, ok := a.seen[node]; ok && time.Since(e.at) < aliveFor {
		return e.alive
	}
	ok, err := a.nr.Alive(node)
	if err != nil {
		ok = true
	}
	if len(a.seen) > 4096 {
		clear(a.seen)
	}
	a.seen[node] = aliveEntry{alive: ok, at: time.Now()}
	return ok
}

// announcer keeps this node's liveness announced (Start made the first
// announcement) every NodeTTL/5 until the hub stops, then retires it. A
// failure is logged once until an announcement succeeds again.
func (h *Hub) announcer(nr NodeRegistry) {
	defer h.wg.Done()
	t := time.NewTicker(NodeTTL / 5)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-t.C:
		case <-h.stop:
			_ = nr.Announce(h.node, 0)
			return
		}
		err := nr.Announce(h.node, NodeTTL)
		switch {
		case err != nil && !failing:
			h.log.Warn("dispatch: node announce failing", "err", err)
		case err == nil && failing:
			h.log.Info("dispatch: node announced again")
		}
		failing = err != nil
	}
}
