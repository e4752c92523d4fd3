package codec

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// Frame header bits.
const (
	bitFin  = 0x80
	bitRsv1 = 0x40
	bitMask = 0x80
)

// maxHeaderLen is the longest server (unmasked) frame header.
const maxHeaderLen = 10

// minDeflate is the smallest payload Encoder compresses; below it deflate
// rarely wins and always costs.
const minDeflate = 64

// AppendFrame appends one server frame (unmasked) with the given opcode, FIN
// bit and payload. Allocation-free when dst has room. Safe for concurrent
// use; does not retain payload.
func AppendFrame(dst []byte, op ws.OpCode, fin bool, payload []byte) []byte {
	b0 := byte(op)
	if fin {
		b0 |= bitFin
	}
	dst = appendHeader(dst, b0, len(payload))
	return append(dst, payload...)
}

// appendHeader appends a server frame header: first byte b0, payload length n.
func appendHeader(dst []byte, b0 byte, n int) []byte {
	switch {
	case n <= 125:
		return append(dst, b0, byte(n))
	case n <= 0xffff:
		return append(dst, b0, 126, byte(n>>8), byte(n))
	}
	dst = append(dst, b0, 127)
	return binary.BigEndian.AppendUint64(dst, uint64(n))
}

func headerLen(n int) int {
	switch {
	case n <= 125:
		return 2
	case n <= 0xffff:
		return 4
	}
	return maxHeaderLen
}

// AppendClose appends a whole close frame carrying code and reason. The
// reason is cut to fit the 125-byte control payload, on a UTF-8 boundary.
// Code 0 or 1005 (ws.StatusNoStatusRcvd, which must not be sent) gives a
// close frame with an empty payload. Allocation-free when dst has room.
func AppendClose(dst []byte, code ws.StatusCode, reason string) []byte {
	if code == 0 || code == ws.StatusNoStatusRcvd {
		return append(dst, bitFin|byte(ws.OpClose), 0)
	}
	reason = truncateUTF8(reason, 123)
	dst = append(dst, bitFin|byte(ws.OpClose), byte(2+len(reason)), byte(code>>8), byte(code))
	return append(dst, reason...)
}

// truncateUTF8 cuts s to at most n bytes without splitting a code point.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Encoder frames outbound messages for one connection: a tiny value that
// knows whether permessage-deflate is on and the client's window. Owned by
// the connection's loop; AppendMessage is safe to call concurrently on a
// value that is no longer being changed by EnableDeflate.
type Encoder struct {
	deflate bool
	bits    uint8 // server_max_window_bits
}

// EnableDeflate turns compression on with the negotiated parameters. Call
// it once, from the connection's loop, before the Encoder is shared.
func (e *Encoder) EnableDeflate(p DeflateParams) {
	e.deflate = true
	e.bits = uint8(p.ServerMaxWindowBits)
	if e.bits < minWindowBits || e.bits > maxWindowBits {
		e.bits = maxWindowBits
	}
}

// Deflate reports whether compression is on (false for a nil Encoder).
func (e *Encoder) Deflate() bool { return e != nil && e.deflate }

// huffman reports whether a payload of n bytes must be compressed without
// back-references because it is larger than the client's window.
func (e *Encoder) huffman(n int) bool {
	return e.bits < maxWindowBits && n > 1<<e.bits
}

// AppendMessage appends op (a data opcode) with payload as one final frame:
// compressed (RSV1) when deflate is on, the payload is at least 64 bytes and
// compression makes it smaller; plain otherwise. Control opcodes are never
// compressed. Allocation-free when dst has room (compressors are pooled).
// Does not retain payload.
func (e *Encoder) AppendMessage(dst []byte, op ws.OpCode, payload []byte) []byte {
	if !e.Deflate() || op.IsControl() || len(payload) < minDeflate {
		return AppendFrame(dst, op, true, payload)
	}
	return appendCompressed(dst, op, payload, e.huffman(len(payload)))
}

// appendCompressed appends a compressed final frame, or a plain one when
// compression does not shrink payload. The compressed bytes go straight
// into dst after room for the longest header, then move up when the header
// turns out shorter.
func appendCompressed(dst []byte, op ws.OpCode, payload []byte, huffman bool) []byte {
	start := len(dst)
	dst = appendDeflate(append(dst, make([]byte, maxHeaderLen)...), payload, huffman)
	n := len(dst) - start - maxHeaderLen
	if n >= len(payload) {
		return AppendFrame(dst[:start], op, true, payload)
	}
	hl := headerLen(n)
	copy(dst[start+hl:], dst[start+maxHeaderLen:])
	appendHeader(dst[start:start], bitFin|bitRsv1|byte(op), n)
	return dst[:start+hl+n]
}
