package server

import (
	"testing"
	"unsafe"

	"github.com/plezigo/plezi/dispatch"
)

// TestConnSize keeps what an idle websocket costs in records within its
// size classes: the server's conn within 112 bytes (the next class is
// 128; it was 144 while the decoder's frame state lived in it), and
// dispatch's record, which is the controller's Socket, within 64 (a
// controller of a Socket alone takes the 64-byte class, one of a Socket
// and a string the 80-byte one; it was 72 with the loop, generation and a
// per-type list index in separate fields). 176 bytes together, 224
// before.
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 112 {
		t.Fatalf("conn is %d bytes, over the 112-byte size class", n)
	}
	if n := unsafe.Sizeof(dispatch.Socket{}); n > 64 {
		t.Fatalf("dispatch.Socket is %d bytes, over 64", n)
	}
}
