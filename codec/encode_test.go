package codec

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// readServerFrame parses one server frame with gobwas/ws.
func readServerFrame(t *testing.T, b []byte) (ws.Frame, int) {
	t.Helper()
	r := bytes.NewReader(b)
	f, err := ws.ReadFrame(r)
	if err != nil {
		t.Fatalf("gobwas cannot read %x: %v", b[:min(len(b), 16)], err)
	}
	if f.Header.Masked {
		t.Fatal("server frame is masked")
	}
	return f, len(b) - r.Len()
}

func TestAppendFrame(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		op   ws.OpCode
		fin  bool
		n    int
		hdr  int
	}{
		{name: "empty", op: ws.OpText, fin: true, n: 0, hdr: 2},
		{name: "125", op: ws.OpBinary, fin: true, n: 125, hdr: 2},
		{name: "126", op: ws.OpBinary, fin: false, n: 126, hdr: 4},
		{name: "65535", op: ws.OpContinuation, fin: true, n: 65535, hdr: 4},
		{name: "65536", op: ws.OpText, fin: true, n: 65536, hdr: 10},
		{name: "ping", op: ws.OpPing, fin: true, n: 5, hdr: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			payload := bytes.Repeat([]byte{'z'}, tc.n)
			b := AppendFrame([]byte("pre"), tc.op, tc.fin, payload)
			f, n := readServerFrame(t, b[3:])
			if n != len(b)-3 || n != tc.hdr+tc.n {
				t.Fatalf("frame length %d, want %d", n, tc.hdr+tc.n)
			}
			if f.Header.OpCode != tc.op || f.Header.Fin != tc.fin || f.Header.Rsv != 0 || !bytes.Equal(f.Payload, payload) {
				t.Fatalf("header %+v", f.Header)
			}
		})
	}
}

func TestAppendClose(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100) // 200 bytes
	cases := []struct {
		name   string
		code   ws.StatusCode
		reason string
		want   string // payload
	}{
		{name: "normal", code: 1000, reason: "bye", want: "\x03\xe8bye"},
		{name: "no status", code: ws.StatusNoStatusRcvd, reason: "ignored", want: ""},
		{name: "zero", code: 0, want: ""},
		{name: "slow consumer", code: 4008, want: "\x0f\xa8"},
		{name: "truncated on a boundary", code: 1011, reason: long, want: "\x03\xf3" + long[:122]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := readServerFrame(t, AppendClose(nil, tc.code, tc.reason))
			if f.Header.OpCode != ws.OpClose || !f.Header.Fin || string(f.Payload) != tc.want {
				t.Fatalf("close frame %+v %q", f.Header, f.Payload)
			}
			if len(f.Payload) > 125 {
				t.Fatal("control payload over 125 bytes")
			}
			if _, _, err := ParseClose(f.Payload); err != nil {
				t.Fatalf("our close frame does not parse: %v", err)
			}
		})
	}
}

// inflateFrame checks that b is one compressed server frame and returns its
// payload, decompressed with gobwas/ws/wsflate.
func inflateFrame(t *testing.T, b []byte) []byte {
	t.Helper()
	f, n := readServerFrame(t, b)
	if n != len(b) || !f.Header.Rsv1() || !f.Header.Fin {
		t.Fatalf("not one compressed frame: %+v", f.Header)
	}
	f, err := wsflate.DecompressFrame(f)
	if err != nil {
		t.Fatalf("wsflate: %v", err)
	}
	return f.Payload
}

func TestEncoder(t *testing.T) {
	t.Parallel()
	var plain, comp, small Encoder
	comp.EnableDeflate(*deflateOn)
	small.EnableDeflate(DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 15})
	if plain.Deflate() || !comp.Deflate() || (*Encoder)(nil).Deflate() {
		t.Fatal("Deflate() wrong")
	}
	b := plain.AppendMessage(nil, ws.OpText, lorem)
	if f, _ := readServerFrame(t, b); f.Header.Rsv1() || !bytes.Equal(f.Payload, lorem) {
		t.Fatal("plain encoder compressed")
	}
	b = comp.AppendMessage([]byte("keep"), ws.OpText, lorem)
	if string(b[:4]) != "keep" || !bytes.Equal(inflateFrame(t, b[4:]), lorem) {
		t.Fatal("compressed round trip failed")
	}
	if len(b)-4 >= len(lorem)/2 {
		t.Fatalf("lorem compressed to %d of %d", len(b)-4, len(lorem))
	}
	for _, p := range [][]byte{[]byte("tiny"), bytes.Repeat([]byte{1}, 63)} {
		if f, _ := readServerFrame(t, comp.AppendMessage(nil, ws.OpBinary, p)); f.Header.Rsv1() {
			t.Fatalf("%d-byte payload compressed", len(p))
		}
	}
	random := pseudoRandom(4096)
	if f, _ := readServerFrame(t, comp.AppendMessage(nil, ws.OpBinary, random)); f.Header.Rsv1() || !bytes.Equal(f.Payload, random) {
		t.Fatal("incompressible payload was sent compressed")
	}
	if f, _ := readServerFrame(t, comp.AppendMessage(nil, ws.OpPing, lorem[:100])); f.Header.Rsv1() {
		t.Fatal("control frame compressed")
	}
	// A 512-byte window: a larger message is Huffman-only.
	b = small.AppendMessage(nil, ws.OpText, lorem)
	if !bytes.Equal(inflateFrame(t, b), lorem) {
		t.Fatal("small-window round trip failed")
	}
	if len(b) <= len(appendCompressed(nil, ws.OpText, lorem, false)) {
		t.Fatal("small window did not switch to Huffman-only coding")
	}
}

// pseudoRandom returns n bytes that deflate cannot shrink.
func pseudoRandom(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func TestPrepared(t *testing.T) {
	t.Parallel()
	p := NewPrepared(ws.OpText, lorem)
	if p.Len() != len(lorem) || !bytes.Equal(p.Payload(), lorem) {
		t.Fatal("Len/Payload wrong")
	}
	var plain, comp, small Encoder
	comp.EnableDeflate(*deflateOn)
	small.EnableDeflate(DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 8, ClientMaxWindowBits: 15})
	if f, _ := readServerFrame(t, p.Frame(&plain)); !bytes.Equal(f.Payload, lorem) || f.Header.Rsv1() {
		t.Fatal("plain frame wrong")
	}
	if &p.Frame(nil)[0] != &p.Frame(&plain)[0] {
		t.Fatal("plain frame is not shared")
	}
	var wg sync.WaitGroup
	frames := make([][]byte, 64)
	for i := range frames {
		wg.Go(func() {
			e := &comp
			if i%2 == 1 {
				e = &small
			}
			frames[i] = p.Frame(e)
		})
	}
	wg.Wait()
	for i, f := range frames {
		if &f[0] != &frames[i%2][0] {
			t.Fatalf("frame %d was encoded again", i)
		}
		if !bytes.Equal(inflateFrame(t, f), lorem) {
			t.Fatalf("frame %d does not inflate", i)
		}
	}
	if bytes.Equal(frames[0], frames[1]) {
		t.Fatal("the small-window variant is the same as the full one")
	}
	// The copy is taken at construction.
	src := []byte("mutable payload that is long enough to be compressed by the encoder")
	q := NewPrepared(ws.OpBinary, src)
	src[0] = 'X'
	if q.Payload()[0] != 'm' || inflateFrame(t, q.Frame(&comp))[0] != 'm' {
		t.Fatal("Prepared aliases the caller's payload")
	}
	r := NewPrepared(ws.OpBinary, pseudoRandom(1000))
	if &r.Frame(&comp)[0] != &r.Frame(nil)[0] {
		t.Fatal("incompressible Prepared does not fall back to the plain frame")
	}
}

func TestCompiledFrames(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		frame []byte
		op    ws.OpCode
	}{{PingFrame, ws.OpPing}, {PongFrame, ws.OpPong}} {
		if f, n := readServerFrame(t, c.frame); n != 2 || f.Header.OpCode != c.op || !f.Header.Fin {
			t.Fatalf("%v frame wrong", c.op)
		}
	}
	for code := ws.StatusCode(990); code < 1020; code++ {
		b := CompiledClose(code)
		if (b != nil) != ValidCloseCode(code) {
			t.Fatalf("CompiledClose(%d) = %x", code, b)
		}
		if b != nil && !bytes.Equal(b, AppendClose(nil, code, "")) {
			t.Fatalf("CompiledClose(%d) differs from AppendClose", code)
		}
	}
	if CompiledClose(CloseCodeOf(ErrInvalidUTF8)) == nil || CompiledClose(4000) != nil {
		t.Fatal("CompiledClose coverage wrong")
	}
}
