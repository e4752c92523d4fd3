package codec

import (
	"sync"

	"github.com/gobwas/ws"
)

// Prepared is one outbound message encoded for fan-out: the plain frame is
// built once by NewPrepared, each compressed variant once on first use, and
// every connection writes the same shared bytes. Immutable after
// construction and safe for concurrent use.
type Prepared struct {
	op    ws.OpCode
	plain []byte // the whole plain frame; payload is plain[hdr:]
	hdr   int
	comp  variant // LZ77 + Huffman, for clients with a 32 KiB window
	huff  variant // Huffman only, for clients with a smaller window
}

// variant is a compressed frame built lazily, once.
type variant struct {
	once  sync.Once
	frame []byte
}

// NewPrepared copies payload and encodes its plain final frame. Safe for
// concurrent use; does not retain payload.
func NewPrepared(op ws.OpCode, payload []byte) *Prepared {
	frame := AppendFrame(make([]byte, 0, headerLen(len(payload))+len(payload)), op, true, payload)
	return &Prepared{op: op, plain: frame, hdr: len(frame) - len(payload)}
}

// Len returns the payload length (uncompressed).
func (p *Prepared) Len() int { return len(p.plain) - p.hdr }

// Payload returns the payload bytes. The caller must not modify them.
func (p *Prepared) Payload() []byte { return p.plain[p.hdr:] }

// Frame returns the bytes to write to a connection using e (nil e means no
// compression): the plain frame, or the compressed variant that suits e,
// built on first use by whichever goroutine gets there first and shared
// afterwards. Safe for concurrent use. The bytes live as long as p and must
// not be modified.
func (p *Prepared) Frame(e *Encoder) []byte {
	if !e.Deflate() || p.op.IsControl() || p.Len() < minDeflate {
		return p.plain
	}
	v, huffman := &p.comp, false
	if e.huffman(p.Len()) {
		v, huffman = &p.huff, true
	}
	v.once.Do(func() { v.frame = p.compress(huffman) })
	return v.frame
}

// compress builds a compressed variant; the plain frame when deflate does
// not shrink the payload.
func (p *Prepared) compress(huffman bool) []byte {
	frame := appendCompressed(nil, p.op, p.Payload(), huffman)
	if frame[0]&bitRsv1 == 0 {
		return p.plain
	}
	return frame
}
