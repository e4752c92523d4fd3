package server_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// Staller's "stall" event blocks its worker shard until release closes.
type Staller struct {
	dispatch.Socket
	release chan struct{}
}

func (s *Staller) OnOpen() { _ = s.Emit("id", s.ID()) }
func (s *Staller) Stall()  { <-s.release }

// noKeepAlive leaves no idle connection behind a request.
var noKeepAlive = &http.Transport{DisableKeepAlives: true}

// quickGet is GET url; it fails the test past within.
func quickGet(t *testing.T, url string, within time.Duration) int {
	t.Helper()
	c := http.Client{Timeout: within, Transport: noKeepAlive}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v (within %v)", url, err, within)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestHandlersOffShards: with the node's only worker shard stalled by a
// websocket callback and a slow HTTP handler running, /healthz and
// another handler still answer at once; past MaxHandlers running
// handlers a request is answered 503 and counted.
func TestHandlersOffShards(t *testing.T) {
	t.Parallel()
	release, slow := make(chan struct{}), make(chan struct{})
	s := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet, Loops: 1, Workers: 1, MaxHandlers: 2})
	must := func(err error) { noErr(t, err) }
	must(s.Route("/stall", func() dispatch.Controller { return &Staller{release: release} }, dispatch.ClientEvents("stall")))
	must(s.Handle("/slow", func(*dispatch.Request, []byte) server.Response {
		<-slow
		return server.Response{Body: []byte("slow\n")}
	}))
	must(s.Handle("/fast", func(*dispatch.Request, []byte) server.Response {
		return server.Response{Body: []byte("fast\n")}
	}))
	n := run(t, s)
	base := "http://" + n.Addr()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(slow)
	slowGet := func() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := (&http.Client{Transport: noKeepAlive}).Get(base + "/slow"); err == nil {
				resp.Body.Close()
			}
		}()
	}
	c := dial(t, n, "/stall")
	c.emit(1, "stall")
	defer close(release)
	slowGet()
	eventually(t, "the slow handler running", func() bool { return s.Stats().Handlers.Load() == 1 })
	for range 5 {
		if code := quickGet(t, base+"/healthz", time.Second); code != 200 {
			t.Fatalf("/healthz %d", code)
		}
		if code := quickGet(t, base+"/fast", time.Second); code != 200 {
			t.Fatalf("/fast %d", code)
		}
	}
	slowGet()
	eventually(t, "two slow handlers running", func() bool { return s.Stats().Handlers.Load() == 2 })
	if code := quickGet(t, base+"/fast", time.Second); code != http.StatusServiceUnavailable {
		t.Fatalf("/fast past MaxHandlers: %d, want 503", code)
	}
	if b := s.Stats().HandlersBusy.Load(); b != 1 {
		t.Fatalf("HandlersBusy %d", b)
	}
	if code := quickGet(t, base+"/healthz", time.Second); code != 200 {
		t.Fatalf("/healthz past MaxHandlers: %d", code)
	}
	_ = c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
}
