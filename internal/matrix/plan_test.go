package matrix

import (
	"slices"
	"strings"
)

// want is one burst of the plan and the receivers it must reach.
type want struct {
	burst
	hub *node   // the sending hub, or nil
	ctl *client // the sending controller, or nil
	to  []*client
}

func (w *want) key() string { return w.Kind + "|" + w.Sender }

// plan is every burst: each kind from each node's hub (sender "h<i>")
// and from each Peer. Inline Peers do not Notify: RegisterAs and Notify
// wait for the identity store and belong on worker routes (dispatch's
// package doc).
func (m *mesh) plan() []*want {
	var plan []*want
	for _, n := range m.nodes {
		for _, k := range kinds {
			plan = append(plan, m.want(k, "h"+strings.TrimPrefix(n.name, "n"), n, nil))
		}
	}
	for _, c := range m.peers {
		for _, k := range kinds {
			if k != "nt" || !strings.HasSuffix(c.name, "/i") {
				plan = append(plan, m.want(k, c.name, nil, c))
			}
		}
	}
	return plan
}

// want is the burst of kind from sender and who must get it: Multicast
// every connection but a sending one, Broadcast every Peer but a sending
// one, the rest every Peer (a publisher is subscribed; a Unicast and a
// Notify go to every Peer, the sender included).
func (m *mesh) want(kind, sender string, hub *node, ctl *client) *want {
	w := &want{burst: burst{Kind: kind, Sender: sender, N: burstN}, hub: hub, ctl: ctl}
	others := func(cs []*client) []*client {
		return slices.DeleteFunc(slices.Clone(cs), func(c *client) bool { return c == ctl })
	}
	switch kind {
	case "mc":
		w.to = others(m.all)
	case "bc":
		w.to = others(m.peers)
	case "uc":
		w.to, w.Targets = m.peers, m.ids()
	case "nt":
		w.to, w.Targets = m.peers, m.identities()
	default:
		w.to = m.peers
	}
	return w
}
