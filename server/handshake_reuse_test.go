package server_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// padProbe reports, in OnOpen, the X-Pad header of its upgrade request.
type padProbe struct{ dispatch.Socket }

func (p *padProbe) OnOpen() { _ = p.Write("pad=" + string(p.Request().Raw().Header("X-Pad"))) }

// TestHandshakeStateReuse: an upgraded connection's HTTP state is reused
// by later handshakes (server/http.go, httpStates); nothing of one request
// shows in the next. Handshakes alternate between a long head with a
// subprotocol and a padding header and a short one with neither: each
// 101 names the subprotocol only when asked, and each OnOpen sees only
// its own request's headers.
func TestHandshakeStateReuse(t *testing.T) {
	s := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet, Loops: 1})
	noErr(t, s.Route("/probe", func() dispatch.Controller { return new(padProbe) }, dispatch.Inline(), dispatch.Protocols("chat")))
	n := run(t, s)
	for i := range 40 {
		long := i%2 == 0
		head := "GET /probe HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
		want := "pad="
		if long {
			pad := strings.Repeat("p", 2000)
			head += "Sec-WebSocket-Protocol: chat\r\nX-Pad: " + pad + "\r\nX-More: 1\r\nX-Even-More: 2\r\n"
			want += pad
		}
		c, err := net.Dial("tcp", n.Addr())
		noErr(t, err)
		_ = c.SetDeadline(time.Now().Add(wait))
		_, err = c.Write([]byte(head + "\r\n"))
		noErr(t, err)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		noErr(t, err)
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake %d: status %d", i, resp.StatusCode)
		}
		if got, wantProto := resp.Header.Get("Sec-WebSocket-Protocol"), map[bool]string{true: "chat"}[long]; got != wantProto {
			t.Fatalf("handshake %d: subprotocol %q, want %q", i, got, wantProto)
		}
		msg, err := wsutil.ReadServerText(struct {
			io.Reader
			io.Writer
		}{br, c})
		noErr(t, err)
		if string(msg) != want {
			t.Fatalf("handshake %d: OnOpen saw %.40q…, want %.40q…", i, msg, want)
		}
		_ = c.Close()
	}
}
