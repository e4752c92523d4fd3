package hostile

// Backpressure probes: clients that send and never read (pipelined HTTP, a
// ping flood) and a room member that floods its room. The process's
// memory stays bounded, the non-reader is paused and then closed, the
// members that read are not cut, and the server's counters say why.

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plezigo/plezi/internal/wstest"
)

// rssSlack is how far a probe lets the process's peak RSS grow over its
// RSS at start: far above what the server's bounds let it hold for one
// connection (MaxInbound 2 MiB, MaxOutbound 4 MiB), far below what the
// attacks would make it hold unbounded (a hundred MiB and more).
const rssSlack = 64 << 20

// TestPipelinedNonReader: a client pipelines 350 KB of GET /plezi.js
// (about 9,000 requests, 170 MiB of responses) and never reads. The
// server stops parsing once its unsent responses pass half the outbound
// cap (read_pauses), so the process's memory stays bounded; more
// requests after that wait unparsed up to MaxInbound, and then the
// connection is closed (inbound_overflows).
func TestPipelinedNonReader(t *testing.T) {
	t.Parallel()
	p := start(t, "-debug")
	base, sockets := p.RSS(), p.Sockets()
	grew := func() bool { return p.PeakRSS()-base > rssSlack }
	conn := dialRcvBuf(t, p, 4096)
	req := []byte("GET /plezi.js HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = conn.SetWriteDeadline(time.Now().Add(ioWait))
	if _, err := conn.Write(bytes.Repeat(req, (350<<10)/len(req))); err != nil {
		t.Fatalf("write 350 KB of requests: %v", err)
	}
	eventually(t, ioWait, "reading paused", func() bool { return p.Stats()["read_pauses"] >= 1 || grew() })
	if grew() {
		t.Fatalf("peak RSS grew by %d MiB over %d MiB at start", (p.PeakRSS()-base)>>20, base>>20)
	}
	more := bytes.Repeat(req, (64<<10)/len(req))
	for sent := 0; sent < 8<<20 && !grew(); sent += len(more) {
		_ = conn.SetWriteDeadline(time.Now().Add(ioWait))
		if _, err := conn.Write(more); err != nil {
			break // closed by the server
		}
	}
	eventually(t, ioWait, "the pipelining connection closed", func() bool {
		return p.Stats()["inbound_overflows"] >= 1 && p.Sockets() == sockets || grew()
	})
	if grew() {
		t.Fatalf("peak RSS grew by %d MiB over %d MiB at start", (p.PeakRSS()-base)>>20, base>>20)
	}
}

// TestPingFloodNonReader: a websocket client sends up to 128 MB of pings
// and never reads its pongs. Pongs count toward the outbound cap and pings
// toward the inbound rates, so the server stops reading it (read_pauses,
// throttled), closes it once its unread input passes MaxInbound
// (inbound_overflows) or its output passes MaxOutbound (slow_consumers),
// and its memory stays bounded.
func TestPingFloodNonReader(t *testing.T) {
	t.Parallel()
	p := start(t, "-debug")
	base, sockets := p.RSS(), p.Sockets()
	grew := func() bool { return p.PeakRSS()-base > rssSlack }
	c := dial(t, p, "/echo", wstest.Options{ReadBuffer: 4096})
	var flood []byte
	for range 1024 {
		flood = append(flood, c.Encode(wstest.Ping(bytes.Repeat([]byte("p"), 125)))...)
	}
	sent := 0
	for ; sent < 128<<20 && !grew(); sent += len(flood) {
		if err := c.WriteRaw(flood); err != nil {
			break // closed by the server
		}
	}
	eventually(t, ioWait, "the ping flood closed", func() bool {
		st := p.Stats()
		return st["inbound_overflows"]+st["slow_consumers"] >= 1 && p.Sockets() == sockets || grew()
	})
	if grew() {
		t.Fatalf("peak RSS grew by %d MiB over %d MiB at start (%d MiB of pings sent)", (p.PeakRSS()-base)>>20, base>>20, sent>>20)
	}
	st := p.Stats()
	if st["read_pauses"]+st["throttled"] == 0 {
		t.Fatalf("reading never paused: %s", counters(st, "read_pauses", "throttled", "inbound_overflows", "slow_consumers"))
	}
	t.Logf("%d MiB of pings sent; %s", sent>>20, counters(st, "read_pauses", "throttled", "inbound_overflows", "slow_consumers"))
}

// counters formats the named counters of st for a message.
func counters(st map[string]int64, names ...string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", n, st[n])
	}
	return b.String()
}

// roomReader is a member of a demo chat room that reads at a fixed pace
// (one of the flood's messages per tick) until it reads the room's "end";
// err is how its reading failed (a close frame included). Its fields are
// read once done is closed.
type roomReader struct {
	c    *wstest.Client
	got  atomic.Int64 // flood messages read
	done chan struct{}
	err  error
}

func (r *roomReader) read(every time.Duration) {
	defer close(r.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		m, err := r.c.ReadMessage(ioWait)
		switch {
		case err != nil:
			r.err = err
			return
		case m.Op == wstest.OpClose:
			code, reason, _ := wstest.ParseClose(m.Payload)
			r.err = fmt.Errorf("closed %d %q", code, reason)
			return
		case m.Op != wstest.OpText:
		case bytes.HasSuffix(m.Payload, []byte(`,"end"]}`)):
			return
		case len(m.Payload) > 64<<10:
			r.got.Add(1)
			<-tick.C
		}
	}
}

// floodRoom sends c's room up to total bytes of 64 KiB say events, flat out,
// and reads (and drops) what the room sends it meanwhile, so that it is
// never a slow consumer itself: only the server's limits on senders can
// keep its room's readers from being flooded. It closes c.
func floodRoom(t testing.TB, c *wstest.Client, total int) {
	t.Helper()
	conn := c.Conn() // written here and read by the drain: a net.Conn may be
	drained := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, conn); close(drained) }()
	msg := c.Encode(wstest.Text(`{"event":"say","args":["` + strings.Repeat("f", 64<<10) + `"]}`))
	for sent := 0; sent < total; sent += len(msg) {
		_ = conn.SetWriteDeadline(time.Now().Add(ioWait))
		if _, err := conn.Write(msg); err != nil {
			break // closed by the server
		}
	}
	c.Close()
	<-drained
}

// TestRoomFlood: on the demo chat, one member sends 64 KiB say events flat
// out (up to 64 MiB, reading what it gets) while four members read at a normal
// pace (one message each 2 ms, 32 MiB/s). The flooder is throttled or held
// and then closed, no reader is cut (4008 before the fix, as the flood
// filled their outbound queues), and every reader gets the flood's
// messages up to then and the room's next message.
func TestRoomFlood(t *testing.T) {
	t.Parallel()
	p := start(t, "-debug")
	const room = "flood"
	readers := make([]*roomReader, 4)
	for i := range readers {
		c, _ := joinWith(t, p, room, fmt.Sprintf("reader%d", i), wstest.Options{ReadBuffer: 128 << 10})
		readers[i] = &roomReader{c: c, done: make(chan struct{})}
	}
	flooder := chat(t, p, room, "flooder")
	for _, r := range readers {
		go r.read(2 * time.Millisecond)
	}
	floodRoom(t, flooder, 64<<20)
	ender := chat(t, p, room, "ender")
	if m := call(t, ender, 1, "say", "end"); m["event"] != "_ack_" {
		t.Fatalf("say end: %v", m)
	}
	for i, r := range readers {
		<-r.done
		if r.err != nil {
			t.Errorf("reader %d: %v after %d flood messages", i, r.err, r.got.Load())
		} else if r.got.Load() == 0 {
			t.Errorf("reader %d got none of the flood", i)
		}
	}
	st := p.Stats()
	if st["slow_consumers"] != 0 {
		t.Errorf("%d slow consumers (the flooder reads, the readers keep up with a throttled flood)", st["slow_consumers"])
	}
	if st["throttled"]+st["held"] == 0 {
		t.Errorf("the flooder was neither throttled nor held: %s", counters(st, "throttled", "held", "read_pauses", "inbound_overflows", "slow_consumers"))
	}
	t.Logf("readers got %d flood messages; %s", readers[0].got.Load(), counters(st, "throttled", "held", "read_pauses", "inbound_overflows", "slow_consumers"))
}
