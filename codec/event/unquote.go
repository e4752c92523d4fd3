package event

import (
	"unicode/utf16"
	"unicode/utf8"
)

// The string decoding rules are encoding/json's: escapes are resolved, a
// valid surrogate pair makes one rune, a lone surrogate and every byte
// that is not UTF-8 become U+FFFD.

// nextRune decodes the rune at s[i] of a string body already checked by
// skipString, and returns it with the index of the next one.
func nextRune(s []byte, i int) (rune, int) {
	c := s[i]
	if c == '\\' {
		return unescape(s, i)
	}
	if c < utf8.RuneSelf {
		return rune(c), i + 1
	}
	r, n := utf8.DecodeRune(s[i:])
	return r, i + n
}

// unescape decodes the escape sequence at s[i].
func unescape(s []byte, i int) (rune, int) {
	switch s[i+1] {
	case 'b':
		return '\b', i + 2
	case 'f':
		return '\f', i + 2
	case 'n':
		return '\n', i + 2
	case 'r':
		return '\r', i + 2
	case 't':
		return '\t', i + 2
	case 'u':
		return unescapeU(s, i)
	}
	return rune(s[i+1]), i + 2 // '"', '\\', '/'
}

// unescapeU decodes \uXXXX at s[i], joining a surrogate pair.
func unescapeU(s []byte, i int) (rune, int) {
	r := hex4(s, i+2)
	i += 6
	if !utf16.IsSurrogate(r) {
		return r, i
	}
	if len(s)-i >= 6 && s[i] == '\\' && s[i+1] == 'u' {
		if d := utf16.DecodeRune(r, hex4(s, i+2)); d != utf8.RuneError {
			return d, i + 6
		}
	}
	return utf8.RuneError, i
}

// appendUnquoted appends the decoded form of the string body s.
func appendUnquoted(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		var r rune
		r, i = nextRune(s, i)
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// plainString reports whether a string body decodes to itself: no escapes
// and valid UTF-8.
func plainString(s []byte, escaped bool) bool {
	return !escaped && utf8.Valid(s)
}

// bodyEquals reports whether the string body s decodes to want (ASCII),
// without allocating.
func bodyEquals(s []byte, escaped bool, want string) bool {
	if !escaped {
		return string(s) == want
	}
	j := 0
	for i := 0; i < len(s); {
		var r rune
		r, i = nextRune(s, i)
		w, n := utf8.DecodeRuneInString(want[j:])
		if n == 0 || w != r {
			return false
		}
		j += n
	}
	return j == len(want)
}
