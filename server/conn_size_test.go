package server

import (
	"testing"
	"unsafe"

	"github.com/plezigo/plezi/dispatch"
)

// TestConnSize keeps what an idle websocket costs in records within its
// size classes: the server's conn within 112 bytes (the next class is
// 128; it was 144 while the decoder's frame state lived in it), and
// dispatch's record, which is the controller's Socket, within 72 (a
// controller of a Socket and a string takes the 96-byte class, one of a
// Socket alone the 80-byte one). 192 bytes together.
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 112 {
		t.Fatalf("conn is %d bytes, over the 112-byte size class", n)
	}
	if n := unsafe.Sizeof(dispatch.Socket{}); n > 72 {
		t.Fatalf("dispatch.Socket is %d bytes, over 72", n)
	}
}
