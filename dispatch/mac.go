package dispatch

// Envelope signatures (PL_CLUSTER_SECRET): HMAC-SHA256.

import (
	"crypto/hmac"
	"crypto/sha256"
)

// appendMAC signs an envelope: HMAC-SHA256 of it, appended.
func appendMAC(b, secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(b)
	return m.Sum(b)
}

// checkMAC verifies and strips the signature.
func checkMAC(b, secret []byte) ([]byte, bool) {
	if len(b) < sha256.Size {
		return nil, false
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return body, hmac.Equal(m.Sum(nil), sum)
}
