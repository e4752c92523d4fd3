package cluster_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind.
// Goroutines started before any test (package init) are not the tests'.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent(),
		// gnet's Register hands connections over on its ants pool, whose
		// idle workers linger for seconds after the server stopped.
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*goWorker).run.func1"))
}
