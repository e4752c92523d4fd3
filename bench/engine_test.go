package bench

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/plezigo/plezi/internal/testutil"
)

// TestMain fails the package when a test leaves goroutines behind. The
// pubsub tests boot plezi's push server: gnet's package-level ants pool
// (started by its init) and that pool's idle workers, which linger for
// seconds after the server stopped, are not the tests' to stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*goWorker).run.func1"))
}

// testServer is a gorilla/websocket server on a real socket with the
// benchmark contract's /echo and /push.
type testServer struct {
	*httptest.Server
	mu   sync.Mutex
	subs map[*websocket.Conn]*sync.Mutex
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	s := &testServer{subs: map[*websocket.Conn]*sync.Mutex{}}
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
		s.servepush(c)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *testServer) servepush(c *websocket.Conn) {
	s.mu.Lock()
	s.subs[c] = new(sync.Mutex)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, c)
		s.mu.Unlock()
		c.Close()
	}()
	for {
		mt, p, err := c.ReadMessage()
		if err != nil {
			return
		}
		s.mu.Lock()
		for d, wmu := range s.subs {
			wmu.Lock()
			_ = d.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
			_ = d.WriteMessage(mt, p)
			wmu.Unlock()
		}
		s.mu.Unlock()
	}
}

func (s *testServer) addr() string { return strings.TrimPrefix(s.URL, "http://") }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, d, what, cond)
}

func newEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func settle(t *testing.T, e *Engine) {
	t.Helper()
	e.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.WaitSettled(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestEngineEcho(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	for _, tt := range []struct {
		name    string
		payload int
		loops   int
		sources []string
	}{
		{"64B", 64, 1, nil},
		{"1KiB two loops", 1024, 2, []string{"127.0.0.2", "127.0.0.3"}},
		{"64KiB", 64 << 10, 1, []string{"127.0.0.4"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t, Config{Scenario: ScenarioEcho, Addr: srv.addr(), Conns: 20, Payload: tt.payload, Loops: tt.loops, Sources: tt.sources})
			settle(t, e)
			if p := e.Progress(); p.Up != 20 || p.Failed != 0 {
				t.Fatalf("progress %+v", p)
			}
			e.Start()
			waitFor(t, "500 echoes", 10*time.Second, func() bool { return e.Progress().Msgs >= 500 })
			e.Stop()
			r := e.Result()
			h, err := r.Histogram()
			if err != nil {
				t.Fatal(err)
			}
			if r.Msgs < 500 || h.N != uint64(r.Msgs) || r.Sent < r.Msgs || r.Sent > r.Msgs+20 {
				t.Fatalf("msgs %d sent %d hist %d", r.Msgs, r.Sent, h.N)
			}
			if p50 := h.Quantile(.5); p50 <= 0 || p50 > int64(5*time.Second) {
				t.Fatalf("p50 %v", time.Duration(p50))
			}
		})
	}
}

func TestEnginePushAndSlowConsumers(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	const conns, count = 12, 4
	e := newEngine(t, Config{Scenario: ScenarioPush, Addr: srv.addr(), Conns: conns, Sender: true,
		Rate: 50, Count: count, SlowEvery: 6, Sources: []string{"127.0.0.5"}})
	settle(t, e)
	e.Start()
	// Connections 3 and 9 are slow (idx%6 == 3): they do not count messages.
	want := int64(count * (conns - 2))
	waitFor(t, "every delivery", 10*time.Second, func() bool { return e.Progress().Msgs >= want })
	e.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.Drain(ctx, 100*time.Millisecond)
	r := e.Result()
	if r.Sent != count || r.Msgs != want || r.Slow != 2 || r.Hist.N != uint64(want) {
		t.Fatalf("result %+v", r)
	}
}

func TestEngineChurn(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	e := newEngine(t, Config{Scenario: ScenarioChurn, Addr: srv.addr(), ChurnRate: 400,
		Duration: 250 * time.Millisecond, HalfHold: 50 * time.Millisecond})
	e.Start()
	waitFor(t, "churn to finish", 10*time.Second, func() bool { return e.Progress().Done })
	e.Stop()
	r := e.Result()
	if r.FullDone != 50 || r.HalfDone != 50 || r.Failed != 0 || r.Hist.N != 50 {
		t.Fatalf("result %+v", r)
	}
}

// TestEngineRaw drives a raw TCP echo (no handshake): frames come back masked.
func TestEngineRaw(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); io.Copy(c, c); c.Close() }()
		}
	}()
	e := newEngine(t, Config{Scenario: ScenarioEcho, Addr: ln.Addr().String(), Conns: 5, Raw: true})
	settle(t, e)
	e.Start()
	waitFor(t, "raw echoes", 10*time.Second, func() bool { return e.Progress().Msgs >= 100 })
	e.Stop()
	e.Close()
}

func TestEngineRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	e := newEngine(t, Config{Scenario: ScenarioIdle, Addr: addr, Conns: 3})
	settle(t, e)
	if r := e.Result(); r.Failed != 3 || r.ConnectErrs != 3 {
		t.Fatalf("result %+v", r)
	}
}

func TestEngineHandshakeRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	e := newEngine(t, Config{Scenario: ScenarioIdle, Addr: strings.TrimPrefix(srv.URL, "http://"), Conns: 2})
	settle(t, e)
	if r := e.Result(); r.Failed != 2 || r.HandshakeErrs != 2 {
		t.Fatalf("result %+v", r)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{
		{Scenario: "nope", Addr: "127.0.0.1:1"},
		{Scenario: ScenarioEcho, Addr: "localhost:1"},
		{Scenario: ScenarioEcho, Addr: "127.0.0.1:1", Payload: 4},
		{Scenario: ScenarioChurn, Addr: "127.0.0.1:1"},
		{Scenario: ScenarioEcho, Addr: "127.0.0.1:1", Sources: []string{"::1"}},
		{Scenario: ScenarioUnicast, Addr: "127.0.0.1:1", Payload: 12},
		{Scenario: ScenarioUnicast, Addr: "127.0.0.1:1", Raw: true},
		{Scenario: ScenarioUnicast, Addrs: []string{"127.0.0.1:1", "localhost:2"}},
		{Scenario: ScenarioPubSub, Addr: "127.0.0.1:1", Proto: "nats"},
		{Scenario: ScenarioPubSub, Addr: "127.0.0.1:1", Raw: true},
		{Scenario: ScenarioPubSub, Addr: "127.0.0.1:1", Channel: `a"b`},
	} {
		if _, err := NewEngine(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: err %v, want ErrConfig", cfg, err)
		}
	}
}

// TestNowIsClockMonotonic: Now reads the CLOCK_MONOTONIC every process shares.
func TestNowIsClockMonotonic(t *testing.T) {
	t.Parallel()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	if d := Now() - ts.Nano(); d < 0 || d > int64(50*time.Millisecond) {
		t.Fatalf("Now differs from CLOCK_MONOTONIC by %v", time.Duration(d))
	}
}
