package cluster_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/plezigo/plezi/cluster"
)

// TestMain fails the package when a test leaves goroutines behind, and
// stops the shared Redis Cluster. Goroutines started before any test
// (package init) are not the tests'.
func TestMain(m *testing.M) { goleak.VerifyTestMain(run{m}, goleak.IgnoreCurrent()) }

type run struct{ m *testing.M }

func (r run) Run() int {
	defer cluster.StopSharedCluster()
	return r.m.Run()
}
