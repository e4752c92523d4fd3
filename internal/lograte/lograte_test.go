package lograte

import (
	"strconv"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	l := Limiter{Every: time.Hour}
	if log, stack, _ := l.Check("a"); !log || !stack {
		t.Fatal("first occurrence of a: no stack")
	}
	if log, stack, _ := l.Check("b"); !log || !stack {
		t.Fatal("first occurrence of b: no stack")
	}
	if log, stack, n := l.Check("a"); !log || stack || n != 0 {
		t.Fatalf("second a: log %v stack %v skipped %d, want one plain line", log, stack, n)
	}
	for i := 0; i < 5; i++ {
		if log, _, _ := l.Check("a"); log {
			t.Fatal("logged again within Every")
		}
	}
	l.mu.Lock()
	l.last = time.Now().Add(-2 * time.Hour)
	l.mu.Unlock()
	if log, stack, n := l.Check("b"); !log || stack || n != 5 {
		t.Fatalf("after Every: log %v stack %v skipped %d, want a line counting 5", log, stack, n)
	}
}

// TestLimiterBounded: past MaxKeys, new keys get no stack and no memory.
func TestLimiterBounded(t *testing.T) {
	t.Parallel()
	var l Limiter
	for i := 0; i < MaxKeys; i++ {
		if _, stack, _ := l.Check(strconv.Itoa(i)); !stack {
			t.Fatalf("key %d: no stack", i)
		}
	}
	if _, stack, _ := l.Check("one more"); stack || len(l.seen) != MaxKeys {
		t.Fatalf("past MaxKeys: stack %v, %d keys", stack, len(l.seen))
	}
}
