package hostile

// Close handshake probes (RFC 6455 §5.5.1, §7): a close frame the server
// must reject is still the peer's close, and a protocol error found one
// byte at a time ends the connection there. Either way the client reads
// the server's close and then its TCP close promptly: far sooner than the
// CloseTimeout (3 s, no flag) a server waiting for a second close, or for
// frames parsed out of the rest of the input, would take.

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plezigo/plezi/internal/wstest"
)

// promptly bounds the time from the server's close frame to its TCP
// close: a sixth of the server's CloseTimeout.
const promptly = 500 * time.Millisecond

// closedByServer requires the next message on c to be a close frame with
// code (no pong or data first: the server parsed nothing after the error)
// and then the server's TCP close within promptly, with nothing after the
// close frame. The client does not answer the close: after a failure the
// server closes TCP once its close frame is sent, without waiting for one.
func closedByServer(t testing.TB, c *wstest.Client, code int) {
	t.Helper()
	got, reason, err := c.ReadClose(ioWait)
	if err != nil || got != code {
		t.Fatalf("got close %d %q, %v; want close %d", got, reason, err, code)
	}
	switch err := c.ExpectEOF(promptly); {
	case errors.Is(err, wstest.ErrNotClosed):
		t.Fatalf("the server kept TCP open %v after its close %d", promptly, code)
	case err != nil:
		t.Fatalf("after the close %d: %v", code, err)
	}
}

// TestInvalidClose: a close frame with a 1-byte payload, a code that must
// not be sent (999, 1004, 1005, 1006, 5000) or a reason that is not UTF-8
// gets close 1002 (1007 for the reason) and the TCP close at once, not
// after waiting for a second close from the client.
func TestInvalidClose(t *testing.T) {
	t.Parallel()
	p := start(t)
	cases := map[string]struct {
		payload []byte
		code    int
	}{
		"one byte":              {[]byte{3}, 1002},
		"reason too long":       {wstest.ClosePayload(1000, strings.Repeat("*", 124)), 1002},
		"reason not UTF-8":      {wstest.ClosePayload(1000, "bad \xed\xa0\x80 reason"), 1007},
		"reason cut mid-rune":   {wstest.ClosePayload(1000, "\xce"), 1007},
		"code 999":              {wstest.ClosePayload(999, ""), 1002},
		"code 1004":             {wstest.ClosePayload(1004, ""), 1002},
		"code 1005":             {wstest.ClosePayload(1005, ""), 1002},
		"code 1006":             {wstest.ClosePayload(1006, ""), 1002},
		"code 5000":             {wstest.ClosePayload(5000, ""), 1002},
		"code 1005 with reason": {wstest.ClosePayload(1005, "none"), 1002},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, p, "/echo", wstest.Options{})
			if err := c.WriteFrame(wstest.Frame{Fin: true, Op: wstest.OpClose, Payload: tc.payload}); err != nil {
				t.Fatal(err)
			}
			closedByServer(t, c, tc.code)
		})
	}
}

// TestProtocolErrorBytewise: a frame with reserved bits, a reserved
// opcode or a continuation with no message to continue, followed by valid
// frames (a ping, a text, a close), all written one byte per write: the
// server fails the connection at the bad frame and parses nothing after
// it (no pong, no echo: its 1002 is the first thing the client reads; the
// trailing close is dropped unparsed too), and its TCP close follows at
// once, unanswered. Each is a counted protocol error.
func TestProtocolErrorBytewise(t *testing.T) {
	t.Parallel()
	p := start(t, "-debug")
	fr := func(op wstest.Opcode, fin bool, s string) wstest.Frame {
		return wstest.Frame{Fin: fin, Op: op, Payload: []byte(s)}
	}
	rest := []wstest.Frame{wstest.Ping([]byte("after")), fr(wstest.OpText, true, "after"), wstest.CloseFrame(1000, "after")}
	cases := map[string][]wstest.Frame{
		"rsv1":                  {{Fin: true, Op: wstest.OpText, Rsv: wstest.Rsv1, Payload: []byte("Hello, world!")}},
		"rsv2 on a ping":        {{Fin: true, Op: wstest.OpPing, Rsv: wstest.Rsv2, Payload: []byte("ping")}},
		"rsv3":                  {{Fin: true, Op: wstest.OpBinary, Rsv: wstest.Rsv3, Payload: []byte("Hello, world!")}},
		"reserved opcode 7":     {fr(7, true, "reserved opcode payload")},
		"reserved opcode 15":    {fr(15, true, "reserved opcode payload")},
		"continuation first":    {fr(wstest.OpContinuation, true, "fragment1")},
		"continuation unfin":    {fr(wstest.OpContinuation, false, "fragment1"), fr(wstest.OpText, true, "fragment2")},
		"text inside a message": {fr(wstest.OpText, false, "fragment1"), fr(wstest.OpText, true, "fragment2")},
	}
	for name, frames := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, p, "/echo", wstest.Options{})
			var wire []byte
			for _, f := range append(frames, rest...) {
				wire = append(wire, c.Encode(f)...)
			}
			_ = c.WriteChopped(wire, 1, 0) // fails once the server is done with us
			closedByServer(t, c, 1002)
		})
	}
	t.Cleanup(func() { // after the subtests
		if got := p.Stats()["protocol_errors"]; got != int64(len(cases)) {
			t.Errorf("protocol_errors %d, want %d", got, len(cases))
		}
	})
}
