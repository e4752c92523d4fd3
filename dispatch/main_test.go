package dispatch

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind: every
// server a test boots must have returned from Run by then. Goroutines that
// exist before any test runs (gnet's package-level ants pool, started by
// its init) are not the tests' to stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent(),
		// gnet's Register hands connections over on its ants pool, whose
		// idle workers linger for seconds after the server stopped.
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*goWorker).run.func1"))
}
