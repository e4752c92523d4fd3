package server

import (
	"testing"
	"unsafe"

	"github.com/plezigo/plezi/dispatch"
)

// TestConnSize keeps what an idle websocket costs in records within its
// size classes: the server's conn within 144 bytes (the next class is
// 160), and dispatch's record, which is the controller's Socket, within 72
// (a controller of a Socket and a string takes the 96-byte class, one of a
// Socket alone the 80-byte one). 224 bytes together, where one 224-byte
// conn with dispatch's record inside plus an 8-byte Socket took 232.
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 144 {
		t.Fatalf("conn is %d bytes, over the 144-byte size class", n)
	}
	if n := unsafe.Sizeof(dispatch.Socket{}); n > 72 {
		t.Fatalf("dispatch.Socket is %d bytes, over 72", n)
	}
}
