package push_test

// The harness: a server with the push service on 127.0.0.1:0, gorilla
// clients for /push, an HTTP client for the API, and tokens signed with
// github.com/golang-jwt/jwt/v5.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/internal/push"
	"github.com/plezigo/plezi/internal/testutil"
	"github.com/plezigo/plezi/server"
)

// wait bounds every blocking step: boot, shutdown, one read.
const wait = 10 * time.Second

const (
	testKey    = "test-api-key-0123456789"
	testSecret = "test-jwt-secret-0123456789-abcdefghij"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// node is one server with the push service.
type node struct {
	srv  *server.Server
	svc  *push.Service
	addr string
}

// startNode runs a server with cfg (APIKey testKey unless set) and scfg
// and stops it when the test ends (Run must return nil).
func startNode(t testing.TB, cfg push.Config, scfg server.Config) *node {
	t.Helper()
	return startNodeWith(t, cfg, scfg, nil)
}

// startNodeWith is startNode with more routes, added by extra before Run.
func startNodeWith(t testing.TB, cfg push.Config, scfg server.Config, extra func(*server.Server)) *node {
	t.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	scfg.Addr, scfg.Logger = "127.0.0.1:0", quiet
	if scfg.Loops == 0 {
		scfg.Loops = 2
	}
	if scfg.Workers == 0 {
		scfg.Workers = 4
	}
	srv := server.New(scfg)
	svc, err := push.Mount(srv, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if extra != nil {
		extra(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, svcDone := make(chan error, 1), make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	go func() { svcDone <- svc.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		cancel()
		<-svcDone
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(wait):
		cancel()
		t.Fatal("server not ready")
	}
	t.Cleanup(func() {
		cancel()
		for _, c := range []chan error{done, svcDone} {
			select {
			case err := <-c:
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(2 * wait):
				t.Errorf("Run did not return after cancel")
			}
		}
	})
	return &node{srv: srv, svc: svc, addr: srv.Addr()}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, wait, what, cond)
}

// frame is one server frame of /push, decoded loosely.
type frame struct {
	Event    string            `json:"event"`
	ID       string            `json:"id"`
	EID      json.RawMessage   `json:"_EID_"`
	Channel  string            `json:"channel"`
	Identity string            `json:"identity"`
	Name     string            `json:"name"`
	Gap      int               `json:"gap"`
	Data     json.RawMessage   `json:"data"`
	Args     []json.RawMessage `json:"args"`
	Status   int               `json:"status"`
	Error    string            `json:"error"`
	TTL      int64             `json:"ttl_ms"`
	raw      string
}

// client is a gorilla/websocket client of /push. Not safe for concurrent use.
type client struct {
	t   testing.TB
	ws  *websocket.Conn
	id  string // from the welcome
	ttl int64  // from the welcome: ms until the token expires, 0 = never
}

// connect opens /push on n with query and header, reads the welcome.
func connect(t testing.TB, addr, query string, h http.Header) *client {
	t.Helper()
	ws, resp, err := tryConnect(addr, query, h)
	if err != nil {
		t.Fatalf("connect %s?%s: %v (status %d)", addr, query, err, resp)
	}
	c := &client{t: t, ws: ws}
	t.Cleanup(func() { _ = ws.Close() })
	w := c.next()
	want := `{"event":"welcome","id":"` + w.ID + `"}`
	if w.TTL != 0 {
		want = `{"event":"welcome","id":"` + w.ID + `","ttl_ms":` + itoa(int(w.TTL)) + `}`
	}
	if w.Event != "welcome" || w.ID == "" || w.TTL < 0 || w.raw != want {
		t.Fatalf("first frame %s, want the welcome", w.raw)
	}
	c.id, c.ttl = w.ID, w.TTL
	return c
}

// tryConnect dials /push; the int is the HTTP status of a refusal.
func tryConnect(addr, query string, h http.Header) (*websocket.Conn, int, error) {
	d := websocket.Dialer{HandshakeTimeout: wait}
	u := "ws://" + addr + "/push"
	if query != "" {
		u += "?" + query
	}
	ws, resp, err := d.Dial(u, h)
	status := 0
	if resp != nil {
		status = resp.StatusCode
		if resp.Body != nil {
			_ = resp.Body.Close()
		}
	}
	return ws, status, err
}

func (c *client) send(s string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the next frame, which must be JSON text.
func (c *client) next() frame {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(wait))
	op, b, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	if op != websocket.TextMessage {
		c.t.Fatalf("frame type %d, want text", op)
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		c.t.Fatalf("not JSON: %q", b)
	}
	f.raw = string(b)
	return f
}

// expect returns the next frame, whose raw text must be want.
func (c *client) expect(want string) frame {
	c.t.Helper()
	f := c.next()
	if f.raw != want {
		c.t.Fatalf("got %s, want %s", f.raw, want)
	}
	return f
}

// expectRegistered reads the ack of register eid: identity, and "ttl_ms"
// when a token of the connection expires (ttl > 0 then). It returns the ttl.
func (c *client) expectRegistered(eid int, identity string) int64 {
	c.t.Helper()
	f := c.next()
	var d struct {
		Identity string `json:"identity"`
		TTL      int64  `json:"ttl_ms"`
	}
	_ = json.Unmarshal(f.Data, &d)
	want := `{"event":"_ack_","_EID_":` + itoa(eid) + `,"data":{"identity":"` + identity + `"}}`
	if d.TTL != 0 {
		want = `{"event":"_ack_","_EID_":` + itoa(eid) + `,"data":{"identity":"` + identity + `","ttl_ms":` + itoa(int(d.TTL)) + `}}`
	}
	if f.raw != want || d.TTL < 0 {
		c.t.Fatalf("got %s, want the ack of register %d as %s", f.raw, eid, identity)
	}
	return d.TTL
}

// call sends a frame with "_EID_":eid and returns the reply.
func (c *client) call(eid int, frameJSON string) frame {
	c.t.Helper()
	c.send(strings.Replace(frameJSON, "{", `{"_EID_":`+itoa(eid)+`,`, 1))
	f := c.next()
	if (f.Event != "_ack_" && f.Event != "_err_") || string(f.EID) != itoa(eid) {
		c.t.Fatalf("call %s: got %s, want a reply to _EID_ %d", frameJSON, f.raw, eid)
	}
	return f
}

// ok is call that must be acked.
func (c *client) ok(eid int, frameJSON string) frame {
	c.t.Helper()
	f := c.call(eid, frameJSON)
	if f.Event != "_ack_" {
		c.t.Fatalf("%s: %s, want an ack", frameJSON, f.raw)
	}
	return f
}

// refused is call that must answer _err_ status.
func (c *client) refused(eid int, frameJSON string, status int) frame {
	c.t.Helper()
	f := c.call(eid, frameJSON)
	if f.Event != "_err_" || f.Status != status {
		c.t.Fatalf("%s: %s, want _err_ %d", frameJSON, f.raw, status)
	}
	return f
}

// closed reads until the connection ends and returns the close code.
func (c *client) closed() int {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(wait))
	for {
		_, b, err := c.ws.ReadMessage()
		if err == nil {
			c.t.Logf("before close: %s", b)
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("ended without a close frame: %v", err)
		}
		return ce.Code
	}
}

// marker proves nothing else arrived first: the API unicasts a marker
// event to c, which must be its next frame.
func (c *client) marker(addr, tag string) {
	c.t.Helper()
	status, body := api(c.t, addr, testKey, "POST", "/api/unicast", `{"id":"`+c.id+`","event":"marker","args":["`+tag+`"]}`)
	if status != 200 || body["delivered"] != true {
		c.t.Fatalf("marker unicast: %d %v", status, body)
	}
	c.expect(`{"event":"marker","args":["` + tag + `"]}`)
}

var httpClient = &http.Client{Timeout: wait}

// api calls the HTTP API with key ("" for none) and returns the status and
// the decoded JSON answer.
func api(t testing.TB, addr, key, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(bytes.TrimSpace(b)) > 0 && json.Unmarshal(b, &m) != nil && resp.StatusCode != 413 {
		t.Fatalf("%s %s: %d, body not JSON: %q", req.Method, req.URL, resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

// mustAPI is api that must answer 200.
func mustAPI(t testing.TB, addr, path, body string) map[string]any {
	t.Helper()
	status, m := api(t, addr, testKey, "POST", path, body)
	if status != 200 {
		t.Fatalf("POST %s %s: %d %v", path, body, status, m)
	}
	return m
}

// token signs claims with HS256 and secret.
func token(t testing.TB, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// claims are a token's claims for sub, expiring in an hour, plus extra
// (key, value pairs).
func claims(sub string, extra ...any) jwt.MapClaims {
	c := jwt.MapClaims{"sub": sub, "exp": time.Now().Add(time.Hour).Unix()}
	for i := 0; i+1 < len(extra); i += 2 {
		c[extra[i].(string)] = extra[i+1]
	}
	return c
}

func tokenQuery(tok string) string { return "token=" + url.QueryEscape(tok) }

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
