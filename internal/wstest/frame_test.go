package wstest

import (
	"bufio"
	"bytes"
	"net"
	"testing"
	"time"
)

// pipeClient returns a Client reading from the far end of an in-memory
// pipe, and that far end for the test to write server bytes into.
func pipeClient(t testing.TB) (*Client, net.Conn) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return &Client{conn: a, br: bufio.NewReader(a)}, b
}

func TestFrameRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []Frame{
		{Fin: true, Op: OpText, Payload: []byte("x")},
		{Fin: false, Rsv: 7, Op: 0xF, Mask: [4]byte{9, 8, 7, 6}, Payload: make([]byte, 125)},
		{Fin: true, Op: OpBinary, Unmasked: true, Payload: make([]byte, 126)},
		{Fin: true, Op: OpBinary, Mask: [4]byte{1}, Payload: bytes.Repeat([]byte{3}, 65536)},
		{Fin: true, Op: OpClose, Unmasked: true, Payload: ClosePayload(4999, "r")},
	}
	for _, want := range tests {
		c, srv := pipeClient(t)
		go func() { _, _ = srv.Write(AppendFrame(nil, want)) }()
		got, err := c.ReadFrame(time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if got.Fin != want.Fin || got.Rsv != want.Rsv || got.Op != want.Op ||
			got.Masked == want.Unmasked || !bytes.Equal(got.Payload, want.Payload) {
			t.Fatalf("got %v want %v", got, want)
		}
	}
}

func TestParseClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []byte
		code int
		ok   bool
	}{
		{nil, 1005, true},
		{[]byte{3}, 0, false},
		{ClosePayload(1000, "bye"), 1000, true},
	}
	for _, tt := range tests {
		code, _, err := ParseClose(tt.in)
		if code != tt.code || (err == nil) != tt.ok {
			t.Errorf("ParseClose(%x) = %d, %v", tt.in, code, err)
		}
	}
	for code, ok := range map[int]bool{999: false, 1000: true, 1004: false, 1005: false, 1006: false, 1012: true, 1015: false, 2999: false, 3000: true, 4999: true, 5000: false} {
		if ValidCloseCode(code) != ok {
			t.Errorf("ValidCloseCode(%d) != %v", code, ok)
		}
	}
}

// FuzzReadFrame feeds arbitrary server bytes, whole and split at every
// position into two writes, and requires the same outcome.
func FuzzReadFrame(f *testing.F) {
	f.Add(AppendFrame(nil, Frame{Fin: true, Op: OpText, Unmasked: true, Payload: []byte("hi")}))
	f.Add(AppendFrame(nil, Frame{Fin: true, Op: OpBinary, Mask: [4]byte{1, 2, 3, 4}, Payload: make([]byte, 300)}))
	f.Add([]byte{0x81, 0x7f, 0, 0, 0, 0, 0, 0, 0, 1, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<12 {
			return
		}
		whole := readOnce(t, b, len(b))
		for i := 0; i < len(b); i++ {
			if got := readOnce(t, b, i); got != whole {
				t.Fatalf("split at %d: %q, whole: %q", i, got, whole)
			}
		}
	})
}

func readOnce(t *testing.T, b []byte, split int) string {
	c, srv := pipeClient(t)
	go func() {
		_, _ = srv.Write(b[:split])
		_, _ = srv.Write(b[split:])
		srv.Close()
	}()
	m, err := c.ReadMessage(time.Second)
	c.Close()
	if err != nil {
		return "err"
	}
	return m.String()
}

func FuzzParseExtensions(f *testing.F) {
	f.Add("permessage-deflate; client_max_window_bits=10, permessage-deflate")
	f.Add(`permessage-deflate; server_max_window_bits="9"`)
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseExtensions(s)
		for _, p := range ps {
			if err == nil && (p.ServerMaxWindowBits != 0 && (p.ServerMaxWindowBits < 8 || p.ServerMaxWindowBits > 15)) {
				t.Fatalf("accepted window %d", p.ServerMaxWindowBits)
			}
		}
	})
}

func TestMaskBytesMatchesBytewise(t *testing.T) {
	t.Parallel()
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for n := 0; n < 40; n++ {
		for pos := 0; pos < 4; pos++ {
			b := bytes.Repeat([]byte{0xa5}, n)
			want := bytes.Clone(b)
			for i := range want {
				want[i] ^= key[(pos+i)&3]
			}
			if end := MaskBytes(key, b, pos); end != (pos+n)&3 || !bytes.Equal(b, want) {
				t.Fatalf("n=%d pos=%d: got %x end %d, want %x", n, pos, b, end, want)
			}
		}
	}
}

func BenchmarkMaskBytes(b *testing.B) {
	p := make([]byte, 1<<20)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		MaskBytes([4]byte{1, 2, 3, 4}, p, 1)
	}
}
