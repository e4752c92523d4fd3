package dispatch

import (
	"log/slog"
	"testing"

	"github.com/plezigo/plezi/internal/bridge"
)

// For the external tests (package dispatch_test): a hub with no server,
// whose loops run each task at once on the caller's goroutine, and the
// server's calls on its connections.

// NewTestHub makes a hub of loops event loops that runs every loop task
// at once, on the caller's goroutine.
func NewTestHub(loops int, ids Identities, log *slog.Logger) *Hub {
	return newHub(hubConfig{HubConfig: bridge.HubConfig{Loops: loops, Runner: inlineLoops, Logger: log}, Identities: ids})
}

// OpenTest opens a connection of r with ctrl on loop, writing to t, as
// the server does on an upgrade, and runs its OnOpen.
func OpenTest(tb testing.TB, t bridge.Transport, r *Route, ctrl Controller, loop int) *Socket {
	tb.Helper()
	s, err := serverSide{}.Open(ctrl, t, r, nil, loop)
	if err != nil {
		tb.Fatal(err)
	}
	serverSide{}.Opened(s)
	return s
}

// Receive hands s one message, as the server's loop does.
func Receive(s *Socket, data []byte, binary bool) { serverSide{}.Receive(s, data, binary) }

// End tells dispatch that s closed, as the server's loop does.
func End(s *Socket, code int, reason string) { serverSide{}.End(s, code, reason) }

// MatchRoute finds h's route for path, as the server does.
func MatchRoute(h *Hub, path string) (*Route, Params) { return serverSide{}.Match(h, path) }
