package codec

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
	gorilla "github.com/gorilla/websocket"
)

// These tests run the codec as the server side of real TCP connections on
// loopback against third-party clients: the handshake, compressed and plain
// frames in both directions, control frames and closing.

const peerTimeout = 20 * time.Second

// rawServer serves one websocket connection with nothing but this package.
// Every data message is echoed twice: through Encoder.AppendMessage and
// through a Prepared frame.
type rawServer struct {
	ln   net.Listener
	done chan error
	opts DeflateOptions
}

func startRawServer(t *testing.T, opts DeflateOptions) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, done: make(chan error, 1), opts: opts}
	go func() { s.done <- s.serve() }()
	t.Cleanup(func() { _ = ln.Close() })
	return s
}

func (s *rawServer) url() string { return "ws://" + s.ln.Addr().String() + "/chat?x=1" }

// wait returns the server's result: nil after a clean close handshake.
func (s *rawServer) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done:
		return err
	case <-time.After(peerTimeout):
		t.Fatal("server did not finish")
		return nil
	}
}

func (s *rawServer) serve() error {
	conn, err := s.ln.Accept()
	if err != nil {
		return err
	}
	defer conn.Close()
	if err = conn.SetDeadline(time.Now().Add(peerTimeout)); err != nil {
		return err
	}
	pending, dec, enc, err := handshake(conn, s.opts)
	if err != nil {
		return err
	}
	defer dec.Release()
	buf := make([]byte, 64<<10)
	for {
		pending, err = s.drain(conn, dec, enc, pending)
		if err != nil || pending == nil {
			return err
		}
		k, err := conn.Read(buf)
		if err != nil {
			return err
		}
		pending = append(pending, buf[:k]...)
	}
}

// handshake reads the request head and answers it.
func handshake(conn net.Conn, opts DeflateOptions) (rest []byte, dec *Decoder, enc *Encoder, err error) {
	var p RequestParser
	var req Request
	var in []byte
	buf := make([]byte, 4096)
	for {
		k, err := conn.Read(buf)
		if err != nil {
			return nil, nil, nil, err
		}
		in = append(in, buf[:k]...)
		n, err := p.Parse(in, &req)
		if err != nil {
			_, _ = conn.Write(AppendHTTPError(nil, err))
			return nil, nil, nil, err
		}
		if n > 0 {
			in = in[n:]
			break
		}
	}
	key, err := CheckUpgrade(&req)
	if err != nil {
		_, _ = conn.Write(AppendHTTPError(nil, err))
		return nil, nil, nil, err
	}
	dec, enc = &Decoder{MaxMessage: 32 << 20}, new(Encoder)
	params, ext, ok := NegotiateDeflateWith(&req, opts)
	if ok {
		dec.EnableDeflate(params)
		enc.EnableDeflate(params)
	}
	resp := AppendUpgradeResponse(nil, key, SelectProtocol(&req, []string{"chat"}), ext)
	_, err = conn.Write(resp)
	return append([]byte{}, in...), dec, enc, err
}

// drain decodes what pending holds and answers it; it returns the bytes
// still pending, or nil once the close handshake is done.
func (s *rawServer) drain(conn net.Conn, dec *Decoder, enc *Encoder, pending []byte) ([]byte, error) {
	for {
		ev, n, err := dec.Next(pending)
		if err != nil {
			_, _ = conn.Write(AppendClose(nil, CloseCodeOf(err), err.Error()))
			return nil, err
		}
		pending = pending[n:]
		var out []byte
		switch ev.Kind {
		case KindNone:
			if n == 0 {
				return append([]byte{}, pending...), nil
			}
			continue
		case KindText, KindBinary:
			op := ws.OpText
			if ev.Kind == KindBinary {
				op = ws.OpBinary
			}
			out = enc.AppendMessage(nil, op, ev.Payload)
			out = append(out, NewPrepared(op, ev.Payload).Frame(enc)...)
		case KindPing:
			out = AppendFrame(nil, ws.OpPong, true, ev.Payload)
		case KindPong:
		case KindClose:
			_, err = conn.Write(AppendClose(nil, ev.CloseCode, string(ev.CloseReason)))
			return nil, err
		}
		if _, err = conn.Write(out); err != nil {
			return nil, err
		}
	}
}

// peerMessages are what the clients send; each must come back twice.
func peerMessages() []struct {
	binary bool
	data   []byte
} {
	big := bytes.Repeat([]byte("push engine payload; "), (2<<20)/21)
	return []struct {
		binary bool
		data   []byte
	}{
		{data: []byte("hello")},
		{data: lorem},
		{data: lorem}, // same again: a context-takeover client refers back
		{binary: true, data: pseudoRandom(3000)},
		{data: text70k},
		{data: nil},
		{data: big},
		{binary: true, data: binary300},
	}
}

func TestPeerCoder(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		mode websocket.CompressionMode
		opts DeflateOptions
	}{
		{name: "context takeover", mode: websocket.CompressionContextTakeover},
		{name: "context takeover refused", mode: websocket.CompressionContextTakeover, opts: DeflateOptions{ClientNoContextTakeover: true}},
		{name: "no context takeover", mode: websocket.CompressionNoContextTakeover},
		{name: "disabled", mode: websocket.CompressionDisabled},
	}
	for _, tc := range cases {
		mode := tc.mode
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startRawServer(t, tc.opts)
			ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, s.url(), &websocket.DialOptions{
				CompressionMode:      mode,
				CompressionThreshold: 1,
				Subprotocols:         []string{"other", "chat"},
			})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.CloseNow()
			if c.Subprotocol() != "chat" {
				t.Fatalf("subprotocol %q", c.Subprotocol())
			}
			ext := resp.Header.Get("Sec-WebSocket-Extensions")
			if (mode == websocket.CompressionDisabled) != (ext == "") {
				t.Fatalf("extensions %q for mode %v", ext, mode)
			}
			c.SetReadLimit(64 << 20)
			for i, m := range peerMessages() {
				typ := websocket.MessageText
				if m.binary {
					typ = websocket.MessageBinary
				}
				if err = c.Write(ctx, typ, m.data); err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
				for echo := range 2 {
					gotTyp, got, err := c.Read(ctx)
					if err != nil || gotTyp != typ || !bytes.Equal(got, m.data) {
						t.Fatalf("message %d echo %d: %v, %d bytes", i, echo, err, len(got))
					}
				}
			}
			if err = c.Close(websocket.StatusNormalClosure, "done"); err != nil {
				t.Fatalf("close: %v", err)
			}
			if err = s.wait(t); err != nil {
				t.Fatalf("server: %v", err)
			}
		})
	}
}

func TestPeerGorilla(t *testing.T) {
	t.Parallel()
	s := startRawServer(t, DeflateOptions{})
	d := gorilla.Dialer{EnableCompression: true, Subprotocols: []string{"chat"}, HandshakeTimeout: peerTimeout}
	c, resp, err := d.Dial(s.url(), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "client_no_context_takeover") {
		t.Fatalf("extensions %q", resp.Header.Get("Sec-WebSocket-Extensions"))
	}
	_ = c.SetReadDeadline(time.Now().Add(peerTimeout))
	c.SetReadLimit(64 << 20)
	for i, m := range peerMessages() {
		typ := gorilla.TextMessage
		if m.binary {
			typ = gorilla.BinaryMessage
		}
		if err = c.WriteMessage(typ, m.data); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		for echo := range 2 {
			gotTyp, got, err := c.ReadMessage()
			if err != nil || gotTyp != typ || !bytes.Equal(got, m.data) {
				t.Fatalf("message %d echo %d: %v, %d bytes", i, echo, err, len(got))
			}
		}
	}
	// A ping between messages gets its pong.
	pong := make(chan string, 1)
	c.SetPongHandler(func(data string) error { pong <- data; return nil })
	if err = c.WriteControl(gorilla.PingMessage, []byte("are you there"), time.Now().Add(peerTimeout)); err != nil {
		t.Fatal(err)
	}
	if err = c.WriteMessage(gorilla.TextMessage, []byte("after ping")); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, got, err := c.ReadMessage(); err != nil || string(got) != "after ping" {
			t.Fatalf("after ping: %v %q", err, got)
		}
	}
	select {
	case got := <-pong:
		if got != "are you there" {
			t.Fatalf("pong %q", got)
		}
	default:
		t.Fatal("no pong before the echoes of the next message")
	}
	// A text message that is not UTF-8 closes the connection with 1007.
	if err = c.WriteMessage(gorilla.TextMessage, []byte("bad \xff")); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.ReadMessage()
	var ce *gorilla.CloseError
	if !errors.As(err, &ce) || ce.Code != 1007 {
		t.Fatalf("after bad UTF-8: %v", err)
	}
	if err = s.wait(t); err != ErrInvalidUTF8 {
		t.Fatalf("server: %v", err)
	}
}

// TestPeerBadHandshake: a wrong websocket version gets a 426 that
// gorilla/websocket can read, naming version 13.
func TestPeerBadHandshake(t *testing.T) {
	t.Parallel()
	s := startRawServer(t, DeflateOptions{})
	d := gorilla.Dialer{HandshakeTimeout: peerTimeout}
	hdr := map[string][]string{"Sec-WebSocket-Version": {"8"}}
	_, resp, err := d.Dial(s.url(), hdr)
	if err == nil {
		t.Fatal("dial succeeded")
	}
	if resp == nil {
		t.Fatalf("no response: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 426 || resp.Header.Get("Sec-WebSocket-Version") != "13" {
		t.Fatalf("status %d, version header %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Version"))
	}
	if err = s.wait(t); err != ErrWSVersion {
		t.Fatalf("server: %v", err)
	}
}
