package codec

import "unicode/utf8"

// ValidUTF8 reports whether b is entirely valid UTF-8 (RFC 3629: no
// surrogates, no overlong forms, nothing above U+10FFFF). It agrees with
// unicode/utf8.Valid. Safe for concurrent use; does not retain b.
func ValidUTF8(b []byte) bool {
	var s UTF8State
	return s.Feed(b) && s.Complete()
}

// UTF8State validates UTF-8 incrementally, so that text split across reads,
// frames and fragments fails as soon as the first invalid byte arrives. The
// zero value is the start state. A UTF8State is a plain value: one per
// message, owned by one goroutine.
type UTF8State uint32

// DFA states. utf8Reject is absorbing.
const (
	utf8Accept  UTF8State = iota // between code points
	utf8Need1                    // one continuation byte (80..BF) left
	utf8Need2                    // two continuation bytes left
	utf8Need3                    // three continuation bytes left
	utf8AfterE0                  // E0: next A0..BF (no overlong), then one more
	utf8AfterED                  // ED: next 80..9F (no surrogates), then one more
	utf8AfterF0                  // F0: next 90..BF (no overlong), then two more
	utf8AfterF4                  // F4: next 80..8F (≤ U+10FFFF), then two more
	utf8Reject
	utf8States
)

// Byte classes for the DFA.
const (
	clsASCII = iota // 00..7F
	clsC80          // 80..8F
	clsC90          // 90..9F
	clsCA0          // A0..BF
	clsBad          // C0, C1, F5..FF: never valid
	clsL2           // C2..DF: two-byte lead
	clsE0           // E0
	clsL3           // E1..EC, EE..EF: three-byte lead
	clsED           // ED
	clsF0           // F0
	clsL4           // F1..F3: four-byte lead
	clsF4           // F4
	utf8Classes
)

var utf8Class = func() (t [256]uint8) {
	for c := range 256 {
		t[c] = classOf(byte(c))
	}
	return t
}()

func classOf(c byte) uint8 {
	switch {
	case c < 0x80:
		return clsASCII
	case c < 0x90:
		return clsC80
	case c < 0xA0:
		return clsC90
	case c < 0xC0:
		return clsCA0
	case c < 0xC2, c > 0xF4:
		return clsBad
	case c < 0xE0:
		return clsL2
	case c == 0xE0:
		return clsE0
	case c == 0xED:
		return clsED
	case c < 0xF0:
		return clsL3
	case c == 0xF0:
		return clsF0
	case c == 0xF4:
		return clsF4
	}
	return clsL4
}

// utf8Next[state*utf8Classes+class] is the next state.
var utf8Next = func() (t [int(utf8States) * utf8Classes]UTF8State) {
	for i := range t {
		t[i] = utf8Reject
	}
	set := func(s UTF8State, to UTF8State, classes ...int) {
		for _, c := range classes {
			t[int(s)*utf8Classes+c] = to
		}
	}
	set(utf8Accept, utf8Accept, clsASCII)
	set(utf8Accept, utf8Need1, clsL2)
	set(utf8Accept, utf8AfterE0, clsE0)
	set(utf8Accept, utf8Need2, clsL3)
	set(utf8Accept, utf8AfterED, clsED)
	set(utf8Accept, utf8AfterF0, clsF0)
	set(utf8Accept, utf8Need3, clsL4)
	set(utf8Accept, utf8AfterF4, clsF4)
	set(utf8Need1, utf8Accept, clsC80, clsC90, clsCA0)
	set(utf8Need2, utf8Need1, clsC80, clsC90, clsCA0)
	set(utf8Need3, utf8Need2, clsC80, clsC90, clsCA0)
	set(utf8AfterE0, utf8Need1, clsCA0)
	set(utf8AfterED, utf8Need1, clsC80, clsC90)
	set(utf8AfterF0, utf8Need2, clsC90, clsCA0)
	set(utf8AfterF4, utf8Need2, clsC80)
	return t
}()

func (s UTF8State) step(c byte) UTF8State {
	return utf8Next[int(s)*utf8Classes+int(utf8Class[c])]
}

// Feed validates the next bytes of the text. It returns false as soon as the
// text so far cannot be a prefix of valid UTF-8; the state then stays
// rejected. An incomplete code point at the end of b is remembered and
// completed by the next Feed. Does not retain b.
//
// Whole code points go through unicode/utf8.Valid (ASCII eight bytes at a
// time, measured faster than a byte-wise DFA); only the at most three bytes
// of a code point cut by a chunk boundary go through the DFA.
func (s *UTF8State) Feed(b []byte) bool {
	st := *s
	i := 0
	for ; st != utf8Accept && i < len(b); i++ {
		st = st.step(b[i])
	}
	if st == utf8Reject {
		*s = st
		return false
	}
	if st == utf8Accept && i < len(b) {
		st = feedBulk(b[i:])
	}
	*s = st
	return st != utf8Reject
}

// feedBulk validates b starting between code points.
func feedBulk(b []byte) UTF8State {
	cut := incompleteTail(b)
	if !utf8.Valid(b[:cut]) {
		return utf8Reject
	}
	st := utf8Accept
	for _, c := range b[cut:] {
		st = st.step(c)
	}
	return st
}

// incompleteTail returns where a code point cut off by the end of b starts,
// or len(b) when b does not end inside a code point.
func incompleteTail(b []byte) int {
	for j := len(b) - 1; j >= 0 && j >= len(b)-3; j-- {
		c := b[j]
		if c < 0x80 {
			return len(b)
		}
		if c >= 0xC0 {
			if j+seqLen(c) > len(b) {
				return j
			}
			return len(b)
		}
	}
	return len(b)
}

func seqLen(lead byte) int {
	switch {
	case lead >= 0xF0:
		return 4
	case lead >= 0xE0:
		return 3
	}
	return 2
}

// Complete reports whether the text fed so far ends between code points
// (and was valid): a message may end only in this state.
func (s UTF8State) Complete() bool { return s == utf8Accept }
