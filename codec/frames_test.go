package codec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/gobwas/ws"
)

// testMask is the masking key of frames built by the tests.
var testMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// clientFrame builds a masked client frame with gobwas/ws.
func clientFrame(op ws.OpCode, fin bool, payload []byte) []byte {
	return clientFrameRsv(op, fin, 0, payload)
}

func clientFrameRsv(op ws.OpCode, fin bool, rsv byte, payload []byte) []byte {
	f := ws.NewFrame(op, fin, bytes.Clone(payload))
	f.Header.Rsv = rsv
	f = ws.MaskFrameInPlaceWith(f, testMask)
	var buf bytes.Buffer
	if err := ws.WriteFrame(&buf, f); err != nil {
		panic(err) // writing to a bytes.Buffer does not fail
	}
	return buf.Bytes()
}

// compressedFrame builds a masked, compressed (RSV1) single-frame message.
func compressedFrame(op ws.OpCode, payload []byte) []byte {
	return clientFrameRsv(op, true, ws.Rsv(true, false, false), appendDeflate(nil, payload, false))
}

// rawFrame builds a client frame header by hand (for malformed frames):
// first byte b0, mask bit, a length field of 7, 16 or 64 bits as given by
// lenBits, declared length n, then the payload masked with testMask.
func rawFrame(b0 byte, masked bool, lenBits int, n uint64, payload []byte) []byte {
	b1 := byte(0)
	if masked {
		b1 = 0x80
	}
	out := []byte{b0}
	switch lenBits {
	case 7:
		out = append(out, b1|byte(n))
	case 16:
		out = binary.BigEndian.AppendUint16(append(out, b1|126), uint16(n))
	default:
		out = binary.BigEndian.AppendUint64(append(out, b1|127), n)
	}
	p := bytes.Clone(payload)
	if masked {
		out = append(out, testMask[:]...)
		ws.Cipher(p, testMask, 0)
	}
	return append(out, p...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// evCopy is an Event with its memory copied out of the Decoder.
type evCopy struct {
	Kind    Kind
	Payload string
	Code    ws.StatusCode
	Reason  string
}

func (e evCopy) String() string {
	p := e.Payload
	if len(p) > 40 {
		p = fmt.Sprintf("%.20q…(%d bytes)", p, len(p))
	}
	return fmt.Sprintf("%v %q %d %q", e.Kind, p, e.Code, e.Reason)
}

func copyEvent(ev Event) evCopy {
	return evCopy{Kind: ev.Kind, Payload: string(ev.Payload), Code: ev.CloseCode, Reason: string(ev.CloseReason)}
}

// decodeConfig sets up a Decoder for a test.
type decodeConfig struct {
	max     int64
	deflate *DeflateParams
}

func (c decodeConfig) decoder() *Decoder {
	d := &Decoder{MaxMessage: c.max}
	if c.deflate != nil {
		d.EnableDeflate(*c.deflate)
	}
	return d
}

// decodeResult is everything a stream decodes to.
type decodeResult struct {
	events   []evCopy
	err      error
	leftover int // bytes not consumed at the end
}

func (r decodeResult) String() string {
	var b strings.Builder
	for _, e := range r.events {
		b.WriteString(e.String() + "; ")
	}
	return fmt.Sprintf("[%s] err=%v leftover=%d", b.String(), r.err, r.leftover)
}

func (r decodeResult) equal(o decodeResult) bool {
	if r.err != o.err || r.leftover != o.leftover || len(r.events) != len(o.events) {
		return false
	}
	for i := range r.events {
		if r.events[i] != o.events[i] {
			return false
		}
	}
	return true
}

// decodeChunks runs a Decoder the way a server does: bytes arrive in
// chunks, are appended to a pending buffer, and each Next consumes from
// its start until it needs more.
func decodeChunks(c decodeConfig, chunks ...[]byte) decodeResult {
	d := c.decoder()
	defer d.Release()
	var res decodeResult
	var pending []byte
	for _, chunk := range chunks {
		pending = append(pending, chunk...)
		for {
			ev, n, err := d.Next(pending)
			if err != nil {
				res.err = err
				return res
			}
			pending = pending[n:]
			if ev.Kind != KindNone {
				res.events = append(res.events, copyEvent(ev))
				continue
			}
			if n == 0 {
				break
			}
		}
	}
	res.leftover = len(pending)
	return res
}

// decodeSplit decodes in[:i] then in[i:], each chunk its own copy.
func decodeSplit(c decodeConfig, in []byte, i int) decodeResult {
	return decodeChunks(c, bytes.Clone(in[:i]), bytes.Clone(in[i:]))
}

// decodeBytewise decodes in one byte per chunk.
func decodeBytewise(c decodeConfig, in []byte) decodeResult {
	chunks := make([][]byte, len(in))
	for i := range in {
		chunks[i] = []byte{in[i]}
	}
	return decodeChunks(c, chunks...)
}
