package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestMain lets the test binary serve as the worker processes it spawns.
func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		os.Exit(workerMain(context.Background()))
	}
	os.Exit(m.Run())
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
	o.pid, o.perProc, o.settle, o.connectWait = os.Getpid(), 6, 500*time.Millisecond, 10*time.Second
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
		{"s4 not yet", func(o *options) { o.scenario = "s4" }, func(t *testing.T, r *Report) {
			if r.Status != notYet {
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
