package server_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plezigo/plezi/internal/wstest"
	"github.com/plezigo/plezi/server"
)

// promptly bounds how long the server may take to close TCP after the
// close exchange: far below the 1 s after which Autobahn's client gives
// up and drops the connection itself, and far below the CloseTimeout the
// tests configure (a minute), so a server that waits for a timeout fails.
const promptly = 500 * time.Millisecond

// closeNode is a server whose close timeout is long: anything that closes
// quickly does so by design, not by a timer.
func closeNode(t *testing.T) *node {
	t.Helper()
	return start(t, server.Config{CloseTimeout: time.Minute, Loops: 1})
}

// rawDial connects the raw client to a Peer route and reads its welcome.
func rawDial(t *testing.T, n *node, path string) *wstest.Client {
	t.Helper()
	c, err := wstest.Dial(n.Addr(), path, wstest.Options{Timeout: wait})
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if m, err := c.ReadMessage(wait); err != nil || !strings.Contains(string(m.Payload), `"id"`) {
		t.Fatalf("welcome: %v %v", m, err)
	}
	return c
}

// closedByServer requires a close frame with code, then EOF from the
// server within promptly; reply, when set, is written back first (as
// Autobahn does).
func closedByServer(t *testing.T, c *wstest.Client, code int, reply bool) {
	t.Helper()
	got, reason, err := c.ReadClose(wait)
	if err != nil || got != code {
		t.Fatalf("close: got %d %q, %v; want %d", got, reason, err, code)
	}
	if reply {
		_ = c.WriteFrame(wstest.CloseFrame(1000, "")) // the server may be gone already
	}
	switch err := c.ExpectEOF(promptly); {
	case errors.Is(err, wstest.ErrNotClosed):
		t.Fatalf("server kept TCP open %v after the close exchange", promptly)
	case err != nil:
		t.Fatalf("after the close: %v", err)
	}
}

// TestInvalidCloseClosesAtOnce: a close frame the server must reject
// (Autobahn 7.3.2, 7.3.6, 7.5.1, 7.9.x, 7.13.x) is still the peer's close:
// the server answers with its own and closes TCP at once, without a
// second close that never comes.
func TestInvalidCloseClosesAtOnce(t *testing.T) {
	t.Parallel()
	n := closeNode(t)
	cases := map[string]struct {
		payload []byte
		code    int
	}{
		"7.3.2 one byte":         {[]byte("a"), 1002},
		"7.3.6 reason too long":  {wstest.ClosePayload(1000, strings.Repeat("*", 124)), 1002},
		"7.5.1 reason not UTF-8": {wstest.ClosePayload(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"), 1007},
		"7.13.1 code 5000":       {wstest.ClosePayload(5000, ""), 1002},
		"7.13.2 code 65535":      {wstest.ClosePayload(65535, ""), 1002},
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		cases["7.9."+string(rune('1'+i))] = struct {
			payload []byte
			code    int
		}{wstest.ClosePayload(code, ""), 1002}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := rawDial(t, n, "/peer")
			if err := c.WriteFrame(wstest.Frame{Fin: true, Op: wstest.OpClose, Payload: tc.payload}); err != nil {
				t.Fatal(err)
			}
			closedByServer(t, c, tc.code, false)
		})
	}
}

// TestProtocolErrorBytewise: a protocol error found one byte at a time
// (Autobahn 3.4, 4.1.5, 4.2.5, 5.11, 5.14 write one byte per segment) must
// not restart the decoder inside the bad frame: the client reads 1002,
// answers, and gets EOF from the server at once, not after CloseTimeout.
func TestProtocolErrorBytewise(t *testing.T) {
	t.Parallel()
	n := closeNode(t)
	const hello = "Hello, world!"
	fr := func(op wstest.Opcode, fin bool, p string) wstest.Frame {
		return wstest.Frame{Fin: fin, Op: op, Payload: []byte(p)}
	}
	ping := fr(wstest.OpPing, true, "")
	cases := map[string][]wstest.Frame{
		"3.4 rsv 4":   {{Fin: true, Op: wstest.OpText, Rsv: 4, Payload: []byte(hello)}, ping},
		"4.1.5 op 7":  {fr(7, true, "reserved opcode payload"), ping},
		"4.2.5 op 15": {fr(15, true, "reserved opcode payload"), ping},
		"5.11":        {fr(wstest.OpContinuation, false, "fragment1"), fr(wstest.OpText, true, "fragment2"), fr(wstest.OpContinuation, true, "fragment3")},
		"5.14":        {fr(wstest.OpContinuation, true, "fragment1"), fr(wstest.OpText, false, "fragment2"), fr(wstest.OpContinuation, true, "fragment3")},
	}
	for name, frames := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := rawDial(t, n, "/peer")
			for _, f := range frames {
				if err := c.WriteFrameChopped(f, 1, 0); err != nil {
					t.Logf("write: %v", err) // the server may be done with us
					break
				}
			}
			closedByServer(t, c, 1002, true)
			if got := n.Stats().ProtocolErrors.Load(); got == 0 {
				t.Fatal("protocol error not counted")
			}
		})
	}
}

// TestCloseExchange: after the peer's close the server answers and
// closes at once; after its own (idle timeout) it waits for the peer's
// close and then closes at once.
func TestCloseExchange(t *testing.T) {
	t.Parallel()
	n := closeNode(t)
	c := rawDial(t, n, "/peer")
	if err := c.WriteFrame(wstest.CloseFrame(1000, "bye")); err != nil {
		t.Fatal(err)
	}
	closedByServer(t, c, 1000, false)

	idle := start(t, server.Config{CloseTimeout: time.Minute, IdleTimeout: 200 * time.Millisecond, PingInterval: time.Minute, Loops: 1})
	c = rawDial(t, idle, "/peer")
	if code, _, err := c.ReadClose(wait); err != nil || code != 1001 {
		t.Fatalf("idle close: %d %v", code, err)
	}
	if err := c.ExpectSilence(100 * time.Millisecond); err != nil {
		t.Fatalf("before our close: %v", err)
	}
	if err := c.WriteFrame(wstest.CloseFrame(1001, "")); err != nil {
		t.Fatal(err)
	}
	if err := c.ExpectEOF(promptly); err != nil {
		t.Fatalf("after our close: %v", err)
	}
}
