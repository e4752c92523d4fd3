package codec

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

var utf8Cases = []struct {
	name string
	in   string
	ok   bool
}{
	{name: "empty", in: "", ok: true},
	{name: "ascii", in: "hello, world", ok: true},
	{name: "two-byte", in: "héllo", ok: true},
	{name: "three-byte", in: "€ and ☃", ok: true},
	{name: "four-byte", in: "😀 𝄞", ok: true},
	{name: "max code point", in: "\xf4\x8f\xbf\xbf", ok: true},
	{name: "long ascii then multi", in: "abcdefghijklmnopqrstuvwxyz0123456789κόσμε", ok: true},
	{name: "lone continuation", in: "\x80", ok: false},
	{name: "overlong C0", in: "\xc0\xaf", ok: false},
	{name: "overlong E0", in: "\xe0\x80\xaf", ok: false},
	{name: "overlong F0", in: "\xf0\x80\x80\xaf", ok: false},
	{name: "surrogate", in: "\xed\xa0\x80", ok: false},
	{name: "above max", in: "\xf4\x90\x80\x80", ok: false},
	{name: "F5 lead", in: "\xf5\x80\x80\x80", ok: false},
	{name: "truncated two", in: "a\xc3", ok: false},
	{name: "truncated four", in: "\xf0\x9f\x98", ok: false},
	{name: "bad continuation", in: "\xe2\x82(", ok: false},
	{name: "autobahn 6.4.1", in: "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64", ok: false},
}

func TestValidUTF8(t *testing.T) {
	t.Parallel()
	for _, tc := range utf8Cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ValidUTF8([]byte(tc.in)); got != tc.ok {
				t.Fatalf(
					"ValidUTF8(%q) = %v, want %v",
					tc.in, got, tc.ok,
				)
			}
			if utf8.ValidString(tc.in) != tc.ok {
				t.Fatalf("table disagrees with unicode/utf8 on %q", tc.in)
			}
			checkUTF8Splits(t, []byte(tc.in))
		})
	}
}

// checkUTF8Splits feeds b split at every position and byte by byte; the
// verdict must match utf8.Valid, and a rejection must come no later than
// the chunk holding the first byte that makes b not a valid prefix.
func checkUTF8Splits(t *testing.T, b []byte) {
	t.Helper()
	want := utf8.Valid(b)
	for i := 0; i <= len(b); i++ {
		var s UTF8State
		ok := s.Feed(b[:i])
		ok = s.Feed(b[i:]) && ok
		if got := ok && s.Complete(); got != want {
			t.Fatalf(
				"split at %d of %q: %v, want %v",
				i, b, got, want,
			)
		}
	}
	var s UTF8State
	for i := range b {
		if !s.Feed(b[i : i+1]) {
			if validPrefix(b[:i+1]) {
				t.Fatalf(
					"byte-wise feed of %q rejected the valid prefix %q",
					b, b[:i+1],
				)
			}
			return
		}
		if !validPrefix(b[:i+1]) {
			t.Fatalf(
				"byte-wise feed of %q accepted the invalid prefix %q",
				b, b[:i+1],
			)
		}
	}
	if s.Complete() != want {
		t.Fatalf(
			"byte-wise feed of %q: complete %v, want %v",
			b, s.Complete(), want,
		)
	}
}

// validPrefix reports whether p can be extended to valid UTF-8, using only
// unicode/utf8: p must be valid up to a trailing incomplete code point that
// some continuation completes.
func validPrefix(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	for cut := len(p) - 1; cut >= 0 && cut >= len(p)-3; cut-- {
		if !utf8.Valid(p[:cut]) {
			continue
		}
		for _, tail := range [][]byte{{0x80}, {0x90}, {0xa0}, {0x80, 0x80}, {0x90, 0x80}, {0xa0, 0x80}, {0x80, 0x80, 0x80}, {0x90, 0x80, 0x80}} {
			if utf8.Valid(append(bytes.Clone(p), tail...)) {
				return true
			}
		}
	}
	return false
}

func FuzzUTF8(f *testing.F) {
	for _, tc := range utf8Cases {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte("\xf0\x9f\x98\x80\xf0\x9f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if ValidUTF8(b) != utf8.Valid(b) {
			t.Fatalf("ValidUTF8(%q) disagrees with utf8.Valid", b)
		}
		checkUTF8Splits(t, b)
	})
}
