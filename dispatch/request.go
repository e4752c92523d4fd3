package dispatch

import (
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/plezigo/plezi/codec"
)

// Request is the HTTP request that opened a connection. It is kept for the
// connection's lifetime; it is immutable and safe for concurrent use.
type Request struct {
	raw    *codec.Request
	params Params
	qOnce  sync.Once
	query  url.Values // parsed on first use, guarded by qOnce
	remote net.Addr
}

// Param is one path parameter.
type Param struct{ Name, Value string }

// Params are a route's path parameters, in pattern order.
type Params []Param

// NewRequest wraps a parsed request with its route parameters. raw must not
// change afterwards. It is for the server and for tests.
func NewRequest(raw *codec.Request, remote net.Addr, params Params) *Request {
	return &Request{raw: raw, remote: remote, params: params}
}

// Raw returns the parsed HTTP request.
func (r *Request) Raw() *codec.Request { return r.raw }

// Path returns the request path (percent-decoded when valid).
func (r *Request) Path() string {
	p := string(r.raw.Path())
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}

// Param returns the path parameter name (":room" in "/chat/:room").
func (r *Request) Param(name string) string {
	for _, p := range r.params {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// Query returns the first value of the query parameter name.
func (r *Request) Query(name string) string { return r.QueryValues().Get(name) }

// QueryValues returns all query parameters. The map must not be modified.
func (r *Request) QueryValues() url.Values {
	r.qOnce.Do(func() { r.query, _ = url.ParseQuery(string(r.raw.Query())) })
	return r.query
}

// Header returns the first value of the header name (case-insensitive).
func (r *Request) Header(name string) string { return string(r.raw.Header(name)) }

// Cookie returns the value of the cookie name, or "".
func (r *Request) Cookie(name string) string {
	var found string
	r.raw.VisitHeaders(func(k, v []byte) bool {
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

// RemoteAddr is the peer's address.
func (r *Request) RemoteAddr() net.Addr { return r.remote }
