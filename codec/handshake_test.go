package codec

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestAppendAcceptKey(t *testing.T) {
	t.Parallel()
	// RFC 6455 §1.3.
	got := AppendAcceptKey([]byte("x"), []byte("dGhlIHNhbXBsZSBub25jZQ=="))
	if string(got) != "xs3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AppendAcceptKey = %q", got)
	}
	long := bytes.Repeat([]byte("k"), 100)
	if len(AppendAcceptKey(nil, long)) != acceptKeyLen {
		t.Fatal("long key gives a wrong length")
	}
}

// upgradeWith returns upgradeHead with header lines replaced (value "") or
// removed (value "-").
func upgradeWith(changes map[string]string) string {
	lines := strings.Split(strings.TrimSuffix(upgradeHead, "\r\n\r\n"), "\r\n")
	var out []string
	for i, l := range lines {
		name, _, _ := strings.Cut(l, ":")
		v, ok := changes[name]
		switch {
		case i == 0 && changes["line"] != "":
			out = append(out, changes["line"])
		case !ok:
			out = append(out, l)
		case v != "-":
			out = append(out, name+": "+v)
		}
	}
	return strings.Join(out, "\r\n") + "\r\n\r\n"
}

func TestCheckUpgrade(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		changes map[string]string
		err     error
	}{
		{name: "rfc example", changes: nil},
		{name: "case-insensitive tokens", changes: map[string]string{"Upgrade": "WebSocket", "Connection": "UPGRADE"}},
		{name: "post", changes: map[string]string{"line": "POST /chat HTTP/1.1"}, err: ErrBadRequest},
		{name: "http 1.0", changes: map[string]string{"line": "GET /chat HTTP/1.0"}, err: ErrBadRequest},
		{name: "no upgrade", changes: map[string]string{"Upgrade": "-"}, err: ErrBadRequest},
		{name: "upgrade h2c", changes: map[string]string{"Upgrade": "h2c"}, err: ErrBadRequest},
		{name: "no connection upgrade", changes: map[string]string{"Connection": "keep-alive"}, err: ErrBadRequest},
		{name: "no version", changes: map[string]string{"Sec-WebSocket-Version": "-"}, err: ErrWSVersion},
		{name: "version 8", changes: map[string]string{"Sec-WebSocket-Version": "8"}, err: ErrWSVersion},
		{name: "no key", changes: map[string]string{"Sec-WebSocket-Key": "-"}, err: ErrBadRequest},
		{name: "short key", changes: map[string]string{"Sec-WebSocket-Key": "dGhlIHNhbXBsZQ=="}, err: ErrBadRequest},
		{name: "key not base64", changes: map[string]string{"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ!!"}, err: ErrBadRequest},
		{name: "key of 17 bytes", changes: map[string]string{"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZTE="}, err: ErrBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := mustParse(t, upgradeWith(tc.changes))
			key, err := CheckUpgrade(r)
			if err != tc.err {
				t.Fatalf(
					"CheckUpgrade = %v, want %v",
					err, tc.err,
				)
			}
			if err == nil && string(key) != "dGhlIHNhbXBsZSBub25jZQ==" {
				t.Fatalf("key = %q", key)
			}
		})
	}
	var p RequestParser
	var r Request
	if _, err := p.Parse([]byte("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"), &r); err != ErrBadRequest {
		t.Fatalf("a head without Host parsed: %v", err)
	}
}

func TestIsUpgrade(t *testing.T) {
	t.Parallel()
	if !IsUpgrade(mustParse(t, upgradeHead)) {
		t.Fatal("upgrade request not recognised")
	}
	if IsUpgrade(mustParse(t, "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n")) {
		t.Fatal("h2c upgrade taken for websocket")
	}
}

func TestSelectProtocol(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		headers   string
		supported []string
		want      string
	}{
		{name: "first offered wins", headers: "Sec-WebSocket-Protocol: chat, superchat\r\n", supported: []string{"superchat", "chat"}, want: "chat"},
		{name: "second offered", headers: "Sec-WebSocket-Protocol: chat, superchat\r\n", supported: []string{"superchat"}, want: "superchat"},
		{name: "several headers", headers: "Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b , c\r\n", supported: []string{"c"}, want: "c"},
		{name: "case-sensitive", headers: "Sec-WebSocket-Protocol: Chat\r\n", supported: []string{"chat"}, want: ""},
		{name: "none offered", headers: "", supported: []string{"chat"}, want: ""},
		{name: "none supported", headers: "Sec-WebSocket-Protocol: chat\r\n", supported: nil, want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := mustParse(t, "GET / HTTP/1.1\r\nHost: a\r\n"+tc.headers+"\r\n")
			if got := SelectProtocol(r, tc.supported); got != tc.want {
				t.Fatalf(
					"SelectProtocol = %q, want %q",
					got, tc.want,
				)
			}
		})
	}
}

// readResponse parses b with net/http, a real HTTP implementation.
func readResponse(t *testing.T, b []byte) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		t.Fatalf(
			"net/http cannot read %q: %v",
			b, err,
		)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	return resp, string(body)
}

func TestAppendUpgradeResponse(t *testing.T) {
	t.Parallel()
	b := AppendUpgradeResponse(nil, []byte("dGhlIHNhbXBsZSBub25jZQ=="), "chat", []byte("permessage-deflate; server_no_context_takeover"))
	resp, _ := readResponse(t, b)
	want := map[string]string{
		"Upgrade":                  "websocket",
		"Connection":               "Upgrade",
		"Sec-Websocket-Accept":     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
		"Sec-Websocket-Protocol":   "chat",
		"Sec-Websocket-Extensions": "permessage-deflate; server_no_context_takeover",
	}
	if resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for k, v := range want {
		if resp.Header.Get(k) != v {
			t.Errorf(
				"%s = %q, want %q",
				k, resp.Header.Get(k), v,
			)
		}
	}
	plain := AppendUpgradeResponse(nil, []byte("dGhlIHNhbXBsZSBub25jZQ=="), "", nil)
	if bytes.Contains(plain, []byte("Sec-WebSocket-Protocol")) || bytes.Contains(plain, []byte("Extensions")) {
		t.Fatalf("empty protocol/extensions written: %q", plain)
	}
}

func TestAppendResponse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		status    int
		body      string
		keepAlive bool
		extra     []string
	}{
		{name: "ok", status: 200, body: "hello", keepAlive: true},
		{name: "not found close", status: 404, body: "nope", keepAlive: false},
		{name: "no content", status: 204, body: "ignored", keepAlive: true},
		{name: "extra headers", status: 200, body: "", keepAlive: true, extra: []string{"X-A: 1", "Cache-Control: no-cache"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := AppendResponse(nil, tc.status, "text/plain", []byte(tc.body), tc.keepAlive, tc.extra...)
			resp, body := readResponse(t, b)
			wantBody := tc.body
			if tc.status == 204 {
				wantBody = ""
			}
			if resp.StatusCode != tc.status || body != wantBody || resp.Close == tc.keepAlive {
				t.Fatalf(
					"status %d body %q close %v from %q",
					resp.StatusCode, body, resp.Close, b,
				)
			}
			for _, h := range tc.extra {
				name, value, _ := strings.Cut(h, ": ")
				if resp.Header.Get(name) != value {
					t.Errorf("header %s missing", name)
				}
			}
		})
	}
}

func TestAppendHTTPError(t *testing.T) {
	t.Parallel()
	for _, err := range []error{ErrHeaderTooLarge, ErrBadRequest, ErrVersion, ErrNotImplemented, ErrWSVersion, io.EOF} {
		resp, body := readResponse(t, AppendHTTPError(nil, err))
		he, ok := err.(*HTTPError)
		want := 500
		if ok {
			want = he.Status
		}
		if resp.StatusCode != want || !resp.Close || body == "" {
			t.Errorf(
				"%v: status %d close %v body %q",
				err, resp.StatusCode, resp.Close, body,
			)
		}
		if (err == ErrWSVersion) != (resp.Header.Get("Sec-WebSocket-Version") == "13") {
			t.Errorf("%v: Sec-WebSocket-Version header wrong", err)
		}
		if (err == ErrWSVersion) != (resp.Header.Get("Upgrade") == "websocket") {
			t.Errorf("%v: Upgrade header wrong", err)
		}
	}
}

func TestStatusText(t *testing.T) {
	t.Parallel()
	for _, code := range []int{101, 200, 400, 404, 426, 431, 500, 501, 505} {
		if StatusText(code) != http.StatusText(code) {
			t.Errorf(
				"StatusText(%d) = %q, net/http says %q",
				code, StatusText(code), http.StatusText(code),
			)
		}
	}
	if StatusText(299) != "" {
		t.Error("unknown code has a text")
	}
}
