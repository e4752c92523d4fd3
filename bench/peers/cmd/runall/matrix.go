package main

import (
	"fmt"
	"strconv"
	"time"
)

// server is one server under test.
type server struct {
	name string
	raw  bool     // raw TCP: only the scenarios marked raw run against it
	args []string // after the binary; "{addr}" is replaced
	// pushPath is the raw push route of the broadcast scenarios (S3, S5,
	// S7); "" is plezi-bench's default, /push. cmd/plezi has it at
	// /demo/push (its /push is the push server's JSON protocol).
	pushPath string
	bin      string // binary path, set once built
	ready    string // the stderr text that says it serves; "" is "listening"
	s2       bool   // raw peer that takes S2 (gnetraw)
	s3       bool   // raw peer that takes S3 (rawloop)
}

// servers lists every server in run order; plezi is added when it builds.
func servers(dir string) []*server {
	peer := func(name string) *server {
		return &server{name: name, bin: dir + "/peers", args: []string{"-server", name, "-addr", "{addr}"}}
	}
	gnetraw, rawloop := peer("gnetraw"), peer("rawloop")
	gnetraw.raw, gnetraw.s2 = true, true
	rawloop.raw, rawloop.s3 = true, true
	return []*server{
		{name: "plezi", bin: dir + "/plezi", args: []string{"-addr", "{addr}", "-debug", "-demo"}, pushPath: "/demo/push"},
		peer("gnetws"), peer("gorilla"), peer("gws"), peer("nbio"), gnetraw, rawloop,
		centrifugoServer(dir), // S9 only (push.go)
	}
}

// run is one scenario configuration.
type run struct {
	id      string // s1 .. s7
	title   string // row label, e.g. "10k × 64 B, 20/s"
	args    []string
	conns   int
	payload int
	rate    float64
	nodes   int // s4, s7: plezi nodes sharing Redis (0: one server; s4 with 1: the floor, one node without Redis)
}

// key names the configuration across repetitions and servers.
func (r run) key() string { return r.id + " " + r.title }

// accepts reports whether sv takes part in r: the cluster scenarios are
// plezi's alone (the peers have no cluster).
func (r run) accepts(sv *server) bool {
	switch {
	case r.id == "s9" || sv.name == "centrifugo":
		return pushAccepts(r, sv)
	case r.nodes > 0:
		return sv.name == "plezi"
	case !sv.raw:
		return true
	}
	return sv.s2 && r.id == "s2" || sv.s3 && r.id == "s3"
}

// ports is how many consecutive ports r's servers listen on: one per node
// for s4, one shared port (SO_REUSEPORT) otherwise.
func (r run) ports() int {
	if r.id == "s4" {
		return r.nodes
	}
	return 1
}

// plan is the scenario matrix of a full or quick suite.
func plan(quick bool) []run {
	p := fullPlan
	if quick {
		p = quickPlan
	}
	var out []run
	for _, n := range p.s1 {
		out = append(out, run{id: "s1", title: count(n) + " idle", conns: n,
			args: []string{"-conns", itoa(n), "-settle", p.settle.String()}})
	}
	for _, pl := range p.s2 {
		out = append(out, run{id: "s2", title: "1k × " + size(pl), conns: 1000, payload: pl,
			args: []string{"-conns", "1000", "-payload", itoa(pl), "-duration", p.s2d.String()}})
	}
	for _, c := range p.s3 {
		out = append(out, s3run(c, p))
	}
	for _, rate := range p.s4rates {
		out = append(out, run{id: "s4", nodes: 2, conns: p.s4n, payload: 64, rate: rate,
			title: fmt.Sprintf("2 nodes × %s, %s msg/s for %v", count(p.s4n/2), count(int(rate)), p.s4d),
			args:  []string{"-conns", itoa(p.s4n), "-payload", "64", "-rate", ftoa(rate), "-duration", p.s4d.String()}})
	}
	// S4's floor: the same load on one node without Redis (every unicast
	// stays on the node), so the cross-node rows can be read against what
	// the host charges for the client's hops alone in the same run.
	floor := out[len(out)-1] // the highest rate's
	floor.nodes = 1
	floor.title = fmt.Sprintf("floor: 1 node × %s, no Redis, %s msg/s for %v", count(p.s4n), count(int(floor.rate)), p.s4d)
	out = append(out, floor)
	out = append(out,
		run{id: "s5", title: fmt.Sprintf("%s × %s, %g/s for %v, 1%% slow", count(p.s5n), size(p.s5p), p.s5r, p.s5d),
			conns: p.s5n, payload: p.s5p, rate: p.s5r,
			args: []string{"-conns", itoa(p.s5n), "-payload", itoa(p.s5p), "-rate", ftoa(p.s5r),
				"-duration", p.s5d.String(), "-slow-every", "100"}},
		run{id: "s6", title: fmt.Sprintf("2k connects/s for %v, half unfinished", p.s6d),
			args: []string{"-churn-rate", "2000", "-duration", p.s6d.String()}},
		run{id: "s7", nodes: p.s7nodes, conns: p.s7n, payload: 64,
			title: fmt.Sprintf("%d nodes, %s × 64 B, single ×%d", p.s7nodes, count(p.s7n), p.s7count),
			args:  []string{"-conns", itoa(p.s7n), "-payload", "64", "-count", itoa(p.s7count)}},
		run{id: "s8", conns: p.s8n, payload: 64, rate: 10,
			title: fmt.Sprintf("%s × 64 B at 10/s, storm of %s", count(p.s8n), count(p.s8storm)),
			args: []string{"-conns", itoa(p.s8n), "-storm", itoa(p.s8storm), "-payload", "64", "-rate", "10",
				"-duration", p.s8d.String()}},
	)
	return append(out, pushRuns(quick)...) // S9 (push.go)
}

// s3case is one broadcast configuration; rate 0 means single broadcasts.
type s3case struct {
	conns, payload int
	rate           float64
}

func s3run(c s3case, p sizes) run {
	r := run{id: "s3", conns: c.conns, payload: c.payload, rate: c.rate,
		args: []string{"-conns", itoa(c.conns), "-payload", itoa(c.payload)}}
	if c.rate == 0 {
		r.title = fmt.Sprintf("%s × %s, single ×%d", count(c.conns), size(c.payload), p.single)
		r.args = append(r.args, "-count", itoa(p.single))
		return r
	}
	r.title = fmt.Sprintf("%s × %s, %g/s for %v", count(c.conns), size(c.payload), c.rate, p.repeat)
	r.args = append(r.args, "-rate", ftoa(c.rate), "-duration", p.repeat.String())
	return r
}

// sizes sets the matrix of a suite.
type sizes struct {
	s1       []int
	settle   time.Duration
	s2       []int
	s2d      time.Duration
	s3       []s3case
	single   int
	repeat   time.Duration
	s5n, s5p int
	s5r      float64
	s5d, s6d time.Duration
	s4n      int       // connections over both nodes
	s4rates  []float64 // messages per second over all of them
	s4d      time.Duration
	s7nodes  int
	s7n      int // connections over every node
	s7count  int // single broadcasts
	s8n      int // subscribers
	s8storm  int // connections of the storm
	s8d      time.Duration
}

var (
	// fullPlan is the matrix (S3 trimmed to 8 cases per size pair
	// to keep the suite near 30 minutes with 3 repetitions).
	fullPlan = sizes{
		s1: []int{1000, 5000, 10000, 19000}, settle: 3 * time.Second,
		s2: []int{64, 1024}, s2d: 5 * time.Second,
		s3: []s3case{
			{10000, 64, 0}, {10000, 1024, 0}, {10000, 64, 10}, {10000, 1024, 20},
			{19000, 64, 0}, {19000, 1024, 0}, {19000, 64, 10}, {19000, 1024, 20},
		},
		single: 3, repeat: 2 * time.Second,
		// S5: a slow consumer must be sent more than the kernel buffers
		// (up to 4 MB of send buffer here) plus the 4 MiB queue bound.
		s5n: 500, s5p: 64 << 10, s5r: 20, s5d: 8 * time.Second, s6d: 5 * time.Second,
		// S4: 2 nodes × 5,000 connections, fixed rates up to the 10k msg/s
		// of the target. S7, the scale-out: 100,000 connections over 7
		// nodes on one port, about 14,300 open files per node (a process
		// may hold 20,000 here; SO_REUSEPORT spreads them within a few %).
		s4n: 10000, s4rates: []float64{1000, 5000, 10000}, s4d: 10 * time.Second,
		s7nodes: 7, s7n: 100000, s7count: 3,
		// S8: 10k subscribers and a storm of 8k: the server holds both,
		// plus a descriptor per connection in its accept hand-off, under
		// the 20,000 open files a process may hold here.
		s8n: 10000, s8storm: 8000, s8d: 3 * time.Second,
	}
	// quickPlan is the ~2 minute smoke run.
	quickPlan = sizes{
		s1: []int{2000}, settle: time.Second,
		s2: []int{64}, s2d: 1500 * time.Millisecond,
		s3:     []s3case{{2000, 64, 0}, {2000, 1024, 20}},
		single: 2, repeat: time.Second,
		s5n: 200, s5p: 64 << 10, s5r: 40, s5d: 4 * time.Second, s6d: time.Second,
		s4n: 2000, s4rates: []float64{1000}, s4d: 2 * time.Second,
		s7nodes: 2, s7n: 8000, s7count: 2,
		s8n: 2000, s8storm: 2000, s8d: time.Second,
	}
)

func itoa(n int) string     { return strconv.Itoa(n) }
func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
func count(n int) string {
	if n%1000 == 0 {
		return itoa(n/1000) + "k"
	}
	return itoa(n)
}
func size(p int) string {
	if p >= 1024 && p%1024 == 0 {
		return itoa(p/1024) + " KiB"
	}
	return itoa(p) + " B"
}
