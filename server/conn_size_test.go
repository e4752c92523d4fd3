package server

import (
	"testing"
	"unsafe"
)

// TestConnSize keeps a connection's record (dispatch's included) within
// the 224-byte size class: every idle connection pays for each byte, and
// the next class up is 240.
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 224 {
		t.Fatalf("conn is %d bytes, over the 224-byte size class", n)
	}
}
