package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/server"
)

// TestReadyzBeforeGoingAway: at shutdown /readyz answers 503 at once,
// while the node still serves its websockets and /healthz (liveness)
// still answers 200; the 1001s go out only after DrainDelay.
func TestReadyzBeforeGoingAway(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{DrainDelay: 3 * time.Second})
	c := dial(t, n, "/peer")
	for path, want := range map[string]int{"/readyz": 200, "/healthz": 200} {
		if got, _ := rawStatus(t, n.Addr(), "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); got != want {
			t.Fatalf("%s before shutdown: %d, want %d", path, got, want)
		}
	}
	n.cancel()
	eventually(t, "/readyz 503", func() bool {
		got, _ := rawStatus(t, n.Addr(), "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
		return got == http.StatusServiceUnavailable
	})
	if got, _ := rawStatus(t, n.Addr(), "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); got != 200 {
		t.Fatalf("/healthz while not ready: %d, want 200", got)
	}
	if m := c.ok(1, "add", 2, 3); string(m.Data) != "5" {
		t.Fatalf("ack %s while not ready", m.raw)
	}
	if code, _ := c.closed(); code != websocket.CloseGoingAway {
		t.Fatalf("close %d, want 1001", code)
	}
}
