package wstest

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

const tmo = 5 * time.Second

// gorillaEcho starts a gorilla/websocket echo server (compression allowed
// when the client offers it) and returns its host:port.
func gorillaEcho(t *testing.T) string {
	t.Helper()
	up := websocket.Upgrader{EnableCompression: true}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/echo" {
			http.NotFound(w, r)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, p); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// rawServer accepts one connection per call of serve with a handler that
// writes whatever the test wants after a valid 101 response.
func rawServer(t *testing.T, reply func(key string) []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = conn.Write(reply(r.Header.Get("Sec-Websocket-Key")))
		_ = conn.SetReadDeadline(time.Now().Add(tmo))
		_, _ = brw.ReadByte() // hold the socket until the client goes
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func upgradeOK(key string) []byte {
	return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + AcceptKey(key) + "\r\n\r\n")
}

func dial(t *testing.T, addr string, o Options) *Client {
	t.Helper()
	c, err := Dial(addr, "/echo", o)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestEchoAgainstGorilla(t *testing.T) {
	t.Parallel()
	addr := gorillaEcho(t)
	big := bytes.Repeat([]byte("0123456789"), 100_000)
	tests := []struct {
		name     string
		op       Opcode
		payload  []byte
		frag     int
		chop     int
		compress bool
		offer    string
	}{
		{name: "text", op: OpText, payload: []byte("hello")},
		{name: "empty", op: OpText, payload: nil},
		{name: "binary126", op: OpBinary, payload: bytes.Repeat([]byte{0xfe}, 126)},
		{name: "binary64k", op: OpBinary, payload: bytes.Repeat([]byte{1}, 65536)},
		{name: "fragmented", op: OpText, payload: big, frag: 1300},
		{name: "chopped", op: OpBinary, payload: big[:5000], chop: 7},
		{name: "compressed", op: OpText, payload: big, compress: true, offer: "permessage-deflate"},
		{name: "compressedFragments", op: OpBinary, payload: big[:70000], frag: 999, compress: true, offer: "permessage-deflate; client_max_window_bits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, addr, Options{Extensions: tt.offer})
			if (c.Deflate != nil) != (tt.offer != "") {
				t.Fatalf("deflate negotiated = %v, offer %q", c.Deflate, tt.offer)
			}
			for range 3 { // repeats exercise compression contexts
				b := c.EncodeMessage(tt.op, tt.payload, tt.frag, tt.compress)
				if err := c.WriteChopped(b, tt.chop, 0); err != nil {
					t.Fatal(err)
				}
				m, err := c.ReadMessage(tmo)
				if err != nil {
					t.Fatal(err)
				}
				if m.Op != tt.op || !bytes.Equal(m.Payload, tt.payload) || m.Compressed != tt.compress {
					t.Fatalf("got %v compressed=%v", m, m.Compressed)
				}
			}
			code, drained, err := c.CloseHandshake(1000, "bye", tmo)
			if err != nil || code != 1000 || len(drained) != 0 {
				t.Fatalf("close: code %d drained %v err %v", code, drained, err)
			}
		})
	}
}

func TestPingPongAndSilence(t *testing.T) {
	t.Parallel()
	c := dial(t, gorillaEcho(t), Options{})
	if err := c.WriteFrameChopped(Ping([]byte("abc")), 1, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	m, err := c.ReadMessage(tmo)
	if err != nil || m.Op != OpPong || string(m.Payload) != "abc" {
		t.Fatalf("got %v, %v", m, err)
	}
	if err := c.ExpectSilence(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFrame(Text("x")); err != nil {
		t.Fatal(err)
	}
	if err := c.ExpectSilence(time.Second); !errors.Is(err, ErrUnexpectedData) {
		t.Fatalf("ExpectSilence with an echo pending = %v", err)
	}
}

func TestProtocolErrorClose(t *testing.T) {
	t.Parallel()
	addr := gorillaEcho(t)
	tests := []struct {
		name string
		f    Frame
		want int
	}{
		{"rsv", Frame{Fin: true, Rsv: Rsv2, Op: OpText, Payload: []byte("x")}, websocket.CloseProtocolError},
		{"opcode", Frame{Fin: true, Op: 3}, websocket.CloseProtocolError},
		{"unmasked", Frame{Fin: true, Op: OpText, Unmasked: true, Payload: []byte("x")}, websocket.CloseProtocolError},
		{"longPing", Ping(make([]byte, 126)), websocket.CloseProtocolError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, addr, Options{})
			if err := c.WriteFrame(tt.f); err != nil {
				t.Fatal(err)
			}
			if err := c.ExpectClose(tt.want, tmo); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestHandshakeErrors(t *testing.T) {
	t.Parallel()
	addr := gorillaEcho(t)
	_, err := Dial(addr, "/nope", Options{})
	var he *HandshakeError
	if !errors.As(err, &he) || !errors.Is(err, ErrHandshake) || he.Response.StatusCode != 404 {
		t.Fatalf("404 path: %v", err)
	}
	_, err = Dial(addr, "/echo", Options{Header: http.Header{"Sec-WebSocket-Version": {"8"}}})
	if !errors.As(err, &he) || he.Response.StatusCode != http.StatusBadRequest {
		t.Fatalf("version 8: %v", err)
	}
	bad := rawServer(t, func(string) []byte { return upgradeOK("other key") })
	if _, err = Dial(bad, "/echo", Options{}); !errors.As(err, &he) || !strings.Contains(he.Reason, "Accept") {
		t.Fatalf("bad accept: %v", err)
	}
	ext := rawServer(t, func(k string) []byte {
		r := upgradeOK(k)
		return append(r[:len(r)-2], "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"...)
	})
	if _, err = Dial(ext, "/echo", Options{}); !errors.Is(err, ErrProtocol) {
		t.Fatalf("unoffered extension: %v", err)
	}
}

func TestNegotiation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		offer, resp string
		ok          bool
	}{
		{"permessage-deflate", "permessage-deflate", true},
		{"permessage-deflate", "permessage-deflate; server_max_window_bits=10", true},
		{"permessage-deflate", "permessage-deflate; client_max_window_bits=10", false},
		{"permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits=10", true},
		{"permessage-deflate; client_max_window_bits=9", "permessage-deflate; client_max_window_bits=10", false},
		{"permessage-deflate; server_no_context_takeover", "permessage-deflate", false},
		{"permessage-deflate; server_max_window_bits=9", "permessage-deflate; server_max_window_bits=9", true},
		{"permessage-deflate; server_max_window_bits=9", "permessage-deflate; server_max_window_bits=15", false},
		{"permessage-deflate; server_max_window_bits=9", "permessage-deflate", false},
		{"permessage-deflate; server_max_window_bits=9, permessage-deflate", "permessage-deflate", true},
		{"permessage-deflate", "permessage-deflate; client_max_window_bits", false},
		{"permessage-deflate", "permessage-deflate; bogus", false},
		{"permessage-deflate", "permessage-deflate, permessage-deflate", false},
		{"permessage-deflate", "x-webkit-deflate-frame", false},
		{"permessage-deflate", "permessage-deflate; server_max_window_bits=16", false},
	}
	for _, tt := range tests {
		t.Run(tt.offer+"/"+tt.resp, func(t *testing.T) {
			t.Parallel()
			addr := rawServer(t, func(k string) []byte {
				r := upgradeOK(k)
				return append(r[:len(r)-2], "Sec-WebSocket-Extensions: "+tt.resp+"\r\n\r\n"...)
			})
			c, err := Dial(addr, "/", Options{Extensions: tt.offer})
			if err == nil {
				c.Close()
			}
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestReaderRejectsServerViolations feeds raw server frames to the reader.
func TestReaderRejectsServerViolations(t *testing.T) {
	t.Parallel()
	un := func(f Frame) []byte { f.Unmasked = true; return AppendFrame(nil, f) }
	tests := []struct {
		name string
		wire []byte
		ok   bool
	}{
		{"good", un(Text("hi")), true},
		{"masked", AppendFrame(nil, Frame{Fin: true, Op: OpText, Mask: [4]byte{1, 2, 3, 4}, Payload: []byte("hi")}), false},
		{"badUTF8", un(Text("\xff")), false},
		{"rsv", un(Frame{Fin: true, Rsv: Rsv1, Op: OpText}), false},
		{"loneContinuation", un(Frame{Fin: true, Op: OpContinuation}), false},
		{"fragmentedPing", un(Frame{Op: OpPing}), false},
		{"longClose", un(Frame{Fin: true, Op: OpClose, Payload: make([]byte, 126)}), false},
		{"reserved", un(Frame{Fin: true, Op: 0xB}), false},
		{"textInsideText", append(un(Frame{Op: OpText, Payload: []byte("a")}), un(Text("b"))...), false},
		{"fragments", append(un(Frame{Op: OpText, Payload: []byte("a")}), un(Frame{Fin: true, Payload: []byte("b")})...), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := rawServer(t, func(k string) []byte { return append(upgradeOK(k), tt.wire...) })
			c := dial(t, addr, Options{})
			_, err := c.ReadMessage(tmo)
			if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrProtocol) {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestExpectEOFAndCloseErrors(t *testing.T) {
	t.Parallel()
	closer := rawServer(t, func(k string) []byte {
		return append(upgradeOK(k), AppendFrame(nil, Frame{Fin: true, Op: OpClose, Unmasked: true, Payload: ClosePayload(1002, "")})...)
	})
	c := dial(t, closer, Options{})
	if err := c.ExpectClose(1000, tmo); !errors.Is(err, ErrUnexpectedFrame) {
		t.Fatalf("wrong code accepted: %v", err)
	}
	c2 := dial(t, closer, Options{})
	code, _, err := c2.ReadClose(tmo)
	if err != nil || code != 1002 {
		t.Fatalf("ReadClose = %d, %v", code, err)
	}
	// The raw server keeps the socket until the client writes or goes.
	if err := c2.ExpectEOF(100 * time.Millisecond); !errors.Is(err, ErrNotClosed) {
		t.Fatalf("ExpectEOF on open socket = %v", err)
	}
	_ = c2.WriteRaw([]byte{0})
	if err := c2.ExpectEOF(tmo); err != nil {
		t.Fatalf("ExpectEOF after server close = %v", err)
	}
	if _, err := c2.ReadFrame(tmo); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after EOF = %v", err)
	}
}

func TestHandshakeOverConn(t *testing.T) {
	t.Parallel()
	addr := gorillaEcho(t)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := Handshake(conn, addr, "/echo", Options{Header: http.Header{"Origin": {"http://" + addr}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFrames(Frame{Op: OpBinary, Payload: []byte{1}}, Ping(nil), Frame{Fin: true, Payload: []byte{2}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []Opcode{OpPong, OpBinary} {
		m, err := c.ReadMessage(tmo)
		if err != nil || m.Op != want {
			t.Fatalf("got %v, %v; want %v", m, err, want)
		}
		if want == OpBinary && (m.Frames != 1 || !bytes.Equal(m.Payload, []byte{1, 2})) {
			t.Fatalf("echo %v", m)
		}
	}
}
