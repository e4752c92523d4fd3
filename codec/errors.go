package codec

import (
	"errors"
	"strconv"

	"github.com/gobwas/ws"
)

// ProtocolError is an RFC 6455 violation by the peer. The connection must be
// closed with status 1002 (see CloseCodeOf). Being a string type, the
// sentinels below cost nothing to return.
type ProtocolError string

// Error implements error.
func (e ProtocolError) Error() string { return string(e) }

// Protocol violations found by Decoder and ParseClose; all map to 1002.
const (
	ErrUnmasked           = ProtocolError("codec: client frame is not masked")
	ErrReservedBits       = ProtocolError("codec: reserved bits set without a negotiated extension")
	ErrReservedOpCode     = ProtocolError("codec: reserved opcode")
	ErrControlFragmented  = ProtocolError("codec: fragmented control frame")
	ErrControlTooLong     = ProtocolError("codec: control frame payload longer than 125 bytes")
	ErrUnexpectedContinue = ProtocolError("codec: continuation frame without a message in progress")
	ErrExpectedContinue   = ProtocolError("codec: new data frame while a fragmented message is in progress")
	ErrLengthOverflow     = ProtocolError("codec: 64-bit payload length with the most significant bit set")
	ErrCloseLength        = ProtocolError("codec: close payload of length 1")
	ErrCloseCode          = ProtocolError("codec: invalid close status code")
	// ErrFailed is every answer of a Decoder after its first error (or
	// Abort): the input is consumed unparsed.
	ErrFailed = ProtocolError("codec: decoder failed earlier; input not parsed")
)

// Payload errors, each with its own close status (see CloseCodeOf).
var (
	// ErrInvalidUTF8 is a text message or close reason that is not UTF-8 (1007).
	ErrInvalidUTF8 error = errors.New("codec: invalid UTF-8")
	// ErrMessageTooBig is a message larger than Decoder.MaxMessage (1009).
	ErrMessageTooBig error = errors.New("codec: message too big")
	// ErrInflate is a compressed message that is not valid deflate data (1007).
	ErrInflate error = errors.New("codec: invalid deflate data")
)

// CloseCodeOf returns the close status a server sends after err:
// 1002 for a ProtocolError, 1007 for ErrInvalidUTF8 and ErrInflate, 1009 for
// ErrMessageTooBig and 1011 for anything else. Wrapped errors are unwrapped.
// Safe for concurrent use.
func CloseCodeOf(err error) ws.StatusCode {
	switch err {
	case nil:
		return ws.StatusNormalClosure
	case ErrInvalidUTF8, ErrInflate:
		return ws.StatusInvalidFramePayloadData
	case ErrMessageTooBig:
		return ws.StatusMessageTooBig
	}
	if _, ok := err.(ProtocolError); ok {
		return ws.StatusProtocolError
	}
	return closeCodeWrapped(err)
}

func closeCodeWrapped(err error) ws.StatusCode {
	var pe ProtocolError
	switch {
	case errors.As(err, &pe):
		return ws.StatusProtocolError
	case errors.Is(err, ErrInvalidUTF8), errors.Is(err, ErrInflate):
		return ws.StatusInvalidFramePayloadData
	case errors.Is(err, ErrMessageTooBig):
		return ws.StatusMessageTooBig
	}
	return ws.StatusInternalServerError
}

// HTTPError is a request head the server must refuse with an HTTP response:
// Status is the response status, Msg a short reason usable as the body.
type HTTPError struct {
	Status int
	Msg    string
}

// Error implements error.
func (e *HTTPError) Error() string {
	return "codec: " + strconv.Itoa(e.Status) + " " + e.Msg
}

// HTTP errors returned by RequestParser.Parse and CheckUpgrade. Compare them
// by pointer (err == ErrBadRequest) or with errors.Is.
var (
	// ErrHeaderTooLarge: no end of the head within RequestParser.Max bytes.
	ErrHeaderTooLarge = &HTTPError{431, "request header fields too large"}
	// ErrBadRequest: malformed request line or header, or a bad upgrade.
	ErrBadRequest = &HTTPError{400, "bad request"}
	// ErrVersion: an HTTP version other than 1.0 and 1.1.
	ErrVersion = &HTTPError{505, "HTTP version not supported"}
	// ErrNotImplemented: a feature this server does not support, such as a
	// request body with Transfer-Encoding.
	ErrNotImplemented = &HTTPError{501, "not implemented"}
	// ErrWSVersion: Sec-WebSocket-Version missing or not 13. The response
	// must carry "Sec-WebSocket-Version: 13" (AppendHTTPError adds it).
	ErrWSVersion = &HTTPError{426, "unsupported websocket version"}
)
