package codec

import (
	"bytes"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

var benchSizes = []int{64, 1 << 10, 64 << 10}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

func BenchmarkParseRequest(b *testing.B) {
	head := []byte(upgradeHead)
	b.Run("whole", func(b *testing.B) {
		var p RequestParser
		var r Request
		b.ReportAllocs()
		b.SetBytes(int64(len(head)))
		for b.Loop() {
			if n, err := p.Parse(head, &r); n != len(head) || err != nil {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("byte-by-byte", func(b *testing.B) {
		var p RequestParser
		var r Request
		b.ReportAllocs()
		b.SetBytes(int64(len(head)))
		for b.Loop() {
			for i := 1; i <= len(head); i++ {
				if _, err := p.Parse(head[:i], &r); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkDecode reads one masked binary frame per op: this package (the
// peeked-buffer, in-place path) against gobwas/ws ReadFrame + Cipher from a
// bytes.Reader (the io.Reader path) in the same run.
func BenchmarkDecode(b *testing.B) {
	for _, size := range benchSizes {
		in := clientFrame(ws.OpBinary, true, pseudoRandom(size))
		buf := make([]byte, len(in))
		b.Run("codec/"+sizeName(size), func(b *testing.B) {
			var d Decoder
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				copy(buf, in)
				if ev, n, err := d.Next(buf); n != len(buf) || err != nil || ev.Kind != KindBinary {
					b.Fatal(n, err)
				}
			}
		})
		b.Run("gobwas/"+sizeName(size), func(b *testing.B) {
			r := bytes.NewReader(nil)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				r.Reset(in)
				f, err := ws.ReadFrame(r)
				if err != nil {
					b.Fatal(err)
				}
				ws.Cipher(f.Payload, f.Header.Mask, 0)
			}
		})
	}
}

// BenchmarkDecodeText adds UTF-8 validation: text frames whole and split
// in two reads (the buffered, incremental path).
func BenchmarkDecodeText(b *testing.B) {
	for _, size := range benchSizes {
		payload := bytes.Repeat(lorem, size/len(lorem)+1)[:size]
		for !utf8.Valid(payload) {
			payload = payload[:len(payload)-1]
		}
		in := clientFrame(ws.OpText, true, payload)
		buf := make([]byte, len(in))
		b.Run("whole/"+sizeName(size), func(b *testing.B) {
			var d Decoder
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				copy(buf, in)
				if _, n, err := d.Next(buf); n != len(buf) || err != nil {
					b.Fatal(n, err)
				}
			}
		})
		b.Run("split/"+sizeName(size), func(b *testing.B) {
			var d Decoder
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				copy(buf, in)
				_, n, _ := d.Next(buf[:len(buf)/2])
				if ev, _, err := d.Next(buf[n:]); err != nil || ev.Kind != KindText {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeDeflate(b *testing.B) {
	for _, size := range benchSizes {
		payload := bytes.Repeat(lorem, size/len(lorem)+1)[:size]
		for !utf8.Valid(payload) {
			payload = payload[:len(payload)-1]
		}
		in := compressedFrame(ws.OpText, payload)
		buf := make([]byte, len(in))
		b.Run(sizeName(size), func(b *testing.B) {
			d := Decoder{}
			d.EnableDeflate(*deflateOn)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				copy(buf, in)
				if _, n, err := d.Next(buf); n != len(buf) || err != nil {
					b.Fatal(n, err)
				}
			}
		})
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	for _, size := range benchSizes {
		payload := make([]byte, size)
		b.Run("codec/"+sizeName(size), func(b *testing.B) {
			dst := make([]byte, 0, size+maxHeaderLen)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				dst = AppendFrame(dst[:0], ws.OpBinary, true, payload)
			}
		})
		b.Run("gobwas/"+sizeName(size), func(b *testing.B) {
			var buf bytes.Buffer
			buf.Grow(size + maxHeaderLen)
			f := ws.NewBinaryFrame(payload)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				buf.Reset()
				if err := ws.WriteFrame(&buf, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncoderDeflate(b *testing.B) {
	for _, size := range benchSizes {
		payload := bytes.Repeat(lorem, size/len(lorem)+1)[:size]
		var e Encoder
		e.EnableDeflate(*deflateOn)
		b.Run(sizeName(size), func(b *testing.B) {
			dst := make([]byte, 0, size+maxHeaderLen)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				dst = e.AppendMessage(dst[:0], ws.OpText, payload)
			}
		})
	}
}

// BenchmarkPreparedFrame is the per-recipient cost of a broadcast.
func BenchmarkPreparedFrame(b *testing.B) {
	p := NewPrepared(ws.OpText, lorem)
	var plain, comp Encoder
	comp.EnableDeflate(*deflateOn)
	for name, e := range map[string]*Encoder{"plain": &plain, "deflate": &comp} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if len(p.Frame(e)) == 0 {
					b.Fatal("empty")
				}
			}
		})
	}
}

func BenchmarkAcceptKey(b *testing.B) {
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	dst := make([]byte, 0, acceptKeyLen)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendAcceptKey(dst[:0], key)
	}
}

// BenchmarkUTF8 compares ValidUTF8, the incremental Feed over 1 KiB chunks
// and unicode/utf8.Valid on ASCII and on mixed text.
func BenchmarkUTF8(b *testing.B) {
	inputs := map[string][]byte{
		"ascii": bytes.Repeat([]byte("plain ascii json {\"event\":\"said\"} "), 2000),
		"mixed": bytes.Repeat([]byte("κόσμε 😀 mixed € text "), 2000),
	}
	for name, in := range inputs {
		b.Run("codec/"+name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if !ValidUTF8(in) {
					b.Fatal("invalid")
				}
			}
		})
		b.Run("feed1KiB/"+name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				var s UTF8State
				for off := 0; off < len(in); off += 1 << 10 {
					s.Feed(in[off:min(off+1<<10, len(in))])
				}
				if !s.Complete() {
					b.Fatal("invalid")
				}
			}
		})
		b.Run("dfa/"+name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				st := utf8Accept
				for _, c := range in {
					st = st.step(c)
				}
				if st != utf8Accept {
					b.Fatal("invalid")
				}
			}
		})
		b.Run("stdlib/"+name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if !utf8.Valid(in) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
