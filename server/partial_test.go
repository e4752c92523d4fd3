package server_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/plezigo/plezi/internal/wstest"
	"github.com/plezigo/plezi/server"
)

// TestMessageTimeout: a client that sends a large message one byte per
// ping period keeps its connection from going idle, but the message must
// complete within MessageTimeout: the server fails it with 1008, counted,
// and lets its buffer go.
func TestMessageTimeout(t *testing.T) {
	t.Parallel()
	const period = 50 * time.Millisecond
	n := start(t, server.Config{Loops: 1, PingInterval: period, IdleTimeout: time.Minute,
		MessageTimeout: 400 * time.Millisecond, CloseTimeout: time.Minute})
	c := rawDial(t, n, "/peer")
	wire := c.Encode(wstest.Binary(bytes.Repeat([]byte{7}, 4096)))
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { // one byte per ping period, until the server gives up
		defer close(done)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for i := 0; i < len(wire); i++ {
			if _, err := c.Conn().Write(wire[i : i+1]); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	defer func() { close(stop); <-done }()
	for dl := time.Now().Add(wait); ; {
		m, err := c.ReadMessage(time.Until(dl))
		if err != nil {
			t.Fatalf("want close 1008 while the message trickles in: %v", err)
		}
		if m.Op == wstest.OpPing || m.Op == wstest.OpPong {
			continue
		}
		if code, _, err := wstest.ParseClose(m.Payload); m.Op != wstest.OpClose || code != 1008 || err != nil {
			t.Fatalf("got %v, want close 1008", m)
		}
		break
	}
	if err := c.ExpectEOF(promptly); err != nil {
		t.Fatalf("after the close: %v", err)
	}
	if got := n.Stats().MessageTimeouts.Load(); got != 1 {
		t.Fatalf("MessageTimeouts = %d, want 1", got)
	}
	eventually(t, "partial bytes released", func() bool { return n.Stats().PartialBytes.Load() == 0 })
}

// TestPartialBytesCap: connections each holding a large partial message
// (a 100 KiB first fragment, in a 128 KiB buffer) fill the node-wide cap;
// the one that passes it is failed with 1013 and counted, the others go
// on (a ping between fragments is answered), and every byte is given back
// as they close.
func TestPartialBytesCap(t *testing.T) {
	t.Parallel()
	const held = 128 << 10 // the pooled buffer of a 100 KiB fragment (internal/pool: powers of two)
	n := start(t, server.Config{Loops: 1, MaxMessage: 1 << 20, MaxPartialBytes: 4 * held, CloseTimeout: time.Minute})
	st := n.Stats()
	frag := wstest.Frame{Op: wstest.OpBinary, Payload: bytes.Repeat([]byte{1}, 100<<10)}
	var open []*wstest.Client
	for i := 1; i <= 4; i++ {
		c := rawDial(t, n, "/peer")
		if err := c.WriteFrame(frag); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the fragment held", func() bool { return st.PartialBytes.Load() == int64(i*held) })
		open = append(open, c)
	}
	over := rawDial(t, n, "/peer")
	if err := over.WriteFrame(frag); err != nil {
		t.Fatal(err)
	}
	closedByServer(t, over, 1013, true)
	if got := st.PartialOverflows.Load(); got != 1 {
		t.Fatalf("PartialOverflows = %d, want 1", got)
	}
	eventually(t, "the refused fragment released", func() bool { return st.PartialBytes.Load() == 4*held })
	for _, c := range open {
		if err := c.WriteFrame(wstest.Ping([]byte("alive"))); err != nil {
			t.Fatal(err)
		}
		if m, err := c.ReadMessage(wait); err != nil || m.Op != wstest.OpPong {
			t.Fatalf("held connection: %v %v", m, err)
		}
		_ = c.Close()
	}
	eventually(t, "all partial bytes released", func() bool { return st.PartialBytes.Load() == 0 })
}
