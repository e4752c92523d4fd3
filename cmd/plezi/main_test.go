package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plezigo/plezi/internal/testutil"
)

// TestMain fails the package when any test leaves goroutines behind (every
// server a test boots must be shut down by then).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// gnet's package-level ants pool (created at init, lives for the process).
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
		// Its idle workers (Engine.Register runs on them; they expire after 10 s).
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*goWorker).run.func1"),
	)
}

// bootTimeout bounds start-up and graceful shutdown of a test server.
const bootTimeout = 15 * time.Second

// testPlezi is a server started through run, as the binary would be.
type testPlezi struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
}

// bootPlezi starts run with "-addr 127.0.0.1:0 -quiet -demo" plus args, waits until it
// is ready and registers its shutdown (which must return nil) as cleanup.
func bootPlezi(t testing.TB, args ...string) *testPlezi {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &testPlezi{cancel: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	argv := append([]string{"-addr", "127.0.0.1:0", "-quiet", "-demo"}, args...)
	go func() { s.done <- run(ctx, argv, func(addr string) { ready <- addr }) }()
	select {
	case s.addr = <-ready:
	case err := <-s.done:
		cancel()
		t.Fatalf("run(%q) returned before ready: %v", argv, err)
	case <-time.After(bootTimeout):
		cancel()
		t.Fatalf("run(%q) not ready after %v", argv, bootTimeout)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

// stop cancels the server's context and waits for run to return. It is
// safe to call more than once.
func (s *testPlezi) stop() error {
	s.cancel()
	select {
	case err, ok := <-s.done:
		if !ok {
			return nil
		}
		close(s.done)
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	case <-time.After(bootTimeout):
		return errors.New("run did not return after cancel")
	}
}

// eventually polls cond every few milliseconds until it holds or the
// deadline passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, d, what, cond)
}
