package bench

import (
	"os"
	"testing"
)

// TestReadProc reads this test process: ReadRSS and ReadProc must agree on
// its resident set within a few pages, and ReadProc sees descriptors and
// CPU time.
func TestReadProc(t *testing.T) {
	pid := os.Getpid()
	p, err := ReadProc(pid)
	if err != nil {
		t.Fatal(err)
	}
	rss, err := ReadRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	if p.FDs < 3 || p.RSS <= 0 || rss <= 0 {
		t.Fatalf("ReadProc %+v, ReadRSS %d", p, rss)
	}
	if d := rss - p.RSS; d > 1<<20 || d < -1<<20 {
		t.Fatalf("statm RSS %d and status VmRSS %d differ by %d", rss, p.RSS, d)
	}
	if _, err := ReadRSS(-1); err == nil {
		t.Fatal("ReadRSS of no process succeeded")
	}
}
