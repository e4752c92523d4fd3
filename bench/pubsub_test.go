package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/internal/push"
	"github.com/plezigo/plezi/server"
)

const testAPIKey = "bench-test-api-key-0123"

func TestPublishBody(t *testing.T) {
	t.Parallel()
	for _, payload := range []int{0, 20, 64, 1024} {
		ts := Now()
		b := PublishBody("news", payload, ts)
		var v struct{ Channel, Data string }
		if err := json.Unmarshal(b, &v); err != nil || v.Channel != "news" {
			t.Fatalf("%d: %s: %v", payload, b, err)
		}
		if want := max(payload, pubDataMin); len(v.Data)+2 != want {
			t.Errorf("%d: data is %d bytes as JSON, want %d", payload, len(v.Data)+2, want)
		}
		var h Histogram
		if n := scanStamps(b, &h, ts+5); n != 1 || h.Max != 5 {
			t.Errorf("%d: scan found %d, latency %d", payload, n, h.Max)
		}
	}
}

// TestScanStamps: every stamped publish in a batched frame is found, a
// marker without a valid stamp is not counted.
func TestScanStamps(t *testing.T) {
	t.Parallel()
	one := string(PublishBody("news", 64, 1000))
	frame := one + "\n" + one + "\n{}\n" + `"@@zz` + "\n" + one
	var h Histogram
	if n := scanStamps([]byte(frame), &h, 1010); n != 3 || h.N != 3 || h.Min != 10 {
		t.Fatalf("found %d (hist %d, min %d), want 3", n, h.N, h.Min)
	}
	if !hasPing([]byte(frame)) || !hasPing([]byte("{}")) || hasPing([]byte(one)) || hasPing([]byte(`{"a":{}}`)) {
		t.Fatal("hasPing is wrong")
	}
}

func TestParseSetup(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		proto, reply string
		want         setupEvent
	}{
		{ProtoPlezi, `{"event":"welcome","id":"x-1"}`, setupNone},
		{ProtoPlezi, `{"event":"_ack_","_EID_":1}`, setupSubscribed},
		{ProtoPlezi, `{"event":"_ack_","_EID_":7}`, setupNone},
		{ProtoPlezi, `{"event":"_err_","_EID_":1,"status":403}`, setupFailed},
		{ProtoPlezi, `not json`, setupFailed},
		{ProtoCentrifugo, `{"id":1,"connect":{"client":"c","ping":25,"pong":true}}`, setupConnected},
		{ProtoCentrifugo, `{"id":2,"subscribe":{}}`, setupSubscribed},
		{ProtoCentrifugo, `{"id":2,"error":{"code":103,"message":"permission denied"}}`, setupFailed},
		{ProtoCentrifugo, `{}`, setupNone},
		{ProtoCentrifugo, ``, setupNone},
	} {
		if got := parseSetup(tt.proto, []byte(tt.reply)); got != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.proto, tt.reply, got, tt.want)
		}
	}
}

// FuzzPubSubParsers: untrusted replies never panic, whole or split in two,
// and the stamps found in two halves are never more than in the whole.
func FuzzPubSubParsers(f *testing.F) {
	f.Add([]byte(`{"id":1,"connect":{}}`+"\n"+`{"id":2,"subscribe":{}}`), 5)
	f.Add(PublishBody("news", 64, 42), 30)
	f.Add([]byte(`{"event":"_ack_","_EID_":1}`), 3)
	f.Fuzz(func(t *testing.T, b []byte, cut int) {
		var h Histogram
		whole := scanStamps(b, &h, Now())
		if whole > len(b)/(len(PubMarker)+TextStampSize) {
			t.Fatalf("%d stamps in %d bytes", whole, len(b))
		}
		for _, proto := range []string{ProtoPlezi, ProtoCentrifugo} {
			for p := b; len(p) > 0; {
				var r []byte
				r, p = cutReply(proto, p)
				_ = parseSetup(proto, r)
			}
		}
		_ = hasPing(b)
		if cut < 0 || cut > len(b) {
			return
		}
		halves := scanStamps(b[:cut], &h, 0) + scanStamps(b[cut:], &h, 0)
		if halves > whole {
			t.Fatalf("halves found %d stamps, the whole %d", halves, whole)
		}
		_, _ = parseSetup(ProtoPlezi, b[:cut]), parseSetup(ProtoCentrifugo, b[cut:])
	})
}

// plezi starts the real push server (internal/push) on 127.0.0.1.
func plezi(t *testing.T) string {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet, Loops: 1})
	svc, err := push.Mount(srv, push.Config{APIKey: testAPIKey, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- srv.Run(ctx) }()
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Run: %v", err)
			}
		}
	})
	select {
	case <-srv.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("plezi not ready")
	}
	return srv.Addr()
}

func TestEnginePubSubPlezi(t *testing.T) {
	t.Parallel()
	testPubSub(t, ProtoPlezi, plezi(t))
}

func TestEnginePubSubCentrifugo(t *testing.T) {
	t.Parallel()
	testPubSub(t, ProtoCentrifugo, newCentrifugoStandIn(t).addr())
}

// testPubSub subscribes 30 connections, publishes 5 times through the
// HTTP API and checks that every delivery was counted and timed.
func testPubSub(t *testing.T, proto, addr string) {
	const conns, count = 30, 5
	e := newEngine(t, Config{Scenario: ScenarioPubSub, Proto: proto, Addr: addr, Conns: conns, Loops: 2,
		Sources: []string{"127.0.0.6"}})
	settle(t, e)
	if p := e.Progress(); p.Up != conns || p.Failed != 0 {
		t.Fatalf("progress %+v", p)
	}
	e.Start()
	pub, err := NewPublisher("http://"+addr+"/api/publish", testAPIKey, DefaultChannel, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.Run(context.Background(), 50, count)
	if st := pub.Stats(); st.OK != count || st.Failed != 0 {
		t.Fatalf("publisher %+v", st)
	}
	waitFor(t, "every delivery", 10*time.Second, func() bool { return e.Progress().Msgs >= conns*count })
	e.Stop()
	r := e.Result()
	if r.Msgs != conns*count || r.Hist.N != uint64(r.Msgs) || r.HandshakeErrs != 0 {
		t.Fatalf("result %+v", r)
	}
	bad, err := NewPublisher("http://"+addr+"/api/publish", "wrong-key-0123456789", DefaultChannel, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	bad.Run(context.Background(), 10, 1)
	if st := bad.Stats(); st.OK != 0 || st.Failed != 1 || st.LastErr == "" {
		t.Fatalf("a wrong API key: %+v", st)
	}
}

// TestEnginePubSubRefused: a subscription the server refuses fails the
// connection as a handshake error.
func TestEnginePubSubRefused(t *testing.T) {
	t.Parallel()
	s := newCentrifugoStandIn(t)
	e := newEngine(t, Config{Scenario: ScenarioPubSub, Proto: ProtoCentrifugo, Addr: s.addr(), Conns: 3, Channel: "secret"})
	settle(t, e)
	if r := e.Result(); r.Up != 0 || r.Failed != 3 || r.HandshakeErrs != 3 {
		t.Fatalf("result %+v", r)
	}
}

// centrifugoStandIn speaks the subset of Centrifugo's JSON protocol v2 the
// pubsub client uses, on gorilla/websocket: connect must come first,
// replies and pushes are batched one per line, the channel "secret" is
// refused, and every connection is pinged with {} and must answer {}
// before its next push. /api/publish takes the API key as Centrifugo does
// (200 with {"error":...} on a refusal).
type centrifugoStandIn struct {
	*httptest.Server
	t     *testing.T
	mu    sync.Mutex
	conns map[*standInConn]bool
}

type standInConn struct {
	mu      sync.Mutex // serialises writes
	ws      *websocket.Conn
	pending bool // a ping is out
}

func newCentrifugoStandIn(t *testing.T) *centrifugoStandIn {
	s := &centrifugoStandIn{t: t, conns: map[*standInConn]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/connection/websocket", s.serveWS)
	mux.HandleFunc("/api/publish", s.servePublish)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *centrifugoStandIn) addr() string { return strings.TrimPrefix(s.URL, "http://") }

func (s *centrifugoStandIn) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &standInConn{ws: ws}
	defer func() { s.mu.Lock(); delete(s.conns, c); s.mu.Unlock(); ws.Close() }()
	connected := false
	for {
		_, p, err := ws.ReadMessage()
		if err != nil {
			return
		}
		for _, line := range bytes.Split(p, []byte("\n")) {
			if !s.command(c, line, &connected) {
				return
			}
		}
	}
}

// command answers one client line; false closes the connection.
func (s *centrifugoStandIn) command(c *standInConn, line []byte, connected *bool) bool {
	if string(line) == "{}" {
		c.mu.Lock()
		c.pending = false
		c.mu.Unlock()
		return true
	}
	var cmd struct {
		ID        int `json:"id"`
		Connect   *struct{}
		Subscribe *struct{ Channel string }
	}
	if json.Unmarshal(line, &cmd) != nil {
		return false
	}
	switch {
	case cmd.Connect != nil:
		*connected = true
		return c.write(`{"id":1,"connect":{"client":"x","ping":25,"pong":true}}`)
	case cmd.Subscribe != nil && (!*connected || cmd.Subscribe.Channel == "secret"):
		return c.write(`{"id":2,"error":{"code":103,"message":"permission denied"}}`)
	case cmd.Subscribe != nil:
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		// a ping batched with the reply: the client must find both
		c.mu.Lock()
		c.pending = true
		c.mu.Unlock()
		return c.write("{}\n" + `{"id":2,"subscribe":{}}`)
	}
	return false
}

// answered polls, at most for d, until the client answered the ping.
func (c *standInConn) answered(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		c.mu.Lock()
		ok := !c.pending
		c.mu.Unlock()
		if ok || time.Now().After(deadline) {
			return ok
		}
		time.Sleep(time.Millisecond) // polling with a deadline
	}
}

func (c *standInConn) write(text string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, []byte(text)) == nil
}

func (s *centrifugoStandIn) servePublish(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Channel string          `json:"channel"`
		Data    json.RawMessage `json:"data"`
	}
	if r.Header.Get("X-API-Key") != testAPIKey {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if json.NewDecoder(r.Body).Decode(&body) != nil || body.Channel == "" {
		w.Write([]byte(`{"error":{"code":107,"message":"bad request"}}`))
		return
	}
	push := `{"push":{"channel":"` + body.Channel + `","pub":{"data":` + string(body.Data) + `}}}`
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if !c.answered(2 * time.Second) {
			s.t.Error("a client did not answer the ping")
			continue
		}
		c.write(push + "\n" + `{"push":{"channel":"news","pub":{"data":"@@not-a-stamp"}}}`)
	}
	w.Write([]byte(`{"result":{}}`))
}
