package wstest

import (
	"encoding/binary"
	"fmt"
)

// Opcode is a websocket frame opcode (4 bits; any value may be written).
type Opcode uint8

// Opcodes of RFC 6455 section 5.2.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is a control opcode (0x8-0xF).
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return fmt.Sprintf("opcode(%#x)", uint8(op))
}

// RSV bits as placed by Frame.Rsv (the Autobahn convention: Rsv is the 3-bit
// number written at bits 4-6 of the first byte).
const (
	Rsv1 uint8 = 4 // the permessage-deflate bit
	Rsv2 uint8 = 2
	Rsv3 uint8 = 1
)

// Frame is one websocket frame as written or read.
type Frame struct {
	Fin bool
	// Rsv holds the three RSV bits: Rsv1|Rsv2|Rsv3.
	Rsv uint8
	Op  Opcode
	// Unmasked writes the frame without a mask (a protocol error from a
	// client). On read, Masked reports whether the server masked it.
	Unmasked bool
	Masked   bool
	// Mask is the masking key; a zero key on write is replaced by a random
	// one by Client.WriteFrame and Client.Encode.
	Mask    [4]byte
	Payload []byte
	// Length is written as the header's payload length instead of
	// len(Payload) when LengthSet (to send lying headers).
	Length    uint64
	LengthSet bool
}

// String describes the frame for test failure messages.
func (f Frame) String() string {
	p := f.Payload
	suffix := ""
	if len(p) > 64 {
		p, suffix = p[:64], "..."
	}
	return fmt.Sprintf("{fin=%v rsv=%d op=%v masked=%v len=%d %q%s}",
		f.Fin, f.Rsv, f.Op, f.Masked, len(f.Payload), p, suffix)
}

// AppendFrame appends the wire encoding of f to dst and returns it. Unless
// f.Unmasked, the payload is masked with f.Mask (as is, even when zero).
// The payload of f is not modified.
func AppendFrame(dst []byte, f Frame) []byte {
	b0 := f.Rsv<<4 | uint8(f.Op)&0x0F
	if f.Fin {
		b0 |= 0x80
	}
	n := uint64(len(f.Payload))
	if f.LengthSet {
		n = f.Length
	}
	var mbit byte
	if !f.Unmasked {
		mbit = 0x80
	}
	dst = append(dst, b0)
	switch {
	case n <= 125:
		dst = append(dst, mbit|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, mbit|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, mbit|127)
		dst = binary.BigEndian.AppendUint64(dst, n)
	}
	if f.Unmasked {
		return append(dst, f.Payload...)
	}
	dst = append(dst, f.Mask[:]...)
	start := len(dst)
	dst = append(dst, f.Payload...)
	MaskBytes(f.Mask, dst[start:], 0)
	return dst
}

// MaskBytes XORs b in place with key, starting at key offset pos; it returns
// the offset for the next call (masking is its own inverse).
func MaskBytes(key [4]byte, b []byte, pos int) int {
	end := (pos + len(b)) & 3
	for len(b) > 0 && pos&3 != 0 {
		b[0] ^= key[pos&3]
		b, pos = b[1:], pos+1
	}
	k := uint64(binary.LittleEndian.Uint32(key[:]))
	k |= k << 32
	for len(b) >= 8 { // a word at a time: 16 MiB messages under -race
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= key[i&3]
	}
	return end
}

// Text is a final, masked text frame.
func Text(s string) Frame { return Frame{Fin: true, Op: OpText, Payload: []byte(s)} }

// Binary is a final, masked binary frame.
func Binary(b []byte) Frame { return Frame{Fin: true, Op: OpBinary, Payload: b} }

// Ping is a masked ping frame.
func Ping(payload []byte) Frame { return Frame{Fin: true, Op: OpPing, Payload: payload} }

// Pong is a masked pong frame.
func Pong(payload []byte) Frame { return Frame{Fin: true, Op: OpPong, Payload: payload} }

// CloseFrame is a masked close frame with a status code and reason. A code
// of 0 gives an empty close payload (use ClosePayload for other shapes).
func CloseFrame(code int, reason string) Frame {
	f := Frame{Fin: true, Op: OpClose}
	if code != 0 {
		f.Payload = ClosePayload(code, reason)
	}
	return f
}

// ClosePayload encodes a close payload: 2-byte big-endian code then reason.
func ClosePayload(code int, reason string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(code))
	return append(b, reason...)
}

// ParseClose decodes a close payload. An empty payload gives code 1005
// (no status received). A 1-byte payload is a protocol error.
func ParseClose(p []byte) (code int, reason string, err error) {
	switch len(p) {
	case 0:
		return 1005, "", nil
	case 1:
		return 0, "", protocolErr("close payload of 1 byte")
	}
	return int(binary.BigEndian.Uint16(p)), string(p[2:]), nil
}
