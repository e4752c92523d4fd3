package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// S9: plezi's push server (cmd/plezi without -demo: /push and /api/publish)
// against Centrifugo v6, side by side on the same core, with the same
// client (plezi-bench -scenario s9, each server's own JSON protocol) and
// publishes made through each server's HTTP API. Centrifugo is built from
// the module proxy: bench/peers/go.mod holds it as a tool
// (`go get -tool github.com/centrifugal/centrifugo/v6@VERSION`), so its
// version and go.sum are pinned like the other peers'.

const (
	// pushAPIKey is the HTTP API key both servers are started with.
	pushAPIKey       = "plezi-bench-api-key-0123456789"
	centrifugoModule = "github.com/centrifugal/centrifugo/v6"
)

func init() {
	titles["s9"] = "S9 — push servers: plezi against Centrifugo v6 (subscribed connections, publishes through the HTTP API)"
	setups["s9"] = "plezi (`cmd/plezi -api-key K`: its push server, no -demo) and Centrifugo v6 (built from the module proxy, the JSON protocol over `/connection/websocket`, in-memory engine, anonymous connect and subscribe, `http_api.key`) each alone on the server CPU, alternately: repetition 1 of plezi, then of Centrifugo, then repetition 2 of each... Every connection of plezi-bench (`-scenario s9 -proto NAME`) connects and subscribes to one channel over the server's own protocol and counts as up once the subscription is acknowledged. Memory: the server's RSS growth per subscribed connection once it settled, before any publish. Fan-out: the load generator POSTs `/api/publish` (`X-API-Key`) at the given rate, with a 64 B data string carrying the send time (taken just before the request), so latency runs from the publish call to each subscriber; CPU per delivery is the server's utime+stime over the window (the API requests included) divided by the deliveries."
}

// centrifugoServer is Centrifugo as built by buildCentrifugo into dir.
func centrifugoServer(dir string) *server {
	return &server{name: "centrifugo", bin: dir + "/centrifugo", ready: "serving websocket",
		args: []string{"-c", dir + "/centrifugo.json", "--http_server.address", "{host}", "--http_server.port", "{port}"}}
}

// pushAccepts: S9 is plezi's and Centrifugo's alone, and Centrifugo takes
// part in nothing else.
func pushAccepts(r run, sv *server) bool {
	return r.id == "s9" && (sv.name == "plezi" || sv.name == "centrifugo")
}

// wantCentrifugo reports whether the suite c runs Centrifugo at all (its
// first build takes minutes).
func wantCentrifugo(c *config) bool {
	if len(pick([]*server{centrifugoServer("")}, c.servers)) == 0 {
		return false
	}
	for _, r := range pickRuns(plan(c.quick), c.only) {
		if r.id == "s9" {
			return true
		}
	}
	return false
}

// centrifugoConfig is what Centrifugo needs for S9 on top of its defaults.
var centrifugoConfig = map[string]any{
	"client":      map[string]any{"allow_anonymous_connect_without_token": true},
	"channel":     map[string]any{"without_namespace": map[string]any{"allow_subscribe_for_client": true, "allow_subscribe_for_anonymous": true}},
	"http_api":    map[string]any{"key": pushAPIKey},
	"log":         map[string]any{"level": "info"},
	"usage_stats": map[string]any{"disabled": true},
}

// buildCentrifugo builds Centrifugo (the version bench/peers/go.mod pins)
// into dir with its configuration file, or says why not.
func buildCentrifugo(root, dir string) error {
	peers := filepath.Join(root, "bench", "peers")
	ver, err := exec.Command("go", "-C", peers, "list", "-m", "-f", "{{.Version}}", centrifugoModule).Output()
	if err != nil {
		return fmt.Errorf("go list -m %s: %w", centrifugoModule, err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(ver)), "v")
	out := filepath.Join(dir, "centrifugo")
	fmt.Fprintf(os.Stderr, "runall: go build -o %s %s@v%s (in %s; minutes the first time)\n", out, centrifugoModule, v, peers)
	cmd := exec.Command("go", "build", "-ldflags", "-X "+centrifugoModule+"/internal/build.Version="+v, "-o", out, centrifugoModule)
	cmd.Dir = peers
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", centrifugoModule, err, b)
	}
	b, err := json.MarshalIndent(centrifugoConfig, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "centrifugo.json"), b, 0o644)
}

// pushSizes is the S9 matrix: idle memory at each count, then fan-outs
// of a payload-byte publish to fanConns subscribers at each rate.
type pushSizes struct {
	idle     []int
	settle   time.Duration
	fanConns int
	rates    []float64
	fanFor   time.Duration
}

var (
	pushFull  = pushSizes{idle: []int{1000, 5000, 10000, 19000}, settle: 5 * time.Second, fanConns: 10000, rates: []float64{1, 10}, fanFor: 10 * time.Second}
	pushQuick = pushSizes{idle: []int{2000}, settle: 2 * time.Second, fanConns: 2000, rates: []float64{10}, fanFor: 2 * time.Second}
)

// pushRuns is S9's part of the plan.
func pushRuns(quick bool) []run {
	p := pushFull
	if quick {
		p = pushQuick
	}
	var out []run
	for _, n := range p.idle {
		out = append(out, run{id: "s9", title: count(n) + " subscribed, idle", conns: n,
			args: []string{"-conns", itoa(n), "-settle", p.settle.String()}})
	}
	for _, rate := range p.rates {
		out = append(out, run{id: "s9", conns: p.fanConns, payload: 64, rate: rate,
			title: fmt.Sprintf("%s subscribed, 64 B via the HTTP API at %g/s for %v", count(p.fanConns), rate, p.fanFor),
			args: []string{"-conns", itoa(p.fanConns), "-payload", "64", "-rate", ftoa(rate),
				"-duration", p.fanFor.String(), "-settle", "3s"}})
	}
	return out
}

// job is one repetition of a run on one server.
type job struct {
	sv  *server
	rep int
}

// schedule orders the repetitions of r: every repetition of one server,
// then the next server; S9 alternates instead (repetition 1 of each
// server, then repetition 2 ...), so that each pair of repetitions shares
// the machine's conditions and their ratio is a same-run ratio.
func schedule(r run, svs []*server, reps int) []job {
	var out []job
	if r.id == "s9" {
		for rep := 0; rep < reps; rep++ {
			for _, sv := range svs {
				if r.accepts(sv) {
					out = append(out, job{sv, rep})
				}
			}
		}
		return out
	}
	for _, sv := range svs {
		for rep := 0; rep < reps && r.accepts(sv); rep++ {
			out = append(out, job{sv, rep})
		}
	}
	return out
}

// oncePush starts sv as an S9 server (plezi as its push server, without
// the suite's -debug -demo), runs plezi-bench's s9 against it over its own
// protocol and stops it.
func oncePush(ctx context.Context, c *config, dir string, sv *server, r run, port int) (report, error) {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	as := *sv
	if sv.name == "plezi" {
		as.args = []string{"-addr", "{addr}", "-api-key", pushAPIKey}
	}
	srv, err := startServer(ctx, c.serverCPU, &as, addr, nil, nil)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	args := []string{"-addr", addr, "-scenario", "s9", "-label", sv.name, "-json",
		"-pid", strconv.Itoa(srv.cmd.Process.Pid), "-proto", sv.name, "-api-key", pushAPIKey}
	args = append(args, coreArgs(c)...)
	return bench(ctx, dir, c.loadCPU, append(args, r.args...))
}
