package bench

// Error is a bench error sentinel; the type makes sentinels constants.
type Error string

func (e Error) Error() string { return string(e) }

// Sentinel errors, tested with errors.Is.
const (
	ErrHandshake     Error = "bench: websocket handshake refused"
	ErrFrameTooLarge Error = "bench: frame too large"
	ErrProtocol      Error = "bench: protocol error"
	ErrClosed        Error = "bench: engine closed"
	ErrConfig        Error = "bench: bad configuration"
	ErrPayloadSize   Error = "bench: payload shorter than a timestamp"
	ErrNoStats       Error = "bench: the server has no such debug endpoint"
)
