package push

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/plezigo/plezi/dispatch"
)

// statsTopic is the broker topic on which nodes share their counts.
const statsTopic = "push:stats"

// maxControllers bounds the controller names of one node's stats message.
const maxControllers = 64

// nodeStats is one node's counts, as /api/stats shows them and as nodes
// share them over the broker.
type nodeStats struct {
	Node string `json:"node"`
	// Connections: "total" and one entry per controller type ("push").
	Connections map[string]int `json:"connections"`
	Channels    int            `json:"channels"`
	Gone        bool           `json:"gone,omitempty"`
}

// localStats counts this node's connections by controller type, named as
// /api/broadcast takes them ("push", "chat").
func (s *Service) localStats() nodeStats {
	st := nodeStats{Node: s.hub.Node(), Connections: map[string]int{"total": 0}, Channels: s.hub.Channels()}
	s.hub.Controllers(func(name string, n int64) {
		if n <= 0 {
			return
		}
		st.Connections["total"] += int(n)
		st.Connections[controllerName(name)] += int(n)
	})
	return st
}

// controllerName is a controller type's name with its first letter in
// lower case: Push → "push".
func controllerName(n string) string {
	if n == "" {
		return "?"
	}
	return strings.ToLower(n[:1]) + n[1:]
}

// nodeTable is the latest counts heard from each other node, at most max
// nodes, each kept for ttl after it was heard. Safe for concurrent use.
type nodeTable struct {
	mu  sync.Mutex
	max int
	ttl time.Duration
	m   map[string]nodeEntry // guarded by mu
}

type nodeEntry struct {
	st nodeStats
	at time.Time
}

func newNodeTable(max int, ttl time.Duration) *nodeTable {
	return &nodeTable{max: max, ttl: ttl, m: map[string]nodeEntry{}}
}

// put records st (or forgets its node when st.Gone); false when the table
// holds max other nodes already.
func (t *nodeTable) put(st nodeStats, at time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st.Gone {
		delete(t.m, st.Node)
		return true
	}
	if _, ok := t.m[st.Node]; !ok && len(t.m) >= t.max {
		t.pruneLocked(at)
		if len(t.m) >= t.max {
			return false
		}
	}
	t.m[st.Node] = nodeEntry{st: st, at: at}
	return true
}

// live returns the nodes heard within ttl, sorted by node id.
func (t *nodeTable) live(at time.Time) []nodeStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked(at)
	out := make([]nodeStats, 0, len(t.m))
	for _, e := range t.m {
		out = append(out, e.st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}

// pruneLocked drops the nodes not heard within ttl. Lock should be held.
func (t *nodeTable) pruneLocked(at time.Time) {
	for n, e := range t.m {
		if at.Sub(e.at) > t.ttl {
			delete(t.m, n)
		}
	}
}

// share publishes this node's counts every StatsEvery and records the
// other nodes' until ctx ends; then it tells them this node is gone.
func (s *Service) share(ctx context.Context, b dispatch.Broker) error {
	if cancel, err := b.Subscribe(disconnectTopic, s.onDisconnect); err != nil {
		s.cfg.Logger.Warn("push: disconnect subscription failed; /api/disconnect by identity on other nodes does not reach this one", "err", err)
	} else {
		defer cancel()
	}
	cancel, err := b.Subscribe(statsTopic, s.onStats)
	if err != nil {
		s.cfg.Logger.Warn("push: stats subscription failed; /api/stats shows this node only", "err", err)
		<-ctx.Done()
		return ctx.Err()
	}
	defer cancel()
	tick := time.NewTicker(s.cfg.StatsEvery)
	defer tick.Stop()
	for {
		s.publishStats(b, s.localStats())
		select {
		case <-tick.C:
		case <-ctx.Done():
			s.publishStats(b, nodeStats{Node: s.hub.Node(), Gone: true})
			return ctx.Err()
		}
	}
}

func (s *Service) publishStats(b dispatch.Broker, st nodeStats) {
	msg, err := json.Marshal(st)
	if err == nil {
		_ = b.Publish(statsTopic, msg) // the broker counts and logs its failures
	}
}

// onStats records another node's counts. data comes from the cluster: it
// is parsed totally and bounded (node id length, controller names).
func (s *Service) onStats(data []byte) {
	st, ok := s.parseStats(data)
	if !ok {
		s.stats.BadStats.Add(1)
		return
	}
	if st.Node == s.hub.Node() {
		return
	}
	if !s.nodes.put(st, time.Now()) {
		s.stats.NodesFull.Add(1)
	}
}

// parseStats parses one node's stats message; false when it does not
// parse or passes the bounds (node id length, controller names).
func (s *Service) parseStats(data []byte) (nodeStats, bool) {
	var st nodeStats
	if json.Unmarshal(data, &st) != nil || st.Node == "" || len(st.Node) > s.cfg.MaxName || len(st.Connections) > maxControllers {
		return st, false
	}
	return st, true
}

// clusterStats is the /api/stats answer: this node, every node heard, and
// the sums over them.
func (s *Service) clusterStats() map[string]any {
	self := s.localStats()
	nodes := append([]nodeStats{self}, s.nodes.live(time.Now())...)
	total := map[string]int{}
	channels := 0
	for _, n := range nodes {
		for k, v := range n.Connections {
			total[k] += v
		}
		channels += n.Channels
	}
	return map[string]any{"node": self.Node, "connections": total, "channels": channels, "nodes": nodes}
}
