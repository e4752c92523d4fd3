package wstest

import (
	"bufio"
	"cmp"
	"crypto/rand"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Options configure Dial.
type Options struct {
	// Header entries replace or remove (empty slice) the default upgrade
	// headers; see UpgradeRequest.
	Header http.Header
	// Extensions, when set, is sent as Sec-WebSocket-Extensions (for
	// example "permessage-deflate; client_max_window_bits").
	Extensions string
	// Timeout bounds the TCP connect and the handshake; 0 means 5 s.
	Timeout time.Duration
	// ReadBuffer, when positive, sets SO_RCVBUF before connecting (a small
	// value makes a client that stops reading back up the server quickly).
	ReadBuffer int
}

// Client is a raw websocket client connection. See the package doc for the
// goroutine rule.
type Client struct {
	conn net.Conn
	br   *bufio.Reader
	// Response is the 101 response of the handshake; its headers stay valid
	// for the life of the Client.
	Response *http.Response
	// Deflate holds the negotiated permessage-deflate parameters, or nil.
	Deflate *DeflateParams

	frag      []byte // payload of the data message being reassembled
	fragOp    Opcode
	fragZip   bool
	fragCount int
	inMsg     bool
	wbuf      []byte
	inflate   *inflater
	deflate   *deflater
}

// Dial connects to addr ("host:port"), performs the upgrade for path and
// returns the Client. A refused upgrade returns a *HandshakeError (the
// connection is closed).
func Dial(addr, path string, o Options) (*Client, error) {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	d := net.Dialer{Timeout: o.Timeout}
	if o.ReadBuffer > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, o.ReadBuffer)
			})
			return cmp.Or(err, serr)
		}
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c, err := Handshake(conn, addr, path, o)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// Handshake performs the upgrade over an established conn. On error the
// caller still owns conn.
func Handshake(conn net.Conn, host, path string, o Options) (*Client, error) {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	h := o.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if o.Extensions != "" {
		h.Set("Sec-WebSocket-Extensions", o.Extensions)
	}
	key := NewKey()
	if v, ok := h["Sec-Websocket-Key"]; ok {
		key = ""
		if len(v) == 1 {
			key = v[0]
		}
	} else {
		h.Set("Sec-WebSocket-Key", key)
	}
	req := UpgradeRequest("GET", host, path, h)
	_ = conn.SetDeadline(time.Now().Add(o.Timeout))
	if _, err := conn.Write(req); err != nil {
		return nil, err
	}
	c := &Client{conn: conn, br: bufio.NewReaderSize(conn, 64<<10)}
	resp, err := readResponse(c.br, key)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	c.Response = resp
	if err := c.negotiate(o.Extensions); err != nil {
		return nil, err
	}
	return c, nil
}

// Conn returns the underlying connection (for raw writes or closing).
func (c *Client) Conn() net.Conn { return c.conn }

// Close closes the TCP connection without a closing handshake.
func (c *Client) Close() error { return c.conn.Close() }

// Encode returns the wire bytes of f, choosing a random mask key when f is
// masked with a zero key.
func (c *Client) Encode(f Frame) []byte {
	if !f.Unmasked && f.Mask == ([4]byte{}) {
		_, _ = rand.Read(f.Mask[:])
	}
	return AppendFrame(nil, f)
}

// WriteFrame writes f in one write call.
func (c *Client) WriteFrame(f Frame) error {
	return c.WriteRaw(c.Encode(f))
}

// WriteFrames writes all frames in one write call (back to back on the wire).
func (c *Client) WriteFrames(fs ...Frame) error {
	var b []byte
	for _, f := range fs {
		b = append(b, c.Encode(f)...)
	}
	return c.WriteRaw(b)
}

// WriteRaw writes b as is.
func (c *Client) WriteRaw(b []byte) error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_, err := c.conn.Write(b)
	return err
}

// WriteChopped writes b in pieces of at most chop bytes, each its own write
// call, pausing for pause between pieces (0: no pause).
func (c *Client) WriteChopped(b []byte, chop int, pause time.Duration) error {
	if chop <= 0 {
		chop = len(b)
	}
	for len(b) > 0 {
		n := min(chop, len(b))
		if err := c.WriteRaw(b[:n]); err != nil {
			return err
		}
		b = b[n:]
		if pause > 0 && len(b) > 0 {
			time.Sleep(pause)
		}
	}
	return nil
}

// WriteFrameChopped encodes f and writes it with WriteChopped.
func (c *Client) WriteFrameChopped(f Frame, chop int, pause time.Duration) error {
	return c.WriteChopped(c.Encode(f), chop, pause)
}
