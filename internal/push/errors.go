package push

import "errors"

// Errors of Mount and of token checks. A token check's error wraps
// ErrToken and says why (expired, wrong signature, wrong audience, ...).
var (
	// ErrConfig is returned by Mount for a Config it cannot serve.
	ErrConfig = errors.New("push: bad config")
	// ErrToken is wrapped by every refused token.
	ErrToken = errors.New("push: bad token")
	// ErrNoToken is a connection or register without a token when one is
	// needed.
	ErrNoToken = errors.New("push: no token")
)
