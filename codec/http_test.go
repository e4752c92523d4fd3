package codec

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

const upgradeHead = "GET /chat?room=1 HTTP/1.1\r\n" +
	"Host: server.example.com\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: keep-alive, Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Origin: http://example.com\r\n" +
	"Sec-WebSocket-Protocol: chat, superchat\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"\r\n"

var parseCases = []struct {
	name string
	in   string
	n    int // expected head length; 0 with err == nil: need more
	err  error
}{
	{name: "upgrade", in: upgradeHead, n: len(upgradeHead)},
	{name: "minimal 1.1", in: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", n: 27},
	{name: "1.0 without headers", in: "GET / HTTP/1.0\r\n\r\n", n: 18},
	{name: "bare LF", in: "GET / HTTP/1.1\nHost: a\n\n", n: 24},
	{name: "mixed line ends", in: "GET / HTTP/1.1\r\nHost: a\n\r\n", n: 26},
	{name: "leading empty lines", in: "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", n: 31},
	{name: "pipelined", in: "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\n", n: 28},
	{name: "empty value", in: "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n", n: 37},
	{name: "obs-text value", in: "GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n", n: 37},
	{name: "content length", in: "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", n: 48},
	{name: "absolute form", in: "GET http://a/chat?x=1 HTTP/1.1\r\nHost: b\r\n\r\n", n: 43},
	{name: "absolute form, empty path", in: "GET WSS://a:1?x HTTP/1.1\r\nHost: a\r\n\r\n", n: 37},
	{name: "absolute form, userinfo", in: "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequest},
	{name: "absolute form, no host", in: "GET http:///a HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequest},
	{name: "absolute form, other scheme", in: "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequest},
	{name: "incomplete line", in: "GET / HTTP/1.1\r\nHost: a", err: nil},
	{name: "incomplete end", in: "GET / HTTP/1.1\r\nHost: a\r\n\r", err: nil},
	{name: "only empty lines", in: "\r\n\r\n", err: nil},
	{name: "missing host", in: "GET / HTTP/1.1\r\n\r\n", err: ErrBadRequest},
	{name: "two hosts", in: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", err: ErrBadRequest},
	{name: "http 2", in: "GET / HTTP/2.0\r\nHost: a\r\n\r\n", err: ErrVersion},
	{name: "http 1.2", in: "GET / HTTP/1.2\r\nHost: a\r\n\r\n", err: ErrVersion},
	{name: "http 0.9 style", in: "GET /\r\n\r\n", err: ErrBadRequest},
	{name: "lowercase version", in: "GET / http/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequest},
	{name: "double space", in: "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequest},
	{name: "space in target", in: "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequest},
	{name: "bad method", in: "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequest},
	{name: "tls hello", in: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n", err: ErrBadRequest},
	{name: "obs-fold", in: "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", err: ErrBadRequest},
	{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", err: ErrBadRequest},
	{name: "no colon", in: "GET / HTTP/1.1\r\nHost a\r\n\r\n", err: ErrBadRequest},
	{name: "empty name", in: "GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", err: ErrBadRequest},
	{name: "bare CR in value", in: "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", err: ErrBadRequest},
	{name: "NUL in value", in: "GET / HTTP/1.1\r\nHost: a\x00\r\n\r\n", err: ErrBadRequest},
	{name: "two content lengths", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", err: ErrBadRequest},
	{name: "content length list", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\n", err: ErrBadRequest},
	{name: "negative content length", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", err: ErrBadRequest},
	{name: "huge content length", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999999999999999\r\n\r\n", err: ErrBadRequest},
	{name: "chunked", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", err: ErrNotImplemented},
	{name: "too large", in: "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", DefaultMaxHeader) + "\r\n\r\n", err: ErrHeaderTooLarge},
	{name: "too large without end", in: "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", DefaultMaxHeader), err: ErrHeaderTooLarge},
	{name: "request line too large", in: "GET /" + strings.Repeat("a", DefaultMaxHeader), err: ErrHeaderTooLarge},
	{name: "empty lines too large", in: strings.Repeat("\r\n", DefaultMaxHeader), err: ErrHeaderTooLarge},
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var p RequestParser
			var r Request
			n, err := p.Parse([]byte(tc.in), &r)
			if n != tc.n || err != tc.err {
				t.Fatalf(
					"Parse = %d, %v; want %d, %v",
					n, err, tc.n, tc.err,
				)
			}
			var he *HTTPError
			if err != nil && !errors.As(err, &he) {
				t.Fatalf("error %T is not an *HTTPError", err)
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	t.Parallel()
	var p RequestParser
	var r Request
	n, err := p.Parse([]byte(upgradeHead+"GET /next"), &r)
	if err != nil || n != len(upgradeHead) {
		t.Fatalf("Parse = %d, %v", n, err)
	}
	checks := []struct {
		name string
		got  []byte
		want string
	}{
		{name: "method", got: r.Method(), want: "GET"},
		{name: "target", got: r.Target(), want: "/chat?room=1"},
		{name: "path", got: r.Path(), want: "/chat"},
		{name: "query", got: r.Query(), want: "room=1"},
		{name: "host", got: r.Header("host"), want: "server.example.com"},
		{name: "key", got: r.Header("SEC-WEBSOCKET-KEY"), want: "dGhlIHNhbXBsZSBub25jZQ=="},
		{name: "connection", got: r.Header("Connection"), want: "keep-alive, Upgrade"},
	}
	for _, c := range checks {
		if string(c.got) != c.want {
			t.Errorf(
				"%s = %q, want %q",
				c.name, c.got, c.want,
			)
		}
	}
	if r.Header("Missing") != nil {
		t.Error("absent header is not nil")
	}
	if r.ProtoMinor() != 1 || !r.KeepAlive() || r.ContentLength() != -1 {
		t.Errorf(
			"minor %d keep-alive %v content-length %d",
			r.ProtoMinor(), r.KeepAlive(), r.ContentLength(),
		)
	}
	if !r.HasToken("connection", "UPGRADE") || !r.HasToken("Connection", "keep-alive") || r.HasToken("Connection", "close") {
		t.Error("HasToken is wrong on Connection: keep-alive, Upgrade")
	}
	var names []string
	r.VisitHeaders(func(name, value []byte) bool {
		names = append(names, string(name))
		return len(names) < 3
	})
	if fmt.Sprint(names) != "[Host Upgrade Connection]" {
		t.Errorf("VisitHeaders stopped wrong: %v", names)
	}
	c := r.Clone()
	r.Reset()
	if string(c.Header("Origin")) != "http://example.com" || string(c.Path()) != "/chat" {
		t.Error("Clone shares memory with the original")
	}
	if r.Header("Host") != nil || r.Query() != nil {
		t.Error("Reset left headers behind")
	}
}

// TestParseAbsoluteForm: an absolute-form target (RFC 9112 §3.2.2) has
// the path and query of its origin-form twin, and its authority is the
// Host whatever the Host header says.
func TestParseAbsoluteForm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ target, path, query, host string }{
		{"http://example.com/chat?room=1", "/chat", "room=1", "example.com"},
		{"HTTPS://example.com:8443/a/b", "/a/b", "", "example.com:8443"},
		{"ws://[::1]:3000", "/", "", "[::1]:3000"},
		{"wss://h?x=/y", "/", "x=/y", "h"},
		{"/plain?q", "/plain", "q", "other"},
		{"*", "*", "", "other"},
	} {
		r := mustParse(t, "GET "+tc.target+" HTTP/1.1\r\nHost: other\r\n\r\n")
		if string(r.Path()) != tc.path || string(r.Query()) != tc.query ||
			string(r.Header("host")) != tc.host || string(r.Target()) != tc.target {
			t.Errorf("%s: path %q query %q host %q target %q", tc.target, r.Path(), r.Query(), r.Header("host"), r.Target())
		}
		if c := r.Clone(); string(c.Header("Host")) != tc.host || string(c.Path()) != tc.path {
			t.Errorf("%s: clone path %q host %q", tc.target, c.Path(), c.Header("Host"))
		}
	}
}

func TestKeepAlive(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		head string
		want bool
	}{
		{name: "1.1 default", head: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", want: true},
		{name: "1.1 close", head: "GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", want: false},
		{name: "1.1 close in list", head: "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\nConnection: upgrade, close\r\n\r\n", want: false},
		{name: "1.0 default", head: "GET / HTTP/1.0\r\n\r\n", want: false},
		{name: "1.0 keep-alive", head: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", want: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := mustParse(t, tc.head)
			if r.KeepAlive() != tc.want {
				t.Fatalf("KeepAlive = %v", !tc.want)
			}
		})
	}
}

func mustParse(t testing.TB, head string) *Request {
	t.Helper()
	var p RequestParser
	r := new(Request)
	n, err := p.Parse([]byte(head), r)
	if err != nil || n == 0 {
		t.Fatalf(
			"Parse(%q) = %d, %v",
			head, n, err,
		)
	}
	return r
}

func TestParseContentLength(t *testing.T) {
	t.Parallel()
	r := mustParse(t, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 123456\r\n\r\n")
	if r.ContentLength() != 123456 {
		t.Fatalf("ContentLength = %d", r.ContentLength())
	}
}

// TestParseSlowloris feeds a head one byte at a time: every prefix needs
// more, the last byte completes it, and the parser never rescans from 0
// (checked by counting scanned positions).
func TestParseSlowloris(t *testing.T) {
	t.Parallel()
	in := []byte(upgradeHead)
	var p RequestParser
	var r Request
	for i := 1; i < len(in); i++ {
		n, err := p.Parse(in[:i], &r)
		if n != 0 || err != nil {
			t.Fatalf(
				"prefix %d: %d, %v",
				i, n, err,
			)
		}
		if p.scan < i-2 {
			t.Fatalf(
				"prefix %d: scan position %d fell behind",
				i, p.scan,
			)
		}
	}
	if n, err := p.Parse(in, &r); n != len(in) || err != nil {
		t.Fatalf("whole: %d, %v", n, err)
	}
}

func TestParseMax(t *testing.T) {
	t.Parallel()
	head := "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	for _, limit := range []int{len(head) - 1, len(head), len(head) + 1} {
		p := RequestParser{Max: limit}
		var r Request
		n, err := p.Parse([]byte(head), &r)
		fits := limit >= len(head)
		if fits != (err == nil) || (fits && n != len(head)) || (!fits && err != ErrHeaderTooLarge) {
			t.Fatalf(
				"Max %d: %d, %v",
				limit, n, err,
			)
		}
	}
}

// parseResult is what a parse of a stream yields, for comparisons.
type parseResult struct {
	n      int
	err    error
	method string
	target string
	path   string
	query  string
	host   string
	fields string
	minor  int
	clen   int64
}

func resultOf(n int, err error, r *Request) parseResult {
	res := parseResult{n: n, err: err}
	if err != nil || n == 0 {
		return res
	}
	res.method, res.target, res.minor, res.clen = string(r.Method()), string(r.Target()), r.ProtoMinor(), r.ContentLength()
	res.path, res.query, res.host = string(r.Path()), string(r.Query()), string(r.Header("Host"))
	r.VisitHeaders(func(name, value []byte) bool {
		res.fields += string(name) + "=" + string(value) + ";"
		return true
	})
	return res
}

// parseSplit feeds in[:i] then in, as a server does when bytes arrive in
// two reads.
func parseSplit(max int, in []byte, i int) parseResult {
	p := RequestParser{Max: max}
	var r Request
	n, err := p.Parse(in[:i], &r)
	if n != 0 || err != nil {
		return resultOf(n, err, &r)
	}
	n, err = p.Parse(in, &r)
	return resultOf(n, err, &r)
}

func FuzzParseRequest(f *testing.F) {
	for _, tc := range parseCases {
		if len(tc.in) < 1024 {
			f.Add([]byte(tc.in), uint16(0))
		}
	}
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\nX: "+strings.Repeat("b", 40)+"\r\n\r\n"), uint16(48))
	f.Fuzz(func(t *testing.T, in []byte, max uint16) {
		m := int(max)
		whole := parseSplit(m, in, len(in))
		for i := 0; i <= len(in); i++ {
			if got := parseSplit(m, in, i); got != whole {
				t.Fatalf(
					"split at %d: %+v, whole: %+v",
					i, got, whole,
				)
			}
		}
		checkByteWise(t, m, in, whole)
		if whole.err == nil && whole.n > 0 && !bytes.Contains(in[:whole.n], []byte{'\n'}) {
			t.Fatal("accepted a head without a line end")
		}
	})
}

// checkByteWise feeds in one byte at a time to one parser.
func checkByteWise(t *testing.T, max int, in []byte, whole parseResult) {
	t.Helper()
	p := RequestParser{Max: max}
	var r Request
	got := parseResult{}
	for i := 1; i <= len(in); i++ {
		n, err := p.Parse(in[:i], &r)
		if n != 0 || err != nil {
			got = resultOf(n, err, &r)
			break
		}
	}
	if got != whole {
		t.Fatalf(
			"byte-wise: %+v, whole: %+v",
			got, whole,
		)
	}
}
