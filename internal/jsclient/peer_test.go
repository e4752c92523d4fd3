package jsclient

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// peer is a small real websocket server (gorilla/websocket over loopback)
// that speaks Plezi's JSON event protocol, with knobs the real server has no
// reason to offer: arbitrary close codes, chosen notification ids, events
// that are never acked. It serves /plezi.js from Source and a blank page at
// "/" that loads it.
//
// Routes: GET /ws/<name>?close=N closes every connection at once with code
// N; otherwise each text frame {"event":e,"_EID_":id,"args":a} gets
//
//	e == "silent"  nothing
//	e == "fail"    {"event":"_err_","_EID_":id,"status":422,"error":"failed: <args[0]>"}
//	e == "notify"  for each n in args: {"event":"note","args":[n],"_NID_":n,"_identity":"user:t"}, then the ack
//	e == "gapnote" args [n, gap]: that note with "_gap_":gap, then the ack
//	e == "bye"     the ack, then a close with code args[0]
//	otherwise      {"event":"_ack_","_EID_":id,"data":{"event":e,"args":a}}
//
// and any other frame (not an event, or binary) is echoed as it came.
type peer struct {
	addr string
	srv  *http.Server
	ln   net.Listener
	done chan struct{}

	mu    sync.Mutex
	conns map[string]chan string // name → raw query of each connection, guarded by mu
	live  map[*websocket.Conn]struct{}
	wg    sync.WaitGroup // handler goroutines of upgraded connections
}

const blankPage = `<!doctype html><meta charset="utf-8"><title>plezi.js test</title><script src="/plezi.js"></script>`

func newPeer(t *testing.T) *peer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{
		addr:  ln.Addr().String(),
		ln:    ln,
		done:  make(chan struct{}),
		conns: make(map[string]chan string),
		live:  make(map[*websocket.Conn]struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /plezi.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ContentType)
		w.Write(Source)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(blankPage))
	})
	mux.HandleFunc("GET /ws/{name}", p.serveWS)
	p.srv = &http.Server{Handler: mux}
	go func() {
		defer close(p.done)
		p.srv.Serve(ln)
	}()
	return p
}

// connected returns the channel that receives the raw query of each new
// connection to /ws/name.
func (p *peer) connected(name string) chan string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch, ok := p.conns[name]
	if !ok {
		ch = make(chan string, 64)
		p.conns[name] = ch
	}
	return ch
}

// waitConn waits for the next connection to /ws/name and returns its query.
func (p *peer) waitConn(t *testing.T, name string) string {
	t.Helper()
	select {
	case q := <-p.connected(name):
		return q
	case <-time.After(10 * time.Second):
		t.Fatalf("no connection to /ws/%s within 10s", name)
		return ""
	}
}

func (p *peer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.srv.Shutdown(ctx)
	<-p.done
	p.mu.Lock()
	for c := range p.live {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (p *peer) serveWS(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.live[c] = struct{}{}
	p.wg.Add(1)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.live, c)
		p.mu.Unlock()
		c.Close()
		p.wg.Done()
	}()
	p.connected(r.PathValue("name")) <- r.URL.RawQuery
	if code, err := strconv.Atoi(r.URL.Query().Get("close")); err == nil {
		closeWith(c, code)
		return
	}
	for {
		kind, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		if !p.answer(c, kind, data) {
			return
		}
	}
}

type event struct {
	Event string            `json:"event"`
	EID   *uint64           `json:"_EID_"`
	Args  []json.RawMessage `json:"args"`
}

// answer replies to one frame; false ends the connection.
func (p *peer) answer(c *websocket.Conn, kind int, data []byte) bool {
	var ev event
	if kind != websocket.TextMessage || json.Unmarshal(data, &ev) != nil || ev.Event == "" || ev.EID == nil {
		return c.WriteMessage(kind, data) == nil
	}
	eid := *ev.EID
	switch ev.Event {
	case "silent":
		return true
	case "fail":
		arg := ""
		if len(ev.Args) > 0 {
			json.Unmarshal(ev.Args[0], &arg)
		}
		return writeJSON(c, map[string]any{"event": "_err_", "_EID_": eid, "status": 422, "error": "failed: " + arg})
	case "notify":
		for _, n := range ev.Args {
			n = unquoteDigits(n)
			note := `{"event":"note","args":[` + string(n) + `],"_NID_":` + string(n) + `,"_identity":"user:t"}`
			if c.WriteMessage(websocket.TextMessage, []byte(note)) != nil {
				return false
			}
		}
	case "gapnote":
		if len(ev.Args) != 2 {
			return false
		}
		note := `{"event":"note","args":[` + string(ev.Args[0]) + `],"_NID_":` + string(ev.Args[0]) +
			`,"_identity":"user:t","_gap_":` + string(ev.Args[1]) + `}`
		if c.WriteMessage(websocket.TextMessage, []byte(note)) != nil {
			return false
		}
	case "bye":
		var code int
		if len(ev.Args) > 0 {
			json.Unmarshal(ev.Args[0], &code)
		}
		writeJSON(c, map[string]any{"event": "_ack_", "_EID_": eid, "data": true})
		closeWith(c, code)
		return false
	}
	return writeJSON(c, map[string]any{"event": "_ack_", "_EID_": eid, "data": map[string]any{"event": ev.Event, "args": ev.Args}})
}

func writeJSON(c *websocket.Conn, v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only test-owned values are marshalled
	}
	return c.WriteMessage(websocket.TextMessage, b) == nil
}

// closeWith sends a close frame with code and waits (bounded) for the
// browser's close reply, so the browser reports that code.
func closeWith(c *websocket.Conn, code int) {
	c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, "test close "+strconv.Itoa(code)), time.Now().Add(time.Second))
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return
		}
	}
}

// resumeOf returns the decoded _resume parameter of a raw query.
func resumeOf(t *testing.T, rawQuery string) string {
	t.Helper()
	for part := range strings.SplitSeq(rawQuery, "&") {
		if v, ok := strings.CutPrefix(part, "_resume="); ok {
			s, err := url.QueryUnescape(v)
			if err != nil {
				t.Fatalf("bad _resume %q: %v", v, err)
			}
			return s
		}
	}
	return ""
}

// unquoteDigits turns the JSON string "123" into the number 123, so tests
// can send ids above 2^53 that JavaScript numbers cannot hold.
func unquoteDigits(n json.RawMessage) json.RawMessage {
	var s string
	if json.Unmarshal(n, &s) != nil || s == "" || strings.Trim(s, "0123456789") != "" {
		return n
	}
	return json.RawMessage(s)
}
