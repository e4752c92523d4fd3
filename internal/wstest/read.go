package wstest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
	"unicode/utf8"
)

// maxFrame bounds the payload length this client accepts from a server.
const maxFrame = 1 << 30

// Message is a complete data message or a single control frame.
type Message struct {
	Op      Opcode // OpText, OpBinary, or a control opcode
	Payload []byte // inflated when Compressed
	// Compressed reports that the message had RSV1 set (permessage-deflate).
	Compressed bool
	// Frames is the number of frames the message arrived in.
	Frames int
}

func (m Message) String() string {
	return Frame{Fin: true, Op: m.Op, Payload: m.Payload}.String()
}

// ReadFrame reads one frame, waiting at most timeout (0: no deadline). The
// payload is unmasked if the server masked it (Masked reports so). After a
// timeout inside a frame the Client must not be read again.
func (c *Client) ReadFrame(timeout time.Duration) (Frame, error) {
	return c.readFrame(deadline(timeout))
}

func deadline(timeout time.Duration) time.Time {
	if timeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(timeout)
}

func (c *Client) readFrame(dl time.Time) (Frame, error) {
	_ = c.conn.SetReadDeadline(dl)
	h, err := c.br.Peek(2)
	if err != nil {
		return Frame{}, readErr(err)
	}
	f := Frame{Fin: h[0]&0x80 != 0, Rsv: h[0] >> 4 & 7, Op: Opcode(h[0] & 0x0F), Masked: h[1]&0x80 != 0}
	hlen, n := 2, uint64(h[1]&0x7F)
	switch n {
	case 126:
		hlen = 4
	case 127:
		hlen = 10
	}
	if f.Masked {
		hlen += 4
	}
	if h, err = c.br.Peek(hlen); err != nil {
		return Frame{}, readErr(err)
	}
	switch n {
	case 126:
		n = uint64(binary.BigEndian.Uint16(h[2:]))
	case 127:
		n = binary.BigEndian.Uint64(h[2:])
	}
	if f.Masked {
		copy(f.Mask[:], h[hlen-4:])
	}
	if n > maxFrame {
		return Frame{}, protocolErr("frame length %d", n)
	}
	_, _ = c.br.Discard(hlen)
	// Grow with the data actually received, not with a claimed length.
	buf := bytes.NewBuffer(make([]byte, 0, min(n, 1<<20)))
	if _, err := io.CopyN(buf, c.br, int64(n)); err != nil {
		return Frame{}, readErr(err)
	}
	f.Payload = buf.Bytes()
	if f.Masked {
		MaskBytes(f.Mask, f.Payload, 0)
	}
	return f, nil
}

func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("%w (%v)", ErrClosed, err)
	}
	return err
}

// IsTimeout reports whether err is a read or write deadline expiry.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// ReadMessage returns the next complete data message or control frame,
// waiting at most timeout in total. Control frames interleaved with the
// fragments of a data message are returned first, in arrival order. Any
// server violation (masked frame, bad RSV, fragmented or long control
// frame, bad continuation, invalid UTF-8 text, bad deflate data) is an
// ErrProtocol error.
func (c *Client) ReadMessage(timeout time.Duration) (Message, error) {
	dl := deadline(timeout)
	for {
		f, err := c.readFrame(dl)
		if err != nil {
			return Message{}, err
		}
		if f.Masked {
			return Message{}, protocolErr("server frame is masked: %v", f)
		}
		if f.Op.IsControl() {
			return c.control(f)
		}
		m, done, err := c.data(f)
		if err != nil || done {
			return m, err
		}
	}
}

func (c *Client) control(f Frame) (Message, error) {
	switch {
	case !f.Fin:
		return Message{}, protocolErr("fragmented control frame %v", f)
	case len(f.Payload) > 125:
		return Message{}, protocolErr("control frame of %d bytes", len(f.Payload))
	case f.Rsv != 0:
		return Message{}, protocolErr("control frame with RSV %d", f.Rsv)
	case f.Op > OpPong:
		return Message{}, protocolErr("reserved opcode %v", f.Op)
	}
	return Message{Op: f.Op, Payload: f.Payload, Frames: 1}, nil
}

func (c *Client) data(f Frame) (Message, bool, error) {
	if err := c.checkData(f); err != nil {
		return Message{}, false, err
	}
	if f.Op != OpContinuation {
		c.inMsg, c.fragOp, c.fragZip, c.frag = true, f.Op, f.Rsv == Rsv1, nil
	}
	c.frag = append(c.frag, f.Payload...)
	if !f.Fin {
		c.fragCount++
		return Message{}, false, nil
	}
	m := Message{Op: c.fragOp, Payload: c.frag, Compressed: c.fragZip, Frames: c.fragCount + 1}
	c.inMsg, c.frag, c.fragCount = false, nil, 0
	if m.Compressed {
		p, err := c.inflate.inflate(m.Payload)
		if err != nil {
			return Message{}, false, err
		}
		m.Payload = p
	}
	if m.Op == OpText && !utf8.Valid(m.Payload) {
		return Message{}, false, protocolErr("text message is not valid UTF-8")
	}
	return m, true, nil
}

func (c *Client) checkData(f Frame) error {
	switch {
	case f.Op > OpBinary:
		return protocolErr("reserved opcode %v", f.Op)
	case f.Op == OpContinuation && !c.inMsg:
		return protocolErr("continuation without a message")
	case f.Op != OpContinuation && c.inMsg:
		return protocolErr("new %v frame inside a fragmented message", f.Op)
	case f.Rsv == 0:
		return nil
	case f.Rsv == Rsv1 && f.Op != OpContinuation && c.Deflate != nil:
		return nil
	}
	return protocolErr("RSV %d on %v frame", f.Rsv, f.Op)
}

// ReadClose reads the next message and requires a close frame; it returns
// the status code (1005 for an empty payload) and reason. A data or other
// control message is returned in an ErrUnexpectedFrame error. An invalid
// close payload from the server (1 byte, bad UTF-8 reason, a code that must
// not be sent) is an ErrProtocol error.
func (c *Client) ReadClose(timeout time.Duration) (int, string, error) {
	m, err := c.ReadMessage(timeout)
	if err != nil {
		return 0, "", err
	}
	if m.Op != OpClose {
		return 0, "", fmt.Errorf("%w: got %v, want close", ErrUnexpectedFrame, m)
	}
	code, reason, err := ParseClose(m.Payload)
	if err != nil {
		return 0, "", err
	}
	if len(m.Payload) > 0 && !ValidCloseCode(code) {
		return code, reason, protocolErr("server sent close code %d", code)
	}
	if !utf8.ValidString(reason) {
		return code, reason, protocolErr("close reason is not valid UTF-8")
	}
	return code, reason, nil
}

// ValidCloseCode reports whether code may appear in a close frame
// (RFC 6455 section 7.4 and the IANA registry: 1000-1003, 1007-1014,
// 3000-4999).
func ValidCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// ExpectSilence waits d and succeeds only if nothing arrives and the
// connection stays open.
func (c *Client) ExpectSilence(d time.Duration) error {
	_ = c.conn.SetReadDeadline(time.Now().Add(d))
	_, err := c.br.Peek(1)
	switch {
	case err == nil:
		f, ferr := c.readFrame(time.Now().Add(time.Second))
		return fmt.Errorf("%w: %v (%v)", ErrUnexpectedData, f, ferr)
	case IsTimeout(err):
		return nil
	}
	return readErr(err)
}

// ExpectEOF waits at most timeout for the server to close the TCP
// connection; any byte arriving first is an ErrUnexpectedData error, and
// an open connection at the deadline is ErrNotClosed. A reset counts as
// closed.
func (c *Client) ExpectEOF(timeout time.Duration) error {
	_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	_, err := c.br.Peek(1)
	switch {
	case err == nil:
		f, ferr := c.readFrame(time.Now().Add(time.Second))
		return fmt.Errorf("%w after close: %v (%v)", ErrUnexpectedData, f, ferr)
	case IsTimeout(err):
		return ErrNotClosed
	case errors.Is(readErr(err), ErrClosed):
		return nil
	}
	return err
}

// ExpectClose reads a close frame, checks its code, answers it with the same
// code (completing the closing handshake the server started) and waits for
// the server to close the TCP connection.
func (c *Client) ExpectClose(want int, timeout time.Duration) error {
	code, reason, err := c.ReadClose(timeout)
	if err != nil {
		return err
	}
	if code != want {
		return fmt.Errorf("%w: close code %d (%q), want %d", ErrUnexpectedFrame, code, reason, want)
	}
	reply := CloseFrame(code, "")
	if code == 1005 {
		reply = CloseFrame(0, "")
	}
	_ = c.WriteFrame(reply) // the server may have closed the socket already
	return c.ExpectEOF(timeout)
}

// CloseHandshake sends a close frame with code and reason, reads data
// messages until the server's close frame (returned in drained), and waits
// for the TCP close. It returns the server's close code.
func (c *Client) CloseHandshake(code int, reason string, timeout time.Duration) (got int, drained []Message, err error) {
	if err := c.WriteFrame(CloseFrame(code, reason)); err != nil {
		return 0, nil, err
	}
	dl := time.Now().Add(timeout)
	for {
		m, err := c.ReadMessage(time.Until(dl))
		if err != nil {
			return 0, drained, err
		}
		if m.Op != OpClose {
			drained = append(drained, m)
			continue
		}
		got, _, err = ParseClose(m.Payload)
		if err != nil {
			return 0, drained, err
		}
		return got, drained, c.ExpectEOF(time.Until(dl))
	}
}
