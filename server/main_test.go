package server_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind: every
// server a test boots must have returned from Run by then. Goroutines that
// exist before any test runs (gnet's package-level ants pool, started by
// its init) are not the tests' to stop, nor are that pool's idle workers
// (gnet's Engine.Register runs on them; they expire after 10 s).
// Under fdChildEnv the binary is TestFDLimit's child server instead.
func TestMain(m *testing.M) {
	if os.Getenv(fdChildEnv) != "" {
		os.Exit(fdLimitChild())
	}
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*goWorker).run.func1"))
}
