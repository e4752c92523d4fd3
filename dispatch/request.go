package dispatch

import (
	"bytes"
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/plezigo/plezi/codec"
)

// Request is the HTTP request that opened a connection: the bytes of its
// head, parsed again on the first call that needs a header or the query.
// A connection holds all of it until OnOpen has run (for its whole life on
// a route with KeepRequest); after that only the route's path parameters
// remain, and Socket.Request is nil on a route without any. It is
// immutable and safe for concurrent use, and a nil *Request answers every
// question with the zero value.
type Request struct {
	head   []byte // the request head; nil once parsed (raw holds it then)
	params Params
	remote net.Addr
	once   sync.Once
	raw    *codec.Request // guarded by once
	query  url.Values     // guarded by once
	resume bool           // the query names resumeParam
}

// pathOnly is what a connection keeps of r after OnOpen: the path
// parameters alone, or nil when the route has none.
func (r *Request) pathOnly() *Request {
	if len(r.params) == 0 {
		return nil
	}
	return &Request{params: r.params}
}

// resumeParam is the query parameter a client resumes its mailboxes with.
const resumeParam = "_resume"

// Param is one path parameter.
type Param struct{ Name, Value string }

// Params are a route's path parameters, in pattern order.
type Params []Param

// NewRequest keeps a copy of raw's head with the route parameters. raw may
// be reused afterwards. It is for the server and for tests. Concurrency-safe.
func NewRequest(raw *codec.Request, remote net.Addr, params Params) *Request {
	return &Request{head: bytes.Clone(raw.Head()), remote: remote, params: params,
		resume: bytes.Contains(raw.Query(), []byte(resumeParam))}
}

func (r *Request) parsed() *codec.Request {
	r.once.Do(func() {
		r.raw = new(codec.Request)
		if r.head != nil {
			_ = r.raw.ParseHead(r.head) // parsed once already: cannot fail
		}
		r.head = nil
		r.query, _ = url.ParseQuery(string(r.raw.Query()))
	})
	return r.raw
}

// Raw returns the parsed HTTP request. Its slices must not be modified.
// Concurrency-safe.
func (r *Request) Raw() *codec.Request {
	if r == nil {
		return nil
	}
	return r.parsed()
}

// Path returns the request path (percent-decoded when valid).
// Concurrency-safe.
func (r *Request) Path() string {
	if r == nil {
		return ""
	}
	p := string(r.parsed().Path())
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}

// Param returns the path parameter name (":room" in "/chat/:room").
// Concurrency-safe.
func (r *Request) Param(name string) string {
	if r == nil {
		return ""
	}
	for _, p := range r.params {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// Query returns the first value of the query parameter name.
// Concurrency-safe.
func (r *Request) Query(name string) string { return r.QueryValues().Get(name) }

// QueryValues returns all query parameters. The map must not be modified.
// Concurrency-safe.
func (r *Request) QueryValues() url.Values {
	if r == nil {
		return nil
	}
	r.parsed()
	return r.query
}

// Header returns the first value of the header name (case-insensitive).
// Concurrency-safe.
func (r *Request) Header(name string) string {
	if r == nil {
		return ""
	}
	return string(r.parsed().Header(name))
}

// Cookie returns the value of the cookie name, or "". Concurrency-safe.
func (r *Request) Cookie(name string) string {
	if r == nil {
		return ""
	}
	var found string
	r.parsed().VisitHeaders(func(k, v []byte) bool {
		if !strings.EqualFold(string(k), "Cookie") {
			return true
		}
		for _, part := range strings.Split(string(v), ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && k == name {
				found = strings.Trim(v, `"`)
				return false
			}
		}
		return true
	})
	return found
}

// RemoteAddr is the peer's address. Concurrency-safe.
func (r *Request) RemoteAddr() net.Addr {
	if r == nil {
		return nil
	}
	return r.remote
}
