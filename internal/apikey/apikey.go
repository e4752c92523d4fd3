// Package apikey checks the API key a backend presents to the push
// server's HTTP API, /metrics and the status page: one check for every
// endpoint that takes the key.
package apikey

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/plezigo/plezi/dispatch"
)

// Key is the SHA-256 of an API key: a presented key is hashed and the two
// digests compared in constant time, so neither the key's bytes nor its
// length leak through timing. The zero Key (from New("")) allows nothing.
type Key struct {
	sum [sha256.Size]byte
	set bool
}

// New returns the Key for key; "" makes a Key that refuses every request.
func New(key string) Key { return Key{sum: sha256.Sum256([]byte(key)), set: key != ""} }

// Of returns the key r presents: the X-API-Key header, or
// "Authorization: apikey <key>" (the scheme in any case); "" for none.
func Of(r *dispatch.Request) string {
	if k := r.Header("X-API-Key"); k != "" {
		return k
	}
	scheme, rest, ok := strings.Cut(strings.TrimSpace(r.Header("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "apikey") {
		return ""
	}
	return strings.TrimSpace(rest)
}

// Allows reports whether r presents the key. Safe from any goroutine.
func (k *Key) Allows(r *dispatch.Request) bool {
	got := Of(r)
	if !k.set || got == "" {
		return false
	}
	h := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(h[:], k.sum[:]) == 1
}
