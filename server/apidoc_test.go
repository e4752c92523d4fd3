package server_test

import (
	"testing"

	"github.com/plezigo/plezi/internal/testutil"
)

// TestAPIDoc: go doc of the package lists only what an application calls
// (gnet's callbacks are not the server's methods), and every exported
// function and method says which goroutines may call it.
func TestAPIDoc(t *testing.T) {
	t.Parallel()
	testutil.APIDoc(t, ".", "Server.OnBoot", "Server.OnOpen", "Server.OnTraffic", "Server.OnClose",
		"Server.OnShutdown", "Server.OnTick", "Server.gnet.BuiltinEventEngine")
}
