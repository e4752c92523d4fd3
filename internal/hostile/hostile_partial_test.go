package hostile

// Partial-message probes: messages begun and never finished hold server
// memory until they end; the node caps what all of them hold together
// (-max-partial-bytes, 64 MiB by default) and how long one may take to
// arrive (-message-timeout, 30 s by default).

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/plezigo/plezi/internal/wstest"
)

const (
	partialCap  = 8 << 20 // -max-partial-bytes of the probe (its default is 64 MiB)
	partialHeld = 1 << 20 // the pooled buffer a 600 KiB first fragment takes
)

// TestPartialMessagesCap: connections that each send a 600 KiB first
// fragment and nothing more hold 1 MiB each (partial_bytes, rising by that
// much per connection) until 8 of them fill -max-partial-bytes 8 MiB; the next
// one is failed with 1013 and counted (partial_overflows), the ones
// holding their fragments still answer pings, and partial_bytes returns
// to 0 as they close.
func TestPartialMessagesCap(t *testing.T) {
	t.Parallel()
	p := start(t, "-debug", "-max-partial-bytes", strconv.Itoa(partialCap))
	frag := wstest.Frame{Op: wstest.OpBinary, Payload: bytes.Repeat([]byte{1}, 600<<10)}
	held := make([]*wstest.Client, partialCap/partialHeld)
	for i := range held {
		held[i] = dial(t, p, "/echo", wstest.Options{})
		if err := held[i].WriteFrame(frag); err != nil {
			t.Fatal(err)
		}
		want := int64(i+1) * partialHeld
		eventually(t, ioWait, "the fragment held (partial_bytes)", func() bool { return p.Stats()["partial_bytes"] == want })
	}
	over := dial(t, p, "/echo", wstest.Options{})
	if err := over.WriteFrame(frag); err != nil {
		t.Fatal(err)
	}
	closedByServer(t, over, 1013)
	if got := p.Stats()["partial_overflows"]; got != 1 {
		t.Fatalf("partial_overflows %d, want 1", got)
	}
	eventually(t, ioWait, "the refused fragment released", func() bool { return p.Stats()["partial_bytes"] == partialCap })
	for i, c := range held {
		if i%2 == 0 { // a few: the connections holding fragments are served
			if err := c.WriteFrame(wstest.Ping([]byte("alive"))); err != nil {
				t.Fatal(err)
			}
			if m, err := c.ReadMessage(ioWait); err != nil || m.Op != wstest.OpPong {
				t.Fatalf("connection %d holding a fragment: %v, %v; want a pong", i, m, err)
			}
		}
		c.Close()
	}
	eventually(t, ioWait, "every partial byte released", func() bool { return p.Stats()["partial_bytes"] == 0 })
}

// TestMessageTimeout: with -message-timeout 500ms, a client that begins a
// large fragmented message and then trickles the rest one byte every
// 100 ms — traffic, so never idle, and never a whole message — is failed
// with 1008 about the deadline after its first frame, not at the 30 s
// default. It is counted (message_timeouts), its partial bytes are
// released and the node goes on serving.
func TestMessageTimeout(t *testing.T) {
	t.Parallel()
	const deadline = 500 * time.Millisecond
	p := start(t, "-debug", "-message-timeout", deadline.String(), "-ping", "1m", "-idle", "2m")
	c := dial(t, p, "/echo", wstest.Options{})
	rest := c.Encode(wstest.Frame{Fin: true, Op: wstest.OpContinuation, Payload: make([]byte, 512<<10)})
	began := time.Now()
	if err := c.WriteFrame(wstest.Frame{Op: wstest.OpBinary, Payload: bytes.Repeat([]byte{1}, 4<<10)}); err != nil {
		t.Fatal(err)
	}
	stop, trickled := make(chan struct{}), make(chan int, 1)
	go func() { trickled <- trickle(c, rest, 100*time.Millisecond, stop) }()
	code, reason, err := c.ReadClose(ioWait)
	took := time.Since(began)
	close(stop)
	if sent := <-trickled; err != nil || code != 1008 || sent < 3 {
		t.Fatalf("after %v and %d trickled bytes: close %d %q, %v; want close 1008 while the bytes still came", took, sent, code, reason, err)
	}
	t.Logf("close 1008 %v after the first frame", took)
	if took < deadline || took > 10*deadline {
		t.Fatalf("closed %v after the first frame; want about -message-timeout %v", took, deadline)
	}
	if err := c.ExpectEOF(promptly); err != nil {
		t.Fatalf("after the close 1008: %v", err)
	}
	if got := p.Stats()["message_timeouts"]; got != 1 {
		t.Fatalf("message_timeouts %d, want 1", got)
	}
	eventually(t, ioWait, "the partial message released", func() bool { return p.Stats()["partial_bytes"] == 0 })
	echo := dial(t, p, "/echo", wstest.Options{})
	if err := echo.WriteFrame(wstest.Text("still serving")); err != nil {
		t.Fatal(err)
	}
	if m, err := echo.ReadMessage(ioWait); err != nil || string(m.Payload) != "still serving" {
		t.Fatalf("echo after the timeout: %v, %v", m, err)
	}
}

// trickle writes b one byte every pause until a write fails, b is out or
// stop is closed, and returns the bytes it wrote.
func trickle(c *wstest.Client, b []byte, pause time.Duration, stop <-chan struct{}) int {
	tick := time.NewTicker(pause)
	defer tick.Stop()
	for n := range b {
		select {
		case <-stop:
			return n
		case <-tick.C:
		}
		if c.WriteRaw(b[n:n+1]) != nil {
			return n
		}
	}
	return len(b)
}
