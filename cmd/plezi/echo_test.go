package main

// Black-box tests of the server through third-party clients
// (github.com/gorilla/websocket, github.com/coder/websocket) and raw
// sockets: echo, limits, keep-alive, every close path, abusive clients and
// HTTP errors.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/internal/wstest"
)

const echoWait = 15 * time.Second // read deadline; generous for -race

func wsURL(addr, path string) string { return "ws://" + addr + path }

// gorillaDial connects a gorilla client; the caller closes it.
func gorillaDial(t *testing.T, d *websocket.Dialer, addr, path string, h http.Header) *websocket.Conn {
	t.Helper()
	if d == nil {
		d = &websocket.Dialer{HandshakeTimeout: echoWait}
	}
	c, resp, err := d.Dial(wsURL(addr, path), h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("gorilla dial %s: %v (status %d)", path, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func gorillaEcho(t *testing.T, c *websocket.Conn, mt int, p []byte) {
	t.Helper()
	if err := c.WriteMessage(mt, p); err != nil {
		t.Fatalf("write: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(echoWait))
	gt, got, err := c.ReadMessage()
	if err != nil || gt != mt || !bytes.Equal(got, p) {
		t.Fatalf("echo: type %d, %d bytes, err %v; want type %d, %d bytes", gt, len(got), err, mt, len(p))
	}
}

// gorillaCloseCode reads until the connection ends and returns the close
// code the server sent (0 if none).
func gorillaCloseCode(t *testing.T, c *websocket.Conn) int {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(echoWait))
	for {
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if err != nil {
			t.Logf("read ended without a close frame: %v", err)
			return 0
		}
	}
}

func TestEchoGorilla(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t).addr
	text := strings.Repeat("héllo wörld ", 1000)
	tests := []struct {
		name string
		mt   int
		p    []byte
	}{
		{"text", websocket.TextMessage, []byte("hello")},
		{"emptyText", websocket.TextMessage, nil},
		{"utf8Text", websocket.TextMessage, []byte(text)},
		{"binary", websocket.BinaryMessage, []byte{0, 1, 2, 0xff, 0xfe}},
		{"binary64k", websocket.BinaryMessage, bytes.Repeat([]byte{0xfe}, 65536)},
		{"almostMax", websocket.BinaryMessage, bytes.Repeat([]byte{7}, 1<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := gorillaDial(t, nil, addr, "/echo", nil)
			for range 3 {
				gorillaEcho(t, c, tt.mt, tt.p)
			}
		})
	}
	t.Run("fragmented", func(t *testing.T) {
		t.Parallel()
		// A 64-byte write buffer makes gorilla send each message as many
		// frames: the server must reassemble them.
		c := gorillaDial(t, &websocket.Dialer{WriteBufferSize: 64}, addr, "/echo", nil)
		for _, mt := range []int{websocket.TextMessage, websocket.BinaryMessage} {
			w, err := c.NextWriter(mt)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 100 {
				fmt.Fprintf(w, "part %03d ", i)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(echoWait))
			gt, got, err := c.ReadMessage()
			if err != nil || gt != mt || len(got) != 900 || !strings.HasPrefix(string(got), "part 000 part 001") || !strings.HasSuffix(string(got), "part 099 ") {
				t.Fatalf("fragmented echo: %d %q %v", gt, got, err)
			}
		}
	})
}

func TestEchoCoder(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t).addr
	tests := []struct {
		name string
		typ  coder.MessageType
		p    []byte
	}{
		{"text", coder.MessageText, []byte("hello from coder")},
		{"binary", coder.MessageBinary, bytes.Repeat([]byte{1, 2, 3}, 50_000)},
		{"empty", coder.MessageBinary, []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), echoWait)
			defer cancel()
			c, _, err := coder.Dial(ctx, wsURL(addr, "/echo"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			c.SetReadLimit(1 << 20)
			for range 3 {
				if err := c.Write(ctx, tt.typ, tt.p); err != nil {
					t.Fatal(err)
				}
				typ, got, err := c.Read(ctx)
				if err != nil || typ != tt.typ || !bytes.Equal(got, tt.p) {
					t.Fatalf("echo: %v %d bytes %v", typ, len(got), err)
				}
			}
			if err := c.Close(coder.StatusNormalClosure, "done"); err != nil {
				t.Fatalf("close handshake: %v", err)
			}
		})
	}
}

func TestMessageLimits(t *testing.T) {
	t.Parallel()
	big := bootPlezi(t, "-max-message", "67108864").addr
	small := bootPlezi(t).addr // default 1 MiB
	t.Run("16MiB", func(t *testing.T) {
		t.Parallel()
		c := gorillaDial(t, nil, big, "/echo", nil)
		gorillaEcho(t, c, websocket.BinaryMessage, bytes.Repeat([]byte{0xab}, 16<<20))
	})
	t.Run("16MiBcoder", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 2*echoWait)
		defer cancel()
		c, _, err := coder.Dial(ctx, wsURL(big, "/echo"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		c.SetReadLimit(32 << 20)
		p := bytes.Repeat([]byte("z"), 16<<20)
		if err := c.Write(ctx, coder.MessageText, p); err != nil {
			t.Fatal(err)
		}
		if typ, got, err := c.Read(ctx); err != nil || typ != coder.MessageText || !bytes.Equal(got, p) {
			t.Fatalf("echo: %v %d %v", typ, len(got), err)
		}
	})
	t.Run("over1MiB", func(t *testing.T) {
		t.Parallel()
		c := gorillaDial(t, nil, small, "/echo", nil)
		_ = c.WriteMessage(websocket.BinaryMessage, make([]byte, 1<<20+1))
		if code := gorillaCloseCode(t, c); code != websocket.CloseMessageTooBig {
			t.Fatalf("close code %d, want 1009", code)
		}
	})
	t.Run("over1MiBinFragments", func(t *testing.T) {
		t.Parallel()
		c, err := wstest.Dial(small, "/echo", wstest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Each frame is small; the message is not. The server must fail
		// it once the total passes the limit, before it ends.
		fs := wstest.Fragments(wstest.OpBinary, make([]byte, 1<<20+8192), 4096)
		_ = c.WriteFrames(fs[:len(fs)-1]...) // 1 MiB + 4 KiB sent, unfinished
		if err := c.ExpectClose(1009, echoWait); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCompressionClients(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t, "-compress").addr
	text := []byte(strings.Repeat("compress me, compress me again. ", 4000))
	t.Run("gorilla", func(t *testing.T) {
		t.Parallel()
		c, resp, err := (&websocket.Dialer{EnableCompression: true}).Dial(wsURL(addr, "/echo"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
			t.Fatalf("not negotiated: %q", ext)
		}
		for range 3 {
			gorillaEcho(t, c, websocket.TextMessage, text)
			gorillaEcho(t, c, websocket.BinaryMessage, text[:1000])
		}
	})
	t.Run("coderContextTakeover", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), echoWait)
		defer cancel()
		c, resp, err := coder.Dial(ctx, wsURL(addr, "/echo"), &coder.DialOptions{CompressionMode: coder.CompressionContextTakeover})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
			t.Fatalf("not negotiated: %q", ext)
		}
		c.SetReadLimit(1 << 20)
		for i := range 5 {
			msg := append([]byte(fmt.Sprintf("%d:", i)), text...)
			if err := c.Write(ctx, coder.MessageText, msg); err != nil {
				t.Fatal(err)
			}
			if _, got, err := c.Read(ctx); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("echo %d: %d bytes, %v", i, len(got), err)
			}
		}
		if err := c.Close(coder.StatusNormalClosure, ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("inflateBomb", func(t *testing.T) {
		t.Parallel()
		// 2 MiB of zeros deflate to about 2 KiB: the inflated size, not
		// the wire size, must meet the 1 MiB limit.
		c, err := wstest.Dial(addr, "/echo", wstest.Options{Extensions: "permessage-deflate"})
		if err != nil || c.Deflate == nil {
			t.Fatalf("dial: %v, %v", err, c)
		}
		defer c.Close()
		_ = c.WriteMessage(wstest.OpBinary, make([]byte, 2<<20), 0, true)
		if err := c.ExpectClose(1009, echoWait); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPingPong(t *testing.T) {
	t.Parallel()
	// The server pings after 200ms of quiet and closes after 600ms without
	// any traffic from the client.
	addr := bootPlezi(t, "-ping", "200ms", "-idle", "600ms").addr
	t.Run("clientPing", func(t *testing.T) {
		t.Parallel()
		c := gorillaDial(t, nil, addr, "/echo", nil)
		pongs := make(chan string, 1)
		c.SetPongHandler(func(p string) error { pongs <- p; return nil })
		go func() { // control frames are handled inside reads
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
		if err := c.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(echoWait)); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-pongs:
			if p != "are you there" {
				t.Fatalf("pong payload %q", p)
			}
		case <-time.After(echoWait):
			t.Fatal("no pong")
		}
	})
	t.Run("coderPing", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), echoWait)
		defer cancel()
		c, _, err := coder.Dial(ctx, wsURL(addr, "/echo"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		rctx := c.CloseRead(ctx)
		if err := c.Ping(rctx); err != nil {
			t.Fatalf("ping: %v", err)
		}
	})
	t.Run("answeringClientStays", func(t *testing.T) {
		t.Parallel()
		c := gorillaDial(t, nil, addr, "/echo", nil)
		var pings atomic.Int32
		c.SetPingHandler(func(p string) error {
			pings.Add(1)
			return c.WriteControl(websocket.PongMessage, []byte(p), time.Now().Add(echoWait))
		})
		msgs := make(chan []byte, 1)
		go func() {
			for {
				_, p, err := c.ReadMessage()
				if err != nil {
					close(msgs)
					return
				}
				msgs <- p
			}
		}()
		start := time.Now()
		// 5 pings span more than 1 s: well past the 600 ms idle timeout.
		eventually(t, echoWait, "5 server pings", func() bool { return pings.Load() >= 5 })
		if time.Since(start) < 600*time.Millisecond {
			t.Fatalf("5 pings within %v: ping interval not honoured", time.Since(start))
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte("still here")); err != nil {
			t.Fatal(err)
		}
		select {
		case p, ok := <-msgs:
			if !ok || string(p) != "still here" {
				t.Fatalf("echo after idle period: %q, open=%v", p, ok)
			}
		case <-time.After(echoWait):
			t.Fatal("no echo")
		}
	})
	t.Run("silentClientClosed", func(t *testing.T) {
		t.Parallel()
		c, err := wstest.Dial(addr, "/echo", wstest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		pings := 0
		for {
			m, err := c.ReadMessage(echoWait)
			if errors.Is(err, wstest.ErrClosed) {
				break // closed without a close frame: acceptable
			}
			if err != nil {
				t.Fatalf("after %d pings: %v", pings, err)
			}
			if m.Op == wstest.OpPing {
				pings++ // never answered
				continue
			}
			if m.Op != wstest.OpClose {
				t.Fatalf("unexpected %v", m)
			}
			if err := c.ExpectEOF(echoWait); err != nil {
				t.Fatal(err)
			}
			break
		}
		if pings == 0 {
			t.Error("closed without ever being pinged")
		}
		if d := time.Since(start); d < 500*time.Millisecond {
			t.Errorf("closed after %v, before the 600ms idle timeout", d)
		}
	})
}

func TestClosePaths(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t).addr
	t.Run("clientCodeEchoed", func(t *testing.T) {
		t.Parallel()
		for _, code := range []int{1000, 1001, 3000, 4321} {
			c := gorillaDial(t, nil, addr, "/echo", nil)
			_ = c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, "bye"))
			if got := gorillaCloseCode(t, c); got != code {
				t.Fatalf("close %d answered with %d", code, got)
			}
		}
	})
	t.Run("coderNormal", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), echoWait)
		defer cancel()
		c, _, err := coder.Dial(ctx, wsURL(addr, "/echo"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Close(coder.StatusGoingAway, "leaving"); err != nil {
			t.Fatalf("close handshake: %v", err)
		}
	})
	t.Run("protocolError", func(t *testing.T) {
		t.Parallel()
		c := gorillaDial(t, nil, addr, "/echo", nil)
		// RSV2 set, no extension: 1002.
		_, _ = c.UnderlyingConn().Write(wstest.AppendFrame(nil, wstest.Frame{Fin: true, Rsv: wstest.Rsv2, Op: wstest.OpText, Mask: [4]byte{1, 2, 3, 4}, Payload: []byte("x")}))
		if code := gorillaCloseCode(t, c); code != websocket.CloseProtocolError {
			t.Fatalf("close code %d, want 1002", code)
		}
	})
	t.Run("badUTF8", func(t *testing.T) {
		t.Parallel()
		c := gorillaDial(t, nil, addr, "/echo", nil)
		_ = c.WriteMessage(websocket.TextMessage, []byte("ok \xc0\xaf no"))
		if code := gorillaCloseCode(t, c); code != websocket.CloseInvalidFramePayloadData {
			t.Fatalf("close code %d, want 1007", code)
		}
	})
}

func TestShutdownClosesWith1001(t *testing.T) {
	t.Parallel()
	s := bootPlezi(t)
	g := gorillaDial(t, nil, s.addr, "/echo", nil)
	gorillaEcho(t, g, websocket.TextMessage, []byte("before"))
	raw, err := wstest.Dial(s.addr, "/demo/push", wstest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), echoWait)
	defer cancel()
	cc, _, err := coder.Dial(ctx, wsURL(s.addr, "/echo"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.CloseNow()
	stopped := make(chan error, 1)
	go func() { stopped <- s.stop() }()
	if code := gorillaCloseCode(t, g); code != websocket.CloseGoingAway {
		t.Errorf("gorilla: close code %d, want 1001", code)
	}
	if _, _, err := cc.Read(ctx); coder.CloseStatus(err) != coder.StatusGoingAway {
		t.Errorf("coder: %v, want 1001", err)
	}
	if err := raw.ExpectClose(1001, echoWait); err != nil {
		t.Errorf("raw: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("run returned %v", err)
	}
	if _, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
		t.Error("still accepting after shutdown")
	}
}

func TestSlowloris(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t, "-handshake-timeout", "300ms").addr
	for _, half := range []string{"", "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"} {
		t.Run(fmt.Sprintf("sent%d", len(half)), func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			start := time.Now()
			if _, err := conn.Write([]byte(half)); err != nil {
				t.Fatal(err)
			}
			// Others are served while the stalled request waits.
			gorillaEcho(t, gorillaDial(t, nil, addr, "/echo", nil), websocket.TextMessage, []byte("not blocked"))
			_ = conn.SetReadDeadline(time.Now().Add(echoWait))
			_, err = io.Copy(io.Discard, conn) // an error response is fine; the close is required
			if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
				t.Fatalf("socket not closed: %v", err)
			}
			if d := time.Since(start); d < 250*time.Millisecond {
				t.Errorf("closed after %v, before the 300ms handshake timeout", d)
			}
		})
	}
}

// TestSlowConsumer floods /demo/push while one client never reads: it must be
// closed with 4008 without holding back the clients that do read.
func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t, "-max-message", "16384", "-max-outbound", "65536").addr
	stuck, err := wstest.Dial(addr, "/demo/push", wstest.Options{ReadBuffer: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	sender := gorillaDial(t, nil, addr, "/demo/push", nil)
	reader := gorillaDial(t, nil, addr, "/demo/push", nil)
	const n, size = 1500, 4096
	msg := func(i int) []byte {
		b := bytes.Repeat([]byte{'.'}, size)
		copy(b, fmt.Sprintf("%06d", i))
		return b
	}
	// Both readers must see every message, in order. The sender keeps at
	// most `window` messages ahead of the slower reader, so readers that
	// keep reading are never slow consumers, however loaded the machine;
	// the stuck client falls behind without bound.
	const window = 8
	var progress [2]atomic.Int64
	check := func(c *websocket.Conn, who string, done *atomic.Int64, errc chan<- error) {
		for i := range n {
			_ = c.SetReadDeadline(time.Now().Add(echoWait))
			_, p, err := c.ReadMessage()
			if err != nil || !bytes.Equal(p, msg(i)) {
				errc <- fmt.Errorf("%s: message %d: %.6q, %v", who, i, p, err)
				done.Store(n) // release the sender
				return
			}
			done.Add(1)
		}
		errc <- nil
	}
	errc := make(chan error, 2)
	go check(sender, "sender", &progress[0], errc)
	go check(reader, "reader", &progress[1], errc)
	for i := range n {
		eventually(t, echoWait, "readers within the window", func() bool {
			return int64(i)-min(progress[0].Load(), progress[1].Load()) < window
		})
		if err := sender.WriteMessage(websocket.BinaryMessage, msg(i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	// The stuck client finds an in-order prefix, then close 4008.
	for i := 0; ; i++ {
		m, err := stuck.ReadMessage(echoWait)
		if err != nil {
			t.Fatalf("stuck client after %d messages: %v", i, err)
		}
		if m.Op == wstest.OpClose {
			code, _, _ := wstest.ParseClose(m.Payload)
			if code != 4008 {
				t.Fatalf("close code %d, want 4008", code)
			}
			if i == n {
				t.Fatal("the stuck client got every message: the flood never backed up")
			}
			return
		}
		if !bytes.Equal(m.Payload, msg(i)) {
			t.Fatalf("stuck client message %d: %.6q", i, m.Payload)
		}
	}
}

func TestMaxConns(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t, "-max-conns", "2").addr
	a, err := wstest.Dial(addr, "/echo", wstest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := wstest.Dial(addr, "/echo", wstest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = wstest.Dial(addr, "/echo", wstest.Options{})
	var he *wstest.HandshakeError
	if !errors.As(err, &he) || he.Response == nil || he.Response.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third connection: %v, want 503", err)
	}
	if code, _, err := a.CloseHandshake(1000, "", echoWait); err != nil || code != 1000 {
		t.Fatalf("close: %d %v", code, err)
	}
	eventually(t, echoWait, "a slot to free up", func() bool {
		c, err := wstest.Dial(addr, "/echo", wstest.Options{})
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func TestOrigins(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t, "-origins", "http://good.example,https://also.example").addr
	tests := []struct {
		origin string
		want   int
	}{
		{"http://good.example", http.StatusSwitchingProtocols},
		{"https://also.example", http.StatusSwitchingProtocols},
		{"http://evil.example", http.StatusForbidden},
		{"http://good.example.evil", http.StatusForbidden},
		{"null", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			t.Parallel()
			c, err := wstest.Dial(addr, "/echo", wstest.Options{Header: http.Header{"Origin": {tt.origin}}})
			got := http.StatusSwitchingProtocols
			var he *wstest.HandshakeError
			if errors.As(err, &he) && he.Response != nil {
				got = he.Response.StatusCode
			} else if err != nil {
				t.Fatal(err)
			} else {
				c.Close()
			}
			if got != tt.want {
				t.Fatalf("status %d, want %d", got, tt.want)
			}
		})
	}
}

// rawHTTP sends req on a new connection and returns the response.
func rawHTTP(t *testing.T, addr string, req []byte) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(echoWait))
	if _, err := conn.Write(req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("response: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestHTTPErrors(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t).addr
	up := func(method, path string, h http.Header) []byte { return wstest.UpgradeRequest(method, addr, path, h) }
	tests := []struct {
		name   string
		req    []byte
		status int
		check  func(*http.Response) string
	}{
		{"unknownPath", []byte("GET /no/such/path HTTP/1.1\r\nHost: x\r\n\r\n"), http.StatusNotFound, nil},
		{"unknownPathUpgrade", up("GET", "/no/such/path", nil), http.StatusNotFound, nil},
		{"post", up("POST", "/echo", nil), http.StatusMethodNotAllowed, nil},
		{"put", up("PUT", "/echo", nil), http.StatusMethodNotAllowed, nil},
		{"version8", up("GET", "/echo", http.Header{"Sec-Websocket-Version": {"8"}}), http.StatusUpgradeRequired,
			func(r *http.Response) string {
				if v := r.Header.Get("Sec-WebSocket-Version"); v != "13" {
					return "Sec-WebSocket-Version: " + v
				}
				return ""
			}},
		{"hugeHeaders", up("GET", "/echo", http.Header{"X-Big": {strings.Repeat("a", 17<<10)}}), http.StatusRequestHeaderFieldsTooLarge, nil},
		{"manyHeaders", up("GET", "/echo", manyHeaders(600)), http.StatusRequestHeaderFieldsTooLarge, nil},
		{"garbage", []byte("THIS IS NOT HTTP\r\n\r\n"), http.StatusBadRequest, nil},
		{"badRequestLine", []byte("GET /echo HTTP/1.1 extra\r\nHost: x\r\n\r\n"), http.StatusBadRequest, nil},
		{"noKey", up("GET", "/echo", http.Header{"Sec-Websocket-Key": nil}), http.StatusBadRequest, nil},
		{"shortKey", up("GET", "/echo", http.Header{"Sec-Websocket-Key": {"c2hvcnQ="}}), http.StatusBadRequest, nil},
		{"healthz", []byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), http.StatusOK, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := rawHTTP(t, addr, tt.req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.check != nil {
				if msg := tt.check(resp); msg != "" {
					t.Fatal(msg)
				}
			}
		})
	}
}

func manyHeaders(n int) http.Header {
	h := http.Header{}
	for i := range n {
		h.Set(fmt.Sprintf("X-H%04d", i), "0123456789012345678901234567")
	}
	return h
}
