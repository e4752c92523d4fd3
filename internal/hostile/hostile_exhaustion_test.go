package hostile

// Exhaustion probes: memory (inflate bombs) and descriptors (connection
// churn), read from the process's own /proc figures.

import (
	"bytes"
	"compress/flate"
	"errors"
	"sync"
	"testing"

	"github.com/plezigo/plezi/internal/wstest"
)

// deflateOffer asks for permessage-deflate as browsers do.
const deflateOffer = "permessage-deflate; client_max_window_bits"

// bomb is a raw DEFLATE stream (no trailing 00 00 ff ff) of 64 MiB of
// "a": about 64 KiB on the wire, well under the 1 MiB message cap. It is
// the first MiB compressed, then 63 copies of the second: that one only
// refers back into the window, and each ends byte-aligned at a sync flush,
// so the copies chain (compressing 64 MiB under -race would take seconds).
var bomb = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	_, _ = w.Write(chunk)
	_ = w.Flush()
	n := b.Len()
	_, _ = w.Write(chunk)
	_ = w.Flush()
	first, next := b.Bytes()[:n], b.Bytes()[n:]
	out := append([]byte(nil), first...)
	for range 63 {
		out = append(out, next...)
	}
	return bytes.TrimSuffix(out, []byte{0, 0, 0xff, 0xff})
})

// TestInflateBomb: with -compress, messages that inflate past the 1 MiB
// cap close with 1009, whole or fragmented, from many connections at once,
// and the process's peak RSS grows by far less than what they would
// inflate to (16 × 64 MiB).
func TestInflateBomb(t *testing.T) {
	t.Parallel()
	p := start(t, "-compress")
	b := bomb()
	base := p.RSS()
	const conns = 16
	var cs []*wstest.Client
	for i := range conns {
		c := dial(t, p, "/echo", wstest.Options{Extensions: deflateOffer})
		if c.Deflate == nil {
			t.Fatal("permessage-deflate not negotiated")
		}
		frames := []wstest.Frame{{Fin: true, Op: wstest.OpBinary, Rsv: wstest.Rsv1, Payload: b}}
		if i%2 == 1 { // fragmented: the cap holds across fragments
			frames = wstest.Fragments(wstest.OpBinary, b, 4<<10)
			frames[0].Rsv = wstest.Rsv1
		}
		if err := c.WriteFrames(frames...); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	for i, c := range cs {
		if err := c.ExpectClose(1009, ioWait); err != nil {
			t.Fatalf("connection %d: %v, want close 1009", i, err)
		}
	}
	if grew := p.PeakRSS() - base; grew > 64<<20 {
		t.Fatalf("peak RSS grew by %d MiB over %d MiB at start", grew>>20, base>>20)
	}
}

// TestChurn: a thousand connections that open and close (half with a
// close handshake, half dropped) leave no socket behind: the process
// holds as many as it did when it started (its listeners).
func TestChurn(t *testing.T) {
	t.Parallel()
	p := start(t, "-debug")
	base := p.Sockets()
	const total, par = 1000, 8
	errs := make(chan error, par)
	for w := range par {
		go func() { errs <- churn(p.Addr, w, total/par) }()
	}
	for range par {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, ioWait, "every connection's socket closed", func() bool { return p.Sockets() == base })
	if st := p.Stats(); st["upgrades"] < total {
		t.Fatalf("%d upgrades, want %d", st["upgrades"], total)
	}
}

// churn opens n connections to /echo one after the other; the odd ones
// close with a handshake, the even ones just drop.
func churn(addr string, w, n int) error {
	for i := range n {
		c, err := wstest.Dial(addr, "/echo", wstest.Options{Timeout: ioWait})
		if err != nil {
			return err
		}
		if (w+i)%2 == 1 {
			if code, _, err := c.CloseHandshake(1000, "", ioWait); err != nil || code != 1000 {
				c.Close()
				return errors.Join(err, errors.New("close handshake did not end with 1000"))
			}
		}
		c.Close()
	}
	return nil
}
