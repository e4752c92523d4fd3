package hostile

// Framing probes: frames RFC 6455 forbids close the connection with 1002
// (our close frame, then the TCP close); valid frames split to single bytes
// still work.

import (
	"bytes"
	"testing"

	"github.com/plezigo/plezi/internal/wstest"
)

// TestBadFraming: each forbidden frame gets close 1002 and a closed socket.
func TestBadFraming(t *testing.T) {
	t.Parallel()
	p := start(t)
	tests := []struct {
		name string
		f    wstest.Frame
	}{
		{"unmasked", wstest.Frame{Fin: true, Op: wstest.OpText, Payload: []byte("hi"), Unmasked: true}},
		{"reserved opcode", wstest.Frame{Fin: true, Op: 0x3, Payload: []byte("hi")}},
		{"reserved control opcode", wstest.Frame{Fin: true, Op: 0xB}},
		{"rsv1 without deflate", wstest.Frame{Fin: true, Op: wstest.OpText, Rsv: wstest.Rsv1, Payload: []byte("hi")}},
		{"rsv2", wstest.Frame{Fin: true, Op: wstest.OpBinary, Rsv: wstest.Rsv2, Payload: []byte("hi")}},
		{"rsv3", wstest.Frame{Fin: true, Op: wstest.OpBinary, Rsv: 1, Payload: []byte("hi")}},
		{"fragmented ping", wstest.Frame{Op: wstest.OpPing, Payload: []byte("p")}},
		{"ping over 125 bytes", wstest.Ping(bytes.Repeat([]byte("p"), 126))},
		{"continuation first", wstest.Frame{Fin: true, Op: wstest.OpContinuation, Payload: []byte("x")}},
		{"close of 1 byte", wstest.Frame{Fin: true, Op: wstest.OpClose, Payload: []byte{3}}},
		{"close code 1005", wstest.CloseFrame(1005, "")},
		{"length with the top bit", wstest.Frame{Fin: true, Op: wstest.OpBinary, Length: 1 << 63, LengthSet: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, p, "/echo", wstest.Options{})
			if err := c.WriteFrame(tt.f); err != nil {
				t.Fatal(err)
			}
			if err := c.ExpectClose(1002, ioWait); err != nil {
				t.Fatalf("after %v: %v, want close 1002 and the TCP close", tt.f, err)
			}
		})
	}
}

// TestFramesByteByByte: a fragmented text message with a ping between its
// fragments, written one byte per write, is answered with the pong and the
// whole message.
func TestFramesByteByByte(t *testing.T) {
	t.Parallel()
	p := start(t)
	c := dial(t, p, "/echo", wstest.Options{})
	var b []byte
	for _, f := range []wstest.Frame{
		{Op: wstest.OpText, Payload: []byte("hello, ")},
		wstest.Ping([]byte("mid")),
		{Fin: true, Op: wstest.OpContinuation, Payload: []byte("wörld")},
	} {
		b = append(b, c.Encode(f)...)
	}
	if err := c.WriteChopped(b, 1, 0); err != nil {
		t.Fatal(err)
	}
	for _, want := range []wstest.Message{{Op: wstest.OpPong, Payload: []byte("mid")}, {Op: wstest.OpText, Payload: []byte("hello, wörld")}} {
		m, err := c.ReadMessage(ioWait)
		if err != nil || m.Op != want.Op || !bytes.Equal(m.Payload, want.Payload) {
			t.Fatalf("got %v, %v; want %v", m, err, want)
		}
	}
}
