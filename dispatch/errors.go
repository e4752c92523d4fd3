package dispatch

import (
	"errors"
)

// Errors returned by the dispatch package.
var (
	ErrClosed        = errors.New("dispatch: connection closed")
	ErrInvalidUTF8   = errors.New("dispatch: text is not valid UTF-8")
	ErrNotController = errors.New("dispatch: factory must return a pointer to a struct embedding dispatch.Socket")
	ErrNoTarget      = errors.New("dispatch: target is gone")
	ErrBadID         = errors.New("dispatch: malformed connection id")
	ErrNotRegistered = errors.New("dispatch: identity is not registered")
	ErrBadEnvelope   = errors.New("dispatch: malformed envelope")
	ErrReplaced      = errors.New("dispatch: connection replaced by a newer one of the identity")
)

// HTTPError refuses a websocket upgrade from PreConnect with an HTTP status.
type HTTPError struct {
	Status int
	Msg    string
}

func (e *HTTPError) Error() string { return e.Msg }

// Refuse returns an error that makes PreConnect answer the upgrade request with
// the given HTTP status and message instead of upgrading.
func Refuse(status int, msg string) error { return &HTTPError{Status: status, Msg: msg} }

// StatusError is an error with an HTTP-like status for event replies: an
// event method returning it answers {"event":"_err_","status":status,...}.
func StatusError(status int, msg string) error { return &HTTPError{Status: status, Msg: msg} }
