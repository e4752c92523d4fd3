package codec

import (
	"encoding/binary"
	"sync"

	"github.com/gobwas/ws"

	"github.com/plezigo/plezi/internal/pool"
)

// Kind is what a decoded Event carries.
type Kind uint8

// Event kinds.
const (
	KindNone   Kind = iota // nothing complete yet
	KindText               // a whole text message (valid UTF-8)
	KindBinary             // a whole binary message
	KindPing               // a ping frame
	KindPong               // a pong frame
	KindClose              // a close frame (code and reason validated)
)

var kindNames = [...]string{"none", "text", "binary", "ping", "pong", "close"}

// String returns the kind's name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// Event is one decoded message or control frame.
type Event struct {
	Kind Kind
	// Payload is the message (inflated, unmasked) or the control frame's
	// payload (for KindClose the raw close payload). It points into the b
	// given to Next or into the Decoder's pooled buffer: valid until the next
	// Next or Release call on the Decoder and until the caller discards the
	// consumed bytes of b. Copy it to keep it.
	Payload []byte
	// CloseCode is the validated status of a KindClose event; 1005
	// (ws.StatusNoStatusRcvd) when the close payload was empty.
	CloseCode ws.StatusCode
	// CloseReason is the validated UTF-8 reason of a KindClose event,
	// aliasing Payload.
	CloseReason []byte
}

// DefaultMaxMessage is the message limit when Decoder.MaxMessage is 0.
const DefaultMaxMessage = 1 << 20

// Decoder reads client frames (RFC 6455 §5, RFC 7692) from the start of a
// peeked input buffer. One per connection, used by the connection's loop
// only. Its idle footprint is two words and a byte: the frame and message
// state (and the message buffer, from a pool) is held only while a message
// is partly received or while its event is held, and the 32 KiB inflate
// window only when the client keeps its compression context. The zero
// value is ready to use.
type Decoder struct {
	// MaxMessage limits a message in bytes (after inflate; for compressed
	// messages the compressed size too); 0 means DefaultMaxMessage. A
	// larger message fails with ErrMessageTooBig as soon as a frame header
	// declares it, before its payload is read.
	MaxMessage int64

	st    *decodeState // nil while idle (no message in progress, no event held); kept for good once deflate is on
	flags decodeFlag   // flagFailed, flagDeflate
}

// decodeState is a Decoder's frame and message state, pooled: a
// connection holds one only while a message is in progress or its buffered
// event is held, or for good once permessage-deflate is on (it carries
// the inflate window).
type decodeState struct {
	msg    *[]byte    // pooled: message in progress, or the held event's payload
	win    *window    // deflate with client context takeover: the last 32 KiB of inflated output, allocated lazily
	remain uint64     // payload bytes left in the current data frame
	mask   [4]byte    // current data frame's masking key
	text   UTF8State  // validation state of the text message in progress
	op     ws.OpCode  // opcode of the message in progress; 0 when none
	maskAt uint8      // offset into mask of the next payload byte
	flags  decodeFlag // frame and message state
	keep   bool       // deflate: client context takeover, keep the window between messages
}

type decodeFlag uint8

const (
	flagInFrame    decodeFlag = 1 << iota // in the payload of a data frame
	flagFin                               // the current data frame is final
	flagCompressed                        // the message in progress has RSV1
	flagHeld                              // msg backs the last returned event
	flagFailed                            // Decoder: an error was returned, input is no longer parsed
	flagDeflate                           // Decoder: permessage-deflate was negotiated (st is kept)
)

var statePool = sync.Pool{New: func() any { return new(decodeState) }}

// state returns d's frame and message state, taking one from the pool
// when d is idle.
func (d *Decoder) state() *decodeState {
	if d.st == nil {
		d.st = statePool.Get().(*decodeState)
	}
	return d.st
}

// settle gives the state back once d is idle again: no message in
// progress, no event held, no deflate.
func (d *Decoder) settle() {
	s := d.st
	if s == nil || d.flags&flagDeflate != 0 || s.msg != nil || s.op != 0 || s.flags != 0 {
		return
	}
	*s = decodeState{}
	statePool.Put(s)
	d.st = nil
}

// op is the opcode of the message in progress; 0 when none.
func (d *Decoder) op() ws.OpCode {
	if d.st == nil {
		return 0
	}
	return d.st.op
}

// EnableDeflate accepts compressed (RSV1) messages as negotiated by
// NegotiateDeflate. Call before the first Next, from the connection's
// loop. It allocates a few bytes; the inflate window comes later, and only
// when the client keeps its compression context.
func (d *Decoder) EnableDeflate(p DeflateParams) {
	d.flags |= flagDeflate
	d.state().keep = !p.ClientNoContextTakeover
}

func (d *Decoder) max() uint64 {
	if d.MaxMessage <= 0 {
		return DefaultMaxMessage
	}
	return uint64(d.MaxMessage)
}

// Next consumes bytes from the start of b and returns at most one event; n
// is how many bytes of b were consumed, and the caller discards exactly n
// before calling again with what follows (plus new bytes).
//
//   - (KindNone, 0, nil): more bytes are needed.
//   - (KindNone, n>0, nil): part of a message was consumed; call again.
//   - an event: see Event for how long its Payload stays valid.
//   - an error: the connection must close with CloseCodeOf(err). The
//     Decoder has failed for good: its buffers are back in their pools, and
//     every later Next consumes all of b unparsed and returns ErrFailed, so
//     the rest of a bad frame is never read as frames.
//
// A final, unfragmented, uncompressed data frame that is whole in b is
// unmasked in place and returned pointing into b (no copy). Other data
// frames are consumed as they arrive, unmasked into a pooled buffer, and
// text is validated as it comes, so invalid UTF-8 fails as soon as the bad
// byte is there. Control frames are returned only when whole (unmasked in
// place) and may come between fragments. Next modifies b (unmasking).
func (d *Decoder) Next(b []byte) (ev Event, n int, err error) {
	if d.flags&flagFailed != 0 {
		return d.failed(b)
	}
	if d.st != nil && d.st.flags&flagHeld != 0 {
		d.dropMsg()
		d.settle()
	}
	if ev, n, ok, err := d.nextShort(b); ok {
		if err != nil {
			d.Abort()
		}
		return ev, n, err
	}
	if ev, n, err = d.next(b); err != nil {
		d.Abort()
		return ev, n, err
	}
	d.settle()
	return ev, n, nil
}

// next runs the frame states over b: a frame header is expected, or the
// payload of a data frame is arriving.
func (d *Decoder) next(b []byte) (ev Event, n int, err error) {
	for n < len(b) {
		var k int
		if d.st != nil && d.st.flags&flagInFrame != 0 {
			ev, k, err = d.payload(b[n:])
		} else {
			ev, k, err = d.frame(b[n:])
		}
		n += k
		if err != nil || ev.Kind != KindNone || k == 0 {
			return ev, n, err
		}
	}
	return ev, n, nil
}

// failed is the state after an error: b is consumed unparsed.
func (d *Decoder) failed(b []byte) (Event, int, error) {
	return Event{}, len(b), ErrFailed
}

// Abort fails the Decoder as an error from Next does (the caller gave up
// on the connection: a deadline, a memory cap): buffers go back to their
// pools and later input is consumed unparsed. Idempotent; same goroutine
// rule as Next.
func (d *Decoder) Abort() {
	d.Release()
	d.flags |= flagFailed
}

// Failed reports whether Next returned an error or Abort was called. Same
// goroutine rule as Next.
func (d *Decoder) Failed() bool { return d.flags&flagFailed != 0 }

// InMessage reports whether a data message has started and is not yet
// complete: a fragmented message, or a frame whose payload is still
// arriving. Same goroutine rule as Next.
func (d *Decoder) InMessage() bool { return d.op() != 0 }

// PartialBytes is the capacity of the pooled buffer held by the message in
// progress (0 when none is, or when the buffer backs the last returned
// event instead). It changes only in Next, Abort and Release. Same
// goroutine rule as Next.
func (d *Decoder) PartialBytes() int {
	if d.st == nil || d.st.msg == nil || d.st.flags&flagHeld != 0 {
		return 0
	}
	return cap(*d.st.msg)
}

// Release returns the Decoder's pooled buffers and resets its frame state
// (MaxMessage and deflate stay as they are; a failed Decoder stays failed).
// Call it when the connection closes; any Payload returned earlier becomes
// invalid.
func (d *Decoder) Release() {
	s := d.st
	if s == nil {
		return
	}
	d.dropMsg()
	if s.win != nil {
		windowPool.Put(s.win)
		s.win = nil
	}
	d.resetMessage()
	d.settle()
}

func (d *Decoder) dropMsg() {
	s := d.st
	if s.msg != nil {
		pool.Put(s.msg)
		s.msg = nil
	}
	s.flags &^= flagHeld
}

func (d *Decoder) resetMessage() {
	s := d.st
	s.op, s.text, s.remain, s.maskAt = 0, 0, 0, 0
	s.flags &^= flagInFrame | flagFin | flagCompressed
}

// header is a parsed frame header.
type header struct {
	b0   byte // FIN, RSV and opcode
	len  int  // header length in bytes
	plen uint64
	mask [4]byte
}

func (h *header) op() ws.OpCode { return ws.OpCode(h.b0 & 0x0f) }
func (h *header) fin() bool     { return h.b0&bitFin != 0 }

// frame parses a frame header at the start of b and handles the frame.
func (d *Decoder) frame(b []byte) (Event, int, error) {
	if len(b) < 2 {
		return Event{}, 0, nil
	}
	if err := d.checkHeader(b[0], b[1]); err != nil {
		return Event{}, 0, err
	}
	h, ok, err := parseHeader(b)
	if !ok || err != nil {
		return Event{}, 0, err
	}
	if h.op().IsControl() {
		return d.control(b, &h)
	}
	return d.data(b, &h)
}

// parseHeader reads lengths and mask; ok is false when b is too short.
func parseHeader(b []byte) (h header, ok bool, err error) {
	h.b0 = b[0]
	h.len, h.plen = 2, uint64(b[1]&0x7f)
	switch h.plen {
	case 126:
		h.len = 4
	case 127:
		h.len = 10
	}
	if len(b) < h.len+4 {
		return h, false, nil
	}
	switch h.len {
	case 4:
		h.plen = uint64(binary.BigEndian.Uint16(b[2:]))
	case 10:
		h.plen = binary.BigEndian.Uint64(b[2:])
		if h.plen>>63 != 0 {
			return h, false, ErrLengthOverflow
		}
	}
	copy(h.mask[:], b[h.len:])
	h.len += 4
	return h, true, nil
}

// checkHeader applies the rules that the first two header bytes decide.
func (d *Decoder) checkHeader(b0, b1 byte) error {
	op := ws.OpCode(b0 & 0x0f)
	switch {
	case b0&0x30 != 0:
		return ErrReservedBits // RSV2, RSV3: no extension defines them
	case op.IsReserved():
		return ErrReservedOpCode
	case b0&bitRsv1 != 0 && (d.flags&flagDeflate == 0 || op == ws.OpContinuation || op.IsControl()):
		return ErrReservedBits
	case b1&bitMask == 0:
		return ErrUnmasked
	case op.IsControl():
		return checkControl(b0, b1)
	case op == ws.OpContinuation && d.op() == 0:
		return ErrUnexpectedContinue
	case op != ws.OpContinuation && d.op() != 0:
		return ErrExpectedContinue
	}
	return nil
}

func checkControl(b0, b1 byte) error {
	if b0&bitFin == 0 {
		return ErrControlFragmented
	}
	if b1&0x7f > 125 {
		return ErrControlTooLong
	}
	return nil
}

// control returns a whole control frame, unmasked in place.
func (d *Decoder) control(b []byte, h *header) (Event, int, error) {
	end := h.len + int(h.plen)
	if len(b) < end {
		return Event{}, 0, nil
	}
	p := b[h.len:end:end]
	ws.Cipher(p, h.mask, 0)
	switch h.op() {
	case ws.OpPing:
		return Event{Kind: KindPing, Payload: p}, end, nil
	case ws.OpPong:
		return Event{Kind: KindPong, Payload: p}, end, nil
	}
	code, reason, err := ParseClose(p)
	if err != nil {
		return Event{}, 0, err
	}
	return Event{Kind: KindClose, Payload: p, CloseCode: code, CloseReason: reason}, end, nil
}

// data handles a data frame header: the zero-copy path for a whole single
// frame message, else it starts streaming the payload.
func (d *Decoder) data(b []byte, h *header) (Event, int, error) {
	if h.plen > d.max()-d.msgLen() {
		return Event{}, 0, ErrMessageTooBig
	}
	op := h.op()
	if h.fin() && op != ws.OpContinuation && uint64(len(b)-h.len) >= h.plen {
		return d.whole(b, h, kindOf(op), h.b0&bitRsv1 != 0)
	}
	s := d.state()
	if op != ws.OpContinuation {
		s.op = op
		if h.b0&bitRsv1 != 0 {
			s.flags |= flagCompressed
		}
	}
	s.remain, s.mask, s.maskAt = h.plen, h.mask, 0
	s.flags |= flagInFrame
	if h.fin() {
		s.flags |= flagFin
	}
	ev, k, err := d.payload(b[h.len:])
	return ev, h.len + k, err
}

func (d *Decoder) msgLen() uint64 {
	if d.st == nil || d.st.msg == nil {
		return 0
	}
	return uint64(len(*d.st.msg))
}

// whole returns a single-frame message that is entirely in b (no message
// was in progress).
func (d *Decoder) whole(b []byte, h *header, kind Kind, compressed bool) (Event, int, error) {
	end := h.len + int(h.plen)
	p := b[h.len:end:end]
	ws.Cipher(p, h.mask, 0)
	if compressed {
		return d.inflated(p, end, kind)
	}
	if kind == KindText && !ValidUTF8(p) {
		return Event{}, 0, ErrInvalidUTF8
	}
	return Event{Kind: kind, Payload: p}, end, nil
}

// kindOf is the event kind of a data opcode.
func kindOf(op ws.OpCode) Kind {
	if op == ws.OpText {
		return KindText
	}
	return KindBinary
}

// payload consumes the current data frame's payload bytes from b.
func (d *Decoder) payload(b []byte) (Event, int, error) {
	s := d.st
	k := int(min(uint64(len(b)), s.remain))
	if k > 0 {
		if err := d.appendPayload(b[:k]); err != nil {
			return Event{}, 0, err
		}
	}
	if s.remain > 0 {
		return Event{}, k, nil
	}
	s.flags &^= flagInFrame
	if s.flags&flagFin == 0 {
		return Event{}, k, nil
	}
	return d.complete(k)
}

// appendPayload unmasks chunk into the message buffer and validates text.
func (d *Decoder) appendPayload(chunk []byte) error {
	s := d.st
	if s.msg == nil {
		s.msg = pool.Get(len(chunk))
	}
	s.msg = pool.Grow(s.msg, len(chunk))
	start := len(*s.msg)
	*s.msg = append(*s.msg, chunk...)
	p := (*s.msg)[start:]
	ws.Cipher(p, s.mask, int(s.maskAt))
	s.maskAt = uint8((int(s.maskAt) + len(p)) & 3)
	s.remain -= uint64(len(p))
	if s.op == ws.OpText && s.flags&flagCompressed == 0 && !s.text.Feed(p) {
		return ErrInvalidUTF8
	}
	return nil
}

// complete returns the message whose last frame just ended.
func (d *Decoder) complete(n int) (Event, int, error) {
	s := d.st
	var p []byte
	if s.msg != nil {
		p = *s.msg
	}
	kind := kindOf(s.op)
	if s.flags&flagCompressed != 0 {
		d.resetMessage()
		return d.inflated(p, n, kind)
	}
	done := s.text.Complete()
	d.resetMessage()
	if kind == KindText && !done {
		return Event{}, 0, ErrInvalidUTF8
	}
	if s.msg != nil {
		s.flags |= flagHeld
	}
	return Event{Kind: kind, Payload: p}, n, nil
}
