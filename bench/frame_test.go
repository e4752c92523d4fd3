package bench

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

var frameSizes = []int{8, 64, 125, 126, 1024, 65535, 65536, 70000}

// TestFrameDecodesWithGobwas checks NewFrame and Stamp against a third-party
// decoder (gobwas/ws reads the frame back and unmasks it).
func TestFrameDecodesWithGobwas(t *testing.T) {
	t.Parallel()
	for _, n := range frameSizes {
		for _, op := range []byte{OpBinary, OpText} {
			payload := bytes.Repeat([]byte{'x'}, n)
			f := NewFrame(op, payload, [4]byte{1, 2, 3, 4})
			const ts = int64(0x0102030405060708)
			if err := f.Stamp(ts); err != nil {
				t.Fatal(err)
			}
			got, err := ws.ReadFrame(bytes.NewReader(f.Bytes()))
			if err != nil {
				t.Fatalf("n=%d: gobwas could not read the frame: %v", n, err)
			}
			if !got.Header.Fin || !got.Header.Masked || byte(got.Header.OpCode) != op || got.Header.Length != int64(n) {
				t.Fatalf("n=%d: header %+v", n, got.Header)
			}
			got = ws.UnmaskFrameInPlace(got)
			if stamp, ok := StampOf(got.Payload); !ok || stamp != ts {
				t.Fatalf("n=%d: stamp %x, want %x", n, stamp, ts)
			}
			if !bytes.Equal(got.Payload[StampSize:], payload[StampSize:]) {
				t.Fatalf("n=%d: payload changed", n)
			}
		}
	}
}

func TestFrameUnmaskedRaw(t *testing.T) {
	t.Parallel()
	f := NewFrame(OpBinary, make([]byte, 16), [4]byte{})
	_ = f.Stamp(42)
	h, ok, err := ParseHeader(f.Bytes())
	if !ok || err != nil || h.Masked || h.Len != 16 {
		t.Fatalf("header %+v ok=%v err=%v", h, ok, err)
	}
	if ts, _ := StampOf(f.Bytes()[h.Size:]); ts != 42 {
		t.Fatalf("stamp %d", ts)
	}
	if err := NewFrame(OpBinary, make([]byte, 4), [4]byte{9, 9, 9, 9}).Stamp(1); err != ErrPayloadSize {
		t.Fatalf("short payload: %v", err)
	}
}

// TestFrameStampText: a text stamp after an id prefix (the unicast frame)
// reads back through gobwas/ws, at every mask alignment.
func TestFrameStampText(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"", "a ", "ab ", "abc ", "n1-ff0000000001 "} {
		payload := []byte(prefix + strings.Repeat("x", 40))
		f := NewFrame(OpText, payload, [4]byte{5, 6, 7, 8})
		for _, ts := range []int64{0, 1, 0x0123456789abcdef, 1<<63 - 1} {
			if err := f.StampText(len(prefix), ts); err != nil {
				t.Fatal(err)
			}
			got, err := ws.ReadFrame(bytes.NewReader(f.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			got = ws.UnmaskFrameInPlace(got)
			p := got.Payload
			if !bytes.HasPrefix(p, []byte(prefix)) || !bytes.HasSuffix(p, []byte(strings.Repeat("x", 40-TextStampSize))) {
				t.Fatalf("prefix %q: payload %q", prefix, p)
			}
			if stamp, ok := TextStampOf(p[len(prefix):]); !ok || stamp != ts {
				t.Fatalf("prefix %q: stamp %x %v, want %x", prefix, stamp, ok, ts)
			}
		}
	}
	if err := NewFrame(OpText, make([]byte, 20), [4]byte{}).StampText(5, 1); err != ErrPayloadSize {
		t.Fatalf("stamp past the end: %v", err)
	}
	for _, bad := range []string{"", "0123456789abcde", "0123456789abcdeX", "0123456789ABCDEF"} {
		if _, ok := TextStampOf([]byte(bad)); ok {
			t.Errorf("TextStampOf(%q) ok", bad)
		}
	}
}

// TestParseHeaderServerFrames parses frames that gobwas/ws encodes.
func TestParseHeaderServerFrames(t *testing.T) {
	t.Parallel()
	for _, n := range frameSizes {
		var buf bytes.Buffer
		payload := bytes.Repeat([]byte{7}, n)
		if err := ws.WriteFrame(&buf, ws.NewBinaryFrame(payload)); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		for cut := 0; cut < len(b) && cut < 16; cut++ {
			if _, ok, err := ParseHeader(b[:cut]); err != nil || (ok && cut < 2) {
				t.Fatalf("n=%d cut=%d: ok=%v err=%v", n, cut, ok, err)
			}
		}
		h, ok, err := ParseHeader(b)
		if !ok || err != nil || h.Len != n || h.Size+n != len(b) || h.Op != OpBinary || !h.Fin {
			t.Fatalf("n=%d: %+v ok=%v err=%v", n, h, ok, err)
		}
	}
}

func TestParseHeaderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		err  error
	}{
		{"reserved bits", []byte{0xF2, 0x00}, ErrProtocol},
		{"too large", []byte{0x82, 127, 0, 0, 0, 0, 0x10, 0, 0, 0}, ErrFrameTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := ParseHeader(tt.in); err != tt.err {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
		})
	}
}

// FuzzParseHeader: never panics; a header found in a prefix is the header of
// the whole input, and no prefix finds a different one.
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0x82, 0x05, 'h', 'e', 'l', 'l', 'o'})
	f.Add([]byte{0x81, 0xFE, 0x01, 0x00, 1, 2, 3, 4})
	f.Add([]byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		whole, wok, werr := ParseHeader(b)
		if wok && (whole.Size > len(b) || whole.Len < 0 || whole.Len > maxFrame) {
			t.Fatalf("header %+v does not fit %d bytes", whole, len(b))
		}
		for cut := 0; cut <= len(b); cut++ {
			h, ok, err := ParseHeader(b[:cut])
			if ok && (!wok || h != whole) {
				t.Fatalf("prefix %d: %+v, whole: %+v (ok=%v)", cut, h, whole, wok)
			}
			if err != nil && err != werr {
				t.Fatalf("prefix %d: err %v, whole err %v", cut, err, werr)
			}
		}
	})
}

func BenchmarkFrameStamp(b *testing.B) {
	for _, n := range []int{64, 1024} {
		b.Run(strconv.Itoa(n)+"B", func(b *testing.B) {
			f := NewFrame(OpBinary, make([]byte, n), [4]byte{1, 2, 3, 4})
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				_ = f.Stamp(int64(i))
			}
		})
	}
}

func BenchmarkParseHeader(b *testing.B) {
	f := NewFrame(OpBinary, make([]byte, 1024), [4]byte{1, 2, 3, 4})
	b.ReportAllocs()
	for b.Loop() {
		_, _, _ = ParseHeader(f.Bytes())
	}
}
