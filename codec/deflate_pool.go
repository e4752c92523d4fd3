package codec

import (
	"compress/flate"
	"io"
	"sync"
)

// Compression level for outbound messages: flate.BestSpeed. Broadcast frames
// are compressed once per Prepared and shared, per-connection frames on the
// hot path; both favour speed (level 1 is several times faster than the
// default and loses little on chatty JSON).
const deflateLevel = flate.BestSpeed

// deflater is a pooled flate.Writer plus the sink it writes into.
type deflater struct {
	fw  *flate.Writer
	out sliceWriter
}

// sliceWriter appends to a byte slice.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

var (
	deflaterPool = sync.Pool{New: func() any { return newDeflater(deflateLevel) }}
	huffmanPool  = sync.Pool{New: func() any { return newDeflater(flate.HuffmanOnly) }}
)

func newDeflater(level int) *deflater {
	d := new(deflater)
	fw, err := flate.NewWriter(&d.out, level)
	if err != nil {
		panic(err) // unreachable: the levels above are valid constants
	}
	d.fw = fw
	return d
}

// appendDeflate appends payload compressed as one permessage-deflate message
// (no context, sync-flush tail stripped). huffman selects Huffman-only
// coding: no back-references, for peers with a window smaller than payload.
func appendDeflate(dst, payload []byte, huffman bool) []byte {
	dp := &deflaterPool
	if huffman {
		dp = &huffmanPool
	}
	d := dp.Get().(*deflater)
	start := len(dst)
	d.out.b = dst
	d.fw.Reset(&d.out)
	_, _ = d.fw.Write(payload) // sliceWriter never fails
	_ = d.fw.Flush()
	dst = d.out.b
	d.out.b = nil
	dp.Put(d)
	return dst[:start+len(trimDeflateTail(dst[start:]))]
}

// inflater is a pooled flate reader plus its source.
type inflater struct {
	fr  io.ReadCloser
	src chainReader
}

var inflaterPool = sync.Pool{New: func() any {
	f := new(inflater)
	f.fr = flate.NewReader(&f.src)
	return f
}}

// inflateTail ends a message for the reader: the stripped sync-flush marker,
// then an empty final stored block so that the reader reports io.EOF.
var inflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// chainReader reads a, then inflateTail. It implements io.ByteReader so that
// flate reads it directly instead of wrapping it in a bufio.Reader.
type chainReader struct {
	a    []byte
	tail int
}

func (c *chainReader) reset(a []byte) { c.a, c.tail = a, 0 }

func (c *chainReader) Read(p []byte) (int, error) {
	if len(c.a) > 0 {
		n := copy(p, c.a)
		c.a = c.a[n:]
		return n, nil
	}
	if c.tail == len(inflateTail) {
		return 0, io.EOF
	}
	n := copy(p, inflateTail[c.tail:])
	c.tail += n
	return n, nil
}

func (c *chainReader) ReadByte() (byte, error) {
	if len(c.a) > 0 {
		b := c.a[0]
		c.a = c.a[1:]
		return b, nil
	}
	if c.tail == len(inflateTail) {
		return 0, io.EOF
	}
	c.tail++
	return inflateTail[c.tail-1], nil
}

// windowSize is the largest LZ77 window (2^15), kept between messages when
// the client takes over its compression context.
const windowSize = 1 << maxWindowBits

// window holds the last windowSize bytes of inflated output.
type window struct {
	n int
	b [windowSize]byte
}

var windowPool = sync.Pool{New: func() any { return new(window) }}

func (w *window) bytes() []byte { return w.b[:w.n] }

// add appends out to the window, keeping the last windowSize bytes.
func (w *window) add(out []byte) {
	if len(out) >= windowSize {
		w.n = copy(w.b[:], out[len(out)-windowSize:])
		return
	}
	keep := min(w.n, windowSize-len(out))
	copy(w.b[:], w.b[w.n-keep:w.n])
	w.n = keep + copy(w.b[keep:], out)
}
