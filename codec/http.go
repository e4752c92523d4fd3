package codec

import "bytes"

// span is a [off, end) range of Request.buf.
type span struct{ off, end int32 }

// field is one header line: name and value (OWS trimmed).
type field struct{ name, value span }

// Request is a parsed HTTP/1.x request head. It owns a copy of the head's
// bytes; every []byte it returns points into that copy and stays valid until
// the next Reset or Parse into the same Request. A Request is not safe for
// concurrent mutation; concurrent reads are fine.
type Request struct {
	buf    []byte
	fields []field
	method span
	target span
	path   span
	query  span // off < 0: no '?'
	// authority is the host of an absolute-form target; end == 0: none.
	authority span
	minor     uint8
	clen      int64
}

// Reset clears r, keeping its buffers for reuse. Slices returned by r
// earlier are invalid afterwards. Same goroutine rule as r.
func (r *Request) Reset() {
	r.buf = r.buf[:0]
	r.fields = r.fields[:0]
	r.method, r.target, r.path, r.authority = span{}, span{}, span{}, span{}
	r.query = span{-1, -1}
	r.minor = 0
	r.clen = -1
}

func (r *Request) get(s span) []byte { return r.buf[s.off:s.end:s.end] }

// Method returns the request method, e.g. "GET". Like every accessor of
// Request it aliases r's buffer (valid until r is reset or parsed into
// again), must not be modified, and may be called concurrently with other
// reads of r.
func (r *Request) Method() []byte { return r.get(r.method) }

// Target returns the raw request-target, e.g. "/chat?room=1" or, in
// absolute-form, "http://host/chat?room=1"; aliases r.
func (r *Request) Target() []byte { return r.get(r.target) }

// Path returns the target's path, before '?', raw (not percent-decoded):
// "/chat" for both targets above, "/" for "http://host"; aliases r.
func (r *Request) Path() []byte { return r.get(r.path) }

// Query returns the target after '?' (without it), nil when there is no
// '?'; aliases r.
func (r *Request) Query() []byte {
	if r.query.off < 0 {
		return nil
	}
	return r.get(r.query)
}

// ProtoMinor returns the minor HTTP version: 0 or 1.
func (r *Request) ProtoMinor() int { return int(r.minor) }

// Header returns the first value of the named header (ASCII
// case-insensitive), OWS trimmed; nil when absent, empty non-nil when
// present with an empty value. Host is the target's authority when the
// target is in absolute-form (RFC 9112 §3.2.2). Aliases r; does not
// allocate.
func (r *Request) Header(name string) []byte {
	if r.authority.end > 0 && isHost(name) {
		return r.get(r.authority)
	}
	for _, f := range r.fields {
		if equalFold(r.get(f.name), name) {
			return r.get(f.value)
		}
	}
	return nil
}

// VisitHeaders calls fn for every header line in order until fn returns
// false. name and value alias r's buffer; fn must not modify them.
func (r *Request) VisitHeaders(fn func(name, value []byte) bool) {
	for _, f := range r.fields {
		if !fn(r.get(f.name), r.get(f.value)) {
			return
		}
	}
}

// HasToken reports whether any header called name holds token in its
// comma-separated list (both compared ASCII case-insensitively), as for
// "Connection: keep-alive, Upgrade". Does not allocate.
func (r *Request) HasToken(name, token string) bool {
	for _, f := range r.fields {
		if equalFold(r.get(f.name), name) && hasToken(r.get(f.value), token) {
			return true
		}
	}
	return false
}

// KeepAlive reports whether the connection persists after this request:
// HTTP/1.1 unless "Connection: close", HTTP/1.0 only with
// "Connection: keep-alive".
func (r *Request) KeepAlive() bool {
	if r.HasToken("Connection", "close") {
		return false
	}
	return r.minor == 1 || r.HasToken("Connection", "keep-alive")
}

// ContentLength returns the Content-Length header's value, -1 when absent
// (valid after a successful Parse).
func (r *Request) ContentLength() int64 { return r.clen }

// Head returns the request head r was parsed from: request line, headers
// and the blank line. It aliases r's buffer; same lifetime as r's slices.
func (r *Request) Head() []byte { return r.buf }

// ParseHead parses a complete request head (as returned by Head) into r,
// copying it. It is how a kept copy of a head becomes a Request again.
func (r *Request) ParseHead(head []byte) error {
	r.Reset()
	return r.parse(head)
}

// Clone returns a deep copy of r that shares no memory with it, for a
// request that must outlive the connection's read (e.g. handed to another
// goroutine). Safe to call concurrently with other reads of r.
func (r *Request) Clone() *Request {
	c := *r
	c.buf = bytes.Clone(r.buf)
	c.fields = append([]field(nil), r.fields...)
	return &c
}

// hasToken reports whether the comma-separated list holds token.
func hasToken(list []byte, token string) bool {
	for len(list) > 0 {
		i := bytes.IndexByte(list, ',')
		if i < 0 {
			i = len(list)
		}
		if equalFold(trimOWS(list[:i]), token) {
			return true
		}
		list = list[min(i+1, len(list)):]
	}
	return false
}

// isHost reports whether name is "Host", ASCII case-insensitively.
func isHost(name string) bool {
	return len(name) == 4 && lower(name[0]) == 'h' && lower(name[1]) == 'o' &&
		lower(name[2]) == 's' && lower(name[3]) == 't'
}

// equalFold compares b and s ASCII case-insensitively.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && isOWS(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isOWS(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' }
