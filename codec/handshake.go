package codec

import (
	"crypto/sha1"
	"encoding/base64"
	"slices"
	"strconv"
)

// acceptGUID is the key suffix from RFC 6455 §1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptKeyLen is the length of a Sec-WebSocket-Accept value.
const acceptKeyLen = 28

// IsUpgrade reports whether r asks for a websocket ("Upgrade: websocket").
// Safe for concurrent use with other readers of r.
func IsUpgrade(r *Request) bool { return r.HasToken("Upgrade", "websocket") }

// CheckUpgrade validates a websocket opening handshake (RFC 6455 §4.2.1):
// GET, HTTP/1.1, Host present, an "Upgrade: websocket" token, a
// "Connection: upgrade" token, Sec-WebSocket-Version 13 (else ErrWSVersion,
// 426) and a Sec-WebSocket-Key that is the base64 of 16 bytes (else
// ErrBadRequest, as are the other failures). key aliases r's buffer and is
// valid as long as r. Does not allocate.
func CheckUpgrade(r *Request) (key []byte, err error) {
	switch {
	case string(r.Method()) != "GET", r.minor != 1, r.Header("Host") == nil,
		!IsUpgrade(r), !r.HasToken("Connection", "upgrade"):
		return nil, ErrBadRequest
	case string(r.Header("Sec-WebSocket-Version")) != "13":
		return nil, ErrWSVersion
	}
	key = r.Header("Sec-WebSocket-Key")
	if !validKey(key) {
		return nil, ErrBadRequest
	}
	return key, nil
}

// validKey reports whether key is the base64 encoding of 16 bytes.
func validKey(key []byte) bool {
	if len(key) != 24 {
		return false
	}
	var raw [18]byte
	n, err := base64.StdEncoding.Decode(raw[:], key)
	return err == nil && n == 16
}

// AppendAcceptKey appends the Sec-WebSocket-Accept value for key:
// base64(sha1(key + GUID)). Allocation-free when dst has 28 bytes of room
// and key is at most 64 bytes (a valid key has 24).
func AppendAcceptKey(dst, key []byte) []byte {
	var scratch [64 + len(acceptGUID)]byte
	var sum [sha1.Size]byte
	if len(key) <= 64 {
		n := copy(scratch[:], key)
		n += copy(scratch[n:], acceptGUID)
		sum = sha1.Sum(scratch[:n])
	} else {
		sum = sha1.Sum(append(append([]byte(nil), key...), acceptGUID...))
	}
	start := len(dst)
	dst = append(dst, make([]byte, acceptKeyLen)...)
	base64.StdEncoding.Encode(dst[start:], sum[:])
	return dst
}

// SelectProtocol returns the first subprotocol the client offers (in
// Sec-WebSocket-Protocol headers, in order) that is in supported, compared
// exactly; "" when there is none. The result is an element of supported.
// Does not allocate.
func SelectProtocol(r *Request, supported []string) string {
	var chosen string
	r.VisitHeaders(func(name, value []byte) bool {
		if !equalFold(name, "Sec-WebSocket-Protocol") {
			return true
		}
		chosen = firstSupported(value, supported)
		return chosen == ""
	})
	return chosen
}

func firstSupported(list []byte, supported []string) string {
	for len(list) > 0 {
		item, rest := cutComma(list)
		item = trimOWS(item)
		for _, s := range supported {
			if string(item) == s {
				return s
			}
		}
		list = rest
	}
	return ""
}

func cutComma(b []byte) (item, rest []byte) {
	for i, c := range b {
		if c == ',' {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// AppendUpgradeResponse appends the "101 Switching Protocols" response for
// a handshake with the given client key, with Sec-WebSocket-Protocol when
// protocol is not empty and Sec-WebSocket-Extensions when extensions (an
// extension value such as NegotiateDeflate's response) is not empty.
// Allocation-free when dst has room; else dst grows once.
func AppendUpgradeResponse(dst, key []byte, protocol string, extensions []byte) []byte {
	dst = slices.Grow(dst, upgradeResponseLen(protocol, extensions))
	dst = append(dst, switchingHead...)
	dst = AppendAcceptKey(dst, key)
	dst = append(dst, "\r\n"...)
	if protocol != "" {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		dst = append(dst, protocol...)
		dst = append(dst, "\r\n"...)
	}
	if len(extensions) > 0 {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = append(dst, extensions...)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

const switchingHead = "HTTP/1.1 101 Switching Protocols\r\n" +
	"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "

// upgradeResponseLen is the length of AppendUpgradeResponse's output for
// protocol and extensions.
func upgradeResponseLen(protocol string, extensions []byte) int {
	n := len(switchingHead) + acceptKeyLen + len("\r\n\r\n")
	if protocol != "" {
		n += len("Sec-WebSocket-Protocol: \r\n") + len(protocol)
	}
	if len(extensions) > 0 {
		n += len("Sec-WebSocket-Extensions: \r\n") + len(extensions)
	}
	return n
}

// AppendResponse appends a plain HTTP/1.1 response: status line,
// Content-Type (when not empty), Content-Length (omitted, like the body, for
// 1xx, 204 and 304), "Connection: keep-alive" or "Connection: close",
// each of extraHeaders as a line (complete "Name: value" strings without
// CRLF; the caller guarantees they hold no CR or LF), then body.
// Allocation-free when dst has room.
func AppendResponse(dst []byte, status int, contentType string, body []byte, keepAlive bool, extraHeaders ...string) []byte {
	dst = AppendResponseHead(dst, status, contentType, int64(len(body)), keepAlive, extraHeaders...)
	if noResponseBody(status) {
		return dst
	}
	return append(dst, body...)
}

// AppendResponseHead appends the head AppendResponse writes, announcing a
// body of contentLength bytes that the caller sends after it (or not, for
// a HEAD request). Allocation-free when dst has room; safe for concurrent
// use.
func AppendResponseHead(dst []byte, status int, contentType string, contentLength int64, keepAlive bool, extraHeaders ...string) []byte {
	dst = appendStatusLine(dst, status)
	if contentType != "" {
		dst = append(dst, "Content-Type: "...)
		dst = append(dst, contentType...)
		dst = append(dst, "\r\n"...)
	}
	if !noResponseBody(status) {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, contentLength, 10)
		dst = append(dst, "\r\n"...)
	}
	if keepAlive {
		dst = append(dst, "Connection: keep-alive\r\n"...)
	} else {
		dst = append(dst, "Connection: close\r\n"...)
	}
	for _, h := range extraHeaders {
		dst = append(dst, h...)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

func noResponseBody(status int) bool { return status < 200 || status == 204 || status == 304 }

// AppendHTTPError appends the response that refuses a request after err
// from RequestParser.Parse or CheckUpgrade: the *HTTPError's status (500 for
// other errors) with its message as a text/plain body and
// "Connection: close"; ErrWSVersion (426) adds "Sec-WebSocket-Version: 13"
// and "Upgrade: websocket" (RFC 9110 §15.5.22).
func AppendHTTPError(dst []byte, err error) []byte {
	he, ok := err.(*HTTPError)
	if !ok {
		he = &HTTPError{500, StatusText(500)}
	}
	body := he.Msg + "\n"
	if he.Status == ErrWSVersion.Status {
		return AppendResponse(dst, he.Status, "text/plain; charset=utf-8", []byte(body), false,
			"Sec-WebSocket-Version: 13", "Upgrade: websocket")
	}
	return AppendResponse(dst, he.Status, "text/plain; charset=utf-8", []byte(body), false)
}

func appendStatusLine(dst []byte, status int) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, StatusText(status)...)
	return append(dst, "\r\n"...)
}
