package bench

import (
	"encoding/binary"
)

// Websocket opcodes used by the engine.
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// StampSize is the number of payload bytes that carry the send timestamp.
const StampSize = 8

// maxFrame bounds a frame the engine accepts from a server.
const maxFrame = 16 << 20

// Frame is a client frame encoded and masked once; only the timestamp in the
// first StampSize payload bytes is rewritten (already masked) before each
// send. A Frame is owned by one loop: not safe for concurrent use.
type Frame struct {
	b    []byte
	off  int // payload offset in b
	mask [4]byte
}

// NewFrame encodes a final frame with opcode op carrying payload, masked with
// mask (mask all zero means "do not mask": the raw-TCP mode). The payload is
// copied; the caller may reuse it.
func NewFrame(op byte, payload []byte, mask [4]byte) *Frame {
	masked := mask != [4]byte{}
	b := AppendHeader(nil, op, len(payload), masked, mask)
	off := len(b)
	b = append(b, payload...)
	if masked {
		maskBytes(b[off:], mask, 0)
	}
	return &Frame{b: b, off: off, mask: mask}
}

// Bytes returns the encoded frame. The slice is shared: valid until the next
// Stamp call, never to be modified by the caller.
func (f *Frame) Bytes() []byte { return f.b }

// PayloadOffset returns where the payload starts in Bytes.
func (f *Frame) PayloadOffset() int { return f.off }

// Stamp writes ts into the first StampSize payload bytes (little endian,
// masked). It returns ErrPayloadSize when the payload is too short.
func (f *Frame) Stamp(ts int64) error {
	if len(f.b)-f.off < StampSize {
		return ErrPayloadSize
	}
	p := f.b[f.off : f.off+StampSize]
	binary.LittleEndian.PutUint64(p, uint64(ts))
	if f.mask != [4]byte{} {
		maskBytes(p, f.mask, 0)
	}
	return nil
}

// TextStampSize is the number of payload bytes that carry the send
// timestamp in a text message (unicast): 16 lowercase hex digits, valid
// UTF-8 and a plain JSON string on the server's side.
const TextStampSize = 16

// StampText writes ts as TextStampSize lowercase hex digits (masked) at
// payload offset at. It returns ErrPayloadSize when they do not fit.
func (f *Frame) StampText(at int, ts int64) error {
	if at < 0 || len(f.b)-f.off-at < TextStampSize {
		return ErrPayloadSize
	}
	p := f.b[f.off+at : f.off+at+TextStampSize]
	const digits = "0123456789abcdef"
	u := uint64(ts)
	for i := TextStampSize - 1; i >= 0; i-- {
		p[i] = digits[u&15]
		u >>= 4
	}
	if f.mask != [4]byte{} {
		maskBytes(p, f.mask, at)
	}
	return nil
}

// AppendHeader appends a final-frame header for a payload of n bytes. It
// writes only to dst: safe from any goroutine, no allocation when dst has room.
func AppendHeader(dst []byte, op byte, n int, masked bool, mask [4]byte) []byte {
	var mbit byte
	if masked {
		mbit = 0x80
	}
	dst = append(dst, 0x80|op)
	switch {
	case n <= 125:
		dst = append(dst, mbit|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, mbit|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, mbit|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if masked {
		dst = append(dst, mask[:]...)
	}
	return dst
}

// maskBytes XORs p with mask, starting at mask position pos.
func maskBytes(p []byte, mask [4]byte, pos int) {
	for i := range p {
		p[i] ^= mask[(pos+i)&3]
	}
}

// Header is a parsed frame header.
type Header struct {
	Fin    bool
	Op     byte
	Masked bool
	Mask   [4]byte
	Len    int // payload length
	Size   int // header length
}

// ParseHeader parses the frame header at the start of b. ok is false when b
// holds only part of the header; err is ErrFrameTooLarge for a payload over
// 16 MiB and ErrProtocol for reserved bits. It never allocates, keeps no
// reference to b and is safe from any goroutine.
func ParseHeader(b []byte) (h Header, ok bool, err error) {
	if len(b) < 2 {
		return h, false, nil
	}
	if b[0]&0x70 != 0 {
		return h, false, ErrProtocol
	}
	h.Fin, h.Op, h.Masked = b[0]&0x80 != 0, b[0]&0x0F, b[1]&0x80 != 0
	n, size := uint64(b[1]&0x7F), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return h, false, nil
		}
		n, size = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return h, false, nil
		}
		n, size = binary.BigEndian.Uint64(b[2:]), 10
	}
	if n > maxFrame {
		return h, false, ErrFrameTooLarge
	}
	if h.Masked {
		if len(b) < size+4 {
			return h, false, nil
		}
		copy(h.Mask[:], b[size:])
		size += 4
	}
	h.Len, h.Size = int(n), size
	return h, true, nil
}

// Unmask XORs payload with h's mask in place when the frame is masked. The
// caller owns payload; nothing is retained.
func (h *Header) Unmask(payload []byte) {
	if h.Masked {
		maskBytes(payload, h.Mask, 0)
	}
}

// StampOf returns the timestamp in the first StampSize bytes of an unmasked
// payload, or false when the payload is shorter. Pure: safe from any goroutine.
func StampOf(payload []byte) (int64, bool) {
	if len(payload) < StampSize {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint64(payload)), true
}

// TextStampOf returns the timestamp in the first TextStampSize bytes of an
// unmasked text payload (see StampText), or false when they are missing or
// not lowercase hex. Pure: safe from any goroutine.
func TextStampOf(payload []byte) (int64, bool) {
	if len(payload) < TextStampSize {
		return 0, false
	}
	var u uint64
	for _, b := range payload[:TextStampSize] {
		switch {
		case '0' <= b && b <= '9':
			u = u<<4 | uint64(b-'0')
		case 'a' <= b && b <= 'f':
			u = u<<4 | uint64(b-'a'+10)
		default:
			return 0, false
		}
	}
	return int64(u), true
}
