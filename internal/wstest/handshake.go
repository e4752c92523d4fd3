package wstest

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"sort"
	"strings"
)

// acceptGUID is the RFC 6455 section 1.3 key suffix.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for key.
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// NewKey returns a random Sec-WebSocket-Key.
func NewKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// UpgradeRequest returns the bytes of an HTTP/1.1 websocket upgrade request
// for path on host. Header entries replace the defaults (Host, Upgrade,
// Connection, Sec-WebSocket-Key, Sec-WebSocket-Version); an entry with an
// empty value slice removes the default. Extra headers are written in
// sorted order. method "" means GET.
func UpgradeRequest(method, host, path string, header http.Header) []byte {
	if method == "" {
		method = "GET"
	}
	h := http.Header{
		"Host":                  {host},
		"Upgrade":               {"websocket"},
		"Connection":            {"Upgrade"},
		"Sec-Websocket-Key":     {NewKey()},
		"Sec-Websocket-Version": {"13"},
	}
	for k, v := range header {
		h[http.CanonicalHeaderKey(k)] = v
	}
	return appendRequest(nil, method, path, h)
}

func appendRequest(dst []byte, method, path string, h http.Header) []byte {
	dst = append(dst, method+" "+path+" HTTP/1.1\r\n"...)
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			dst = append(dst, k+": "+v+"\r\n"...)
		}
	}
	return append(dst, "\r\n"...)
}

// readResponse reads the response to an upgrade. A 101 has no body; any
// other status has its body read (bounded) into the HandshakeError.
func readResponse(br *bufio.Reader, key string) (*http.Response, error) {
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, &HandshakeError{Reason: err.Error()}
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		return resp, &HandshakeError{Response: resp, Body: body, Reason: "status is not 101"}
	}
	if reason := checkUpgrade(resp, key); reason != "" {
		return resp, &HandshakeError{Response: resp, Reason: reason}
	}
	return resp, nil
}

func checkUpgrade(resp *http.Response, key string) string {
	if !headerHasToken(resp.Header, "Upgrade", "websocket") {
		return "Upgrade header is not websocket"
	}
	if !headerHasToken(resp.Header, "Connection", "upgrade") {
		return "Connection header has no upgrade token"
	}
	if key != "" && resp.Header.Get("Sec-Websocket-Accept") != AcceptKey(key) {
		return "bad Sec-WebSocket-Accept " + resp.Header.Get("Sec-Websocket-Accept")
	}
	return ""
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
