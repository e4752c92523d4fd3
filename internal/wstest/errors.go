package wstest

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors, test with errors.Is.
var (
	// ErrUnexpectedFrame is returned when a frame other than the expected
	// kind arrives.
	ErrUnexpectedFrame = errors.New("wstest: unexpected frame")
	// ErrUnexpectedData is returned by ExpectSilence when bytes arrive.
	ErrUnexpectedData = errors.New("wstest: unexpected data")
	// ErrNotClosed is returned by ExpectEOF when the server keeps the TCP
	// connection open past the deadline.
	ErrNotClosed = errors.New("wstest: connection not closed")
	// ErrClosed is returned when the server closed the TCP connection while
	// a frame was expected.
	ErrClosed = errors.New("wstest: connection closed by peer")
	// ErrProtocol is returned when the server violates RFC 6455 or RFC 7692
	// (masked frames, bad lengths, bad continuation, bad deflate data,
	// window or context takeover violations).
	ErrProtocol = errors.New("wstest: server protocol violation")
	// ErrHandshake is returned when the upgrade response is not a valid
	// 101 Switching Protocols; see *HandshakeError.
	ErrHandshake = errors.New("wstest: handshake failed")
)

// HandshakeError carries the HTTP response of a refused upgrade.
// It matches ErrHandshake with errors.Is.
type HandshakeError struct {
	Response *http.Response // body already read into Body
	Body     []byte
	Reason   string
}

func (e *HandshakeError) Error() string {
	if e.Response == nil {
		return "wstest: handshake failed: " + e.Reason
	}
	return fmt.Sprintf("wstest: handshake failed: %s: %s", e.Response.Status, e.Reason)
}

// Is reports whether target is ErrHandshake.
func (e *HandshakeError) Is(target error) bool { return target == ErrHandshake }

func protocolErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}
