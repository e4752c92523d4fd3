package matrix

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs a child node when the binary was started as one
// (envNode); otherwise the tests, failing the package when a test leaves
// goroutines behind, and stops the shared Redis Cluster. gnet's ants
// pool (package init) and its idle workers are not the tests'.
func TestMain(m *testing.M) {
	if os.Getenv(envNode) != "" {
		os.Exit(childMain())
	}
	goleak.VerifyTestMain(run{m}, goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*goWorker).run.func1"))
}

type run struct{ m *testing.M }

func (r run) Run() int {
	defer stopCluster()
	defer httpc.CloseIdleConnections()
	return r.m.Run()
}
