package dispatch

import (
	"bytes"
	"encoding/binary"
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

// batchOf joins envelopes the way the publisher does.
func batchOf(envs ...[]byte) []byte {
	b := appendBatch(nil, envs[0])
	for _, e := range envs[1:] {
		b = binary.AppendUvarint(b, uint64(len(e)))
		b = append(b, e...)
	}
	return b
}

func TestBatchRoundTrip(t *testing.T) {
	t.Parallel()
	var envs [][]byte
	for i := range envelopeTests {
		envs = append(envs, appendEnvelope(nil, &envelopeTests[i]))
	}
	var got [][]byte
	if err := eachEnvelope(batchOf(envs...), func(e []byte) { got = append(got, e) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(envs) {
		t.Fatalf("%d envelopes out of %d", len(got), len(envs))
	}
	for i := range got {
		if !bytes.Equal(got[i], envs[i]) {
			t.Fatalf("envelope %d: %x, want %x", i, got[i], envs[i])
		}
	}
	single := envs[2]
	got = got[:0]
	if err := eachEnvelope(single, func(e []byte) { got = append(got, e) }); err != nil || len(got) != 1 || !bytes.Equal(got[0], single) {
		t.Fatalf("a lone envelope: %v %x", err, got)
	}
}

func TestBatchErrors(t *testing.T) {
	t.Parallel()
	good := batchOf(appendEnvelope(nil, &envelopeTests[0]), appendEnvelope(nil, &envelopeTests[1]))
	for name, b := range map[string][]byte{
		"empty batch": {batchVersion},
		"zero length": {batchVersion, 0},
		"truncated":   good[:len(good)-1],
		"overlong":    {batchVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1},
		"varint cut":  {batchVersion, 0x80},
	} {
		calls := 0
		if err := eachEnvelope(b, func([]byte) { calls++ }); !errors.Is(err, ErrBadEnvelope) || calls != 0 {
			t.Errorf("%s: err %v after %d calls, want ErrBadEnvelope before any", name, err, calls)
		}
	}
}

// FuzzBatch checks that eachEnvelope never panics, never calls fn for a
// batch it rejects, and that the envelopes it yields rebuild the batch.
func FuzzBatch(f *testing.F) {
	f.Add(batchOf(appendEnvelope(nil, &envelopeTests[0]), appendEnvelope(nil, &envelopeTests[3])))
	f.Add([]byte{batchVersion, 1, 1})
	f.Add([]byte{batchVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got [][]byte
		err := eachEnvelope(b, func(e []byte) { got = append(got, e) })
		if err != nil {
			if len(got) != 0 {
				t.Fatalf("%x: rejected after %d envelopes", b, len(got))
			}
			return
		}
		if len(b) == 0 || b[0] != batchVersion {
			if len(got) != 1 || !bytes.Equal(got[0], b) {
				t.Fatalf("%x: not a batch, yet split", b)
			}
			return
		}
		if again := batchOf(got...); !bytes.Equal(again, b) {
			t.Fatalf("%x: rebuilt as %x", b, again)
		}
	})
}
