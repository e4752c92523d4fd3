package bench

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
)

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// maxResponseHeader bounds the handshake response the engine buffers.
const maxResponseHeader = 16 << 10

// handshake holds the upgrade request of an engine, built once, and the
// Sec-WebSocket-Accept value every response must carry.
type handshake struct {
	request []byte
	partial []byte // the request cut before its final CRLF (churn "half")
	accept  []byte
}

// newHandshake builds the upgrade request for host and path with a random
// key shared by the engine's connections (the key only proves the server
// speaks websocket; one per engine is valid per RFC 6455).
func newHandshake(host, path string) (*handshake, error) {
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	return &handshake{
		request: []byte(req),
		partial: []byte(req[:len(req)/2]),
		accept:  []byte(AcceptKey(key)),
	}, nil
}

// AcceptKey returns the Sec-WebSocket-Accept value for a request key. Pure:
// safe from any goroutine.
func AcceptKey(key string) string {
	s := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(s[:])
}

var (
	crlf2     = []byte("\r\n\r\n")
	status101 = []byte("HTTP/1.1 101")
)

// checkResponse looks for a complete response header in b. It returns the
// header length (0 while incomplete) or ErrHandshake when the response is not
// a valid 101 for this engine's key.
func (hs *handshake) checkResponse(b []byte) (int, error) {
	i := bytes.Index(b, crlf2)
	if i < 0 {
		if len(b) > maxResponseHeader {
			return 0, ErrHandshake
		}
		return 0, nil
	}
	head := b[:i+4]
	if !bytes.HasPrefix(head, status101) || !bytes.Contains(head, hs.accept) {
		return 0, ErrHandshake
	}
	return i + 4, nil
}
