package dispatch

import (
	"bytes"
	"errors"
	"testing"
)

var envelopeTests = []envelope{
	{kind: envMulticast, origin: "n1", name: "said", data: []byte(`["a",1]`)},
	{kind: envBroadcast, origin: "n1", target: "Chat", name: "said", data: []byte(`[]`)},
	{kind: envUnicast, origin: "n2", target: "n1-100000001", sender: "n2-5", name: "dm", data: []byte(`["x"]`)},
	{kind: envPublishText, origin: "n", target: "room:1", data: []byte("hello")},
	{kind: envPublishBinary, origin: "n", target: "bin", data: []byte{0, 0xff, 1}},
	{kind: envNote, origin: "n", target: "n-1", sender: "alice", num: 1<<63 + 5, data: []byte(`{"event":"x"}`)},
	{kind: envClose, origin: "n", target: "n-1", num: 4009, data: []byte("replaced")},
	{kind: envUnicastFailed, origin: "n", target: "n-2", sender: "n-3", name: "dm"},
	{kind: envMulticast, origin: string(bytes.Repeat([]byte("o"), 300)), name: "\x00é"},
}

func sameEnvelope(a, b *envelope) bool {
	return a.kind == b.kind && a.origin == b.origin && a.target == b.target && a.sender == b.sender &&
		a.name == b.name && a.num == b.num && bytes.Equal(a.data, b.data)
}

func TestEnvelopeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, want := range envelopeTests {
		prefix := []byte("prefix")
		b := appendEnvelope(prefix, &want)
		if !bytes.HasPrefix(b, []byte("prefix")) {
			t.Fatal("appendEnvelope overwrote dst")
		}
		var got envelope
		if err := parseEnvelope(b[len(prefix):], &got); err != nil || !sameEnvelope(&got, &want) {
			t.Fatalf("round trip of %+v: %+v, %v", want, got, err)
		}
	}
}

func TestParseEnvelopeErrors(t *testing.T) {
	t.Parallel()
	good := appendEnvelope(nil, &envelopeTests[2])
	tests := map[string][]byte{
		"empty":         nil,
		"one byte":      {envVersion},
		"version":       append([]byte{2}, good[1:]...),
		"kind zero":     {envVersion, 0, 0, 0, 0, 0, 0},
		"kind too big":  {envVersion, byte(envMax), 0, 0, 0, 0, 0},
		"long string":   {envVersion, byte(envMulticast), 9, 'a'},
		"huge length":   {envVersion, byte(envMulticast), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"varint overfl": {envVersion, byte(envMulticast), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"no num":        {envVersion, byte(envMulticast), 0, 0, 0, 0},
		"truncated":     good[:len(good)-len(envelopeTests[2].data)-1],
	}
	for name, b := range tests {
		var e envelope
		if err := parseEnvelope(b, &e); !errors.Is(err, ErrBadEnvelope) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// headerLen is how many bytes of appendEnvelope's output precede data.
func headerLen(e *envelope) int {
	d := e.data
	e.data = nil
	n := len(appendEnvelope(nil, e))
	e.data = d
	return n
}

// FuzzEnvelope checks that parseEnvelope never panics on any input or any
// split of it, that what it accepts re-encodes to the same envelope, and
// that appendEnvelope → parseEnvelope round-trips, failing on every cut
// inside the header.
func FuzzEnvelope(f *testing.F) {
	for _, e := range envelopeTests {
		f.Add(appendEnvelope(nil, &e), byte(e.kind), e.origin, e.target, e.name, e.num)
	}
	f.Add([]byte{1, 1, 0x80, 0x00, 0, 0, 0, 0}, byte(1), "", "", "", uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, kind byte, origin, target, name string, num uint64) {
		for i := 0; i <= len(b); i++ {
			for _, part := range [][]byte{b[:i], b[i:]} {
				var e envelope
				if parseEnvelope(part, &e) != nil {
					continue
				}
				var again envelope
				if err := parseEnvelope(appendEnvelope(nil, &e), &again); err != nil || !sameEnvelope(&e, &again) {
					t.Fatalf("%x: re-encoded %+v as %+v (%v)", part, e, again, err)
				}
			}
		}

		want := envelope{kind: envKind(kind%byte(envMax-1) + 1), origin: origin, target: target, sender: name + origin, name: name, num: num, data: b}
		enc := appendEnvelope(nil, &want)
		var got envelope
		if err := parseEnvelope(enc, &got); err != nil || !sameEnvelope(&got, &want) {
			t.Fatalf("round trip of %+v: %+v, %v", want, got, err)
		}
		hdr := headerLen(&want)
		for i := 0; i < hdr; i++ {
			if parseEnvelope(enc[:i], &got) == nil {
				t.Fatalf("accepted a header cut at %d of %d", i, hdr)
			}
		}
	})
}
