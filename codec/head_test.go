package codec

import (
	"bytes"
	"testing"
)

// TestHeadRoundTrip: a kept head parses again into the same request.
func TestHeadRoundTrip(t *testing.T) {
	t.Parallel()
	in := "GET /chat/r1?nick=ann HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nUpgrade: websocket\r\n\r\nrest"
	var p RequestParser
	var r Request
	n, err := p.Parse([]byte(in), &r)
	if err != nil || n != len(in)-len("rest") {
		t.Fatalf("Parse: %d %v", n, err)
	}
	head := bytes.Clone(r.Head())
	if string(head) != in[:n] {
		t.Fatalf("Head = %q", head)
	}
	var again Request
	if err := again.ParseHead(head); err != nil {
		t.Fatal(err)
	}
	if string(again.Path()) != "/chat/r1" || string(again.Query()) != "nick=ann" ||
		string(again.Header("cookie")) != "a=1" || !IsUpgrade(&again) {
		t.Fatalf("reparsed: path %q query %q cookie %q", again.Path(), again.Query(), again.Header("cookie"))
	}
}
