package push

import (
	"encoding/json"
	"sync"
)

// holders is this node's index of identities to its /push connections
// that registered them, so /api/disconnect by identity closes those
// without asking every connection: one message per node over the broker
// (topic "push:disconnect"), one lookup on each. The index holds at most
// MaxIdentities entries per open connection of the node. Safe for
// concurrent use.
type holders struct {
	mu sync.Mutex
	m  map[string][]*Push // guarded by mu; never an empty slice
}

// add records that p registered identity (once per p and identity).
func (h *holders) add(identity string, p *Push) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string][]*Push{}
	}
	h.m[identity] = append(h.m[identity], p)
}

// drop forgets p's registrations (its connection closed).
func (h *holders) drop(p *Push, ids []registered) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range ids {
		list := h.m[r.name]
		for i, q := range list {
			if q == p {
				list[i] = list[len(list)-1]
				list[len(list)-1] = nil
				list = list[:len(list)-1]
				break
			}
		}
		if len(list) == 0 {
			delete(h.m, r.name)
		} else {
			h.m[r.name] = list
		}
	}
}

// close closes identity's connections on this node with
// CloseDisconnected and returns how many.
func (h *holders) close(identity string) int {
	h.mu.Lock()
	list := append([]*Push(nil), h.m[identity]...)
	h.mu.Unlock()
	for _, p := range list {
		p.CloseWith(CloseDisconnected, "disconnected by the server")
	}
	return len(list)
}

// disconnectTopic is the broker topic of /api/disconnect by identity.
const disconnectTopic = "push:disconnect"

// disconnectMsg asks every other node to close an identity's connections.
type disconnectMsg struct {
	Node     string `json:"node"`
	Identity string `json:"identity"`
}

// onDisconnect handles a disconnectMsg from the cluster: parsed totally
// and bounded; its own node's messages are skipped (it closed them).
func (s *Service) onDisconnect(data []byte) {
	m, ok := s.parseDisconnect(data)
	if !ok {
		s.stats.BadStats.Add(1)
		return
	}
	if m.Node != s.hub.Node() {
		s.holders.close(m.Identity)
	}
}

func (s *Service) parseDisconnect(data []byte) (disconnectMsg, bool) {
	var m disconnectMsg
	if json.Unmarshal(data, &m) != nil || m.Identity == "" || len(m.Identity) > s.cfg.MaxName || len(m.Node) > s.cfg.MaxName {
		return m, false
	}
	return m, true
}
