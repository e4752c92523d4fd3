package codec

import (
	"bytes"
	"strconv"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"
)

// DeflateParams are the permessage-deflate parameters (RFC 7692) agreed in
// a handshake. Window bits are 8..15; 15 (a 32 KiB window) when the peer set
// no limit.
type DeflateParams struct {
	// ServerNoContextTakeover is always true in what NegotiateDeflate
	// returns: the server compresses every message on its own.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: the client resets its compressor per message,
	// so the server keeps no 32 KiB inflate window between messages.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits limits how far back the server's compressed data
	// may refer (Encoder and Prepared honour it).
	ServerMaxWindowBits int
	// ClientMaxWindowBits is the client's window; informational, inflate
	// always accepts 32 KiB.
	ClientMaxWindowBits int
	// serverBitsOffered: the offer named server_max_window_bits, so the
	// response names it too (RFC 7692 §7.1.2.1: that is how it is accepted).
	serverBitsOffered bool
}

const (
	maxWindowBits = 15
	minWindowBits = 8
)

// NegotiateDeflate reads the Sec-WebSocket-Extensions offers of r (all such
// headers, in order) and accepts the first acceptable permessage-deflate
// offer. An offer with an unknown, duplicate or malformed parameter is
// skipped and the next one tried. response is the extension value for the
// 101 response (pass it to AppendUpgradeResponse): it always carries
// server_no_context_takeover, plus client_no_context_takeover when offered
// and the window bits the client gave values for. ok is false when no offer
// is acceptable: the connection then runs without compression.
//
// Safe for concurrent use with other readers of r; response is newly
// allocated and owned by the caller.
func NegotiateDeflate(r *Request) (p DeflateParams, response []byte, ok bool) {
	return NegotiateDeflateWith(r, DeflateOptions{})
}

// DeflateOptions tune NegotiateDeflateWith.
type DeflateOptions struct {
	// ClientNoContextTakeover answers every accepted offer with
	// client_no_context_takeover, which RFC 7692 §7.1.1.2 lets a server add
	// to any response (gorilla/websocket servers always do): the client then
	// compresses each message on its own, and the server keeps no 32 KiB
	// inflate window per connection and copies no window per message, at
	// some cost in ratio for small, similar messages.
	ClientNoContextTakeover bool
}

// NegotiateDeflateWith is NegotiateDeflate with options.
func NegotiateDeflateWith(r *Request, o DeflateOptions) (p DeflateParams, response []byte, ok bool) {
	r.VisitHeaders(func(name, value []byte) bool {
		if !equalFold(name, "Sec-WebSocket-Extensions") {
			return true
		}
		opts, wellFormed := httphead.ParseOptions(value, nil)
		if !wellFormed {
			return true
		}
		for _, opt := range opts {
			if !equalFold(opt.Name, wsflate.ExtensionName) {
				continue
			}
			if p, ok = parseDeflateOffer(&opt.Parameters); ok {
				return false
			}
		}
		return true
	})
	if !ok {
		return DeflateParams{}, nil, false
	}
	p.ClientNoContextTakeover = p.ClientNoContextTakeover || o.ClientNoContextTakeover
	return p, appendDeflateResponse(nil, p), true
}

// offer is one permessage-deflate offer being checked.
type offer struct {
	p    DeflateParams
	seen uint8
	bad  bool
	// clientBitsValue: client_max_window_bits came with a value to echo.
	clientBitsValue bool
}

const (
	seenServerNoCtx = 1 << iota
	seenClientNoCtx
	seenServerBits
	seenClientBits
)

func parseDeflateOffer(params *httphead.Parameters) (DeflateParams, bool) {
	o := offer{p: DeflateParams{
		ServerNoContextTakeover: true,
		ServerMaxWindowBits:     maxWindowBits,
		ClientMaxWindowBits:     maxWindowBits,
	}}
	params.ForEach(o.param)
	if o.bad {
		return DeflateParams{}, false
	}
	if !o.clientBitsValue {
		o.p.ClientMaxWindowBits = maxWindowBits
	}
	o.p.serverBitsOffered = o.seen&seenServerBits != 0
	return o.p, true
}

// param applies one offer parameter; it returns false (stop) when the offer
// is unacceptable.
func (o *offer) param(key, val []byte) bool {
	val = unquote(val)
	switch {
	case equalFold(key, "server_no_context_takeover"):
		o.bad = !o.mark(seenServerNoCtx) || len(val) != 0
	case equalFold(key, "client_no_context_takeover"):
		o.bad = !o.mark(seenClientNoCtx) || len(val) != 0
		o.p.ClientNoContextTakeover = true
	case equalFold(key, "server_max_window_bits"):
		o.p.ServerMaxWindowBits, o.bad = parseBits(val)
		o.bad = o.bad || !o.mark(seenServerBits) || len(val) == 0
	case equalFold(key, "client_max_window_bits"):
		o.bad = !o.mark(seenClientBits)
		if len(val) != 0 {
			var bad bool
			o.p.ClientMaxWindowBits, bad = parseBits(val)
			o.bad = o.bad || bad
			o.clientBitsValue = true
		}
	default:
		o.bad = true
	}
	return !o.bad
}

func (o *offer) mark(bit uint8) bool {
	if o.seen&bit != 0 {
		return false
	}
	o.seen |= bit
	return true
}

// parseBits parses a window size 8..15 written as one or two digits.
func parseBits(v []byte) (bits int, bad bool) {
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' || n > maxWindowBits {
			return 0, true
		}
		n = n*10 + int(c-'0')
	}
	if len(v) == 0 {
		return maxWindowBits, false
	}
	if n < minWindowBits || n > maxWindowBits || v[0] == '0' {
		return 0, true
	}
	return n, false
}

func unquote(v []byte) []byte {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

// appendDeflateResponse appends the extension value the server answers with.
func appendDeflateResponse(dst []byte, p DeflateParams) []byte {
	dst = append(dst, "permessage-deflate; server_no_context_takeover"...)
	if p.ClientNoContextTakeover {
		dst = append(dst, "; client_no_context_takeover"...)
	}
	if p.ServerMaxWindowBits != maxWindowBits || p.serverBitsOffered {
		dst = append(dst, "; server_max_window_bits="...)
		dst = strconv.AppendInt(dst, int64(p.ServerMaxWindowBits), 10)
	}
	if p.ClientMaxWindowBits != maxWindowBits {
		dst = append(dst, "; client_max_window_bits="...)
		dst = strconv.AppendInt(dst, int64(p.ClientMaxWindowBits), 10)
	}
	return dst
}

// deflateTail is the sync-flush marker that ends every compressed message
// on the wire after the sender strips it (RFC 7692 §7.2.1).
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff}

// trimDeflateTail removes the sync-flush marker from the end of b.
func trimDeflateTail(b []byte) []byte {
	if bytes.HasSuffix(b, deflateTail) {
		return b[:len(b)-len(deflateTail)]
	}
	return b
}
