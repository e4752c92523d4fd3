package ops_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/ops"
	"github.com/plezigo/plezi/internal/testutil"
	"github.com/plezigo/plezi/server"
)

// wait bounds every blocking step of a test.
const wait = 10 * time.Second

// testKey is the API key of the test nodes.
const testKey = "test-key-0123456789abcdef"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Fan subscribes every connection to "fan"; each message it gets is
// published as-is to all of them (the sender included).
type Fan struct{ dispatch.Socket }

// OnOpen subscribes to the channel.
func (f *Fan) OnOpen() { f.Subscribe("fan") }

// OnMessage publishes m.
func (f *Fan) OnMessage(m dispatch.Message) { f.Publish("fan", string(m.Data)) }

// node is a running server with ops mounted.
type node struct {
	srv *server.Server
	ops *ops.Ops
}

// start runs a server on 127.0.0.1:0 with a /fan route and ops mounted
// with cfg (its APIKey defaults to testKey); cleanup stops both.
func start(t testing.TB, scfg server.Config, cfg ops.Config) *node {
	t.Helper()
	scfg.Addr, scfg.Logger, scfg.Loops, scfg.Workers = "127.0.0.1:0", quiet, 2, 4
	srv := server.New(scfg)
	if err := srv.Route("/fan", func() dispatch.Controller { return new(Fan) }); err != nil {
		t.Fatal(err)
	}
	if cfg.APIKey == nil {
		cfg.APIKey = func() string { return testKey }
	}
	cfg.Logger = quiet
	o, err := ops.Mount(srv, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(2 * wait):
			t.Error("Run did not return")
		}
		if err := o.Close(); err != nil {
			t.Errorf("ops Close: %v", err)
		}
	})
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(wait):
		t.Fatal("server not ready")
	}
	return &node{srv, o}
}

// get GETs url with the header lines hdr ("Name: value").
func get(t testing.TB, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: wait}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp, string(b)
}

// metrics is one parsed scrape.
type metrics map[string]*dto.MetricFamily

// scrape GETs url (a /metrics) with hdr and parses the text exposition.
func scrape(t testing.TB, url string, hdr ...string) metrics {
	t.Helper()
	resp, body := get(t, url, hdr...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %q", url, resp.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return mfs
}

// v is the value of the counter or gauge name with the label pairs
// (name, value, ...), or a histogram's sample count; -1 when absent.
func (m metrics) v(name string, labels ...string) float64 {
	mf := m[name]
	if mf == nil {
		return -1
	}
	for _, x := range mf.Metric {
		if !hasLabels(x, labels) {
			continue
		}
		switch {
		case x.Counter != nil:
			return x.Counter.GetValue()
		case x.Gauge != nil:
			return x.Gauge.GetValue()
		case x.Histogram != nil:
			return float64(x.Histogram.GetSampleCount())
		}
	}
	return -1
}

// sum is a histogram's sample sum.
func (m metrics) sum(name string) float64 {
	if mf := m[name]; mf != nil && len(mf.Metric) == 1 && mf.Metric[0].Histogram != nil {
		return mf.Metric[0].Histogram.GetSampleSum()
	}
	return -1
}

func hasLabels(x *dto.Metric, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		found := false
		for _, l := range x.Label {
			found = found || l.GetName() == kv[i] && l.GetValue() == kv[i+1]
		}
		if !found {
			return false
		}
	}
	return true
}

// dialFan opens a gorilla/websocket client on /fan with extra headers.
func dialFan(t testing.TB, addr string, h http.Header) (*websocket.Conn, error) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: wait}
	ws, resp, err := d.Dial("ws://"+addr+"/fan", h)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err == nil {
		t.Cleanup(func() { _ = ws.Close() })
	}
	return ws, err
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, wait, what, cond)
}
