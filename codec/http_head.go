package codec

import (
	"bytes"
	"slices"
)

// requestLine is the parsed request line, offsets relative to its start.
// query.off < 0: no '?'; authority.end == 0: not absolute-form.
type requestLine struct {
	method, target, path, query, authority span
	minor                                  uint8
}

// parseRequestLine parses `method SP request-target SP HTTP/1.x`, with
// line the bytes before the LF (a CR before it is allowed).
func parseRequestLine(line []byte) (rl requestLine, err error) {
	line = trimCR(line)
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 || !isToken(line[:sp1]) {
		return rl, ErrBadRequest
	}
	rest := line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 || !isTarget(rest[:sp2]) {
		return rl, ErrBadRequest
	}
	rl.method = span{0, int32(sp1)}
	rl.target = span{int32(sp1 + 1), int32(sp1 + 1 + sp2)}
	if err = rl.splitTarget(rest[:sp2]); err != nil {
		return rl, err
	}
	rl.minor, err = parseVersion(rest[sp2+1:])
	return rl, err
}

// splitTarget finds the path and the query of t, the target's bytes.
func (rl *requestLine) splitTarget(t []byte) error {
	off := rl.target.off
	end := len(t)
	rl.query = span{-1, -1}
	if q := bytes.IndexByte(t, '?'); q >= 0 {
		end = q
		rl.query = span{off + int32(q) + 1, rl.target.end}
	}
	rl.path = span{off, off + int32(end)}
	if t[0] == '/' {
		return nil // origin-form
	}
	return rl.absolute(t[:end])
}

// absolute splits an absolute-form target (RFC 9112 §3.2.2), t being the
// part before any '?': scheme "://" authority path-abempty, with scheme
// http, https, ws or wss and a non-empty authority without userinfo. An
// empty path is "/" (the second slash of "://"). A target that is neither
// origin- nor absolute-form ("*", "name") stays its own path.
func (rl *requestLine) absolute(t []byte) error {
	i := bytes.Index(t, []byte("://"))
	if i < 0 {
		return nil
	}
	if !webScheme(t[:i]) {
		return ErrBadRequest
	}
	a := i + 3
	p := len(t)
	if j := bytes.IndexByte(t[a:], '/'); j >= 0 {
		p = a + j
	}
	if p == a || bytes.IndexByte(t[a:p], '@') >= 0 {
		return ErrBadRequest
	}
	off := rl.target.off
	rl.authority = span{off + int32(a), off + int32(p)}
	rl.path = span{off + int32(p), off + int32(len(t))}
	if p == len(t) {
		rl.path = span{off + int32(i) + 2, off + int32(i) + 3}
	}
	return nil
}

func webScheme(s []byte) bool {
	return equalFold(s, "http") || equalFold(s, "https") || equalFold(s, "ws") || equalFold(s, "wss")
}

// parseVersion accepts HTTP/1.0 and HTTP/1.1; other well-formed versions
// are ErrVersion, anything else ErrBadRequest.
func parseVersion(v []byte) (uint8, error) {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' ||
		!isDigit(v[5]) || !isDigit(v[7]) {
		return 0, ErrBadRequest
	}
	if v[5] != '1' || v[7] > '1' {
		return 0, ErrVersion
	}
	return v[7] - '0', nil
}

func trimCR(line []byte) []byte {
	if len(line) > 0 && line[len(line)-1] == '\r' {
		return line[:len(line)-1]
	}
	return line
}

// parse fills r from a complete head (request line through the empty line).
func (r *Request) parse(head []byte) error {
	r.Reset()
	r.buf = append(r.buf, head...)
	// One allocation for the fields: a line per field, less the request
	// line and the empty one.
	r.fields = slices.Grow(r.fields, max(bytes.Count(head, []byte{'\n'})-2, 0))
	lf := bytes.IndexByte(r.buf, '\n')
	rl, err := parseRequestLine(r.buf[:lf])
	if err != nil {
		return err
	}
	r.setLine(rl)
	var hs headerState
	for pos := lf + 1; ; {
		next := pos + bytes.IndexByte(r.buf[pos:], '\n')
		line := trimCR(r.buf[pos:next])
		if len(line) == 0 {
			break
		}
		if err = r.addField(int32(pos), line, &hs); err != nil {
			return err
		}
		pos = next + 1
	}
	return hs.check(r.minor)
}

func (r *Request) setLine(rl requestLine) {
	r.method, r.target, r.minor = rl.method, rl.target, rl.minor
	r.path, r.query, r.authority = rl.path, rl.query, rl.authority
}

// headerState tracks the headers that decide whether a head is acceptable.
type headerState struct {
	hosts int
	clens int
	te    bool
}

func (hs *headerState) check(minor uint8) error {
	switch {
	case hs.hosts > 1, hs.clens > 1, minor == 1 && hs.hosts == 0:
		return ErrBadRequest
	case hs.te:
		return ErrNotImplemented
	}
	return nil
}

// addField parses one header line starting at buf offset off.
func (r *Request) addField(off int32, line []byte, hs *headerState) error {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || !isToken(line[:colon]) {
		return ErrBadRequest // includes obs-fold: a line starting with SP/HT
	}
	v0 := colon + 1
	for v0 < len(line) && isOWS(line[v0]) {
		v0++
	}
	v1 := len(line)
	for v1 > v0 && isOWS(line[v1-1]) {
		v1--
	}
	if !isFieldValue(line[v0:v1]) {
		return ErrBadRequest
	}
	f := field{span{off, off + int32(colon)}, span{off + int32(v0), off + int32(v1)}}
	r.fields = append(r.fields, f)
	return r.special(r.get(f.name), r.get(f.value), hs)
}

// special records Host, Content-Length and Transfer-Encoding.
func (r *Request) special(name, value []byte, hs *headerState) error {
	switch {
	case equalFold(name, "Host"):
		hs.hosts++
	case equalFold(name, "Content-Length"):
		hs.clens++
		n, ok := parseContentLength(value)
		if !ok {
			return ErrBadRequest
		}
		r.clen = n
	case equalFold(name, "Transfer-Encoding"):
		hs.te = true
	}
	return nil
}

// parseContentLength accepts 1 to 18 digits (no sign, no list).
func parseContentLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// tchar per RFC 9110 §5.6.2.
var tokenTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func isToken(b []byte) bool {
	for _, c := range b {
		if !tokenTable[c] {
			return false
		}
	}
	return len(b) > 0
}

// isTarget accepts visible ASCII only (no controls, spaces or DEL).
func isTarget(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// isFieldValue accepts VCHAR, obs-text, SP and HTAB (RFC 9110 §5.5).
func isFieldValue(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
