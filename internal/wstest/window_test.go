package wstest

import (
	"bytes"
	"compress/flate"
	"math/rand/v2"
	"testing"
)

func deflateRaw(t testing.TB, level int, chunks ...[]byte) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, c := range chunks {
		buf.Reset()
		_, _ = w.Write(c)
		_ = w.Flush()
		out = append(out, bytes.Clone(buf.Bytes()))
	}
	return out
}

func TestMaxDistance(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 40000)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	near := bytes.Repeat([]byte("abcdefgh"), 1000)
	far := append(append(bytes.Clone(random[:20000]), random[:1000]...), random[:1000]...)
	tests := []struct {
		name          string
		level         int
		data          []byte
		minD, maxD    int
		wantProducing int
	}{
		{"stored", flate.NoCompression, random, 0, 0, len(random)},
		{"huffman", flate.HuffmanOnly, near, 0, 0, len(near)},
		{"near", flate.BestCompression, near, 1, 8, len(near)},
		{"far", flate.BestCompression, far, 20000, 21000, len(far)},
		{"empty", flate.DefaultCompression, nil, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := deflateRaw(t, tt.level, tt.data)[0]
			d, n, ok := MaxDistance(s, 0)
			if !ok || d < tt.minD || d > tt.maxD || n != tt.wantProducing {
				t.Fatalf("MaxDistance = %d, %d, %v", d, n, ok)
			}
		})
	}
}

func TestMaxDistanceContext(t *testing.T) {
	t.Parallel()
	msg := []byte("the same sentence, twice over, for the window to find it")
	s := deflateRaw(t, flate.BestCompression, msg, msg)
	if _, _, ok := MaxDistance(s[1], 0); ok {
		t.Fatal("reference into history accepted without history")
	}
	d, n, ok := MaxDistance(s[1], len(msg))
	if !ok || d != len(msg) || n != len(msg) {
		t.Fatalf("with history: %d %d %v", d, n, ok)
	}
}

// FuzzMaxDistance checks the walker never panics and agrees with
// compress/flate on the decoded length of valid streams, for the whole
// input and for every split point of it (prefixes must not panic).
func FuzzMaxDistance(f *testing.F) {
	for _, lvl := range []int{flate.NoCompression, flate.BestSpeed, flate.BestCompression, flate.HuffmanOnly} {
		f.Add(deflateRaw(f, lvl, []byte("hello hello hello hello"))[0])
	}
	f.Add([]byte{0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		for i := 0; i <= len(b); i++ {
			MaxDistance(b[:i], 0)
		}
		_, n, ok := MaxDistance(b, 0)
		if !ok {
			return
		}
		r := flate.NewReader(bytes.NewReader(append(bytes.Clone(b), deflateTail...)))
		out, err := readAllLimit(r, 1<<20)
		if err == nil && len(out) != n {
			t.Fatalf("walker length %d, flate %d", n, len(out))
		}
	})
}

func readAllLimit(r interface{ Read([]byte) (int, error) }, limit int) ([]byte, error) {
	var out []byte
	buf := make([]byte, 4096)
	for len(out) < limit {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			if err.Error() == "EOF" {
				return out, nil
			}
			return out, err
		}
	}
	return out, nil
}

func BenchmarkMaxDistance(b *testing.B) {
	data := bytes.Repeat([]byte("plezi websocket push engine, compressed "), 4000)
	s := deflateRaw(b, flate.DefaultCompression, data)[0]
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		MaxDistance(s, 0)
	}
}
