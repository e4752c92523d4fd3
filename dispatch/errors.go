package dispatch

import (
	"errors"
	"strconv"
)

// Errors returned by the dispatch package.
var (
	ErrClosed        = errors.New("dispatch: connection closed")
	ErrInvalidUTF8   = errors.New("dispatch: text is not valid UTF-8")
	ErrNotController = errors.New("dispatch: factory must return a pointer to a struct embedding dispatch.Socket")
	ErrBadID         = errors.New("dispatch: malformed connection id")
	ErrNotRegistered = errors.New("dispatch: identity is not registered")
	ErrBadEnvelope   = errors.New("dispatch: malformed envelope")

	// Identity store bounds (see Identities).
	ErrNoteTooLarge      = errors.New("dispatch: note is larger than a mailbox takes")
	ErrMailFull          = errors.New("dispatch: mailboxes hold their total bound")
	ErrTooManyIdentities = errors.New("dispatch: identity store holds its bound of identities")

	// Route's refusals (wrapped in a *RouteError saying which and why).
	ErrNilFactory     = errors.New("dispatch: factory is nil")
	ErrBadMethod      = errors.New("dispatch: controller method cannot be used")
	ErrBadPattern     = errors.New("dispatch: bad route pattern")
	ErrDuplicateRoute = errors.New("dispatch: route pattern added twice")
	ErrClientEvent    = errors.New("dispatch: ClientEvents names no event method")

	ErrReplaced = errors.New("dispatch: connection replaced by a newer one of the identity")

	// ErrUnavailable: the cluster's shared store (Redis) is not answering;
	// a broker in an outage fails every call at once with an error
	// wrapping it (counted in Stats.Unavailable by the hub).
	ErrUnavailable = errors.New("dispatch: cluster store unavailable")
)

// RouteError is a mistake Route found in a route: its pattern, the
// controller method concerned ("Chat.OnClose"; "" for the pattern itself)
// and why. Err is the sentinel it matches with errors.Is.
type RouteError struct {
	Pattern, Method, Reason string
	Err                     error
}

// Error says the route, the method and why, on one line. Concurrency-safe.
func (e *RouteError) Error() string {
	s := "dispatch: route " + strconv.Quote(e.Pattern) + ": "
	if e.Method != "" {
		s += e.Method + " "
	}
	return s + e.Reason
}

// Unwrap returns the sentinel. Concurrency-safe.
func (e *RouteError) Unwrap() error { return e.Err }

// HTTPError refuses a websocket upgrade from PreConnect with an HTTP status.
type HTTPError struct {
	Status int
	Msg    string
}

// Error returns the message. Concurrency-safe.
func (e *HTTPError) Error() string { return e.Msg }

// Refuse returns an error that makes PreConnect answer the upgrade request with
// the given HTTP status and message instead of upgrading. Concurrency-safe.
func Refuse(status int, msg string) error { return &HTTPError{Status: status, Msg: msg} }

// StatusError is an error with an HTTP-like status for event replies: an
// event method returning it answers {"event":"_err_","status":status,...}.
// Concurrency-safe.
func StatusError(status int, msg string) error { return &HTTPError{Status: status, Msg: msg} }
