package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// staticNode serves a temp directory at /files/ and a handler at /hello.
func staticNode(t *testing.T) (*node, string) {
	t.Helper()
	root := t.TempDir()
	pub := filepath.Join(root, "pub")
	must := func(err error) { noErr(t, err) }
	must(os.MkdirAll(filepath.Join(pub, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(pub, "a.css"), []byte("body{}"), 0o644))
	must(os.WriteFile(filepath.Join(pub, "sub", "index.html"), []byte("<p>index</p>"), 0o644))
	must(os.WriteFile(filepath.Join(root, "secret.txt"), []byte("secret"), 0o644))
	must(os.Symlink(filepath.Join(root, "secret.txt"), filepath.Join(pub, "link.txt")))
	s := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet, Loops: 1})
	routes(s)
	must(s.Static("/files", pub))
	must(s.Handle("/hello", func(r *dispatch.Request, body []byte) server.Response {
		return server.Response{Body: []byte("hi " + r.Query("n") + " " + string(body))}
	}))
	return run(t, s), pub
}

func get(t *testing.T, method, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestStaticFiles(t *testing.T) {
	t.Parallel()
	n, pub := staticNode(t)
	base := "http://" + n.Addr()
	resp, body := get(t, "GET", base+"/files/a.css", nil)
	if resp.StatusCode != 200 || body != "body{}" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("GET a.css: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	lm := resp.Header.Get("Last-Modified")
	if lm == "" {
		t.Fatal("no Last-Modified")
	}
	if resp, body := get(t, "HEAD", base+"/files/a.css", nil); resp.StatusCode != 200 || body != "" || resp.ContentLength != 6 {
		t.Fatalf("HEAD: %d %q len %d", resp.StatusCode, body, resp.ContentLength)
	}
	if resp, _ := get(t, "GET", base+"/files/a.css", map[string]string{"If-Modified-Since": lm}); resp.StatusCode != 304 {
		t.Fatalf("If-Modified-Since now: %d, want 304", resp.StatusCode)
	}
	old := time.Now().Add(-48 * time.Hour).UTC().Format(http.TimeFormat)
	_ = os.Chtimes(filepath.Join(pub, "a.css"), time.Now(), time.Now())
	if resp, _ := get(t, "GET", base+"/files/a.css", map[string]string{"If-Modified-Since": old}); resp.StatusCode != 200 {
		t.Fatalf("If-Modified-Since long ago: %d, want 200", resp.StatusCode)
	}
	if resp, body := get(t, "GET", base+"/files/sub/", nil); resp.StatusCode != 200 || body != "<p>index</p>" {
		t.Fatalf("directory index: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get(t, "POST", base+"/files/a.css", nil); resp.StatusCode != 405 || resp.Header.Get("Allow") == "" {
		t.Fatalf("POST: %d allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if resp, _ := get(t, "GET", base+"/files/missing", nil); resp.StatusCode != 404 {
		t.Fatalf("missing: %d", resp.StatusCode)
	}
}

// TestStaticNoEscape sends paths that try to leave the directory over a raw
// socket (a client library would clean them first).
func TestStaticNoEscape(t *testing.T) {
	t.Parallel()
	n, _ := staticNode(t)
	for _, p := range []string{
		"/files/../secret.txt", "/files/%2e%2e/secret.txt", "/files/..%2fsecret.txt",
		"/files/sub/../../secret.txt", "/files/link.txt", "/files//../secret.txt",
	} {
		status, body := rawGet(t, n.Addr(), p)
		if strings.Contains(body, "secret") && !strings.Contains(body, "not found") || status == 200 {
			t.Errorf("%s: %d %q", p, status, body)
		}
	}
}

func rawGet(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(wait))
	_, _ = io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err.Error()
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestHTTPPipelining: two requests in one write get two responses, in
// order, on one keep-alive connection; a body reaches the handler.
func TestHTTPPipelining(t *testing.T) {
	t.Parallel()
	n, _ := staticNode(t)
	c, err := net.Dial("tcp", n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(wait))
	_, _ = io.WriteString(c, "GET /hello?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"+
		"POST /hello?n=2 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"+
		"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	r := bufio.NewReader(c)
	for _, want := range []string{"hi 1 ", "hi 2 body", "ok\n"} {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("reading response for %q: %v", want, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(b) != want {
			t.Fatalf("got %d %q, want %q", resp.StatusCode, b, want)
		}
	}
}

// TestDebugHandlers: /debug/stats answers the live counters and
// /debug/heap the runtime's memory figures, both as JSON.
func TestDebugHandlers(t *testing.T) {
	s := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet, Loops: 1})
	routes(s)
	noErr(t, s.Handle("/debug/stats", s.DebugStats))
	noErr(t, s.Handle("/debug/heap", server.DebugHeap))
	n := run(t, s)
	c := dial(t, n, "/peer")
	c.ok(1, "add", 1, 2)
	stats := func() map[string]int64 {
		resp, body := get(t, "GET", "http://"+n.Addr()+"/debug/stats", nil)
		var m map[string]int64
		if err := json.Unmarshal([]byte(body), &m); err != nil || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("stats %q (%s): %v", body, resp.Header.Get("Content-Type"), err)
		}
		return m
	}
	m := stats()
	if m["upgrades"] != 1 || m["messages_in"] < 1 {
		t.Fatalf("after one connection and one event: %v", m)
	}
	for _, k := range []string{"cluster_envelopes", "cluster_messages", "cluster_round_trips", "delivered"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("no %q in %v", k, m)
		}
	}
	_, body := get(t, "GET", "http://"+n.Addr()+"/debug/heap", nil)
	var h map[string]uint64
	if err := json.Unmarshal([]byte(body), &h); err != nil || h["heap_inuse"] == 0 || h["goroutines"] == 0 {
		t.Fatalf("heap %q: %v", body, err)
	}
}

// TestRoutesFixedOnceRunning: Route, Handle and StaticFS after Run are
// refused with ErrStarted, a second Run fails, and the first keeps
// serving; once Run returned, all of them (Run too) say ErrStopped.
func TestRoutesFixedOnceRunning(t *testing.T) {
	n := start(t, server.Config{})
	late := func() []error {
		return []error{
			n.Route("/late", func() dispatch.Controller { return new(Peer) }),
			n.Handle("/late", server.DebugHeap),
			n.StaticFS("/late", os.DirFS(t.TempDir())),
			n.Run(context.Background()),
		}
	}
	for i, err := range late() {
		if !errors.Is(err, server.ErrStarted) {
			t.Fatalf("call %d while running: %v, want ErrStarted", i, err)
		}
	}
	dial(t, n, "/peer").ok(1, "add", 1, 2)
	if err := n.stop(); err != nil {
		t.Fatal(err)
	}
	for i, err := range late() {
		if !errors.Is(err, server.ErrStopped) {
			t.Fatalf("call %d after Run returned: %v, want ErrStopped", i, err)
		}
	}
}

// TestHandleMistakes: Handle and StaticFS refuse an empty pattern, a nil
// handler or file system and a pattern added before (the server's own
// /healthz included), with ErrBadHandler and no panic.
func TestHandleMistakes(t *testing.T) {
	t.Parallel()
	s := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet})
	noErr(t, s.Handle("/x/*", server.DebugHeap))
	for i, err := range []error{
		s.Handle("", server.DebugHeap),
		s.Handle("/y", nil),
		s.Handle("/healthz", server.DebugHeap),
		s.Handle("/x/*", server.DebugHeap),
		s.StaticFS("/files", nil),
		s.StaticFS("/x", os.DirFS(t.TempDir())),
	} {
		if !errors.Is(err, server.ErrBadHandler) {
			t.Errorf("case %d: %v, want ErrBadHandler", i, err)
		}
	}
	if err := s.Static("/files", filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Static of a missing directory: nil")
	}
	noErr(t, s.Handle("/x/", server.DebugHeap)) // exact and prefix are two patterns
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestProcs: Run leaves one P beyond the event loops (Procs 0), sets the
// number asked for (Procs > 0), or leaves GOMAXPROCS alone (Procs -1),
// and puts the previous value back when it returns.
func TestProcs(t *testing.T) {
	was := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(was)
	for _, tc := range []struct{ loops, procs, want int }{
		{loops: was, procs: 0, want: was + 1},
		{loops: 1, procs: 0, want: max(was, 2)}, // already at least loops+1: left
		{loops: 1, procs: 5, want: 5},
		{loops: 9, procs: -1, want: was},
	} {
		n := start(t, server.Config{Loops: tc.loops, Procs: tc.procs})
		if got := runtime.GOMAXPROCS(0); got != tc.want {
			t.Fatalf("loops %d procs %d: GOMAXPROCS %d, want %d", tc.loops, tc.procs, got, tc.want)
		}
		if err := n.stop(); err != nil {
			t.Fatal(err)
		}
		if got := runtime.GOMAXPROCS(0); got != was {
			t.Fatalf("loops %d procs %d: GOMAXPROCS %d after Run, want %d back", tc.loops, tc.procs, got, was)
		}
	}
}

// TestSlowHandlerKeepsItsConnection: the handshake timeout bounds the
// client's request, not the handler's work; a handler running past it
// still answers on its connection.
func TestSlowHandlerKeepsItsConnection(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	s := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet, Loops: 1, HandshakeTimeout: 200 * time.Millisecond})
	noErr(t, s.Handle("/slow", func(*dispatch.Request, []byte) server.Response {
		<-release
		return server.Response{Body: []byte("done")}
	}))
	n := run(t, s)
	conn, err := net.Dial("tcp", n.Addr())
	noErr(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"))
	noErr(t, err)
	// A connection opened after it that sends nothing is dropped by the
	// timeout: by then a sweep has passed the slow request's deadline too.
	idle, err := net.Dial("tcp", n.Addr())
	noErr(t, err)
	defer idle.Close()
	eventually(t, "the idle connection timed out", func() bool { return s.Stats().HandshakeTimeouts.Load() == 1 })
	close(release)
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	noErr(t, err)
	defer resp.Body.Close()
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(body) != "done" {
		t.Fatalf("got %d %q, want 200 done", resp.StatusCode, body)
	}
}
