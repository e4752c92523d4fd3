package testutil

import (
	"bytes"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Flood is n plain TCP connections to a server, each read in the
// background: Ended counts those the server closed (with or without an
// answer), Busy those that read an "HTTP/1.1 503" first. For tests of
// connection caps and the open-file limit.
type Flood struct {
	Conns       []net.Conn
	Ended, Busy atomic.Int64
	wg          sync.WaitGroup
	once        sync.Once
}

// OpenFlood dials n connections to addr (each within wait) and reads each
// for at most 3 × wait; t's cleanup closes them. Call it from the test's
// goroutine.
func OpenFlood(t testing.TB, addr string, n int, wait time.Duration) *Flood {
	t.Helper()
	f := &Flood{}
	t.Cleanup(f.Close)
	for range n {
		c, err := net.DialTimeout("tcp", addr, wait)
		if err != nil {
			t.Fatalf("dial %d: %v", len(f.Conns), err)
		}
		f.Conns = append(f.Conns, c)
		f.wg.Add(1)
		go f.read(c, 3*wait)
	}
	return f
}

func (f *Flood) read(c net.Conn, d time.Duration) {
	defer f.wg.Done()
	_ = c.SetReadDeadline(time.Now().Add(d))
	b := make([]byte, 256)
	n, err := c.Read(b)
	if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
		return
	}
	f.Ended.Add(1)
	if bytes.HasPrefix(b[:n], []byte("HTTP/1.1 503 ")) {
		f.Busy.Add(1)
	}
}

// Close closes every connection and waits for the readers; once.
func (f *Flood) Close() {
	f.once.Do(func() {
		for _, c := range f.Conns {
			_ = c.Close()
		}
		f.wg.Wait()
	})
}
