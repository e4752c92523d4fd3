//go:build !race

package bench

import "testing"

// TestZeroAllocs: the per-message paths of the engine do not allocate.
func TestZeroAllocs(t *testing.T) {
	var h Histogram
	f := NewFrame(OpBinary, make([]byte, 64), [4]byte{1, 2, 3, 4})
	b := f.Bytes()
	pub := []byte(`{"push":{"channel":"news","pub":{"data":` + string(PublishBody("news", 64, 1)[25:]) + "}}\n{}")
	tests := []struct {
		name string
		fn   func()
	}{
		{"Histogram.Record", func() { h.Record(Now() & 0xFFFFF) }},
		{"Frame.Stamp", func() { _ = f.Stamp(Now()) }},
		{"ParseHeader", func() { _, _, _ = ParseHeader(b) }},
		{"StampOf", func() { _, _ = StampOf(b[6:]) }},
		{"Frame.StampText", func() { _ = f.StampText(3, Now()) }},
		{"TextStampOf", func() { _, _ = TextStampOf(b[6:]) }},
		{"Now", func() { _ = Now() }},
		{"scanStamps", func() { _ = scanStamps(pub, &h, 0) }},
		{"hasPing", func() { _ = hasPing(pub) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(1000, tt.fn); n != 0 {
			t.Errorf("%s: %v allocs per run, want 0", tt.name, n)
		}
	}
}
