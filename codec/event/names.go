package event

import (
	"strings"
	"unicode"
)

// snakeCase maps a Go method name to its event name: "ChatMessage" →
// "chat_message", "HTTPRequest" → "http_request", "ID" → "id". An
// underscore goes before an upper-case letter that follows a lower-case
// letter or a digit, or that ends a run of capitals followed by a
// lower-case letter.
func snakeCase(name string) string {
	rs := []rune(name)
	var sb strings.Builder
	sb.Grow(len(name) + 4)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && wordStart(rs, i) {
				sb.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// wordStart reports whether the capital rs[i] (i > 0) starts a new word.
func wordStart(rs []rune, i int) bool {
	prev := rs[i-1]
	if unicode.IsLower(prev) || unicode.IsDigit(prev) {
		return true
	}
	return unicode.IsUpper(prev) && i+1 < len(rs) && unicode.IsLower(rs[i+1])
}

// lowerCamel maps a Go method name to its lower camel form: "ChatMessage"
// → "chatMessage", "HTTPRequest" → "httpRequest", "ID" → "id".
func lowerCamel(name string) string {
	rs := []rune(name)
	n := 0 // length of the leading run of capitals
	for n < len(rs) && unicode.IsUpper(rs[n]) {
		n++
	}
	if n > 1 && n < len(rs) && unicode.IsLower(rs[n]) {
		n-- // the last capital starts the next word
	}
	for i := range n {
		rs[i] = unicode.ToLower(rs[i])
	}
	return string(rs)
}
