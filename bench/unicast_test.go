package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// unicastHub is the /unicast contract of cmd/plezi over several in-test
// gorilla/websocket servers ("nodes") that share one registry: the first
// message is the connection's id "<node>-<n>", then "<id> <payload>" writes
// <payload> to that connection.
type unicastHub struct {
	mu    sync.Mutex
	conns map[string]*lockedConn
	n     int
	cross atomic.Int64 // deliveries from one node to another
}

type lockedConn struct {
	mu sync.Mutex
	c  *websocket.Conn
}

func (l *lockedConn) write(p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.c.SetWriteDeadline(time.Now().Add(time.Second))
	_ = l.c.WriteMessage(websocket.TextMessage, p)
}

// newUnicastNodes starts n servers on real sockets; it returns their
// addresses.
func newUnicastNodes(t *testing.T, h *unicastHub, n int) []string {
	t.Helper()
	h.conns = map[string]*lockedConn{}
	var addrs []string
	for node := range n {
		up := websocket.Upgrader{}
		mux := http.NewServeMux()
		mux.HandleFunc("/unicast", func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			h.serve(node, &lockedConn{c: c})
		})
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		addrs = append(addrs, strings.TrimPrefix(srv.URL, "http://"))
	}
	return addrs
}

func (h *unicastHub) serve(node int, lc *lockedConn) {
	h.mu.Lock()
	h.n++
	id := fmt.Sprintf("n%d-%x", node, h.n)
	h.conns[id] = lc
	h.mu.Unlock()
	defer func() { h.mu.Lock(); delete(h.conns, id); h.mu.Unlock(); lc.c.Close() }()
	lc.write([]byte(id))
	for {
		mt, p, err := lc.c.ReadMessage()
		if err != nil {
			return
		}
		to, payload, ok := bytes.Cut(p, []byte(" "))
		if mt != websocket.TextMessage || !ok {
			return
		}
		h.mu.Lock()
		dst := h.conns[string(to)]
		h.mu.Unlock()
		if dst != nil {
			if !strings.HasPrefix(string(to), fmt.Sprintf("n%d-", node)) {
				h.cross.Add(1)
			}
			dst.write(payload)
		}
	}
}

func TestEngineUnicast(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name         string
		nodes, loops int
		conns, count int
		allCross     bool
	}{
		{"two nodes", 2, 1, 10, 100, true},
		{"two nodes two loops", 2, 2, 11, 60, true},
		{"one node", 1, 1, 5, 30, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h unicastHub
			addrs := newUnicastNodes(t, &h, tt.nodes)
			e := newEngine(t, Config{Scenario: ScenarioUnicast, Addrs: addrs, Conns: tt.conns, Loops: tt.loops,
				Rate: 2000, Count: tt.count, Sources: []string{"127.0.0.6"}})
			settle(t, e)
			if p := e.Progress(); p.Up != int64(tt.conns) || p.Failed != 0 {
				t.Fatalf("progress %+v", p)
			}
			e.Start()
			want := int64(tt.count)
			waitFor(t, "every unicast", 10*time.Second, func() bool { return e.Progress().Msgs >= want })
			e.Stop()
			r := e.Result()
			if r.Sent != want || r.Msgs != want || r.Hist.N != uint64(want) {
				t.Fatalf("result %+v", r)
			}
			if tt.allCross && h.cross.Load() != want {
				t.Fatalf("%d of %d deliveries crossed nodes", h.cross.Load(), want)
			}
		})
	}
}

// TestEngineUnicastPacing: Count messages at Rate take Count/Rate seconds.
func TestEngineUnicastPacing(t *testing.T) {
	t.Parallel()
	var h unicastHub
	addrs := newUnicastNodes(t, &h, 2)
	e := newEngine(t, Config{Scenario: ScenarioUnicast, Addrs: addrs, Conns: 4, Rate: 100, Count: 30})
	settle(t, e)
	t0 := time.Now()
	e.Start()
	waitFor(t, "30 sends", 10*time.Second, func() bool { return e.Progress().Sent >= 30 })
	if d := time.Since(t0); d < 250*time.Millisecond {
		t.Fatalf("30 messages at 100/s sent in %v", d)
	}
	if p := e.Progress(); p.Sent != 30 {
		t.Fatalf("sent %d, want 30", p.Sent)
	}
	e.Stop()
	// The 30th message leaves 29/100 s after the first.
	if r := e.Result(); r.SendSpan < int64(250*time.Millisecond) || r.SendSpan > int64(2*time.Second) {
		t.Fatalf("send span %v", time.Duration(r.SendSpan))
	}
}

// TestEngineUnicastNoID: a server that never sends the id leaves the
// connections failed at the handshake deadline.
func TestEngineUnicastNoID(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t) // /echo: answers nothing until spoken to
	e := newEngine(t, Config{Scenario: ScenarioUnicast, Addr: srv.addr(), Path: "/echo", Conns: 2,
		HandshakeTimeout: 200 * time.Millisecond})
	settle(t, e)
	if r := e.Result(); r.Up != 0 || r.Failed != 2 || r.Timeouts != 2 {
		t.Fatalf("result %+v", r)
	}
}

// TestReadRedisInfo reads the real Redis at 127.0.0.1:6379 (the project's
// tests need it: scripts/test.sh starts it).
func TestReadRedisInfo(t *testing.T) {
	t.Parallel()
	ri, err := ReadRedisInfo(context.Background(), "127.0.0.1:6379")
	if err != nil {
		t.Fatalf("Redis at 127.0.0.1:6379: %v", err)
	}
	if ri.CPU <= 0 {
		t.Fatalf("info %+v: no CPU time", ri)
	}
}

func TestRedisInfoParse(t *testing.T) {
	t.Parallel()
	var ri RedisInfo
	ri.parse("# CPU\r\nused_cpu_sys:1.5\r\nused_cpu_user:0.25\r\n")
	ri.parse("# Commandstats\r\ncmdstat_get:calls=3,usec=1\r\ncmdstat_publish:calls=42,usec=10,usec_per_call=0.2\r\n")
	if ri.CPU != 1.75 || ri.Publish != 42 {
		t.Fatalf("%+v", ri)
	}
}
