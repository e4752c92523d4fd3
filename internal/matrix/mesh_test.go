package matrix

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// burstN is the number of messages of every cell.
const burstN = 1000

// mesh is one topology's nodes and receivers.
type mesh struct {
	nodes []*node
	peers []*client // /w and /i of every node
	all   []*client // peers and the /o clients, by node
}

// connect dials /w, /i (as identities) and /o on every node.
func connect(t *testing.T, nodes []*node) *mesh {
	t.Helper()
	m := &mesh{nodes: nodes}
	for _, n := range nodes {
		for _, r := range []string{"w", "i"} {
			c := mustDial(t, n, r, "id-"+n.name+"-"+r)
			m.peers = append(m.peers, c)
			m.all = append(m.all, c)
		}
		m.all = append(m.all, mustDial(t, n, "o", ""))
	}
	return m
}

func mustDial(t *testing.T, n *node, route, identity string) *client {
	t.Helper()
	path := "/" + route
	if identity != "" {
		path += "?identity=" + identity
	}
	c, err := dial(n.name+"/"+route, n.addr, path)
	if err != nil {
		t.Fatal(err)
	}
	c.identity, c.peer = identity, route != "o"
	t.Cleanup(func() { _ = c.close() })
	return c
}

func (m *mesh) ids() []string {
	out := make([]string, len(m.peers))
	for i, c := range m.peers {
		out[i] = c.id
	}
	return out
}

func (m *mesh) identities() []string {
	out := make([]string, len(m.peers))
	for i, c := range m.peers {
		out[i] = c.identity
	}
	return out
}

// markKinds are the paths a warm-up or fence round takes.
var markKinds = []string{"mc", "bc", "uc", "pub", "ppub"}

// settle sends rounds of one message per path from every hub, tagged
// with sender label+node, until every receiver has one from each node:
// before the bursts (label "~w"), the cluster subscriptions are in place;
// after them ("~f"), every path has delivered what was sent before.
func (m *mesh) settle(t *testing.T, label string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := m.markRound(label); err != nil {
			t.Fatal(err)
		}
		if poll(time.Second, func() bool { return len(m.missingMarks(label)) == 0 }) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s round never reached everyone; missing %v", label, m.missingMarks(label))
		}
	}
}

func (m *mesh) markRound(label string) error {
	errs := make([]error, len(m.nodes))
	var wg sync.WaitGroup
	for i, n := range m.nodes {
		wg.Go(func() {
			bs := make([]burst, 0, len(markKinds))
			for _, k := range markKinds {
				b := burst{Kind: k, Sender: label + n.name, N: 1}
				if k == "uc" {
					b.Targets = m.ids()
				}
				bs = append(bs, b)
			}
			errs[i] = n.send(bs...)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (m *mesh) missingMarks(label string) []string {
	var out []string
	for _, n := range m.nodes {
		for _, c := range m.all {
			for _, k := range markKinds {
				key := k + "|" + label + n.name
				if (c.peer || k == "mc") && !c.hasMark(key) {
					out = append(out, c.name+":"+key)
				}
			}
		}
	}
	return out
}
