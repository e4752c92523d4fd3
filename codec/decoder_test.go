package codec

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

var deflateOn = &DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}

var (
	rsv1 = ws.Rsv(true, false, false)
	rsv2 = ws.Rsv(false, true, false)
	rsv3 = ws.Rsv(false, false, true)
)

var (
	lorem     = []byte(strings.Repeat("Lorem ipsum dolor sit amet, κόσμε 😀. ", 40))
	text70k   = []byte(strings.Repeat("0123456789abcdef", 70000/16))
	binary300 = bytes.Repeat([]byte{0, 1, 2, 0xff}, 75)
)

var decodeValidCases = []struct {
	name   string
	cfg    decodeConfig
	in     []byte
	events []evCopy
}{
	{
		name:   "text",
		in:     clientFrame(ws.OpText, true, []byte("hello")),
		events: []evCopy{{Kind: KindText, Payload: "hello"}},
	},
	{
		name:   "empty text",
		in:     clientFrame(ws.OpText, true, nil),
		events: []evCopy{{Kind: KindText}},
	},
	{
		name:   "binary 16-bit length",
		in:     clientFrame(ws.OpBinary, true, binary300),
		events: []evCopy{{Kind: KindBinary, Payload: string(binary300)}},
	},
	{
		name:   "text 64-bit length",
		in:     clientFrame(ws.OpText, true, text70k),
		events: []evCopy{{Kind: KindText, Payload: string(text70k)}},
	},
	{
		name: "control frames",
		in: cat(
			clientFrame(ws.OpPing, true, []byte("p")),
			clientFrame(ws.OpPong, true, nil),
			clientFrame(ws.OpPing, true, bytes.Repeat([]byte{'x'}, 125)),
			clientFrame(ws.OpClose, true, closePayload(1000, "bye")),
		),
		events: []evCopy{
			{Kind: KindPing, Payload: "p"},
			{Kind: KindPong},
			{Kind: KindPing, Payload: strings.Repeat("x", 125)},
			{Kind: KindClose, Payload: "\x03\xe8bye", Code: 1000, Reason: "bye"},
		},
	},
	{
		name:   "empty close",
		in:     clientFrame(ws.OpClose, true, nil),
		events: []evCopy{{Kind: KindClose, Code: ws.StatusNoStatusRcvd}},
	},
	{
		name:   "private close code",
		in:     clientFrame(ws.OpClose, true, closePayload(4000, "")),
		events: []evCopy{{Kind: KindClose, Payload: "\x0f\xa0", Code: 4000}},
	},
	{
		name: "fragmented with interleaved pings",
		in: cat(
			clientFrame(ws.OpText, false, []byte("κό")),
			clientFrame(ws.OpPing, true, []byte("1")),
			clientFrame(ws.OpContinuation, false, nil),
			clientFrame(ws.OpContinuation, false, []byte("σμ")),
			clientFrame(ws.OpPong, true, []byte("2")),
			clientFrame(ws.OpContinuation, true, []byte("ε")),
			clientFrame(ws.OpBinary, true, []byte{1, 2}),
		),
		events: []evCopy{
			{Kind: KindPing, Payload: "1"},
			{Kind: KindPong, Payload: "2"},
			{Kind: KindText, Payload: "κόσμε"},
			{Kind: KindBinary, Payload: "\x01\x02"},
		},
	},
	{
		name: "code point split across fragments",
		in: cat(
			clientFrame(ws.OpText, false, []byte("a\xf0\x9f")),
			clientFrame(ws.OpContinuation, false, []byte("\x98")),
			clientFrame(ws.OpContinuation, true, []byte("\x80b")),
		),
		events: []evCopy{{Kind: KindText, Payload: "a😀b"}},
	},
	{
		name: "all empty fragments",
		in: cat(
			clientFrame(ws.OpBinary, false, nil),
			clientFrame(ws.OpContinuation, false, nil),
			clientFrame(ws.OpContinuation, true, nil),
		),
		events: []evCopy{{Kind: KindBinary}},
	},
	{
		name:   "exactly max",
		cfg:    decodeConfig{max: 5},
		in:     cat(clientFrame(ws.OpText, false, []byte("hel")), clientFrame(ws.OpContinuation, true, []byte("lo"))),
		events: []evCopy{{Kind: KindText, Payload: "hello"}},
	},
	{
		name:   "compressed text",
		cfg:    decodeConfig{deflate: deflateOn},
		in:     compressedFrame(ws.OpText, lorem),
		events: []evCopy{{Kind: KindText, Payload: string(lorem)}},
	},
	{
		name: "compressed fragmented with ping, then plain",
		cfg:  decodeConfig{deflate: deflateOn},
		in: func() []byte {
			c := appendDeflate(nil, lorem, false)
			return cat(
				clientFrameRsv(ws.OpBinary, false, rsv1, c[:10]),
				clientFrame(ws.OpPing, true, nil),
				clientFrame(ws.OpContinuation, true, c[10:]),
				clientFrame(ws.OpText, true, []byte("plain")),
			)
		}(),
		events: []evCopy{
			{Kind: KindPing},
			{Kind: KindBinary, Payload: string(lorem)},
			{Kind: KindText, Payload: "plain"},
		},
	},
	{
		name:   "compressed empty",
		cfg:    decodeConfig{deflate: deflateOn},
		in:     clientFrameRsv(ws.OpText, true, rsv1, []byte{0x00}),
		events: []evCopy{{Kind: KindText}},
	},
	{
		name:   "compressed ending with a final block",
		cfg:    decodeConfig{deflate: deflateOn},
		in:     clientFrameRsv(ws.OpText, true, rsv1, referenceClose([]byte("done"))),
		events: []evCopy{{Kind: KindText, Payload: "done"}},
	},
	{
		name:   "incomplete header waits",
		in:     clientFrame(ws.OpText, true, text70k)[:5],
		events: nil,
	},
}

// referenceClose compresses p into a stream ending in a final block.
func referenceClose(p []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	_, _ = w.Write(p)
	_ = w.Close()
	return buf.Bytes()
}

func TestDecodeValid(t *testing.T) {
	t.Parallel()
	for _, tc := range decodeValidCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			whole := decodeChunks(tc.cfg, bytes.Clone(tc.in))
			if whole.err != nil || len(whole.events) != len(tc.events) {
				t.Fatalf("whole: %v, want %v", whole, tc.events)
			}
			for i, e := range tc.events {
				if whole.events[i] != e {
					t.Fatalf(
						"event %d: %v, want %v",
						i, whole.events[i], e,
					)
				}
			}
			checkSplits(t, tc.cfg, tc.in, whole)
		})
	}
}

// checkSplits decodes in split at every position (two chunks) and byte by
// byte; each must give exactly whole.
func checkSplits(t *testing.T, cfg decodeConfig, in []byte, whole decodeResult) {
	t.Helper()
	step := 1
	if len(in) > 4096 {
		step = len(in)/1024 + 1 // keep big inputs quick; still hits headers
	}
	for i := 0; i <= len(in); i += step {
		if got := decodeSplit(cfg, in, i); !got.equal(whole) {
			t.Fatalf(
				"split at %d: %v\nwhole: %v",
				i, got, whole,
			)
		}
	}
	if len(in) <= 4096 {
		if got := decodeBytewise(cfg, in); !got.equal(whole) {
			t.Fatalf(
				"byte-wise: %v\nwhole: %v",
				got, whole,
			)
		}
	}
}

var decodeErrorCases = []struct {
	name string
	cfg  decodeConfig
	in   []byte
	err  error
	code ws.StatusCode
}{
	{name: "unmasked", in: rawFrame(0x81, false, 7, 2, []byte("hi")), err: ErrUnmasked, code: 1002},
	{name: "rsv1 without deflate", in: clientFrameRsv(ws.OpText, true, rsv1, []byte("x")), err: ErrReservedBits, code: 1002},
	{name: "rsv2", cfg: decodeConfig{deflate: deflateOn}, in: clientFrameRsv(ws.OpText, true, rsv2, []byte("x")), err: ErrReservedBits, code: 1002},
	{name: "rsv3", in: clientFrameRsv(ws.OpBinary, true, rsv3, []byte("x")), err: ErrReservedBits, code: 1002},
	{
		name: "rsv1 on continuation",
		cfg:  decodeConfig{deflate: deflateOn},
		in:   cat(clientFrameRsv(ws.OpText, false, rsv1, []byte{0}), clientFrameRsv(ws.OpContinuation, true, rsv1, nil)),
		err:  ErrReservedBits, code: 1002,
	},
	{name: "rsv1 on ping", cfg: decodeConfig{deflate: deflateOn}, in: clientFrameRsv(ws.OpPing, true, rsv1, nil), err: ErrReservedBits, code: 1002},
	{name: "opcode 3", in: rawFrame(0x83, true, 7, 0, nil), err: ErrReservedOpCode, code: 1002},
	{name: "opcode 7", in: rawFrame(0x87, true, 7, 0, nil), err: ErrReservedOpCode, code: 1002},
	{name: "opcode B", in: rawFrame(0x8b, true, 7, 0, nil), err: ErrReservedOpCode, code: 1002},
	{name: "opcode F", in: rawFrame(0x8f, true, 7, 0, nil), err: ErrReservedOpCode, code: 1002},
	{name: "continuation first", in: clientFrame(ws.OpContinuation, true, []byte("x")), err: ErrUnexpectedContinue, code: 1002},
	{
		name: "continuation after a final frame",
		in:   cat(clientFrame(ws.OpText, true, []byte("a")), clientFrame(ws.OpContinuation, true, []byte("b"))),
		err:  ErrUnexpectedContinue, code: 1002,
	},
	{
		name: "text inside fragmented message",
		in:   cat(clientFrame(ws.OpText, false, []byte("a")), clientFrame(ws.OpText, true, []byte("b"))),
		err:  ErrExpectedContinue, code: 1002,
	},
	{
		name: "binary inside fragmented message",
		in:   cat(clientFrame(ws.OpBinary, false, []byte("a")), clientFrame(ws.OpBinary, false, []byte("b"))),
		err:  ErrExpectedContinue, code: 1002,
	},
	{name: "fragmented ping", in: clientFrame(ws.OpPing, false, nil), err: ErrControlFragmented, code: 1002},
	{name: "fragmented close", in: clientFrame(ws.OpClose, false, nil), err: ErrControlFragmented, code: 1002},
	{name: "ping of 126 bytes", in: clientFrame(ws.OpPing, true, make([]byte, 126)), err: ErrControlTooLong, code: 1002},
	{name: "pong with 64-bit length", in: rawFrame(0x8a, true, 64, 1, []byte{1}), err: ErrControlTooLong, code: 1002},
	{name: "close of one byte", in: clientFrame(ws.OpClose, true, []byte{3}), err: ErrCloseLength, code: 1002},
	{name: "close 1005", in: clientFrame(ws.OpClose, true, closePayload(1005, "")), err: ErrCloseCode, code: 1002},
	{name: "close 1006", in: clientFrame(ws.OpClose, true, closePayload(1006, "")), err: ErrCloseCode, code: 1002},
	{name: "close 999", in: clientFrame(ws.OpClose, true, closePayload(999, "")), err: ErrCloseCode, code: 1002},
	{name: "close 1016", in: clientFrame(ws.OpClose, true, closePayload(1016, "")), err: ErrCloseCode, code: 1002},
	{name: "close 5000", in: clientFrame(ws.OpClose, true, closePayload(5000, "")), err: ErrCloseCode, code: 1002},
	{name: "close reason not UTF-8", in: clientFrame(ws.OpClose, true, closePayload(1000, "\xff")), err: ErrInvalidUTF8, code: 1007},
	{name: "length top bit", in: rawFrame(0x82, true, 64, 1<<63, nil), err: ErrLengthOverflow, code: 1002},
	{name: "text not UTF-8", in: clientFrame(ws.OpText, true, []byte("ok \xed\xa0\x80")), err: ErrInvalidUTF8, code: 1007},
	{name: "text ends mid code point", in: clientFrame(ws.OpText, true, []byte("ok \xe2\x82")), err: ErrInvalidUTF8, code: 1007},
	{
		name: "fragments end mid code point",
		in:   cat(clientFrame(ws.OpText, false, []byte("a\xe2")), clientFrame(ws.OpContinuation, true, []byte("\x82"))),
		err:  ErrInvalidUTF8, code: 1007,
	},
	{
		name: "bad byte in a later fragment",
		in:   cat(clientFrame(ws.OpText, false, []byte("a\xe2\x82")), clientFrame(ws.OpContinuation, true, []byte("("))),
		err:  ErrInvalidUTF8, code: 1007,
	},
	{name: "too big declared", cfg: decodeConfig{max: 4}, in: clientFrame(ws.OpBinary, true, []byte("12345")), err: ErrMessageTooBig, code: 1009},
	{name: "too big declared, header only", cfg: decodeConfig{max: 1000}, in: rawFrame(0x82, true, 64, 1<<40, nil), err: ErrMessageTooBig, code: 1009},
	{name: "too big default", in: rawFrame(0x82, true, 64, DefaultMaxMessage+1, nil), err: ErrMessageTooBig, code: 1009},
	{
		name: "too big accumulated",
		cfg:  decodeConfig{max: 5},
		in:   cat(clientFrame(ws.OpText, false, []byte("abc")), clientFrame(ws.OpContinuation, true, []byte("def"))),
		err:  ErrMessageTooBig, code: 1009,
	},
	{
		name: "too big after inflate",
		cfg:  decodeConfig{max: 100, deflate: deflateOn},
		in:   compressedFrame(ws.OpBinary, make([]byte, 101)),
		err:  ErrMessageTooBig, code: 1009,
	},
	{name: "not deflate data", cfg: decodeConfig{deflate: deflateOn}, in: clientFrameRsv(ws.OpBinary, true, rsv1, []byte{0xff, 0xff, 0xff}), err: ErrInflate, code: 1007},
	{name: "compressed text not UTF-8", cfg: decodeConfig{deflate: deflateOn}, in: compressedFrame(ws.OpText, []byte("bad \xff text")), err: ErrInvalidUTF8, code: 1007},
	{
		name: "error after good events",
		in:   cat(clientFrame(ws.OpPing, true, nil), clientFrame(ws.OpText, true, []byte("x")), rawFrame(0x81, false, 7, 0, nil)),
		err:  ErrUnmasked, code: 1002,
	},
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range decodeErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			whole := decodeChunks(tc.cfg, bytes.Clone(tc.in))
			if whole.err != tc.err {
				t.Fatalf(
					"err = %v, want %v",
					whole.err, tc.err,
				)
			}
			if got := CloseCodeOf(whole.err); got != tc.code {
				t.Fatalf(
					"CloseCodeOf = %d, want %d",
					got, tc.code,
				)
			}
			checkSplits(t, tc.cfg, tc.in, whole)
		})
	}
}

func TestCloseCodeOf(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		code ws.StatusCode
	}{
		{err: nil, code: 1000},
		{err: ErrUnmasked, code: 1002},
		{err: ProtocolError("codec: anything"), code: 1002},
		{err: ErrInvalidUTF8, code: 1007},
		{err: ErrInflate, code: 1007},
		{err: ErrMessageTooBig, code: 1009},
		{err: errors.New("other"), code: 1011},
		{err: errors.Join(errors.New("wrapped"), ErrMessageTooBig), code: 1009},
		{err: errors.Join(errors.New("wrapped"), ErrControlTooLong), code: 1002},
		{err: errors.Join(errors.New("wrapped"), ErrInflate), code: 1007},
	}
	for _, tc := range cases {
		if got := CloseCodeOf(tc.err); got != tc.code {
			t.Errorf(
				"CloseCodeOf(%v) = %d, want %d",
				tc.err, got, tc.code,
			)
		}
	}
}

// TestDecodeZeroCopy: a whole single-frame message is returned in place.
func TestDecodeZeroCopy(t *testing.T) {
	t.Parallel()
	in := clientFrame(ws.OpBinary, true, binary300)
	var d Decoder
	ev, n, err := d.Next(in)
	if err != nil || n != len(in) || ev.Kind != KindBinary {
		t.Fatalf("Next = %v %d %v", ev.Kind, n, err)
	}
	if &ev.Payload[0] != &in[4+4] || !bytes.Equal(ev.Payload, binary300) {
		t.Fatal("payload was copied or is wrong")
	}
	if d.st != nil {
		t.Fatal("the zero-copy path took a buffer or state")
	}
}

// TestUTF8FailFast: invalid UTF-8 in a frame that has not fully arrived
// fails as soon as the bad byte is there.
func TestUTF8FailFast(t *testing.T) {
	t.Parallel()
	payload := append([]byte(strings.Repeat("valid κόσμε ", 100)), 0xff)
	payload = append(payload, make([]byte, 5000)...)
	in := clientFrame(ws.OpText, true, payload)
	bad := len(in) - 5000 // one past the 0xff
	var d Decoder
	defer d.Release()
	pending := bytes.Clone(in[:bad-1])
	ev, n, err := d.Next(pending)
	if err != nil || ev.Kind != KindNone || n != len(pending) {
		t.Fatalf(
			"valid prefix: %v %d %v",
			ev.Kind, n, err,
		)
	}
	if _, _, err = d.Next(bytes.Clone(in[bad-1 : bad])); err != ErrInvalidUTF8 {
		t.Fatalf("bad byte: err = %v", err)
	}
}

// TestDecodeTooBigEarly: the limit applies before any payload arrives.
func TestDecodeTooBigEarly(t *testing.T) {
	t.Parallel()
	d := Decoder{MaxMessage: 1 << 10}
	hdr := rawFrame(0x82, true, 16, 2000, nil)
	if _, _, err := d.Next(hdr); err != ErrMessageTooBig {
		t.Fatalf("err = %v", err)
	}
}

// TestDecodeLarge: 16 MiB messages, single-frame and fragmented, arriving
// in 64 KiB reads, and a 16 MiB + 1 message refused.
func TestDecodeLarge(t *testing.T) {
	t.Parallel()
	const size = 16 << 20
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	single := clientFrame(ws.OpText, true, payload)
	var frag []byte
	for off := 0; off < size; off += 1 << 20 {
		op := ws.OpContinuation
		if off == 0 {
			op = ws.OpText
		}
		frag = append(frag, clientFrame(op, off+1<<20 >= size, payload[off:off+1<<20])...)
	}
	cfg := decodeConfig{max: size}
	for name, in := range map[string][]byte{"single": single, "fragmented": frag} {
		res := decodeChunks(cfg, chunk(in, 64<<10)...)
		if res.err != nil || len(res.events) != 1 || res.events[0].Payload != string(payload) {
			t.Fatalf("%s: err %v, %d events", name, res.err, len(res.events))
		}
	}
	res := decodeChunks(decodeConfig{max: size - 1}, chunk(single, 64<<10)...)
	if res.err != ErrMessageTooBig {
		t.Fatalf("over the limit: %v", res.err)
	}
}

func chunk(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		k := min(n, len(b))
		out = append(out, bytes.Clone(b[:k]))
		b = b[k:]
	}
	return out
}

// TestDecodeGobwasWriter decodes what gobwas/ws's client-side writer sends:
// messages fragmented by its buffer, and single frames.
func TestDecodeGobwasWriter(t *testing.T) {
	t.Parallel()
	var stream bytes.Buffer
	w := wsutil.NewWriterSize(&stream, ws.StateClientSide, ws.OpText, 512)
	msgs := [][]byte{lorem, []byte("short"), text70k, nil}
	for _, m := range msgs {
		if _, err := w.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := wsutil.WriteClientBinary(&stream, binary300); err != nil {
		t.Fatal(err)
	}
	if err := wsutil.WriteClientMessage(&stream, ws.OpPing, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	want := make([]evCopy, 0, len(msgs)+2)
	for _, m := range msgs {
		want = append(want, evCopy{Kind: KindText, Payload: string(m)})
	}
	want = append(want, evCopy{Kind: KindBinary, Payload: string(binary300)}, evCopy{Kind: KindPing, Payload: "ping"})
	for _, size := range []int{1, 7, 100, 4096, stream.Len()} {
		res := decodeChunks(decodeConfig{}, chunk(stream.Bytes(), size)...)
		if res.err != nil || len(res.events) != len(want) {
			t.Fatalf("reads of %d: %v", size, res)
		}
		for i := range want {
			if res.events[i] != want[i] {
				t.Fatalf("reads of %d, event %d: %v", size, i, res.events[i])
			}
		}
	}
}

// contextStream compresses msgs as one client with context takeover does:
// one compressor for all, sync-flushed after each message.
func contextStream(msgs [][]byte) []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	var out []byte
	for _, m := range msgs {
		buf.Reset()
		_, _ = fw.Write(m)
		_ = fw.Flush()
		out = append(out, clientFrameRsv(ws.OpText, true, rsv1, trimDeflateTail(buf.Bytes()))...)
	}
	return out
}

func TestDecodeContextTakeover(t *testing.T) {
	t.Parallel()
	msgs := [][]byte{lorem, lorem, []byte("x"), text70k, text70k[:1000], lorem}
	in := contextStream(msgs)
	keep := decodeConfig{deflate: &DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}}
	res := decodeChunks(keep, bytes.Clone(in))
	if res.err != nil || len(res.events) != len(msgs) {
		t.Fatalf("with context: %v", res)
	}
	for i, m := range msgs {
		if res.events[i].Payload != string(m) {
			t.Fatalf("message %d differs", i)
		}
	}
	checkSplits(t, keep, in, res)
	// The second message refers back into the first: a decoder that was
	// told the client resets its context cannot read it.
	reset := decodeConfig{deflate: &DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}}
	if res = decodeChunks(reset, bytes.Clone(in)); res.err != ErrInflate || len(res.events) != 1 {
		t.Fatalf("without context: %v", res)
	}
}

// TestDecoderRelease: buffers go back and the Decoder is reusable.
func TestDecoderRelease(t *testing.T) {
	t.Parallel()
	d := Decoder{}
	d.EnableDeflate(*deflateOn)
	half := clientFrame(ws.OpText, false, []byte("abc"))
	if _, _, err := d.Next(bytes.Clone(half)); err != nil {
		t.Fatal(err)
	}
	if d.st == nil || d.st.msg == nil || d.st.op == 0 {
		t.Fatal("no message in progress")
	}
	d.Release()
	if d.st == nil || d.st.msg != nil || d.st.op != 0 || d.st.flags != 0 || d.flags != flagDeflate {
		t.Fatalf("Release left state: %+v", d)
	}
	ev, _, err := d.Next(clientFrame(ws.OpText, true, []byte("new")))
	if err != nil || string(ev.Payload) != "new" {
		t.Fatalf("after Release: %v %v", ev, err)
	}
}

// TestDecoderIdleSize keeps the per-connection footprint honest: three
// words, and no state held by an idle Decoder once a message split over
// frames and reads has been delivered and the next Next has run.
func TestDecoderIdleSize(t *testing.T) {
	t.Parallel()
	if s := decoderSize(); s > 24 {
		t.Fatalf("Decoder is %d bytes", s)
	}
	var d Decoder
	first := clientFrame(ws.OpText, false, []byte("hello, "))
	last := clientFrame(ws.OpContinuation, true, []byte("world"))
	if _, n, err := d.Next(bytes.Clone(first)); err != nil || n != len(first) || d.st == nil {
		t.Fatalf("first fragment: n=%d err=%v state=%v", n, err, d.st != nil)
	}
	in := bytes.Clone(last)
	if _, n, err := d.Next(in[:8]); err != nil || n != 8 || !d.InMessage() { // the header and 2 payload bytes
		t.Fatalf("part of the last frame: n=%d err=%v in message %v", n, err, d.InMessage())
	}
	ev, _, err := d.Next(in[8:])
	if err != nil || ev.Kind != KindText || string(ev.Payload) != "hello, world" {
		t.Fatalf("message = %v %q %v", ev.Kind, ev.Payload, err)
	}
	if d.st == nil || d.PartialBytes() != 0 {
		t.Fatal("the held event lost its buffer, or it counts as partial")
	}
	if _, _, err := d.Next(nil); err != nil || d.st != nil {
		t.Fatalf("idle again: err=%v, state kept %v", err, d.st != nil)
	}
}

func FuzzDecoder(f *testing.F) {
	for _, tc := range decodeValidCases {
		if len(tc.in) < 4096 {
			f.Add(tc.in, tc.cfg.deflate != nil, uint16(tc.cfg.max))
		}
	}
	for _, tc := range decodeErrorCases {
		if len(tc.in) < 4096 {
			f.Add(tc.in, tc.cfg.deflate != nil, uint16(tc.cfg.max))
		}
	}
	f.Add(contextStream([][]byte{[]byte("hello hello"), []byte("hello again")}), true, uint16(0))
	f.Fuzz(func(t *testing.T, in []byte, deflate bool, max uint16) {
		// Keep inflate bombs cheap: every input is decoded once per split.
		cfg := decodeConfig{max: int64(max)}
		if max == 0 {
			cfg.max = 64 << 10
		}
		if deflate {
			cfg.deflate = deflateOn
		}
		whole := decodeChunks(cfg, bytes.Clone(in))
		if whole.err != nil {
			if c := CloseCodeOf(whole.err); c != 1002 && c != 1007 && c != 1009 {
				t.Fatalf("error %v maps to %d", whole.err, c)
			}
		}
		for _, e := range whole.events {
			if e.Kind == KindText && !ValidUTF8([]byte(e.Payload)) {
				t.Fatal("text event with invalid UTF-8")
			}
		}
		checkSplits(t, cfg, in, whole)
		checkStaysFailed(t, cfg, in)
	})
}

// afterError decodes in as chunks (split at i); from the first error on
// it feeds every remaining byte, then a valid close frame and a valid text
// frame, one Next at a time, and reports what the Decoder did with them:
// nil when it failed for good (everything consumed, ErrFailed, no event,
// no buffer held), and nil too when in has no error.
func afterError(cfg decodeConfig, in []byte, i int) error {
	d := cfg.decoder()
	defer d.Release()
	chunks := [][]byte{bytes.Clone(in[:i]), bytes.Clone(in[i:]),
		clientFrame(ws.OpClose, true, closePayload(1000, "")), clientFrame(ws.OpText, true, []byte("x"))}
	var pending []byte
	failed := false
	for _, c := range chunks {
		pending = append(pending, c...)
		for len(pending) > 0 {
			ev, n, err := d.Next(pending)
			switch {
			case failed && (err != ErrFailed || ev.Kind != KindNone || n != len(pending) || d.PartialBytes() != 0):
				return fmt.Errorf("after the error: %v, n %d of %d, err %v, holding %d", ev.Kind, n, len(pending), err, d.PartialBytes())
			case failed:
				pending = pending[:0]
				continue
			case err != nil:
				failed = true
				if !d.Failed() || d.PartialBytes() != 0 {
					return fmt.Errorf("error %v left Failed %v, holding %d", err, d.Failed(), d.PartialBytes())
				}
				continue // the same bytes again: now they must be consumed unparsed
			}
			pending = pending[n:]
			if ev.Kind == KindNone && n == 0 {
				break
			}
		}
	}
	if failed {
		d.Release()
		if _, n, err := d.Next([]byte{0x81}); !d.Failed() || err != ErrFailed || n != 1 {
			return fmt.Errorf("Release restarted a failed Decoder: n %d, err %v", n, err)
		}
	}
	return nil
}

// checkStaysFailed runs afterError whole and split at every point.
func checkStaysFailed(t *testing.T, cfg decodeConfig, in []byte) {
	t.Helper()
	step := 1
	if len(in) > 4096 {
		step = len(in)/1024 + 1
	}
	for i := 0; i <= len(in); i += step {
		if err := afterError(cfg, in, i); err != nil {
			t.Fatalf("split at %d: %v", i, err)
		}
	}
}

// TestDecoderStaysFailed: after a protocol error found one byte at a time
// (Autobahn 3.4, 4.1.5, 5.11 fed byte by byte) the rest of the bad frame and
// the peer's close are consumed unparsed, never read as frames.
func TestDecoderStaysFailed(t *testing.T) {
	t.Parallel()
	hello := []byte("Hello, world!")
	for name, in := range map[string][]byte{
		"rsv 4":         cat(clientFrame(ws.OpText, true, hello), clientFrameRsv(ws.OpText, true, rsv3, hello), clientFrame(ws.OpPing, true, nil)),
		"opcode 7":      cat(clientFrame(ws.OpText, true, hello), rawFrame(0x87, true, 7, 23, []byte("reserved opcode payload")), clientFrame(ws.OpPing, true, nil)),
		"continuation":  cat(clientFrame(ws.OpContinuation, false, []byte("fragment1")), clientFrame(ws.OpText, true, []byte("fragment2"))),
		"bad utf-8":     clientFrame(ws.OpText, true, []byte("ok \xed\xa0\x80 and a long tail after it")),
		"close 1 byte":  cat(clientFrame(ws.OpClose, true, []byte{3}), clientFrame(ws.OpClose, true, closePayload(1000, ""))),
		"deflate error": cat(clientFrameRsv(ws.OpBinary, true, rsv1, []byte{0xff, 0xff, 0xff}), clientFrame(ws.OpClose, true, nil)),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := decodeConfig{deflate: deflateOn}
			if whole := decodeChunks(cfg, bytes.Clone(in)); whole.err == nil {
				t.Fatalf("no error: %v", whole)
			}
			if got := decodeAfterErrorBytewise(cfg, in); got.events != nil {
				t.Fatalf("byte-wise, after the error: %v", got)
			}
			checkStaysFailed(t, cfg, in)
		})
	}
}

// decodeAfterErrorBytewise feeds in one byte at a time and keeps going after
// the first error; the result lists events seen after it.
func decodeAfterErrorBytewise(cfg decodeConfig, in []byte) decodeResult {
	d := cfg.decoder()
	defer d.Release()
	var res decodeResult
	var pending []byte
	for _, b := range in {
		pending = append(pending, b)
		for len(pending) > 0 {
			ev, n, err := d.Next(pending)
			if err != nil && res.err == nil {
				res.err = err
				continue
			}
			if err != nil && (err != ErrFailed || n != len(pending)) {
				res.events = append(res.events, evCopy{Kind: KindNone, Payload: err.Error()})
			}
			pending = pending[n:]
			if res.err != nil && ev.Kind != KindNone {
				res.events = append(res.events, copyEvent(ev))
			}
			if n == 0 && ev.Kind == KindNone {
				break
			}
		}
	}
	return res
}
