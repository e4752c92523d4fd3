package dispatch

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"unicode/utf8"

	"github.com/plezigo/plezi/internal/bridge"
)

// plainCtl has no event methods and no Unknown: every event sent to it is
// forwarded to its client as a fan-out frame.
type plainCtl struct{ Socket }

// FuzzFanoutJSON: the text frame a fan-out writes to clients, for any event
// name and string arguments, sent from this node or received from another,
// is valid UTF-8 and JSON that encoding/json reads back as the same strings
// (invalid UTF-8 becomes U+FFFD, as encoding/json does), with no raw
// U+2028 or U+2029 (JavaScript line terminators).
func FuzzFanoutJSON(f *testing.F) {
	for _, s := range [][3]string{
		{"said", "bob", "hi"},
		{"\xff", "a\xc3", "\xed\xa0\x80"},
		{"line\u2028sep", "para\u2029", "\u2028"},
		{"q\"\\\x00\x1f\x7f", "<>&", "é😀"},
		{"", "", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	h := newHub(hubConfig{HubConfig: bridge.HubConfig{Node: "n-1", Loops: 1, Workers: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}})
	if _, err := h.Route("/plain", func() Controller { return new(plainCtl) }); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, a, b string) {
		d, err := h.newDelivery(name, []any{a, b}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkFanoutFrame(t, d.frame.Payload(), name, a, b)
		remote, err := h.newDelivery(name, nil, d.args, nil) // as another node's envelope arrives
		if err != nil {
			t.Fatal(err)
		}
		checkFanoutFrame(t, remote.frame.Payload(), name, a, b)
	})
}

func checkFanoutFrame(t *testing.T, frame []byte, name string, args ...string) {
	t.Helper()
	if !utf8.Valid(frame) {
		t.Fatalf("frame is not UTF-8: %q", frame)
	}
	if bytes.Contains(frame, []byte("\u2028")) || bytes.Contains(frame, []byte("\u2029")) {
		t.Fatalf("frame holds a raw line terminator: %q", frame)
	}
	var got struct {
		Event string   `json:"event"`
		Args  []string `json:"args"`
	}
	if err := json.Unmarshal(frame, &got); err != nil {
		t.Fatalf("frame %q: %v", frame, err)
	}
	if want := string([]rune(name)); got.Event != want {
		t.Fatalf("event %q, want %q (frame %q)", got.Event, want, frame)
	}
	for i, a := range args {
		if want := string([]rune(a)); i >= len(got.Args) || got.Args[i] != want {
			t.Fatalf("args %q, want %q at %d (frame %q)", got.Args, want, i, frame)
		}
	}
}
