package codec

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// ParseClose validates a close frame payload (RFC 6455 §5.5.1, §7.4).
// An empty payload gives code 1005 (ws.StatusNoStatusRcvd) and no reason.
// A one-byte payload and codes that must not appear on the wire
// (0–999, 1004–1006, 1015, unassigned 1016–2999, 5000 and up) give
// ErrCloseLength / ErrCloseCode; a reason that is not UTF-8 gives
// ErrInvalidUTF8. reason aliases p. Safe for concurrent use.
func ParseClose(p []byte) (code ws.StatusCode, reason []byte, err error) {
	switch len(p) {
	case 0:
		return ws.StatusNoStatusRcvd, nil, nil
	case 1:
		return 0, nil, ErrCloseLength
	}
	code = ws.StatusCode(binary.BigEndian.Uint16(p))
	if !ValidCloseCode(code) {
		return 0, nil, ErrCloseCode
	}
	reason = p[2:]
	if !ValidUTF8(reason) {
		return 0, nil, ErrInvalidUTF8
	}
	return code, reason, nil
}

// ValidCloseCode reports whether code may be sent in a close frame:
// 1000–1003, 1007–1014 (1012–1014 are IANA-registered) and 3000–4999.
func ValidCloseCode(code ws.StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
