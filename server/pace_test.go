package server_test

import (
	"testing"
	"time"

	"github.com/plezigo/plezi/server"
)

// TestLoopYieldsWhenBusy: a loop busy without a pause yields to the Go
// scheduler about every 7 ms (so that the runtime's monitor never takes it
// for a runaway goroutine), and not at all on short runs.
func TestLoopYieldsWhenBusy(t *testing.T) {
	s := start(t, server.Config{Loops: 1})
	dial(t, s, "/peer") // binds the loop
	st := s.Stats()

	server.BusyLoop(s.Server, 70*time.Millisecond)
	long := st.LoopYields.Load()
	// 70 ms in 7 ms runs: at most 10. The loop thread may be descheduled,
	// which ends a run early (a gap), never adds yields.
	if long < 3 || long > 10 {
		t.Fatalf("a 70 ms busy run yielded %d times, want 3..10", long)
	}
	// After the loop has waited longer than the bound (not a
	// synchronisation: the pause is what is tested), a short run starts
	// afresh and does not yield.
	time.Sleep(20 * time.Millisecond)
	server.BusyLoop(s.Server, 3*time.Millisecond)
	if n := st.LoopYields.Load() - long; n != 0 {
		t.Fatalf("a 3 ms run after a pause yielded %d times, want 0", n)
	}
}
