package codec

import (
	"bytes"
	"compress/flate"
	"io"
	"strings"
	"testing"
)

func TestNegotiateDeflate(t *testing.T) {
	t.Parallel()
	const base = "permessage-deflate; server_no_context_takeover"
	cases := []struct {
		name     string
		headers  []string
		ok       bool
		params   DeflateParams
		response string
	}{
		{
			name:     "plain",
			headers:  []string{"permessage-deflate"},
			ok:       true,
			params:   DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
			response: base,
		},
		{
			name:     "browser offer",
			headers:  []string{"permessage-deflate; client_max_window_bits"},
			ok:       true,
			params:   DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
			response: base,
		},
		{
			name:     "client bits value echoed",
			headers:  []string{"permessage-deflate; client_max_window_bits=10"},
			ok:       true,
			params:   DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 10},
			response: base + "; client_max_window_bits=10",
		},
		{
			name:     "server bits",
			headers:  []string{"permessage-deflate; server_max_window_bits=9"},
			ok:       true,
			params:   DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 15},
			response: base + "; server_max_window_bits=9",
		},
		{
			name:     "quoted bits",
			headers:  []string{`permessage-deflate; server_max_window_bits="12"`},
			ok:       true,
			params:   DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 12, ClientMaxWindowBits: 15},
			response: base + "; server_max_window_bits=12",
		},
		{
			name:     "no context takeover both ways",
			headers:  []string{"permessage-deflate; client_no_context_takeover; server_no_context_takeover"},
			ok:       true,
			params:   DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
			response: base + "; client_no_context_takeover",
		},
		{
			name:     "first acceptable offer",
			headers:  []string{"permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits=8"},
			ok:       true,
			params:   DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 8},
			response: base + "; client_max_window_bits=8",
		},
		{
			name:     "offer in a later header",
			headers:  []string{"x-webkit-deflate-frame", "permessage-deflate; server_max_window_bits=15"},
			ok:       true,
			params:   DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
			response: base + "; server_max_window_bits=15", // named in the offer: echoed to accept it
		},
		{
			name:     "malformed header skipped",
			headers:  []string{"permessage-deflate; ;;=", "permessage-deflate"},
			ok:       true,
			params:   DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
			response: base,
		},
		{name: "none", headers: nil},
		{name: "other extension", headers: []string{"x-webkit-deflate-frame"}},
		{name: "server bits too small", headers: []string{"permessage-deflate; server_max_window_bits=7"}},
		{name: "server bits too large", headers: []string{"permessage-deflate; server_max_window_bits=16"}},
		{name: "server bits leading zero", headers: []string{"permessage-deflate; server_max_window_bits=09"}},
		{name: "server bits without value", headers: []string{"permessage-deflate; server_max_window_bits"}},
		{name: "client bits invalid", headers: []string{"permessage-deflate; client_max_window_bits=abc"}},
		{name: "duplicate param", headers: []string{"permessage-deflate; client_no_context_takeover; client_no_context_takeover"}},
		{name: "duplicate bits", headers: []string{"permessage-deflate; client_max_window_bits; client_max_window_bits=9"}},
		{name: "value on a flag", headers: []string{"permessage-deflate; server_no_context_takeover=1"}},
		{name: "unknown param", headers: []string{"permessage-deflate; foo=1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			head := "GET / HTTP/1.1\r\nHost: a\r\n"
			for _, h := range tc.headers {
				head += "Sec-WebSocket-Extensions: " + h + "\r\n"
			}
			p, resp, ok := NegotiateDeflate(mustParse(t, head+"\r\n"))
			p.serverBitsOffered = false // shown by the response
			if ok != tc.ok || p != tc.params || string(resp) != tc.response {
				t.Fatalf(
					"got %v %+v %q, want %v %+v %q",
					ok, p, resp, tc.ok, tc.params, tc.response,
				)
			}
		})
	}
}

func TestNegotiateDeflateWith(t *testing.T) {
	t.Parallel()
	r := mustParse(t, "GET / HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
	p, resp, ok := NegotiateDeflateWith(r, DeflateOptions{ClientNoContextTakeover: true})
	if !ok || !p.ClientNoContextTakeover || string(resp) != "permessage-deflate; server_no_context_takeover; client_no_context_takeover" {
		t.Fatalf("got %v %+v %q", ok, p, resp)
	}
	if _, _, ok = NegotiateDeflateWith(mustParse(t, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"), DeflateOptions{ClientNoContextTakeover: true}); ok {
		t.Fatal("accepted without an offer")
	}
}

// inflateStd decompresses one message with compress/flate directly.
func inflateStd(t *testing.T, p []byte) []byte {
	t.Helper()
	r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader(inflateTail)))
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

func TestAppendDeflate(t *testing.T) {
	t.Parallel()
	payload := []byte(strings.Repeat("the quick brown fox jumps over the lazy dog; ", 100))
	for _, huffman := range []bool{false, true} {
		c := appendDeflate([]byte("prefix"), payload, huffman)
		if !bytes.HasPrefix(c, []byte("prefix")) {
			t.Fatal("prefix lost")
		}
		c = c[len("prefix"):]
		if bytes.HasSuffix(c, deflateTail) {
			t.Fatal("sync-flush tail not stripped")
		}
		if got := inflateStd(t, c); !bytes.Equal(got, payload) {
			t.Fatalf("huffman=%v: round trip differs", huffman)
		}
		level := deflateLevel
		if huffman {
			level = flate.HuffmanOnly
		}
		if want := referenceDeflate(t, payload, level); !bytes.Equal(c, want) {
			t.Fatalf("huffman=%v: output differs from compress/flate level %d", huffman, level)
		}
	}
	// Literals cost at least a bit per byte; back-references make this
	// repetitive text far smaller. So Huffman-only output, which a client
	// with a small window can always read, is the larger one.
	if lz, h := appendDeflate(nil, payload, false), appendDeflate(nil, payload, true); len(h) < len(payload)/8 || len(lz) >= len(h) {
		t.Fatalf(
			"sizes: LZ77 %d, Huffman-only %d of %d",
			len(lz), len(h), len(payload),
		)
	}
}

// referenceDeflate compresses p with a fresh compress/flate writer.
func referenceDeflate(t *testing.T, p []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = w.Write(p); err != nil {
		t.Fatal(err)
	}
	if err = w.Flush(); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), deflateTail)
}

func TestWindow(t *testing.T) {
	t.Parallel()
	var w window
	var all []byte
	for i, n := range []int{10, 40000, 5, 32768, 100, 0, 70000} {
		chunk := bytes.Repeat([]byte{byte('a' + i)}, n)
		for j := range chunk {
			chunk[j] += byte(j % 7)
		}
		w.add(chunk)
		all = append(all, chunk...)
		want := all[max(0, len(all)-windowSize):]
		if !bytes.Equal(w.bytes(), want) {
			t.Fatalf("after chunk %d the window differs", i)
		}
	}
}
