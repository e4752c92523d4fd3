package matrix

import (
	"strconv"
	"testing"
	"time"
)

// redisURL is the machine's Redis; each topology uses a fresh key prefix.
const redisURL = "redis://127.0.0.1:6379/0"

func newPrefix() string { return "matrix-" + strconv.FormatInt(time.Now().UnixNano(), 36) }

// topology is one cluster shape of the matrix.
type topology struct {
	name  string
	nodes int
	url   func(t *testing.T) string // the broker's; nil: no broker
	child bool                      // nodes in child processes
}

// TestDeliveryMatrix sends every primitive from every sender (each
// node's hub, each node's worker and inline controller) to every
// receiver on every node, burstN messages per cell, all cells of a
// topology at once, and checks each receiver got each exactly once and
// in order, and nothing it should not.
func TestDeliveryMatrix(t *testing.T) {
	for _, tp := range []topology{
		{name: "single", nodes: 1},
		{name: "redis", nodes: 3, url: func(*testing.T) string { return redisURL }, child: true},
		{name: "cluster", nodes: 3, url: clusterURL},
	} {
		t.Run(tp.name, func(t *testing.T) { runMatrix(t, tp) })
	}
}

func runMatrix(t *testing.T, tp topology) {
	url := ""
	if tp.url != nil {
		url = tp.url(t)
	}
	began := time.Now()
	m := connect(t, startNodes(t, tp.nodes, url, newPrefix(), tp.child))
	m.settle(t, "~w")
	plan := m.plan()
	fired := time.Now()
	for _, err := range m.fire(plan) {
		t.Error(err)
	}
	sent := time.Since(fired)
	m.waitDelivered(plan)
	delivered := time.Since(fired)
	m.settle(t, "~f")
	t.Logf("%s: set up in %v, sent in %v, delivered in %v", tp.name,
		fired.Sub(began).Round(time.Millisecond), sent.Round(time.Millisecond), delivered.Round(time.Millisecond))
	m.report(t, tp.name, plan, time.Since(began))
	m.logStats(t)
}
