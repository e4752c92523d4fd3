package codec_test

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/gobwas/ws"
	"github.com/plezigo/plezi/codec"
)

func ExampleRequestParser_Parse() {
	var p codec.RequestParser
	var r codec.Request
	stream := []byte("GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\nGET /next")
	// The head arrives in pieces; Parse remembers how far it looked.
	for _, end := range []int{10, 40, len(stream)} {
		n, err := p.Parse(stream[:end], &r)
		fmt.Println(end, n, err)
	}
	fmt.Printf("%s %s %q keep-alive=%v\n", r.Method(), r.Path(), r.Query(), r.KeepAlive())
	// Output:
	// 10 0 <nil>
	// 40 0 <nil>
	// 76 67 <nil>
	// GET /chat "room=1" keep-alive=false
}

func ExampleCheckUpgrade() {
	head := "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n" +
		"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
	var p codec.RequestParser
	var r codec.Request
	if _, err := p.Parse([]byte(head), &r); err != nil {
		fmt.Println(err)
		return
	}
	key, err := codec.CheckUpgrade(&r)
	if err != nil {
		fmt.Print(strings.ReplaceAll(string(codec.AppendHTTPError(nil, err)), "\r", ""))
		return
	}
	_, ext, _ := codec.NegotiateDeflate(&r)
	resp := codec.AppendUpgradeResponse(nil, key, "", ext)
	fmt.Print(strings.ReplaceAll(string(resp), "\r", ""))
	// Output:
	// HTTP/1.1 101 Switching Protocols
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
	// Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover
}

func ExampleDecoder_Next() {
	// Two masked client frames: "hel" (not final) and "lo" (final), with a
	// ping in between, as they may arrive from a socket.
	var in []byte
	for _, f := range []ws.Frame{
		ws.NewFrame(ws.OpText, false, []byte("hel")),
		ws.NewPingFrame([]byte("?")),
		ws.NewFrame(ws.OpContinuation, true, []byte("lo")),
	} {
		var buf bytes.Buffer
		_ = ws.WriteFrame(&buf, ws.MaskFrameWith(f, [4]byte{1, 2, 3, 4}))
		in = append(in, buf.Bytes()...)
	}
	var d codec.Decoder
	defer d.Release()
	for {
		ev, n, err := d.Next(in)
		if err != nil {
			fmt.Println("close with", codec.CloseCodeOf(err))
			return
		}
		in = in[n:] // the server discards n bytes
		if ev.Kind == codec.KindNone {
			if n == 0 {
				return // wait for more bytes
			}
			continue
		}
		fmt.Printf("%v %q\n", ev.Kind, ev.Payload)
	}
	// Output:
	// ping "?"
	// text "hello"
}

func ExamplePrepared() {
	msg := codec.NewPrepared(ws.OpText, bytes.Repeat([]byte(`{"event":"tick"} `), 10))
	var plain, deflate codec.Encoder
	deflate.EnableDeflate(codec.DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15})
	// Every connection writes one of the shared, immutable variants.
	fmt.Println(len(msg.Frame(&plain)), len(msg.Frame(&deflate)) < msg.Len())
	// Output:
	// 174 true
}
