package event

// A validating JSON scanner that skips values without decoding them. Its
// notion of validity is encoding/json's (json.Valid): RFC 8259 grammar,
// no control characters in strings, at most maxDepth nested containers,
// and string bytes that are not UTF-8 are accepted (they decode to U+FFFD).

// maxDepth is the deepest nesting accepted, the same as encoding/json's.
const maxDepth = 10000

// skipWS returns the index of the first non-whitespace byte at or after i.
func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue skips the JSON value starting at b[i] (no leading whitespace)
// and returns the index just past it, or -1 when the value is invalid.
// depth is the number of containers already open around the value.
func skipValue(b []byte, i, depth int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		end, _ := skipString(b, i)
		return end
	case '{', '[':
		return skipNested(b, i, depth)
	case 't':
		return skipLiteral(b, i, "true")
	case 'f':
		return skipLiteral(b, i, "false")
	case 'n':
		return skipLiteral(b, i, "null")
	}
	return skipNumber(b, i)
}

// skipLiteral matches lit at b[i:].
func skipLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// special marks the bytes a string scan must stop at: the quote, the
// backslash and the control characters.
var special = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// skipString skips the string whose opening quote is b[i]. It returns the
// index past the closing quote (-1 when invalid) and whether the string
// holds escapes.
func skipString(b []byte, i int) (end int, escaped bool) {
	for i++; i < len(b); {
		for i < len(b) && !special[b[i]] {
			i++
		}
		if i >= len(b) {
			break
		}
		switch b[i] {
		case '"':
			return i + 1, escaped
		case '\\':
			n := escapeLen(b, i)
			if n == 0 {
				return -1, escaped
			}
			escaped = true
			i += n
		default:
			return -1, escaped
		}
	}
	return -1, escaped
}

// escapeLen returns the length of the escape sequence at b[i] ('\\'), or
// 0 when it is not a valid JSON escape.
func escapeLen(b []byte, i int) int {
	if i+1 >= len(b) {
		return 0
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if hex4(b, i+2) < 0 {
			return 0
		}
		return 6
	}
	return 0
}

// hex4 decodes four hex digits at b[i:], or returns -1.
func hex4(b []byte, i int) rune {
	if len(b)-i < 4 {
		return -1
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// skipNumber skips -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func skipNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if i = skipDigits(b, i+1); i < 0 {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		return skipDigits(b, i)
	}
	return i
}

// skipDigits skips one or more decimal digits, or returns -1 for none.
func skipDigits(b []byte, i int) int {
	start := i
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	if i == start {
		return -1
	}
	return i
}

// skipKey skips `"key" :` and the whitespace after the colon, at b[i].
func skipKey(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i, _ = skipString(b, i); i < 0 {
		return -1
	}
	if i = skipWS(b, i); i >= len(b) || b[i] != ':' {
		return -1
	}
	return skipWS(b, i+1)
}

// nesting records, for each open container, whether it is an object.
// It lives on the stack of skipNested: 1.25 KiB, no allocation.
type nesting struct {
	n    int
	bits [maxDepth/64 + 1]uint64
}

func (s *nesting) push(object bool) {
	w, m := s.n/64, uint64(1)<<(s.n%64)
	if object {
		s.bits[w] |= m
	} else {
		s.bits[w] &^= m
	}
	s.n++
}

func (s *nesting) inObject() bool {
	k := s.n - 1
	return s.bits[k/64]&(1<<(k%64)) != 0
}

// skipNested skips the object or array at b[i] without recursion, so deep
// input costs no goroutine stack. depth counts the containers around it.
func skipNested(b []byte, i, depth int) int {
	var st nesting
	for {
		var more bool
		if i < len(b) && (b[i] == '{' || b[i] == '[') {
			if depth+st.n >= maxDepth {
				return -1
			}
			i, more = openContainer(b, i, &st)
		} else {
			i = skipValue(b, i, 0) // a scalar: containers are handled above
		}
		if i < 0 {
			return -1
		}
		if !more {
			if i, more = nextOrClose(b, i, &st); i < 0 || !more {
				return i
			}
		}
	}
}

// openContainer pushes the container at b[i]. more reports that a value
// starts at the returned index; otherwise the container was empty and is
// already closed.
func openContainer(b []byte, i int, st *nesting) (int, bool) {
	object := b[i] == '{'
	closer := byte(']')
	if object {
		closer = '}'
	}
	st.push(object)
	if i = skipWS(b, i+1); i < len(b) && b[i] == closer {
		st.n--
		return i + 1, false
	}
	if object {
		return skipKey(b, i), true
	}
	return i, true
}

// nextOrClose runs after a value ends at b[i]: it closes finished
// containers and stops at the next value (more) or when none is open.
func nextOrClose(b []byte, i int, st *nesting) (int, bool) {
	for st.n > 0 {
		if i = skipWS(b, i); i >= len(b) {
			return -1, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
			if st.inObject() {
				i = skipKey(b, i)
			}
			return i, true
		case '}', ']':
			if st.inObject() != (b[i] == '}') {
				return -1, false
			}
			st.n--
			i++
		default:
			return -1, false
		}
	}
	return i, false
}

// validValue reports whether b is exactly one JSON value, with optional
// surrounding whitespace.
func validValue(b []byte) bool {
	i := skipValue(b, skipWS(b, 0), 0)
	return i >= 0 && skipWS(b, i) == len(b)
}

// scanObject walks the top-level members of the object at b[i] ('{'),
// calling fn with each key's string body (and whether it holds escapes)
// and the raw value; both alias b. It validates the whole object and
// returns the index past its closing brace, or -1.
func scanObject(b []byte, i int, fn func(key []byte, escaped bool, val []byte)) int {
	if i = skipWS(b, i+1); i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return -1
		}
		kEnd, escaped := skipString(b, i)
		if kEnd < 0 {
			return -1
		}
		key := b[i+1 : kEnd-1]
		if i = skipWS(b, kEnd); i >= len(b) || b[i] != ':' {
			return -1
		}
		vStart := skipWS(b, i+1)
		vEnd := skipValue(b, vStart, 1)
		if vEnd < 0 {
			return -1
		}
		fn(key, escaped, b[vStart:vEnd])
		if i = skipWS(b, vEnd); i >= len(b) {
			return -1
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}
