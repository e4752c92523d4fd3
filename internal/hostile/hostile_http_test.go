package hostile

// HTTP probes: request heads that are too big, never end, or arrive byte
// by byte.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/plezigo/plezi/internal/wstest"
)

// TestOversizedHead: a head past the 16 KiB cap is answered 431 and the
// connection closed, whether it is one big header, many small ones, or a
// head that never ends; the server does not wait for the rest.
func TestOversizedHead(t *testing.T) {
	t.Parallel()
	p := start(t)
	many := http.Header{}
	for i := range 600 {
		many.Set(fmt.Sprintf("X-H%04d", i), strings.Repeat("v", 28))
	}
	endless := "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-More: yes\r\n", 2000) // no blank line
	tests := []struct {
		name string
		req  []byte
	}{
		{"big header", wstest.UpgradeRequest("GET", p.Addr, "/echo", http.Header{"X-Big": {strings.Repeat("a", 17<<10)}})},
		{"many headers", wstest.UpgradeRequest("GET", p.Addr, "/echo", many)},
		{"plain GET", []byte("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 17<<10) + "\r\n\r\n")},
		{"never ends", []byte(endless)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, conn := rawHTTP(t, p, tt.req, 0)
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Fatalf("status %d, want 431", resp.StatusCode)
			}
			expectClosed(t, conn)
		})
	}
}

// TestHeadByteByByte: an upgrade request written one byte per write is
// upgraded like any other.
func TestHeadByteByByte(t *testing.T) {
	t.Parallel()
	p := start(t)
	resp, _ := rawHTTP(t, p, wstest.UpgradeRequest("GET", p.Addr, "/echo", nil), 1)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
}
