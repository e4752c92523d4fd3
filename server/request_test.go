package server_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plezigo/plezi/server"
)

// rawStatus sends a raw request head and returns the response's status
// and Allow header.
func rawStatus(t *testing.T, addr, head string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	req := &http.Request{Method: head[:strings.IndexByte(head, ' ')]} // no body after HEAD
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		t.Fatalf("%q: %v", head, err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Allow")
}

func upgradeHead(target string, extra ...string) string {
	return "GET " + target + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		strings.Join(append(extra, ""), "\r\n") + "\r\n"
}

// TestBuiltinsGetOnly: /healthz, /plezi.js and /plezi.d.ts answer GET and HEAD, and 405
// with an Allow header to anything else.
func TestBuiltinsGetOnly(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{})
	for _, path := range []string{"/healthz", "/plezi.js", "/plezi.d.ts"} {
		for _, m := range []string{"POST", "PUT", "DELETE"} {
			status, allow := rawStatus(t, n.Addr(), m+" "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
			if status != http.StatusMethodNotAllowed || allow != "GET, HEAD" {
				t.Errorf("%s %s: %d Allow %q", m, path, status, allow)
			}
		}
		for _, m := range []string{"GET", "HEAD"} {
			if status, _ := rawStatus(t, n.Addr(), m+" "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); status != http.StatusOK {
				t.Errorf("%s %s: %d", m, path, status)
			}
		}
	}
}

// TestAbsoluteFormTarget: a request-target in absolute-form routes like
// its path, for plain HTTP and for an upgrade.
func TestAbsoluteFormTarget(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{})
	if status, body := rawGet(t, n.Addr(), "http://example.com/healthz"); status != http.StatusOK || body != "ok\n" {
		t.Fatalf("GET http://example.com/healthz: %d %q", status, body)
	}
	if status, _ := rawStatus(t, n.Addr(), upgradeHead("ws://example.com/peer?x=1")); status != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade to ws://example.com/peer: %d", status)
	}
}

// TestTwoOriginHeaders: with an Origin allow-list an upgrade carrying two
// Origin headers is refused, even when both are allowed.
func TestTwoOriginHeaders(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{Origins: []string{"http://ok.example"}})
	ok := "Origin: http://ok.example"
	for _, tc := range []struct {
		hdr  []string
		want int
	}{
		{[]string{ok}, http.StatusSwitchingProtocols},
		{[]string{ok, ok}, http.StatusForbidden},
		{[]string{"Origin: http://evil.example", ok}, http.StatusForbidden},
		{[]string{ok, "origin: http://evil.example"}, http.StatusForbidden},
		{nil, http.StatusForbidden},
	} {
		if status, _ := rawStatus(t, n.Addr(), upgradeHead("/peer", tc.hdr...)); status != tc.want {
			t.Errorf("%q: %d, want %d", tc.hdr, status, tc.want)
		}
	}
}
