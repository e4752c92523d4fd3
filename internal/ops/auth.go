package ops

import (
	"net/http"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/apikey"
	"github.com/plezigo/plezi/server"
)

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
		if k := apikey.New(key()); !k.Allows(r) {
			return unauthorized
		}
		return h(r, body)
	}
}
