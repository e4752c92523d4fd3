package cluster_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/plezigo/plezi/cluster"
)

// TestMain fails the package when a test leaves goroutines behind, and
// stops the shared Redis Cluster. Goroutines started before any test
// (package init) are not the tests'; gnet's Register hands connections
// over on its ants pool, whose idle workers linger for seconds after the
// server stopped. Under faultChildEnv the binary is a fault test's child
// node instead.
func TestMain(m *testing.M) {
	if os.Getenv(faultChildEnv) != "" {
		os.Exit(faultChild())
	}
	goleak.VerifyTestMain(run{m}, goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*goWorker).run.func1"))
}

type run struct{ m *testing.M }

func (r run) Run() int {
	defer cluster.StopSharedCluster()
	return r.m.Run()
}
