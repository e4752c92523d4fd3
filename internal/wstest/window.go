package wstest

// A small deflate (RFC 1951) walker: it decodes the block structure of a raw
// deflate stream without producing output, to report the largest
// back-reference distance. compress/flate cannot tell which window a peer
// used; this can, so server_max_window_bits is checked for real.

var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	clenOrder   = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

type bitReader struct {
	b    []byte
	pos  int    // bits consumed
	acc  uint64 // bits loaded ahead of pos, LSB first
	nacc int
}

func (r *bitReader) left() int { return len(r.b)*8 - r.pos }

func (r *bitReader) bits(n int) (uint32, bool) {
	if r.left() < n {
		return 0, false
	}
	for r.nacc < n {
		r.acc |= uint64(r.b[(r.pos+r.nacc)>>3]) << r.nacc
		r.nacc += 8
	}
	v := uint32(r.acc & (1<<n - 1))
	r.acc >>= n
	r.nacc -= n
	r.pos += n
	return v, true
}

// align skips to the next byte boundary.
func (r *bitReader) align() {
	skip := (8 - r.pos&7) & 7
	r.bits(skip)
}

// skipBytes skips n whole bytes; the reader must be aligned.
func (r *bitReader) skipBytes(n int) {
	r.pos += n * 8
	r.acc, r.nacc = 0, 0
}

// huffman is a canonical code in the form used by zlib's puff.c.
type huffman struct {
	count  [16]uint16
	symbol []uint16
}

func newHuffman(lengths []uint8) huffman {
	var h huffman
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	var offs [16]uint16
	for l := 1; l < 16; l++ {
		offs[l] = offs[l-1] + h.count[l-1]
	}
	h.symbol = make([]uint16, len(lengths))
	for s, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = uint16(s)
			offs[l]++
		}
	}
	return h
}

func (h *huffman) decode(r *bitReader) (int, bool) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, ok := r.bits(1)
		if !ok {
			return 0, false
		}
		code |= int(b)
		n := int(h.count[l])
		if code-first < n {
			return int(h.symbol[index+code-first]), true
		}
		index += n
		first = (first + n) << 1
		code <<= 1
	}
	return 0, false
}

// window walks a deflate stream; produced counts the output so far,
// including the history before the stream (context takeover).
type window struct {
	r        bitReader
	produced int
	maxDist  int
}

// MaxDistance returns the largest back-reference distance in the raw
// deflate stream b, whose decoded output follows history bytes of earlier
// output (0 without context takeover), and the stream's decoded length. It
// stops after a final block or when b ends at a block boundary. It reports
// false for malformed streams or references before the start of history.
func MaxDistance(b []byte, history int) (maxDist, produced int, ok bool) {
	w := window{r: bitReader{b: b}, produced: history}
	for {
		final, ok := w.block()
		if !ok {
			return 0, 0, false
		}
		if final || w.r.left() == 0 {
			return w.maxDist, w.produced - history, true
		}
		if w.r.left() < 8 { // no block fits: only zero padding may remain
			return w.maxDist, w.produced - history, w.paddingIsZero()
		}
	}
}

func (w *window) paddingIsZero() bool {
	v, _ := w.r.bits(w.r.left())
	return v == 0
}

func (w *window) block() (final, ok bool) {
	hdr, ok := w.r.bits(3)
	if !ok {
		return false, false
	}
	switch hdr >> 1 {
	case 0:
		return hdr&1 == 1, w.stored()
	case 1:
		return hdr&1 == 1, w.fixed()
	case 2:
		return hdr&1 == 1, w.dynamic()
	}
	return false, false
}

func (w *window) stored() bool {
	w.r.align()
	v, ok := w.r.bits(32)
	if !ok || uint16(v) != ^uint16(v>>16) {
		return false
	}
	n := int(uint16(v))
	if w.r.left() < n*8 {
		return false
	}
	w.r.skipBytes(n)
	w.produced += n
	return true
}

func (w *window) fixed() bool {
	var l [288 + 30]uint8
	for i := range 288 {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	for i := 288; i < len(l); i++ {
		l[i] = 5
	}
	lit := newHuffman(l[:288])
	dist := newHuffman(l[288:])
	return w.codes(&lit, &dist)
}

func (w *window) dynamic() bool {
	v, ok := w.r.bits(14)
	if !ok {
		return false
	}
	nlen, ndist, ncode := int(v&31)+257, int(v>>5&31)+1, int(v>>10)+4
	if nlen > 286 || ndist > 30 {
		return false
	}
	var cl [19]uint8
	for i := range ncode {
		b, ok := w.r.bits(3)
		if !ok {
			return false
		}
		cl[clenOrder[i]] = uint8(b)
	}
	lencode := newHuffman(cl[:])
	lengths, ok := w.codeLengths(&lencode, nlen+ndist)
	if !ok || lengths[256] == 0 {
		return false
	}
	lit := newHuffman(lengths[:nlen])
	dist := newHuffman(lengths[nlen:])
	return w.codes(&lit, &dist)
}

func (w *window) codeLengths(h *huffman, n int) ([]uint8, bool) {
	lengths := make([]uint8, 0, n)
	for len(lengths) < n {
		sym, ok := h.decode(&w.r)
		if !ok {
			return nil, false
		}
		if sym < 16 {
			lengths = append(lengths, uint8(sym))
			continue
		}
		var prev uint8
		var rep uint32
		switch sym {
		case 16:
			if len(lengths) == 0 {
				return nil, false
			}
			prev = lengths[len(lengths)-1]
			rep, ok = w.r.bits(2)
			rep += 3
		case 17:
			rep, ok = w.r.bits(3)
			rep += 3
		default:
			rep, ok = w.r.bits(7)
			rep += 11
		}
		if !ok || len(lengths)+int(rep) > n {
			return nil, false
		}
		for range rep {
			lengths = append(lengths, prev)
		}
	}
	return lengths, true
}

func (w *window) codes(lit, dist *huffman) bool {
	for {
		sym, ok := lit.decode(&w.r)
		switch {
		case !ok || sym > 285:
			return false
		case sym < 256:
			w.produced++
		case sym == 256:
			return true
		default:
			if !w.match(sym-257, dist) {
				return false
			}
		}
	}
}

func (w *window) match(li int, dist *huffman) bool {
	e, ok := w.r.bits(int(lengthExtra[li]))
	if !ok {
		return false
	}
	length := int(lengthBase[li]) + int(e)
	ds, ok := dist.decode(&w.r)
	if !ok || ds > 29 {
		return false
	}
	e, ok = w.r.bits(int(distExtra[ds]))
	if !ok {
		return false
	}
	d := int(distBase[ds]) + int(e)
	if d > w.produced {
		return false
	}
	w.maxDist = max(w.maxDist, d)
	w.produced += length
	return true
}
