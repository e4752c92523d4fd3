package main

// RFC 6455 conformance, ported from the Autobahn|Testsuite case families
// 1-7, 9 and 10 (and 12-13 for RFC 7692 in TestConformanceCompression).
// Case ids follow Autobahn's numbering. The checks are strict: exact close
// codes, exact echoed bytes and order, a clean TCP close by the server, and
// fail-fast on invalid UTF-8 before the rest of a frame arrives.

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/plezigo/plezi/internal/wstest"
)

const (
	confRead     = 20 * time.Second // generous: -race on 2 cores, 16 MiB messages
	confFailFast = time.Second      // Autobahn's wait before sending the rest
	confQuiet    = 250 * time.Millisecond
)

// op shorthands, Autobahn style.
const (
	opCont   = wstest.OpContinuation
	opText   = wstest.OpText
	opBinary = wstest.OpBinary
	opClose  = wstest.OpClose
	opPing   = wstest.OpPing
	opPong   = wstest.OpPong
)

// step is one action or expectation of a case script.
type step func(t *testing.T, c *wstest.Client)

type confCase struct {
	id    string
	steps []step
}

func fr(op wstest.Opcode, fin bool, payload string) wstest.Frame {
	return wstest.Frame{Fin: fin, Op: op, Payload: []byte(payload)}
}

func frRsv(op wstest.Opcode, rsv uint8, payload string) wstest.Frame {
	return wstest.Frame{Fin: true, Op: op, Rsv: rsv, Payload: []byte(payload)}
}

// send writes frames, each in chops of chop bytes (0: whole) with pause
// between chops; all frames go in one write when chop is 0.
func send(chop int, pause time.Duration, fs ...wstest.Frame) step {
	return func(t *testing.T, c *wstest.Client) {
		t.Helper()
		var err error
		if chop == 0 {
			err = c.WriteFrames(fs...)
		}
		for i := 0; chop > 0 && i < len(fs) && err == nil; i++ {
			err = c.WriteFrameChopped(fs[i], chop, pause)
		}
		writeFailed(t, err)
	}
}

// writeFailed logs a failed write and lets the case go on: a server that
// failed the connection early may reset it while the rest is still being
// sent (as with Autobahn, the expectations that follow decide).
func writeFailed(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Logf("write: %v", err)
	}
}

func sendAll(fs ...wstest.Frame) step { return send(0, 0, fs...) }

// sendEach writes each frame with its own write call (Autobahn's sync=True).
func sendEach(fs ...wstest.Frame) step {
	return func(t *testing.T, c *wstest.Client) {
		t.Helper()
		for _, f := range fs {
			if err := c.WriteFrame(f); err != nil {
				writeFailed(t, err)
				return
			}
		}
	}
}

// echo expects the next message to be exactly op with payload.
func echo(op wstest.Opcode, payload []byte) step {
	return func(t *testing.T, c *wstest.Client) {
		t.Helper()
		m, err := c.ReadMessage(confRead)
		if err != nil {
			t.Fatalf("want %v echo of %d bytes: %v", op, len(payload), err)
		}
		if m.Op != op || !bytes.Equal(m.Payload, payload) {
			t.Fatalf("got %v (%d bytes), want %v of %d bytes %.40q", m, len(m.Payload), op, len(payload), payload)
		}
	}
}

func echoText(s string) step { return echo(opText, []byte(s)) }

func pong(payload string) step { return echo(opPong, []byte(payload)) }

// fail expects a close frame with code (nothing before it), answers it and
// requires the server to close the TCP connection (closedByServer).
func fail(code int) step { return failWithin(code, confRead) }

func failWithin(code int, d time.Duration) step {
	return func(t *testing.T, c *wstest.Client) {
		t.Helper()
		got, reason, err := c.ReadClose(d)
		if err != nil || got != code {
			t.Fatalf("want close %d within %v: got %d %q, %v", code, d, got, reason, err)
		}
		_ = c.WriteFrame(wstest.CloseFrame(code, "")) // the server may be gone already
		closedByServer(t, c)
	}
}

// closedByServer requires the server to close TCP after the close
// exchange before Autobahn's client would give up (killAfter(1): after 1 s
// it drops the connection itself, "FAILED BY CLIENT"). The server closes
// at once; it never waits for a close that was already exchanged.
func closedByServer(t *testing.T, c *wstest.Client) {
	t.Helper()
	switch err := c.ExpectEOF(confFailFast); {
	case errors.Is(err, wstest.ErrNotClosed):
		t.Fatalf("server kept TCP open %v after the close exchange: FAILED BY CLIENT", confFailFast)
	case err != nil:
		t.Fatalf("after close: %v", err)
	}
}

// failAny is fail for a case where RFC 6455 leaves the code open (corrupt
// deflate data: "fail the connection" with no code named): one of codes.
func failAny(codes ...int) step {
	return func(t *testing.T, c *wstest.Client) {
		t.Helper()
		code, _, err := c.ReadClose(confRead)
		if err != nil || !slices.Contains(codes, code) {
			t.Fatalf("want close %v: got %d, %v", codes, code, err)
		}
		_ = c.WriteFrame(wstest.CloseFrame(code, ""))
		closedByServer(t, c)
	}
}

// quiet requires nothing to arrive and the connection to stay open for d.
func quiet(d time.Duration) step {
	return func(t *testing.T, c *wstest.Client) {
		t.Helper()
		if err := c.ExpectSilence(d); err != nil {
			t.Fatalf("want silence for %v: %v", d, err)
		}
	}
}

// done performs a normal closing handshake: close 1000 echoed, no other
// message pending, TCP closed by the server.
func done(t *testing.T, c *wstest.Client) {
	t.Helper()
	code, drained, err := c.CloseHandshake(1000, "", confRead)
	if err != nil || code != 1000 || len(drained) > 0 {
		t.Fatalf("normal close: code %d, unexpected %v, err %v", code, drained, err)
	}
}

// serverClose expects the server's answer to our close: exactly one close
// frame with one of codes, then the TCP close by the server (nothing else
// in between), for invalid closes (7.3.2, 7.3.6, 7.5.1, 7.9.x, 7.13.x) as
// for valid ones: either way both closes have been exchanged.
func serverClose(codes ...int) step {
	return func(t *testing.T, c *wstest.Client) {
		t.Helper()
		code, _, err := c.ReadClose(confRead)
		if err != nil {
			t.Fatalf("want close %v: %v", codes, err)
		}
		if !slices.Contains(codes, code) {
			t.Fatalf("close code %d, want one of %v", code, codes)
		}
		closedByServer(t, c)
	}
}

func runCases(t *testing.T, addr string, cases []confCase) {
	t.Helper()
	for _, cc := range cases {
		t.Run(cc.id, func(t *testing.T) {
			t.Parallel()
			c, err := wstest.Dial(addr, "/echo", wstest.Options{})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			for _, s := range cc.steps {
				s(t, c)
			}
		})
	}
}

// TestConformance runs families 1-7 and 10 against a plain server and, to
// prove compression support changes nothing for connections that did not
// negotiate it, against a -compress server.
func TestConformance(t *testing.T) {
	t.Parallel()
	var cases []confCase
	for _, f := range []func() []confCase{
		framingCases, pingCases, reservedBitCases, opcodeCases, fragmentCases,
		utf8Cases, closeCases, autoFragmentCases,
	} {
		cases = append(cases, f()...)
	}
	for _, mode := range []string{"plain", "compress"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			args := []string{"-max-message", "67108864"}
			if mode == "compress" {
				args = append(args, "-compress")
			}
			runCases(t, bootPlezi(t, args...).addr, cases)
		})
	}
}

// TestConformanceLimits runs family 9 (large messages, many frames, many
// chops, many round trips).
func TestConformanceLimits(t *testing.T) {
	t.Parallel()
	runCases(t, bootPlezi(t, "-max-message", "67108864").addr, limitCases())
}

// Family 1: framing, payload lengths around the 7/16/64-bit length forms.
func framingCases() []confCase {
	var cases []confCase
	for i, n := range []int{0, 125, 126, 127, 128, 65535, 65536} {
		txt, bin := strings.Repeat("*", n), bytes.Repeat([]byte{0xfe}, n)
		cases = append(cases,
			confCase{fmt.Sprintf("1.1.%d", i+1), []step{sendAll(fr(opText, true, txt)), echoText(txt), done}},
			confCase{fmt.Sprintf("1.2.%d", i+1), []step{sendAll(wstest.Binary(bin)), echo(opBinary, bin), done}})
	}
	txt, bin := strings.Repeat("*", 65536), bytes.Repeat([]byte{0xfe}, 65536)
	return append(cases,
		confCase{"1.1.8", []step{send(997, 0, fr(opText, true, txt)), echoText(txt), done}},
		confCase{"1.2.8", []step{send(997, 0, wstest.Binary(bin)), echo(opBinary, bin), done}})
}

// Family 2: pings and pongs.
func pingCases() []confCase {
	bin := string([]byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff})
	p125, p126 := strings.Repeat("\xfe", 125), strings.Repeat("\xfe", 126)
	var ten []wstest.Frame
	var tenPongs []step
	for i := range 10 {
		p := fmt.Sprintf("payload-%d", i)
		ten = append(ten, fr(opPing, true, p))
		tenPongs = append(tenPongs, pong(p))
	}
	return []confCase{
		{"2.1", []step{sendAll(fr(opPing, true, "")), pong(""), done}},
		{"2.2", []step{sendAll(fr(opPing, true, "Hello, world!")), pong("Hello, world!"), done}},
		{"2.3", []step{sendAll(fr(opPing, true, bin)), pong(bin), done}},
		{"2.4", []step{sendAll(fr(opPing, true, p125)), pong(p125), done}},
		{"2.5", []step{sendAll(fr(opPing, true, p126)), fail(1002)}},
		{"2.6", []step{send(1, time.Millisecond, fr(opPing, true, p125)), pong(p125), done}},
		{"2.7", []step{sendAll(fr(opPong, true, "")), quiet(confQuiet), done}},
		{"2.8", []step{sendAll(fr(opPong, true, "unsolicited pong payload")), quiet(confQuiet), done}},
		{"2.9", []step{sendAll(fr(opPong, true, "unsolicited pong payload"), fr(opPing, true, "ping payload")), pong("ping payload"), done}},
		{"2.10", append(append([]step{sendAll(ten...)}, tenPongs...), done)},
		{"2.11", append(append([]step{send(1, 0, ten...)}, tenPongs...), done)},
	}
}

// Family 3: reserved bits must fail the connection with 1002, after the
// echo of what came before and without answering what came after.
func reservedBitCases() []confCase {
	const hello = "Hello, world!"
	bytes256 := make([]byte, 256)
	for i := range bytes256 {
		bytes256[i] = byte(i)
	}
	return []confCase{
		{"3.1", []step{sendAll(frRsv(opText, 1, hello)), fail(1002)}},
		{"3.2", []step{sendAll(fr(opText, true, hello), frRsv(opText, 2, hello), fr(opPing, true, "")), echoText(hello), fail(1002)}},
		{"3.3", []step{sendEach(fr(opText, true, hello), frRsv(opText, 3, hello), fr(opPing, true, "")), echoText(hello), fail(1002)}},
		{"3.4", []step{send(1, 0, fr(opText, true, hello), frRsv(opText, 4, hello), fr(opPing, true, "")), echoText(hello), fail(1002)}},
		{"3.5", []step{sendAll(wstest.Frame{Fin: true, Op: opBinary, Rsv: 5, Payload: bytes256}), fail(1002)}},
		{"3.6", []step{sendAll(frRsv(opPing, 6, hello)), fail(1002)}},
		{"3.7", []step{sendAll(wstest.Frame{Fin: true, Op: opClose, Rsv: 7, Payload: wstest.ClosePayload(1000, "")}), fail(1002)}},
	}
}

// Family 4: reserved opcodes (non-control 3-7, control 11-15) fail with 1002.
func opcodeCases() []confCase {
	const hello, rp = "Hello, world!", "reserved opcode payload"
	var cases []confCase
	for g, base := range []wstest.Opcode{3, 11} {
		n := func(i int) string { return fmt.Sprintf("4.%d.%d", g+1, i) }
		cases = append(cases,
			confCase{n(1), []step{sendAll(fr(base, true, "")), fail(1002)}},
			confCase{n(2), []step{sendAll(fr(base+1, true, rp)), fail(1002)}},
			confCase{n(3), []step{sendAll(fr(opText, true, hello), fr(base+2, true, ""), fr(opPing, true, "")), echoText(hello), fail(1002)}},
			confCase{n(4), []step{sendAll(fr(opText, true, hello), fr(base+3, true, rp), fr(opPing, true, "")), echoText(hello), fail(1002)}},
			confCase{n(5), []step{sendAll(fr(opText, true, hello), fr(base+4, true, rp), fr(opPing, true, "")), echoText(hello), fail(1002)}},
		)
	}
	return cases
}

// Family 5: fragmentation, control frames between fragments, continuation
// errors.
func fragmentCases() []confCase {
	f1, f2 := fr(opText, false, "fragment1"), fr(opCont, true, "fragment2")
	ping := fr(opPing, true, "ping payload")
	badCont := []wstest.Frame{fr(opCont, false, "fragment1"), fr(opText, true, "fragment2"), fr(opCont, true, "fragment3")}
	badFin := []wstest.Frame{fr(opCont, true, "fragment1"), fr(opText, false, "fragment2"), fr(opCont, true, "fragment3")}
	frags := []string{"fragment1", "fragment2", "fragment3", "fragment4", "fragment5"}
	p19 := func(chop int) []step {
		return []step{
			send(chop, 0, fr(opText, false, frags[0]), fr(opCont, false, frags[1]), fr(opPing, true, "pongme 1!")),
			pong("pongme 1!"), // answered before the message completes
			quiet(confQuiet),
			send(chop, 0, fr(opCont, false, frags[2]), fr(opCont, false, frags[3]), fr(opPing, true, "pongme 2!"), fr(opCont, true, frags[4])),
			pong("pongme 2!"), echoText(strings.Join(frags, "")), done,
		}
	}
	return []confCase{
		{"5.1", []step{sendAll(fr(opPing, false, "fragment1"), fr(opCont, true, "fragment2")), fail(1002)}},
		{"5.2", []step{sendAll(fr(opPong, false, "fragment1"), fr(opCont, true, "fragment2")), fail(1002)}},
		{"5.3", []step{sendAll(f1, f2), echoText("fragment1fragment2"), done}},
		{"5.4", []step{sendEach(f1, f2), echoText("fragment1fragment2"), done}},
		{"5.5", []step{send(1, time.Millisecond, f1, f2), echoText("fragment1fragment2"), done}},
		{"5.6", []step{sendAll(f1, ping, f2), pong("ping payload"), echoText("fragment1fragment2"), done}},
		{"5.7", []step{sendEach(f1, ping, f2), pong("ping payload"), echoText("fragment1fragment2"), done}},
		{"5.8", []step{send(1, time.Millisecond, f1, ping, f2), pong("ping payload"), echoText("fragment1fragment2"), done}},
		{"5.9", []step{sendAll(badCont...), fail(1002)}},
		{"5.10", []step{sendEach(badCont...), fail(1002)}},
		{"5.11", []step{send(1, 0, badCont...), fail(1002)}},
		{"5.12", []step{sendAll(badFin...), fail(1002)}},
		{"5.13", []step{sendEach(badFin...), fail(1002)}},
		{"5.14", []step{send(1, 0, badFin...), fail(1002)}},
		{"5.15", []step{sendAll(f1, f2, fr(opCont, false, "fragment3"), fr(opText, true, "fragment4")), echoText("fragment1fragment2"), fail(1002)}},
		{"5.16", []step{sendAll(append(badContNoFin(), badContNoFin()...)...), fail(1002)}},
		{"5.17", []step{sendAll(append(badFinFirst(), badFinFirst()...)...), fail(1002)}},
		{"5.18", []step{sendAll(f1, fr(opText, true, "fragment2")), fail(1002)}},
		{"5.19", p19(0)},
		{"5.20", p19(1)},
	}
}

func badContNoFin() []wstest.Frame {
	return []wstest.Frame{fr(opCont, false, "fragment1"), fr(opText, false, "fragment2"), fr(opCont, true, "fragment3")}
}

func badFinFirst() []wstest.Frame {
	return []wstest.Frame{fr(opCont, true, "fragment1"), fr(opText, false, "fragment2"), fr(opCont, true, "fragment3")}
}

// Family 7: close handling.
func closeCases() []confCase {
	const hello = "Hello World!"
	c1000 := wstest.CloseFrame(1000, "")
	big := strings.Repeat("BAsd7&jh23", 256*1024/10+1)[:256*1024]
	cases := []confCase{
		{"7.1.1", []step{sendAll(fr(opText, true, hello)), echoText(hello), done}},
		{"7.1.2", []step{sendAll(c1000, c1000), serverClose(1000)}},
		{"7.1.3", []step{sendAll(c1000, fr(opPing, true, "")), serverClose(1000)}},
		{"7.1.4", []step{sendAll(c1000, fr(opText, true, hello)), serverClose(1000)}},
		{"7.1.5", []step{sendAll(fr(opText, false, "fragment1"), c1000, fr(opCont, true, "fragment2")), serverClose(1000)}},
		{"7.1.6", []step{sendAll(fr(opText, true, big), fr(opText, true, hello), c1000, fr(opPing, true, "")), closeAfterEchoes(big, hello)}},
		{"7.3.1", []step{sendAll(wstest.CloseFrame(0, "")), serverClose(1000, 1005)}},
		{"7.3.2", []step{sendAll(wstest.Frame{Fin: true, Op: opClose, Payload: []byte("a")}), serverClose(1002)}},
		{"7.3.3", []step{sendAll(c1000), serverClose(1000)}},
		{"7.3.4", []step{sendAll(wstest.CloseFrame(1000, "Hello World!")), serverClose(1000)}},
		{"7.3.5", []step{sendAll(wstest.CloseFrame(1000, strings.Repeat("*", 123))), serverClose(1000)}},
		{"7.3.6", []step{sendAll(wstest.CloseFrame(1000, strings.Repeat("*", 124))), serverClose(1002)}},
		{"7.5.1", []step{sendAll(wstest.CloseFrame(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64")), serverClose(1007)}},
		{"7.13.1", []step{sendAll(wstest.CloseFrame(5000, "")), serverClose(1002)}},
		{"7.13.2", []step{sendAll(wstest.CloseFrame(65535, "")), serverClose(1002)}},
	}
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		cases = append(cases, confCase{fmt.Sprintf("7.7.%d", i+1), []step{sendAll(wstest.CloseFrame(code, "")), serverClose(code)}})
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		f := wstest.Frame{Fin: true, Op: opClose, Payload: wstest.ClosePayload(code, "")} // code 0 too
		cases = append(cases, confCase{fmt.Sprintf("7.9.%d", i+1), []step{sendAll(f), serverClose(1002)}})
	}
	return cases
}

// closeAfterEchoes is 7.1.6: messages sent before our close may be echoed
// (in order, whole) or dropped; then exactly one close 1000 and the TCP
// close; the ping after the close is never answered.
func closeAfterEchoes(msgs ...string) step {
	return func(t *testing.T, c *wstest.Client) {
		t.Helper()
		rest := msgs // steps are shared between runs: no state in the closure
		for {
			m, err := c.ReadMessage(confRead)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if m.Op == opClose {
				break
			}
			if len(rest) == 0 || m.Op != opText || string(m.Payload) != rest[0] {
				t.Fatalf("unexpected %v before the close", m)
			}
			rest = rest[1:]
		}
		closedByServer(t, c)
	}
}

// Family 10: a 64 KiB message auto-fragmented into 1300-byte frames.
func autoFragmentCases() []confCase {
	p := strings.Repeat("*", 65536)
	return []confCase{{"10.1.1", []step{sendAll(wstest.Fragments(opText, []byte(p), 1300)...), echoText(p), done}}}
}

// Family 9: limits. Autobahn's 1000 round trips of 9.7/9.8 are cut to 100
// to keep the suite fast under -race; sizes are Autobahn's.
func limitCases() []confCase {
	const ki, mi = 1 << 10, 1 << 20
	var cases []confCase
	add := func(id string, op wstest.Opcode, payload []byte, steps ...step) {
		cases = append(cases, confCase{id, append(steps, echo(op, payload), done)})
	}
	for i, n := range []int{64 * ki, 256 * ki, mi, 4 * mi, 8 * mi, 16 * mi} {
		txt, bin := bytes.Repeat([]byte("*"), n), bytes.Repeat([]byte{0xfe}, n)
		add(fmt.Sprintf("9.1.%d", i+1), opText, txt, sendAll(wstest.Frame{Fin: true, Op: opText, Payload: txt}))
		add(fmt.Sprintf("9.2.%d", i+1), opBinary, bin, sendAll(wstest.Binary(bin)))
	}
	txt4, bin4 := bytes.Repeat([]byte("*"), 4*mi), bytes.Repeat([]byte{0xfe}, 4*mi)
	for i, n := range []int{64, 256, ki, 4 * ki, 16 * ki, 64 * ki, 256 * ki, mi, 4 * mi} {
		add(fmt.Sprintf("9.3.%d", i+1), opText, txt4, sendAll(wstest.Fragments(opText, txt4, n)...))
		add(fmt.Sprintf("9.4.%d", i+1), opBinary, bin4, sendAll(wstest.Fragments(opBinary, bin4, n)...))
	}
	txt1, bin1 := bytes.Repeat([]byte("*"), mi), bytes.Repeat([]byte{0xfe}, mi)
	for i, n := range []int{64, 128, 256, 512, ki, 2 * ki} {
		add(fmt.Sprintf("9.5.%d", i+1), opText, txt1, send(n, 0, wstest.Frame{Fin: true, Op: opText, Payload: txt1}))
		add(fmt.Sprintf("9.6.%d", i+1), opBinary, bin1, send(n, 0, wstest.Binary(bin1)))
	}
	for i, n := range []int{0, 16, 64, 256, ki, 4 * ki} {
		cases = append(cases,
			confCase{fmt.Sprintf("9.7.%d", i+1), []step{roundTrips(opText, bytes.Repeat([]byte("*"), n), 100), done}},
			confCase{fmt.Sprintf("9.8.%d", i+1), []step{roundTrips(opBinary, bytes.Repeat([]byte{0xfe}, n), 100), done}})
	}
	return cases
}

// roundTrips sends a message and waits for its echo, count times.
func roundTrips(op wstest.Opcode, payload []byte, count int) step {
	return func(t *testing.T, c *wstest.Client) {
		t.Helper()
		for range count {
			sendAll(wstest.Frame{Fin: true, Op: op, Payload: payload})(t, c)
			echo(op, payload)(t, c)
		}
	}
}

// Family 6: UTF-8 handling of text messages.
func utf8Cases() []confCase {
	const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	const hello = "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"
	const invalid = kosme + "\xed\xa0\x80" + "edited"
	cases := []confCase{
		{"6.1.1", []step{sendAll(fr(opText, true, "")), echoText(""), done}},
		{"6.1.2", []step{sendAll(fr(opText, false, ""), fr(opCont, false, ""), fr(opCont, true, "")), echoText(""), done}},
		{"6.1.3", []step{sendAll(fr(opText, false, ""), fr(opCont, false, "middle frame payload"), fr(opCont, true, "")), echoText("middle frame payload"), done}},
		{"6.2.1", []step{sendAll(fr(opText, true, hello)), echoText(hello), done}},
		{"6.2.2", []step{sendAll(fr(opText, false, hello[:11]), fr(opCont, true, hello[11:])), echoText(hello), done}},
		{"6.2.3", []step{sendAll(wstest.Fragments(opText, []byte(hello), 1)...), echoText(hello), done}},
		{"6.2.4", []step{sendAll(wstest.Fragments(opText, []byte(kosme), 1)...), echoText(kosme), done}},
		{"6.3.1", []step{sendAll(fr(opText, true, invalid)), fail(1007)}},
		{"6.3.2", []step{sendAll(wstest.Fragments(opText, []byte(invalid), 1)...), fail(1007)}},
	}
	cases = append(cases, failFastCases()...)
	for i, cat := range utf8Vectors() {
		for j, v := range cat.seqs {
			id := fmt.Sprintf("6.%d.%d", i+5, j+1)
			if v.valid {
				cases = append(cases,
					confCase{id, []step{sendAll(fr(opText, true, v.s)), echoText(v.s), done}},
					confCase{id + "/bytewise", []step{sendAll(wstest.Fragments(opText, []byte(v.s), 1)...), echoText(v.s), done}})
				continue
			}
			cases = append(cases,
				confCase{id, []step{sendAll(fr(opText, true, v.s)), fail(1007)}},
				confCase{id + "/bytewise", []step{sendAll(wstest.Fragments(opText, []byte(v.s), 1)...), fail(1007)}})
		}
	}
	return cases
}

// failFastCases are 6.4.x: the server must fail with 1007 as soon as the
// invalid part arrives, without waiting for the rest of the message (frames
// in 6.4.1-2) or of the frame itself (chops of one frame in 6.4.3-4).
func failFastCases() []confCase {
	const p1, p2, p3 = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", "\xf4\x90\x80\x80", "\x65\x64\x69\x74\x65\x64"
	const all = p1 + p2 + p3
	frames := func(a, b, _ string) []step {
		return []step{
			sendAll(fr(opText, false, a)), quiet(confQuiet),
			sendAll(fr(opCont, false, b)), failWithin(1007, confFailFast),
		}
	}
	chops := func(cuts ...int) []step {
		return []step{func(t *testing.T, c *wstest.Client) {
			t.Helper()
			wire := c.Encode(fr(opText, true, all))
			hdr := len(wire) - len(all)
			if err := c.WriteRaw(wire[:hdr+cuts[0]]); err != nil {
				t.Fatal(err)
			}
			quiet(confQuiet)(t, c)
			if err := c.WriteRaw(wire[hdr+cuts[0] : hdr+cuts[1]]); err != nil {
				t.Fatal(err)
			}
			failWithin(1007, confFailFast)(t, c)
		}}
	}
	return []confCase{
		{"6.4.1", frames(p1, p2, p3)},
		{"6.4.2", frames(all[:12], all[12:13], all[13:])},
		{"6.4.3", chops(len(p1), len(p1)+len(p2))},
		{"6.4.4", chops(12, 13)},
	}
}

type utf8Seq struct {
	valid bool
	s     string
}

type utf8Category struct {
	name string
	seqs []utf8Seq
}

// utf8Vectors are Markus Kuhn's UTF-8 decoder stress test categories, as
// Autobahn groups them into cases 6.5-6.23.
func utf8Vectors() []utf8Category {
	const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	v := func(s ...string) []utf8Seq { return seqs(true, s...) }
	x := func(s ...string) []utf8Seq { return seqs(false, s...) }
	var prefixes []utf8Seq
	for i := 1; i <= len(kosme); i++ {
		// prefixes ending inside a code point are invalid messages
		prefixes = append(prefixes, utf8Seq{i == 2 || i == 5 || i == 7 || i == 9 || i == 11, kosme[:i]})
	}
	var run80 string
	for b := 0x80; b < 0xbf; b++ {
		run80 += string([]byte{byte(b)})
	}
	var lonely []utf8Seq
	for _, r := range [][2]int{{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}} {
		var s []byte
		for b := r[0]; b < r[1]; b++ {
			s = append(s, byte(b), 0x20)
		}
		lonely = append(lonely, utf8Seq{false, string(s)})
	}
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	return []utf8Category{
		{"valid", v("hello\x24world", "hello\xc2\xa2world", "hello\xe2\x82\xacworld", "hello\xf0\xa4\xad\xa2world", kosme)},
		{"prefixes", prefixes},
		{"first of length", v("\x00", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80")},
		{"first of length 5/6", x("\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80")},
		{"last of length", v("\x7f", "\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf")},
		{"last of length 4/5/6", x("\xf7\xbf\xbf\xbf", "\xfb\xbf\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf\xbf")},
		{"boundaries", append(v("\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf"), x("\xf4\x90\x80\x80")...)},
		{"continuations", x("\x80", "\xbf", "\x80\xbf", "\x80\xbf\x80", "\x80\xbf\x80\xbf", "\x80\xbf\x80\xbf\x80", "\x80\xbf\x80\xbf\x80\xbf", run80)},
		{"lonely starts", lonely},
		{"last continuation missing", x(missing...)},
		{"concatenated incomplete", x(strings.Join(missing, ""))},
		{"impossible bytes", x("\xfe", "\xff", "\xfe\xfe\xff\xff")},
		{"overlong slash", x("\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xf8\x80\x80\x80\xaf", "\xfc\x80\x80\x80\x80\xaf")},
		{"maximum overlong", x("\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf8\x87\xbf\xbf\xbf", "\xfc\x83\xbf\xbf\xbf\xbf")},
		{"overlong NUL", x("\xc0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xf8\x80\x80\x80\x80", "\xfc\x80\x80\x80\x80\x80")},
		{"single surrogates", x("\xed\xa0\x80", "\xed\xad\xbf", "\xed\xae\x80", "\xed\xaf\xbf", "\xed\xb0\x80", "\xed\xbe\x80", "\xed\xbf\xbf")},
		{"paired surrogates", x("\xed\xa0\x80\xed\xb0\x80", "\xed\xa0\x80\xed\xbf\xbf", "\xed\xad\xbf\xed\xb0\x80", "\xed\xad\xbf\xed\xbf\xbf",
			"\xed\xae\x80\xed\xb0\x80", "\xed\xae\x80\xed\xbf\xbf", "\xed\xaf\xbf\xed\xb0\x80", "\xed\xaf\xbf\xed\xbf\xbf")},
		{"non-characters", nonCharacters()},
		{"specials", v("\xef\xbf\xb9", "\xef\xbf\xba", "\xef\xbf\xbb", "\xef\xbf\xbc", "\xef\xbf\xbd", "\xef\xbf\xbe", "\xef\xbf\xbf")},
	}
}

func seqs(valid bool, ss ...string) []utf8Seq {
	out := make([]utf8Seq, len(ss))
	for i, s := range ss {
		out[i] = utf8Seq{valid, s}
	}
	return out
}

// nonCharacters are U+FFFE, U+FFFF and U+nFFFE/U+nFFFF for planes 1-16:
// valid UTF-8 that a validator must not reject.
func nonCharacters() []utf8Seq {
	out := seqs(true, "\xef\xbf\xbe", "\xef\xbf\xbf")
	for plane := 1; plane <= 16; plane++ {
		for _, low := range []rune{0xfffe, 0xffff} {
			out = append(out, utf8Seq{true, string(rune(plane)<<16 | low)})
		}
	}
	return out
}

func TestUTF8VectorsAgreeWithStdlib(t *testing.T) {
	t.Parallel()
	for _, cat := range utf8Vectors() {
		for _, v := range cat.seqs {
			if utf8.ValidString(v.s) != v.valid {
				t.Errorf("%s: %x marked valid=%v", cat.name, v.s, v.valid)
			}
		}
	}
}

// Families 12 and 13: permessage-deflate (RFC 7692).

// deflateSizes are Autobahn's (message size, auto-fragment size) pairs.
var deflateSizes = [][2]int{
	{16, 0}, {64, 0}, {256, 0}, {1024, 0}, {4096, 0}, {8192, 0}, {16384, 0}, {32768, 0}, {65536, 0}, {131072, 0},
	{8192, 256}, {16384, 256}, {32768, 256}, {65536, 256}, {131072, 256}, {131072, 1024}, {131072, 4096}, {131072, 32768},
}

// offerSizes picks the deflateSizes entries (1-based, Autobahn's case
// numbers) run for each 13.x offer: small and large, whole and fragmented.
var offerSizes = []int{1, 3, 5, 7, 9, 11, 14, 18}

// autobahnOffer is Autobahn's default client offer.
const autobahnOffer = "permessage-deflate; client_no_context_takeover; client_max_window_bits"

// deflateOffers are the 13.x offer variants, plus plain offers where the
// client keeps its context (13.8) or limits its own window (13.9).
var deflateOffers = [][2]string{
	{"13.1", autobahnOffer},
	{"13.2", autobahnOffer + "; server_no_context_takeover"},
	{"13.3", autobahnOffer + "; server_max_window_bits=9"},
	{"13.4", autobahnOffer + "; server_max_window_bits=15"},
	{"13.5", autobahnOffer + "; server_no_context_takeover; server_max_window_bits=9"},
	{"13.6", autobahnOffer + "; server_no_context_takeover; server_max_window_bits=15"},
	{"13.7", autobahnOffer + "; server_no_context_takeover; server_max_window_bits=9, " +
		autobahnOffer + "; server_no_context_takeover, " + autobahnOffer},
	{"13.8", "permessage-deflate"},
	{"13.9", "permessage-deflate; client_max_window_bits=10"},
}

type deflateData struct {
	name string
	op   wstest.Opcode
	data []byte
}

// deflateDataSets stand in for Autobahn's corpora (JSON, a bitmap, a book,
// HTML, a PDF): generated, deterministic, of different compressibility.
func deflateDataSets() []deflateData {
	rng := rand.New(rand.NewPCG(7, 9))
	var js, html, book strings.Builder
	words := []string{"plezi", "socket", "frame", "window", "deflate", "event", "room", "nick", "push", "ack"}
	for js.Len() < 300_000 {
		fmt.Fprintf(&js, `{"id":%d,"event":%q,"args":[%q,%d,%v]},`, rng.IntN(1e6), words[rng.IntN(10)], words[rng.IntN(10)], rng.IntN(1000), rng.IntN(2) == 0)
		fmt.Fprintf(&html, `<div class="%s"><a href="/%s/%d">%s</a></div>`+"\n", words[rng.IntN(10)], words[rng.IntN(10)], rng.IntN(1e4), words[rng.IntN(10)])
		for range 12 {
			book.WriteString(words[rng.IntN(10)] + " ")
		}
		book.WriteString(".\n")
	}
	noise := make([]byte, 300_000)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	bitmap := make([]byte, 300_000)
	for i := range bitmap {
		bitmap[i] = byte(i / 512 % 7 * 30)
	}
	return []deflateData{
		{"json", opText, []byte(js.String())},
		{"bitmap", opBinary, bitmap},
		{"book", opText, []byte(book.String())},
		{"html", opText, []byte(html.String())},
		{"noise", opBinary, noise},
	}
}

// deflateCase sends compressed messages of size bytes taken in turn from
// data, fragmented on the wire into frag-byte frames, and checks each echo.
// It returns how many echoes came back compressed.
func deflateCase(t *testing.T, addr, offer string, d deflateData, size, frag int) int {
	t.Helper()
	c, err := wstest.Dial(addr, "/echo", wstest.Options{Extensions: offer})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if c.Deflate == nil {
		t.Fatalf("offer %q declined: response %q", offer, c.Response.Header.Values("Sec-WebSocket-Extensions"))
	}
	count := min(max(16*1024/size, 1), 8) // Autobahn: 1000
	compressed, pos := 0, 0
	for range count {
		msg := make([]byte, 0, size)
		for len(msg) < size {
			n := min(size-len(msg), len(d.data)-pos)
			msg = append(msg, d.data[pos:pos+n]...)
			pos = (pos + n) % len(d.data)
		}
		if err := c.WriteMessage(d.op, msg, frag, true); err != nil {
			t.Fatalf("write: %v", err)
		}
		m, err := c.ReadMessage(confRead)
		if err != nil {
			t.Fatalf("echo of %d bytes: %v", size, err)
		}
		if m.Op != d.op || !bytes.Equal(m.Payload, msg) {
			t.Fatalf("echo differs: got %v (%d bytes), want %v of %d bytes", m.Op, len(m.Payload), d.op, size)
		}
		if m.Compressed {
			compressed++
		}
	}
	done(t, c)
	return compressed
}

// TestConformanceCompression runs families 12 (data sets × sizes, default
// offer) and 13 (offer variants × sizes) against a -compress server. Every
// offer must be accepted with a valid response; the client's inflater
// enforces server_no_context_takeover and server_max_window_bits on every
// compressed echo. Autobahn's 1000 messages per case are cut to 1-8, and
// 13.x runs 8 of the 18 sizes, to stay fast under -race.
func TestConformanceCompression(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t, "-max-message", "67108864", "-compress").addr
	sets := deflateDataSets()
	var compressed atomic.Int64
	for i, d := range sets {
		for j, s := range deflateSizes {
			t.Run(fmt.Sprintf("12.%d.%d", i+1, j+1), func(t *testing.T) {
				t.Parallel()
				n := deflateCase(t, addr, autobahnOffer, d, s[0], s[1])
				if d.name != "noise" {
					compressed.Add(int64(n))
				}
			})
		}
	}
	for _, o := range deflateOffers {
		for _, j := range offerSizes {
			s := deflateSizes[j-1]
			t.Run(fmt.Sprintf("%s.%d", o[0], j), func(t *testing.T) {
				t.Parallel()
				compressed.Add(int64(deflateCase(t, addr, o[1], sets[0], s[0], s[1])))
			})
		}
	}
	for _, cc := range deflateErrorCases() {
		t.Run(cc.id, func(t *testing.T) {
			t.Parallel()
			c, err := wstest.Dial(addr, "/echo", wstest.Options{Extensions: "permessage-deflate"})
			if err != nil || c.Deflate == nil {
				t.Fatalf("dial: %v (deflate %v)", err, c)
			}
			defer c.Close()
			for _, s := range cc.steps {
				s(t, c)
			}
		})
	}
	t.Cleanup(func() {
		if !t.Failed() && compressed.Load() == 0 {
			t.Errorf("the server negotiated permessage-deflate but never compressed an echo of compressible data")
		}
	})
}

// deflateErrorCases check RSV1 rules and bad compressed data (RFC 7692
// section 6): RSV1 only on the first frame of a data message.
func deflateErrorCases() []confCase {
	zip := func(p string) []byte { // a standalone compressed payload
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, flate.BestCompression)
		_, _ = w.Write([]byte(p))
		_ = w.Flush()
		return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
	}
	hello := zip("Hello, compressed world!")
	return []confCase{
		{"rfc7692/uncompressed-ok", []step{sendAll(fr(opText, true, "plain")), echoText("plain"), done}},
		{"rfc7692/compressed-fragments", []step{sendAll(
			wstest.Frame{Op: opText, Rsv: wstest.Rsv1, Payload: hello[:5]},
			wstest.Frame{Fin: true, Op: opCont, Payload: hello[5:]}), echoText("Hello, compressed world!"), done}},
		{"rfc7692/rsv1-continuation", []step{sendAll(
			wstest.Frame{Op: opText, Rsv: wstest.Rsv1, Payload: hello[:5]},
			wstest.Frame{Fin: true, Op: opCont, Rsv: wstest.Rsv1, Payload: hello[5:]}), fail(1002)}},
		{"rfc7692/rsv1-ping", []step{sendAll(wstest.Frame{Fin: true, Op: opPing, Rsv: wstest.Rsv1, Payload: zip("p")}), fail(1002)}},
		{"rfc7692/rsv2", []step{sendAll(wstest.Frame{Fin: true, Op: opText, Rsv: wstest.Rsv1 | wstest.Rsv2, Payload: hello}), fail(1002)}},
		{"rfc7692/invalid-utf8-inside", []step{sendAll(wstest.Frame{Fin: true, Op: opText, Rsv: wstest.Rsv1, Payload: zip("ok \xed\xa0\x80 not")}), fail(1007)}},
		{"rfc7692/binary-ok", []step{sendAll(wstest.Frame{Fin: true, Op: opBinary, Rsv: wstest.Rsv1, Payload: zip("\xff\xfe")}), echo(opBinary, []byte("\xff\xfe")), done}},
		{"rfc7692/corrupt-deflate", []step{sendAll(wstest.Frame{Fin: true, Op: opBinary, Rsv: wstest.Rsv1, Payload: []byte{0xff, 0xff, 0xff, 0xff}}), failAny(1002, 1007)}},
	}
}
