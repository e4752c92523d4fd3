package hostile

// Exhaustion probes: memory (inflate bombs) and descriptors (connection
// churn, the open-file limit, -max-conns), read from the process's own
// /proc figures and counters.

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plezigo/plezi/internal/testutil"
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

// TestFDLimit: run under an open-file limit of 256, a flood of 400 plain
// TCP connections leaves the process alive and its websockets echoing;
// connections past the limit are shed (closed at once, most with a 503)
// and counted, the limit is logged once, and once the flood is gone a new
// websocket works.
func TestFDLimit(t *testing.T) {
	t.Parallel()
	const limit, extra = 256, 400
	p := startNofile(t, limit, "-debug", "-handshake-timeout", "1m") // the flood is not timed out meanwhile
	if got := p.OpenFileLimit(); got != limit {
		t.Fatalf("open-file limit %d, want %d", got, limit)
	}
	var open []*wstest.Client
	for range 2 {
		c := dial(t, p, "/echo", wstest.Options{})
		echo(t, c, "before")
		open = append(open, c)
	}
	before := p.Stats()
	f := openFlood(t, p.Addr, extra)
	// Each connection held costs the process an fd: at least extra-limit
	// cannot be held and must be closed, not left in the backlog.
	eventually(t, ioWait, "connections past the limit shed", func() bool { return f.Ended.Load() >= extra-limit })
	if !p.Alive() {
		t.Fatal("plezi died at its open-file limit")
	}
	if f.Busy.Load() == 0 {
		t.Errorf("none of %d shed connections read a 503", f.Ended.Load())
	}
	open = shedAtLimit(t, p, open)
	for _, c := range open {
		echo(t, c, "during")
	}
	f.Close()
	eventually(t, ioWait, "a new websocket after the flood", func() bool {
		c, err := wstest.Dial(p.Addr, "/echo", wstest.Options{Timeout: time.Second})
		if err != nil {
			return false
		}
		defer c.Close()
		echo(t, c, "after")
		return true
	})
	after := p.Stats()
	if shed := after["shed"] - before["shed"]; shed < extra-limit {
		t.Errorf("shed moved by %d (accept_errors by %d), want at least %d", shed, after["accept_errors"]-before["accept_errors"], extra-limit)
	}
	if n := p.Logged("open-file limit reached"); n != 1 {
		t.Errorf("%d log lines about the open-file limit, want 1", n)
	}
}

// shedAtLimit dials websockets until one is refused, which must be quick;
// one that opens (a shed connection freed an fd meanwhile) stays open and
// holds that fd.
func shedAtLimit(t *testing.T, p *proc, open []*wstest.Client) []*wstest.Client {
	t.Helper()
	for range 10 {
		began := time.Now()
		c, err := wstest.Dial(p.Addr, "/echo", wstest.Options{Timeout: ioWait})
		if err == nil {
			t.Cleanup(func() { c.Close() })
			open = append(open, c)
			continue
		}
		if d := time.Since(began); d > ioWait/2 {
			t.Fatalf("a websocket at the open-file limit was refused after %v: %v", d, err)
		}
		return open
	}
	t.Fatal("10 websockets opened at the open-file limit")
	return nil
}

// TestMaxConnsTCP: with -max-conns 5, five idle TCP connections fill the
// node: the sixth reads a 503 with Retry-After at once, an upgrade too is
// refused, and when one of the five closes a websocket gets its place.
func TestMaxConnsTCP(t *testing.T) {
	t.Parallel()
	p := start(t, "-max-conns", "5", "-debug")
	held := make([]net.Conn, 5)
	for i := range held {
		held[i] = dialTCP(t, p)
	}
	// The five count from their accept; a request answered on the last
	// means the acceptor has taken them all (it takes them in order).
	resp, _ := request(t, held[len(held)-1], "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz on a held connection: %d", resp.StatusCode)
	}
	sixth := dialTCP(t, p)
	_ = sixth.SetReadDeadline(time.Now().Add(ioWait))
	resp, err := http.ReadResponse(bufio.NewReader(sixth), nil)
	if err != nil {
		t.Fatalf("the sixth connection: %v, want a 503 without asking", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("the sixth connection: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if c, err := wstest.Dial(p.Addr, "/echo", wstest.Options{Timeout: ioWait}); err == nil {
		c.Close()
		t.Fatal("a websocket opened past -max-conns")
	}
	_ = held[1].Close()
	eventually(t, ioWait, "a websocket in the freed place", func() bool {
		c, err := wstest.Dial(p.Addr, "/echo", wstest.Options{Timeout: time.Second})
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	resp, body := request(t, held[0], "GET /debug/stats HTTP/1.1\r\nHost: x\r\n\r\n") // a new one may be refused
	var st map[string]int64
	if err := json.Unmarshal(body, &st); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /debug/stats: %d %q: %v", resp.StatusCode, body, err)
	}
	if st["refused"] < 2 {
		t.Fatalf("refused %d, want at least 2", st["refused"])
	}
}

// echo sends text on an /echo websocket and expects it back.
func echo(t testing.TB, c *wstest.Client, text string) {
	t.Helper()
	if err := c.WriteFrame(wstest.Text(text)); err != nil {
		t.Fatalf("echo %q: %v", text, err)
	}
	if m, err := c.ReadMessage(ioWait); err != nil || m.Op != wstest.OpText || string(m.Payload) != text {
		t.Fatalf("echo %q: %v, %v", text, m, err)
	}
}

// dialTCP opens a plain TCP connection that the test's cleanup closes.
func dialTCP(t testing.TB, p *proc) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr, ioWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// request writes req on conn (kept alive) and reads the response and its
// body. A response's bytes past its body would be lost: one at a time.
func request(t testing.TB, conn net.Conn, req string) (*http.Response, []byte) {
	t.Helper()
	_ = conn.SetDeadline(time.Now().Add(ioWait))
	defer conn.SetDeadline(time.Time{})
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("response: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("response body: %v", err)
	}
	return resp, body
}

// openFlood dials n plain TCP connections to addr, each read in the
// background (testutil.Flood); the test's cleanup closes them.
func openFlood(t testing.TB, addr string, n int) *testutil.Flood {
	t.Helper()
	return testutil.OpenFlood(t, addr, n, ioWait)
}

// TestMailboxFlood: the demo chat's tell stores a note in the nickname's
// mailbox (user:<nick>) for when it connects again, and any client may
// tell anyone. A flood to one offline nickname keeps the mailbox bounded
// in notes (256: of 300, the newest 256 arrive, the first saying 44 are
// missing) and in bytes (1 MiB: of five 600 KiB notes, the newest
// arrives, saying 4 are missing).
func TestMailboxFlood(t *testing.T) {
	t.Parallel()
	p := start(t)
	ann := chat(t, p, "mail", "ann")
	for _, nick := range []string{"bob", "cy"} { // registered, then offline
		c := chat(t, p, "mail-"+nick, nick)
		if code, _, err := c.CloseHandshake(1000, "", ioWait); err != nil || code != 1000 {
			t.Fatalf("%s close: %d, %v", nick, code, err)
		}
	}
	big := strings.Repeat("m", 600<<10)
	eid := 0
	tell := func(nick, text string) {
		eid++
		if m := call(t, ann, eid, "tell", nick, text); m["event"] != "_ack_" || m["data"] != true {
			t.Fatalf("tell %s note %d: %v", nick, eid, m)
		}
	}
	for i := 1; i <= 300; i++ {
		tell("bob", "n"+strconv.Itoa(i))
	}
	for range 5 {
		tell("cy", big)
	}
	bob := rejoin(t, p, "mail-bob", "bob")
	for n := 45; n <= 300; n++ {
		m := expectNote(t, bob)
		if args, _ := m["args"].([]any); len(args) != 3 || args[2] != "n"+strconv.Itoa(n) {
			t.Fatalf("note %d (want n%d): %v", int(m["_NID_"].(float64)), n, args)
		}
		if gap, has := m["_gap_"]; has != (n == 45) || has && gap != 44.0 {
			t.Fatalf("note n%d: _gap_ %v (only the first says 44 are missing)", n, gap)
		}
	}
	cy := rejoin(t, p, "mail-cy", "cy")
	m := expectNote(t, cy)
	if args, _ := m["args"].([]any); m["_NID_"] != 5.0 || m["_gap_"] != 4.0 || len(args) != 3 || args[2] != big {
		t.Fatalf("cy's first note: _NID_ %v, _gap_ %v, want 5 and 4", m["_NID_"], m["_gap_"])
	}
}

// rejoin is join once nick is free again (its last connection closed).
func rejoin(t testing.TB, p *proc, room, nick string) *wstest.Client {
	t.Helper()
	var c *wstest.Client
	eventually(t, ioWait, nick+"'s nickname to be free", func() bool {
		var err error
		c, err = wstest.Dial(p.Addr, "/chat/"+room+"?nick="+nick, wstest.Options{Timeout: ioWait})
		return err == nil
	})
	t.Cleanup(func() { c.Close() })
	if ev, m := readEvent(t, c); ev != "welcome" {
		t.Fatalf("first event %v, want welcome", m)
	}
	return c
}

// expectNote reads c until a mailbox note (a message with _NID_) arrives.
func expectNote(t testing.TB, c *wstest.Client) map[string]any {
	t.Helper()
	for {
		if _, m := readEvent(t, c); m["_NID_"] != nil {
			return m
		}
	}
}
