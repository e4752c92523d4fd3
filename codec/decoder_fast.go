package codec

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// short is the common inbound frame: final, no RSV bits, masked, a 7-bit
// length, arriving whole while no message is in progress.
const (
	shortHeaderLen = 6
	maxShortLen    = 125
)

// nextShort decodes such a frame without the general machinery; ok is false
// (nothing consumed, b untouched) for any other input, which then takes the
// general path with all its checks.
func (d *Decoder) nextShort(b []byte) (ev Event, n int, ok bool, err error) {
	if len(b) < shortHeaderLen || d.st != nil && (d.st.op != 0 || d.st.flags&flagInFrame != 0) {
		return ev, 0, false, nil
	}
	b0, b1 := b[0], b[1]
	op := ws.OpCode(b0 & 0x0f)
	plen := int(b1 &^ bitMask)
	end := shortHeaderLen + plen
	if b0&0xf0 != bitFin || b1&bitMask == 0 || plen > maxShortLen ||
		(op != ws.OpText && op != ws.OpBinary) || len(b) < end || uint64(plen) > d.max() {
		return ev, 0, false, nil
	}
	p := b[shortHeaderLen:end:end]
	cipherShort(p, binary.LittleEndian.Uint32(b[2:]))
	if op == ws.OpBinary {
		return Event{Kind: KindBinary, Payload: p}, end, true, nil
	}
	if !ValidUTF8(p) {
		return ev, 0, true, ErrInvalidUTF8
	}
	return Event{Kind: KindText, Payload: p}, end, true, nil
}

// cipherShort unmasks p (at most 125 bytes) eight bytes at a time; for so
// few bytes this beats ws.Cipher's setup (measured in BenchmarkDecode/64B).
func cipherShort(p []byte, mask uint32) {
	m8 := uint64(mask) | uint64(mask)<<32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^m8)
	}
	for ; i < len(p); i++ {
		p[i] ^= byte(mask >> (8 * (i & 3)))
	}
}
