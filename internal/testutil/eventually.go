// Package testutil holds what the tests of several packages share: polling
// with a deadline, the one way a test waits for something it cannot be
// told about (never a bare time.Sleep).
package testutil

import (
	"testing"
	"time"
)

// PollEvery is the pause between two looks at a condition.
const PollEvery = 2 * time.Millisecond

// Eventually polls cond until it holds, failing t (Fatalf, naming what and
// d) when d passes first. Call it from the test's goroutine.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(d, cond) {
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// Poll reports whether cond held within d, looking every PollEvery.
// Concurrency-safe (cond's own rules apply).
func Poll(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(PollEvery)
	}
	return true
}
