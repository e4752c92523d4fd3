package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestMain lets the test binary serve as the worker processes it spawns.
func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		os.Exit(workerMain(context.Background()))
	}
	if os.Getenv(asMainEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// asMainEnv makes the test binary run main: the tests run plezi-bench as
// a user does, exit status and all.
const asMainEnv = "PLEZI_BENCH_AS_MAIN"

// runMain runs plezi-bench (this test binary as main) with args.
func runMain(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// TestHelp: -h prints the usage on stdout and exits 0; a bad flag exits
// 2 with the usage on stderr.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		out, errs, code := runMain(t, arg)
		if code != 0 || !strings.Contains(out, "Usage: plezi-bench") || !strings.Contains(out, "-storm-path") || errs != "" {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", arg, code, out, errs)
		}
	}
	out, errs, code := runMain(t, "-no-such-flag")
	if code != 2 || out != "" || !strings.Contains(errs, "-no-such-flag") || !strings.Contains(errs, "Usage: plezi-bench") {
		t.Fatalf("bad flag: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestDefaultAddrAndUnreachable: the default -addr is cmd/plezi's
// default, and a server that does not answer gets one message, prefixed
// once, that names -addr.
func TestDefaultAddrAndUnreachable(t *testing.T) {
	o, _, err := parseFlags(nil)
	if err != nil || o.addr != "127.0.0.1:3000" {
		t.Fatalf("default -addr %q (%v), want cmd/plezi's :3000", o.addr, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	out, errs, code := runMain(t, "-addr", addr, "-server-wait", "100ms")
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if code != 1 || out != "" || len(lines) != 1 || !strings.Contains(errs, addr) || !strings.Contains(errs, "-addr") ||
		strings.Count(errs, "plezi-bench:") != 1 || strings.Count(errs, addr) != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// server is an in-test gorilla/websocket server with /echo, /push and
// /debug/heap, on a real socket; the test process is the measured server.
func server(t *testing.T) string {
	t.Helper()
	var mu sync.Mutex
	subs := map[*websocket.Conn]bool{}
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, p, err := c.ReadMessage()
			if err != nil || c.WriteMessage(mt, p) != nil {
				return
			}
		}
	})
	mux.HandleFunc("/push", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		mu.Lock()
		subs[c] = true
		mu.Unlock()
		defer func() { mu.Lock(); delete(subs, c); mu.Unlock(); c.Close() }()
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			mu.Lock()
			for d := range subs {
				_ = d.WriteMessage(mt, p)
			}
			mu.Unlock()
		}
	})
	mux.HandleFunc("/debug/heap", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"heap_inuse":1000,"heap_alloc":900,"num_gc":1,"goroutines":5}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func opts(addr, scenario string) options {
	o, _, err := parseFlags([]string{"-addr", addr, "-scenario", scenario})
	if err != nil {
		panic(err)
	}
	o.pids, o.perProc, o.settle, o.connectWait = pidList{os.Getpid()}, 6, 500*time.Millisecond, 10*time.Second
	return o
}

func TestRunScenarios(t *testing.T) {
	addr := server(t)
	tests := []struct {
		name  string
		o     func(o *options)
		check func(t *testing.T, r *Report)
	}{
		{"s1 idle over two processes", func(o *options) { o.scenario, o.conns = "s1", 10 }, func(t *testing.T, r *Report) {
			if r.Up != 10 || r.Procs != 2 || r.RSSAfter == 0 || r.HeapAfter != 1000 || r.FDsAfter < 10 {
				t.Fatalf("%+v", r)
			}
		}},
		{"s2 echo", func(o *options) { o.scenario, o.conns, o.duration = "s2", 8, 300*time.Millisecond }, func(t *testing.T, r *Report) {
			if r.Up != 8 || r.Msgs == 0 || r.LatN != uint64(r.Msgs) || r.MsgPerSec <= 0 || r.LatP50 <= 0 {
				t.Fatalf("%+v", r)
			}
		}},
		{"s3 broadcast", func(o *options) {
			o.scenario, o.conns, o.count, o.rate, o.duration = "s3", 10, 0, 20, 150*time.Millisecond
		}, func(t *testing.T, r *Report) {
			if r.Sent != 3 || r.Msgs != 30 || r.Expected != 30 || r.LatN != 30 {
				t.Fatalf("%+v", r)
			}
		}},
		{"s6 churn", func(o *options) { o.scenario, o.churnRate, o.duration = "s6", 100, 200*time.Millisecond }, func(t *testing.T, r *Report) {
			if r.FullDone != 10 || r.HalfDone != 10 || r.ChurnRate <= 0 {
				t.Fatalf("%+v", r)
			}
		}},
		{"s8 storm during broadcasts", func(o *options) {
			o.scenario, o.conns, o.storm, o.rate, o.duration = "s8", 8, 10, 50, 200*time.Millisecond
		}, func(t *testing.T, r *Report) {
			if r.Status != "ok" || r.Up != 8 || r.Procs != 2 || r.StormQuietUp != 10 || r.StormBusyUp != 10 || r.StormFailed != 0 {
				t.Fatalf("%+v", r)
			}
			if r.StormQuietS <= 0 || r.StormBusyS <= 0 || r.StormRatio <= 0 || r.CalmN == 0 || r.CalmP99 <= 0 {
				t.Fatalf("storm figures: %+v", r)
			}
			// every broadcast reached every subscriber, and the two
			// windows' histograms hold every delivery once
			if r.Sent == 0 || r.Msgs != r.Expected || r.CalmN+r.LatN != uint64(r.Msgs) {
				t.Fatalf("sent %d, delivered %d of %d, latencies %d + %d", r.Sent, r.Msgs, r.Expected, r.CalmN, r.LatN)
			}
		}},
		{"s7 is s3 across nodes", func(o *options) {
			o.scenario, o.conns, o.count, o.rate, o.duration = "s7", 10, 0, 20, 100*time.Millisecond
		}, func(t *testing.T, r *Report) {
			if r.Sent != 2 || r.Msgs != 20 || r.Expected != 20 {
				t.Fatalf("%+v", r)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts(addr, "")
			tt.o(&o)
			r, err := run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
			var b bytes.Buffer
			r.table(&b)
			if !strings.Contains(b.String(), o.scenario) {
				t.Fatalf("table lacks the scenario:\n%s", b.String())
			}
		})
	}
}

func TestUnknownScenario(t *testing.T) {
	if _, err := run(context.Background(), opts("127.0.0.1:1", "s9")); err == nil {
		t.Fatal("unknown scenario accepted")
	}
}

// unicastNodes starts n in-test servers with cmd/plezi's /unicast contract
// over one registry (the first message is the connection's id "<node>-<n>",
// then "<id> <payload>" writes <payload> to that connection). With stats,
// each serves /debug/stats: cluster_envelopes counts the deliveries that
// left its node and cluster_round_trips twice that.
func unicastNodes(t *testing.T, n int, stats bool) string {
	t.Helper()
	var mu sync.Mutex
	conns := map[string]*websocket.Conn{}
	locks := map[*websocket.Conn]*sync.Mutex{}
	seq := 0
	out := make([]atomic.Int64, n)
	var addrs []string
	for node := range n {
		up := websocket.Upgrader{}
		mux := http.NewServeMux()
		mux.HandleFunc("/unicast", func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			mu.Lock()
			seq++
			id := fmt.Sprintf("n%d-%x", node, seq)
			conns[id], locks[c] = c, new(sync.Mutex)
			mu.Unlock()
			defer func() { mu.Lock(); delete(conns, id); mu.Unlock(); c.Close() }()
			write := func(d *websocket.Conn, p []byte) {
				mu.Lock()
				l := locks[d]
				mu.Unlock()
				l.Lock()
				_ = d.WriteMessage(websocket.TextMessage, p)
				l.Unlock()
			}
			write(c, []byte(id))
			for {
				_, p, err := c.ReadMessage()
				if err != nil {
					return
				}
				to, payload, _ := strings.Cut(string(p), " ")
				mu.Lock()
				d := conns[to]
				mu.Unlock()
				if d != nil {
					if !strings.HasPrefix(to, fmt.Sprintf("n%d-", node)) {
						out[node].Add(1)
					}
					write(d, []byte(payload))
				}
			}
		})
		if stats {
			mux.HandleFunc("/debug/stats", func(w http.ResponseWriter, _ *http.Request) {
				fmt.Fprintf(w, `{"cluster_envelopes":%d,"cluster_round_trips":%d,"delivered":0}`, out[node].Load(), 2*out[node].Load())
			})
		}
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		addrs = append(addrs, strings.TrimPrefix(srv.URL, "http://"))
	}
	return strings.Join(addrs, ",")
}

func TestRunUnicast(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	noRedis := closed.Addr().String()
	closed.Close()
	for _, tt := range []struct {
		name      string
		stats     bool
		redis     string
		wantStats float64 // envelopes per message
	}{
		// every message crosses nodes: one envelope and two round trips each
		{"with stats and Redis", true, "127.0.0.1:6379", 1},
		{"without /debug/stats", false, "", -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := opts(unicastNodes(t, 2, tt.stats), "s4")
			o.conns, o.rate, o.duration, o.redis = 10, 200, 250*time.Millisecond, tt.redis
			r, err := run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if r.Up != 10 || r.Procs != 2 || r.Nodes != 2 || r.Sent != 50 || r.Msgs != 50 || r.Lost != 0 || r.LatN != 50 {
				t.Fatalf("%+v", r)
			}
			if r.EnvelopesPerMsg != tt.wantStats || tt.stats && r.RoundTripsPerMsg != 2 || !tt.stats && r.RoundTripsPerMsg != -1 {
				t.Fatalf("envelopes %v, round trips %v per message", r.EnvelopesPerMsg, r.RoundTripsPerMsg)
			}
			if tt.redis == "" && r.PublishPerMsg != -1 || tt.redis != "" && r.PublishPerMsg < 0 {
				t.Fatalf("PUBLISH per message %v", r.PublishPerMsg)
			}
			if r.SendRate < 100 || r.SendRate > 400 {
				t.Fatalf("sent at %.0f msg/s, asked 200", r.SendRate)
			}
			var b bytes.Buffer
			r.table(&b)
			if !strings.Contains(b.String(), "broker round trips") {
				t.Fatalf("table lacks the cross-node figures:\n%s", b.String())
			}
		})
	}
	t.Run("Redis not answering", func(t *testing.T) {
		o := opts(unicastNodes(t, 2, true), "s4")
		o.conns, o.redis = 4, noRedis
		if _, err := run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "does not answer") {
			t.Fatalf("run = %v, want a Redis error", err)
		}
	})
}
