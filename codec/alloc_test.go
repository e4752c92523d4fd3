//go:build !race

package codec

import (
	"testing"

	"github.com/gobwas/ws"
)

// Zero-allocation contracts of the hot paths (T3, H1). The race detector
// allocates, hence the build tag.

func assertNoAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	f() // warm pools and grow reused buffers
	if n := testing.AllocsPerRun(200, f); n != 0 {
		t.Errorf(
			"%s: %.1f allocations per run, want 0",
			name, n,
		)
	}
}

func assertAllocs(t *testing.T, name string, want float64, f func()) {
	t.Helper()
	f()
	if n := testing.AllocsPerRun(200, f); n != want {
		t.Errorf("%s: %.1f allocations per run, want %.0f", name, n, want)
	}
}

func TestAllocsHTTP(t *testing.T) {
	head := []byte(upgradeHead)
	var p RequestParser
	var r Request
	dst := make([]byte, 0, 1024)
	assertNoAllocs(t, "Parse", func() {
		if n, err := p.Parse(head, &r); n != len(head) || err != nil {
			t.Fatal(n, err)
		}
	})
	assertNoAllocs(t, "Parse byte by byte", func() {
		for i := 1; i <= len(head); i++ {
			if n, err := p.Parse(head[:i], &r); err != nil || (n != 0) != (i == len(head)) {
				t.Fatal(i, n, err)
			}
		}
	})
	assertNoAllocs(t, "Header/HasToken/KeepAlive", func() {
		if r.Header("sec-websocket-key") == nil || !r.HasToken("Connection", "upgrade") || !r.KeepAlive() {
			t.Fatal("lookup failed")
		}
	})
	assertNoAllocs(t, "CheckUpgrade", func() {
		if _, err := CheckUpgrade(&r); err != nil {
			t.Fatal(err)
		}
	})
	supported := []string{"superchat"}
	assertNoAllocs(t, "SelectProtocol", func() {
		if SelectProtocol(&r, supported) != "superchat" {
			t.Fatal("no protocol")
		}
	})
	key := r.Header("Sec-WebSocket-Key")
	assertNoAllocs(t, "AppendAcceptKey", func() { dst = AppendAcceptKey(dst[:0], key) })
	assertNoAllocs(t, "AppendUpgradeResponse", func() {
		dst = AppendUpgradeResponse(dst[:0], key, "chat", []byte("permessage-deflate"))
	})
	// A fresh response, as an upgrade makes one, and a fresh Request, as
	// each connection's first request fills: one allocation per buffer, not
	// one per append (H1 garbage: S1 pays it per connection).
	assertAllocs(t, "AppendUpgradeResponse(nil)", 1, func() {
		dst = AppendUpgradeResponse(nil, key, "chat", []byte("permessage-deflate"))
	})
	assertAllocs(t, "Parse into a fresh Request", 2, func() {
		var fresh Request
		if n, err := p.Parse(head, &fresh); n != len(head) || err != nil {
			t.Fatal(n, err)
		}
	})
	body := []byte("hello")
	assertNoAllocs(t, "AppendResponse", func() {
		dst = AppendResponse(dst[:0], 200, "text/plain", body, true)
	})
}

func TestAllocsDecode(t *testing.T) {
	cases := []struct {
		name string
		cfg  decodeConfig
		in   []byte
	}{
		{name: "whole text frame", in: clientFrame(ws.OpText, true, lorem)},
		{name: "whole binary 64 KiB", in: clientFrame(ws.OpBinary, true, make([]byte, 64<<10))},
		{name: "ping", in: clientFrame(ws.OpPing, true, []byte("x"))},
		{name: "close", in: clientFrame(ws.OpClose, true, closePayload(1000, "bye"))},
		{
			name: "fragmented text",
			in:   cat(clientFrame(ws.OpText, false, lorem[:100]), clientFrame(ws.OpContinuation, true, lorem[100:])),
		},
		{name: "compressed text", cfg: decodeConfig{deflate: deflateOn}, in: compressedFrame(ws.OpText, lorem)},
	}
	for _, tc := range cases {
		d := tc.cfg.decoder()
		buf := make([]byte, len(tc.in))
		assertNoAllocs(t, "Next: "+tc.name, func() {
			copy(buf, tc.in) // Next unmasks in place
			in := buf
			for len(in) > 0 {
				ev, n, err := d.Next(in)
				if err != nil || n == 0 {
					t.Fatal(ev.Kind, n, err)
				}
				in = in[n:]
			}
		})
		d.Release()
	}
	// A frame arriving in two reads.
	var d Decoder
	in := clientFrame(ws.OpText, true, lorem)
	buf := make([]byte, len(in))
	assertNoAllocs(t, "Next: split frame", func() {
		copy(buf, in)
		_, n, err := d.Next(buf[:len(buf)/2])
		if err != nil {
			t.Fatal(err)
		}
		if ev, _, err := d.Next(buf[n:]); err != nil || ev.Kind != KindText {
			t.Fatal(ev.Kind, err)
		}
	})
}

func TestAllocsEncode(t *testing.T) {
	dst := make([]byte, 0, 128<<10)
	payload := make([]byte, 1000)
	assertNoAllocs(t, "AppendFrame", func() { dst = AppendFrame(dst[:0], ws.OpBinary, true, payload) })
	assertNoAllocs(t, "AppendClose", func() { dst = AppendClose(dst[:0], 1001, "going away") })
	var plain, comp, small Encoder
	comp.EnableDeflate(*deflateOn)
	small.EnableDeflate(DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 15})
	assertNoAllocs(t, "AppendMessage plain", func() { dst = plain.AppendMessage(dst[:0], ws.OpText, lorem) })
	assertNoAllocs(t, "AppendMessage deflate", func() { dst = comp.AppendMessage(dst[:0], ws.OpText, lorem) })
	assertNoAllocs(t, "AppendMessage huffman", func() { dst = small.AppendMessage(dst[:0], ws.OpText, lorem) })
	p := NewPrepared(ws.OpText, lorem)
	assertNoAllocs(t, "Prepared.Frame", func() {
		if len(p.Frame(nil)) == 0 || len(p.Frame(&plain)) == 0 || len(p.Frame(&comp)) == 0 || len(p.Frame(&small)) == 0 {
			t.Fatal("empty frame")
		}
	})
}

func TestAllocsSmall(t *testing.T) {
	text := []byte("κόσμε and some ascii text to validate")
	assertNoAllocs(t, "ValidUTF8", func() {
		if !ValidUTF8(text) {
			t.Fatal("invalid")
		}
	})
	assertNoAllocs(t, "UTF8State.Feed", func() {
		var s UTF8State
		if !s.Feed(text[:5]) || !s.Feed(text[5:]) || !s.Complete() {
			t.Fatal("invalid")
		}
	})
	cl := closePayload(1000, "bye")
	assertNoAllocs(t, "ParseClose", func() {
		if _, _, err := ParseClose(cl); err != nil {
			t.Fatal(err)
		}
	})
	assertNoAllocs(t, "CloseCodeOf", func() {
		if CloseCodeOf(ErrControlTooLong) != 1002 || CloseCodeOf(ErrInvalidUTF8) != 1007 {
			t.Fatal("wrong code")
		}
	})
}
