package ops_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/internal/ops"
	"github.com/plezigo/plezi/server"
)

// TestMetricsAuth: /metrics and /status.json on the server's port answer
// only with the API key (X-API-Key or Authorization: apikey), and only GET
// and HEAD.
func TestMetricsAuth(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{}, ops.Config{})
	base := "http://" + n.srv.Addr()
	for _, path := range []string{"/metrics", "/status.json"} {
		for _, hdr := range [][]string{nil, {"X-API-Key: wrong-key-0123456789abc"}, {"Authorization: Bearer " + testKey}, {"X-API-Key: "}} {
			if resp, body := get(t, base+path, hdr...); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatalf("GET %s %q: %d %q, want 401 with WWW-Authenticate", path, hdr, resp.StatusCode, body)
			}
		}
		for _, hdr := range []string{"X-API-Key: " + testKey, "Authorization: apikey " + testKey, "Authorization: ApiKey " + testKey} {
			if resp, body := get(t, base+path, hdr); resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s %q: %d %q", path, hdr, resp.StatusCode, body)
			}
		}
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader("x"))
		req.Header.Set("X-API-Key", testKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("POST %s: %d, want 405", path, resp.StatusCode)
		}
	}
	if resp, _ := get(t, base+"/metrics", "X-API-Key: "+testKey); !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	// An empty configured key refuses everything.
	m := start(t, server.Config{}, ops.Config{APIKey: func() string { return "" }})
	if resp, _ := get(t, "http://"+m.srv.Addr()+"/metrics", "X-API-Key: "); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("empty key: %d, want 401", resp.StatusCode)
	}
}

// TestMetricsMoveWithTraffic: a scrape of /metrics before and after real
// traffic (three clients on a fan-out route, five messages, one refused
// upgrade) moves each counter by what crossed the sockets.
func TestMetricsMoveWithTraffic(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{Origins: []string{"http://ok.example"}}, ops.Config{Version: "v-test"})
	url, key := "http://"+n.srv.Addr()+"/metrics", "X-API-Key: "+testKey
	m0 := scrape(t, url, key)
	ok := http.Header{"Origin": {"http://ok.example"}}
	var cs []*websocket.Conn
	for range 3 {
		ws, err := dialFan(t, n.srv.Addr(), ok)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, ws)
	}
	if _, err := dialFan(t, n.srv.Addr(), http.Header{"Origin": {"http://evil.example"}}); err == nil {
		t.Fatal("a bad origin upgraded")
	}
	eventually(t, "three subscribers", func() bool { return n.srv.Hub().Count() == 3 && n.srv.Hub().Channels() == 1 })
	const msgs, text = 5, "hello, fan"
	for i := range msgs {
		if err := cs[i%3].WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cs {
		for range msgs {
			if _, b, err := c.ReadMessage(); err != nil || string(b) != text {
				t.Fatalf("read %q, %v", b, err)
			}
		}
	}
	var m1 metrics
	eventually(t, "the counters to settle", func() bool {
		m1 = scrape(t, url, key)
		return m1.v("plezi_sent_bytes_total")-m0.v("plezi_sent_bytes_total") >= float64(3*msgs*(2+len(text)))
	})
	delta := func(name string, labels ...string) float64 {
		return m1.v(name, labels...) - max(0, m0.v(name, labels...))
	}
	checks := []struct {
		what      string
		got, want float64
	}{
		{"received messages", delta("plezi_received_messages_total"), msgs},
		{"received bytes (6-byte masked headers)", delta("plezi_received_bytes_total"), float64(msgs * (6 + len(text)))},
		{"sent messages", delta("plezi_sent_messages_total"), 3 * msgs},
		{"sent bytes (2-byte headers)", delta("plezi_sent_bytes_total"), float64(3 * msgs * (2 + len(text)))},
		{"fan-outs (one observation each)", delta("plezi_fanout_recipients"), msgs},
		{"fan-out recipients", m1.sum("plezi_fanout_recipients") - m0.sum("plezi_fanout_recipients"), 3 * msgs},
		{"upgrades", delta("plezi_upgrades_total"), 3},
		{"refusals 403", delta("plezi_refusals_total", "status", "403"), 1},
		{"Fan connections", m1.v("plezi_connections", "controller", "Fan"), 3},
		{"websockets", m1.v("plezi_websockets"), 3},
		{"channels", m1.v("plezi_channels"), 1},
		{"ready", m1.v("plezi_ready"), 1},
		{"info", m1.v("plezi_info", "node", n.srv.Hub().Node(), "version", "v-test"), 1},
		{"queue depth", m1.v("plezi_dispatch_queue_depth"), 0},
		{"callback panics", m1.v("plezi_callback_panics_total"), 0},
		{"slow consumers", m1.v("plezi_slow_consumer_closes_total"), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	if d := delta("plezi_delivery_latency_seconds"); d < msgs {
		t.Errorf("delivery latency observations: %v, want at least %d (one per loop per fan-out)", d, msgs)
	}
	for _, name := range []string{"go_goroutines", "process_open_fds", "plezi_broker_publishes_total", "plezi_loop_yields_total", "plezi_flush_splits_total"} {
		if m1.v(name) < 0 {
			t.Errorf("%s missing", name)
		}
	}
	_ = cs[0].Close()
	eventually(t, "two Fan connections", func() bool {
		return scrape(t, url, key).v("plezi_connections", "controller", "Fan") == 2
	})
}

// TestMetricsAddr: with MetricsAddr, /metrics is served there without the
// key, and not on the server's port.
func TestMetricsAddr(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{}, ops.Config{MetricsAddr: "127.0.0.1:0"})
	if resp, _ := get(t, "http://"+n.srv.Addr()+"/metrics", "X-API-Key: "+testKey); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics on the main port: %d, want 404", resp.StatusCode)
	}
	if _, err := dialFan(t, n.srv.Addr(), nil); err != nil {
		t.Fatal(err)
	}
	m := scrape(t, "http://"+n.ops.MetricsAddr()+"/metrics")
	if m.v("plezi_upgrades_total") != 1 || m.v("plezi_connections", "controller", "Fan") != 1 {
		t.Fatalf("upgrades %v, Fan connections %v", m.v("plezi_upgrades_total"), m.v("plezi_connections", "controller", "Fan"))
	}
	if resp, _ := get(t, "http://"+n.ops.MetricsAddr()+"/other"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/other on the metrics port: %d", resp.StatusCode)
	}
}

// TestMetricsAddrInUse: a metrics address that cannot be bound is Mount's
// error, before the server runs.
func TestMetricsAddrInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet})
	_, err = ops.Mount(srv, ops.Config{APIKey: func() string { return testKey }, MetricsAddr: ln.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Mount = %v, want address already in use", err)
	}
	if _, err := ops.Mount(srv, ops.Config{}); err == nil {
		t.Fatal("Mount without APIKey succeeded")
	}
}

// TestMetricsRedis: with a Redis broker, the broker's publishes, round
// trips and health show, and so do Redis's own counters.
func TestMetricsRedis(t *testing.T) {
	t.Parallel()
	b, err := cluster.FromURL("redis://127.0.0.1:6379/0", cluster.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	n := start(t, server.Config{Broker: b}, ops.Config{})
	t.Cleanup(func() { _ = b.Close() }) // after the server stopped (cleanups run last first)
	url, key := "http://"+n.srv.Addr()+"/metrics", "X-API-Key: "+testKey
	ws, err := dialFan(t, n.srv.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m0 := scrape(t, url, key)
	if err := ws.WriteMessage(websocket.TextMessage, []byte("via redis")); err != nil {
		t.Fatal(err)
	}
	if _, b, err := ws.ReadMessage(); err != nil || string(b) != "via redis" {
		t.Fatalf("read %q, %v", b, err)
	}
	eventually(t, "a broker publish", func() bool {
		m := scrape(t, url, key)
		return m.v("plezi_broker_publishes_total") > m0.v("plezi_broker_publishes_total") &&
			m.v("plezi_broker_round_trips_total") > m0.v("plezi_broker_round_trips_total")
	})
	m := scrape(t, url, key)
	for name, want := range map[string]float64{"plezi_broker_healthy": 1, "plezi_redis_deaf_total": 0, "plezi_redis_errors_total": 0} {
		if got := m.v(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if t.Failed() {
		t.Log(fmt.Sprint(m["plezi_broker_healthy"]))
	}
}
