package ops

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// keyOf returns the API key a request carries: the X-API-Key header, or
// "Authorization: apikey <key>" (scheme case-insensitive).
func keyOf(r *dispatch.Request) string {
	if k := r.Header("X-API-Key"); k != "" {
		return k
	}
	scheme, key, ok := strings.Cut(strings.TrimSpace(r.Header("Authorization")), " ")
	if ok && strings.EqualFold(scheme, "apikey") {
		return strings.TrimSpace(key)
	}
	return ""
}

// keyOK compares in constant time; an empty configured key refuses all.
func keyOK(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// unauthorized is the answer to a request without the right key.
var unauthorized = server.Response{Status: http.StatusUnauthorized, Body: []byte("API key required\n"),
	Header: []string{`WWW-Authenticate: apikey realm="plezi"`}}

// guarded answers GET and HEAD carrying the API key with h, 401 without
// it, and 405 to other methods. Concurrency-safe (handlers run on
// workers).
func guarded(key func() string, h server.Handler) server.Handler {
	return func(r *dispatch.Request, body []byte) server.Response {
		if m := string(r.Raw().Method()); m != http.MethodGet && m != http.MethodHead {
			return server.Response{Status: http.StatusMethodNotAllowed, Body: []byte("method not allowed\n"), Header: []string{"Allow: GET, HEAD"}}
		}
		if !keyOK(keyOf(r), key()) {
			return unauthorized
		}
		return h(r, body)
	}
}
