package hostile

// HTTP probes: request heads that are too big, never end, or arrive byte
// by byte; request targets, methods and Origin headers the builtins and
// the upgrade must not take at face value.

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

// TestAbsoluteForm: a request target in absolute-form (RFC 9112 §3.2.2)
// routes by its path, for plain HTTP and for an upgrade.
func TestAbsoluteForm(t *testing.T) {
	t.Parallel()
	p := start(t)
	resp, _ := rawHTTP(t, p, []byte("GET http://127.0.0.1/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 0)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET http://127.0.0.1/healthz: %d, want 200", resp.StatusCode)
	}
	resp, _ = rawHTTP(t, p, wstest.UpgradeRequest("GET", p.Addr, "ws://"+p.Addr+"/echo", nil), 0)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade to ws://%s/echo: %d, want 101", p.Addr, resp.StatusCode)
	}
}

// TestBuiltinsGetOnly: /healthz and /plezi.js answer other methods than
// GET and HEAD with 405 and Allow.
func TestBuiltinsGetOnly(t *testing.T) {
	t.Parallel()
	p := start(t)
	for _, path := range []string{"/healthz", "/plezi.js"} {
		for _, method := range []string{"POST", "PUT", "DELETE"} {
			resp, _ := rawHTTP(t, p, []byte(method+" "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"), 0)
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
				t.Fatalf("%s %s: %d, Allow %q; want 405, Allow GET, HEAD", method, path, resp.StatusCode, resp.Header.Get("Allow"))
			}
		}
	}
}

// TestTwoOrigins: with -origins, an upgrade with two Origin headers is
// refused with 403 (a server that reads the first and a proxy that reads
// the last disagree), even when both are allowed.
func TestTwoOrigins(t *testing.T) {
	t.Parallel()
	p := start(t, "-origins", "http://a.example")
	for _, tt := range []struct {
		origins []string
		want    int
	}{
		{[]string{"http://a.example"}, http.StatusSwitchingProtocols},
		{[]string{"http://a.example", "http://a.example"}, http.StatusForbidden},
		{[]string{"http://evil.example", "http://a.example"}, http.StatusForbidden},
		{[]string{"http://a.example", "http://evil.example"}, http.StatusForbidden},
	} {
		if got := upgradeStatus(t, p, "/echo", wstest.Options{Header: http.Header{"Origin": tt.origins}}); got != tt.want {
			t.Fatalf("Origin %q: %d, want %d", tt.origins, got, tt.want)
		}
	}
}
