package push

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/plezigo/plezi/dispatch"
)

// apiKey is the SHA-256 of the API key: a presented key is hashed and the
// two digests compared in constant time, so neither the key's bytes nor
// its length leak through timing.
type apiKey [sha256.Size]byte

func newAPIKey(key string) apiKey { return sha256.Sum256([]byte(key)) }

// allows reports whether r presents the key, as "X-API-Key: <key>" or
// "Authorization: apikey <key>".
func (k *apiKey) allows(r *dispatch.Request) bool {
	got := r.Header("X-API-Key")
	if got == "" {
		scheme, rest, ok := strings.Cut(strings.TrimSpace(r.Header("Authorization")), " ")
		if !ok || !strings.EqualFold(scheme, "apikey") {
			return false
		}
		got = strings.TrimSpace(rest)
	}
	if got == "" {
		return false
	}
	h := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(h[:], k[:]) == 1
}
