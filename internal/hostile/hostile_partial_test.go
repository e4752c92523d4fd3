package hostile

// Partial-message probes: messages begun and never finished hold server
// memory until they end; the node caps what all of them hold together
// (MaxPartialBytes, 64 MiB by default). cmd/plezi has no flag for that cap
// nor for MessageTimeout (30 s), so the probe fills the default cap and
// leaves the timeout to the server's own tests.

import (
	"bytes"
	"testing"

	"github.com/plezigo/plezi/internal/wstest"
)

const (
	partialCap  = 64 << 20 // MaxPartialBytes with the default -max-message (1 MiB)
	partialHeld = 1 << 20  // the pooled buffer a 600 KiB first fragment takes
)

// TestPartialMessagesCap: connections that each send a 600 KiB first
// fragment and nothing more hold 1 MiB each (partial_bytes, rising by that
// much per connection) until 64 of them fill the node-wide cap; the next
// one is failed with 1013 and counted (partial_overflows), the ones
// holding their fragments still answer pings, and partial_bytes returns
// to 0 as they close.
func TestPartialMessagesCap(t *testing.T) {
	t.Parallel()
	p := start(t, "-debug")
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
		if i%16 == 0 { // a few: the connections holding fragments are served
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
