package dispatch_test

import (
	"testing"

	"github.com/plezigo/plezi/internal/testutil"
)

// TestAPIDoc: go doc of the package lists only what an application (or a
// broker or identity store) calls: nothing of the server's side of a
// connection or a hub; and every exported function and method says which
// goroutines may call it.
func TestAPIDoc(t *testing.T) {
	t.Parallel()
	testutil.APIDoc(t, ".", "Conn", "Socket.Conn", "Hub.Open", "Hub.SetRunner", "Hub.NewController",
		"Hub.Start", "Hub.Stop", "Hub.Go", "Hub.Each", "Hub.ShutdownAll", "Hub.SetCluster", "Hub.Router",
		"Transport", "Loops", "LoopsFunc", "NewHub", "HubConfig", "PreConnect", "Router")
}
