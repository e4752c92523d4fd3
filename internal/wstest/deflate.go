package wstest

import (
	"bytes"
	"compress/flate"
	"io"
	"strconv"
	"strings"
)

// DeflateParams are permessage-deflate parameters (RFC 7692 section 7.1).
// A window of 0 means the parameter is absent; -1 means present without a
// value (client_max_window_bits in an offer).
type DeflateParams struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int
	ClientMaxWindowBits     int
}

// ParseExtensions parses a Sec-WebSocket-Extensions value into its
// permessage-deflate elements. It fails on other extension names, unknown
// or repeated parameters and invalid window values.
func ParseExtensions(v string) ([]DeflateParams, error) {
	var out []DeflateParams
	for _, elem := range strings.Split(v, ",") {
		if strings.TrimSpace(elem) == "" {
			continue
		}
		p, err := parseDeflate(elem)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parseDeflate(elem string) (DeflateParams, error) {
	var p DeflateParams
	parts := strings.Split(elem, ";")
	if name := strings.TrimSpace(parts[0]); name != "permessage-deflate" {
		return p, protocolErr("unknown extension %q", name)
	}
	seen := map[string]bool{}
	for _, param := range parts[1:] {
		name, val, hasVal := strings.Cut(strings.TrimSpace(param), "=")
		name = strings.TrimSpace(name)
		val = strings.Trim(strings.TrimSpace(val), `"`)
		if seen[name] {
			return p, protocolErr("repeated parameter %q", name)
		}
		seen[name] = true
		if err := p.set(name, val, hasVal); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (p *DeflateParams) set(name, val string, hasVal bool) error {
	switch name {
	case "server_no_context_takeover", "client_no_context_takeover":
		if hasVal {
			return protocolErr("%s takes no value", name)
		}
		if name[0] == 's' {
			p.ServerNoContextTakeover = true
		} else {
			p.ClientNoContextTakeover = true
		}
		return nil
	case "server_max_window_bits", "client_max_window_bits":
		bits := -1
		if hasVal {
			n, err := strconv.Atoi(val)
			if err != nil || n < 8 || n > 15 {
				return protocolErr("%s=%q out of range", name, val)
			}
			bits = n
		}
		if name[0] == 's' {
			if bits < 0 {
				return protocolErr("server_max_window_bits needs a value")
			}
			p.ServerMaxWindowBits = bits
		} else {
			p.ClientMaxWindowBits = bits
		}
		return nil
	}
	return protocolErr("unknown parameter %q", name)
}

// accepts reports whether response r is a valid acceptance of offer o
// (RFC 7692 sections 7.1.1 and 7.1.2).
func (o DeflateParams) accepts(r DeflateParams) bool {
	if o.ServerNoContextTakeover && !r.ServerNoContextTakeover {
		return false
	}
	if o.ServerMaxWindowBits > 0 && (r.ServerMaxWindowBits == 0 || r.ServerMaxWindowBits > o.ServerMaxWindowBits) {
		return false
	}
	if r.ClientMaxWindowBits < 0 {
		return false // a response must carry a value
	}
	if r.ClientMaxWindowBits > 0 {
		if o.ClientMaxWindowBits == 0 || o.ClientMaxWindowBits > 0 && r.ClientMaxWindowBits > o.ClientMaxWindowBits {
			return false
		}
	}
	return true
}

// negotiate checks the server's Sec-WebSocket-Extensions against the
// offer and sets up compression state.
func (c *Client) negotiate(offer string) error {
	resp := c.Response.Header.Values("Sec-Websocket-Extensions")
	if len(resp) == 0 {
		return nil
	}
	if offer == "" {
		return protocolErr("extension %q accepted but none offered", resp)
	}
	got, err := ParseExtensions(strings.Join(resp, ","))
	if err != nil || len(got) != 1 {
		return protocolErr("bad extension response %q (%v)", resp, err)
	}
	offers, err := ParseExtensions(offer)
	if err != nil {
		return err
	}
	r := got[0]
	for _, o := range offers {
		if o.accepts(r) {
			c.Deflate = &r
			c.inflate = newInflater(r)
			c.deflate = newDeflater(r, strings.Contains(offer, "client_no_context_takeover"))
			return nil
		}
	}
	return protocolErr("response %q accepts none of the offers %q", resp, offer)
}

// inflater decompresses server messages and enforces the server's window
// and context takeover parameters.
type inflater struct {
	fr        io.ReadCloser
	takeover  bool
	window    int
	history   []byte // last 32 KiB of output, with context takeover
	total     int    // output bytes so far, with context takeover
	MaxWindow int    // largest distance seen
}

func newInflater(p DeflateParams) *inflater {
	w := 1 << 15
	if p.ServerMaxWindowBits > 0 {
		w = 1 << p.ServerMaxWindowBits
	}
	return &inflater{fr: flate.NewReader(nil), takeover: !p.ServerNoContextTakeover, window: w}
}

var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

func (f *inflater) inflate(data []byte) ([]byte, error) {
	stream := append(append([]byte(nil), data...), deflateTail[:4]...)
	hist := 0
	if f.takeover {
		hist = f.total
	}
	dist, _, ok := MaxDistance(stream, hist)
	if !ok {
		return nil, protocolErr("malformed deflate data or reference before the window start")
	}
	if dist > f.window {
		return nil, protocolErr("back-reference distance %d exceeds the negotiated window %d", dist, f.window)
	}
	f.MaxWindow = max(f.MaxWindow, dist)
	var dict []byte
	if f.takeover {
		dict = f.history
	}
	_ = f.fr.(flate.Resetter).Reset(bytes.NewReader(append(stream, deflateTail[4:]...)), dict)
	out, err := io.ReadAll(f.fr)
	if err != nil {
		return nil, protocolErr("inflate: %v", err)
	}
	if f.takeover {
		f.total += len(out)
		f.history = append(f.history, out...)
		if len(f.history) > 1<<15 {
			f.history = append([]byte(nil), f.history[len(f.history)-1<<15:]...)
		}
	}
	return out, nil
}

// deflater compresses client messages following the client parameters.
type deflater struct {
	buf      bytes.Buffer
	fw       *flate.Writer
	takeover bool
}

func newDeflater(p DeflateParams, hintNoContext bool) *deflater {
	level := flate.BestSpeed // real LZ77 matches, cheap under -race
	if p.ClientMaxWindowBits > 0 && p.ClientMaxWindowBits < 15 {
		// compress/flate always uses a 32 KiB window; Huffman-only output
		// has no back-references, so it fits any window.
		level = flate.HuffmanOnly
	}
	d := &deflater{takeover: !p.ClientNoContextTakeover && !hintNoContext}
	d.fw, _ = flate.NewWriter(&d.buf, level)
	return d
}

func (d *deflater) compress(p []byte) []byte {
	d.buf.Reset()
	if !d.takeover {
		d.fw.Reset(&d.buf)
	}
	_, _ = d.fw.Write(p)
	_ = d.fw.Flush()
	out := bytes.Clone(d.buf.Bytes())
	return bytes.TrimSuffix(out, deflateTail[:4])
}

// MaxServerDistance returns the largest back-reference distance the server
// used so far in compressed messages (0 without compression).
func (c *Client) MaxServerDistance() int {
	if c.inflate == nil {
		return 0
	}
	return c.inflate.MaxWindow
}

// ContextTakeover reports whether this client compresses with context
// takeover (it keeps the LZ77 window across messages).
func (c *Client) ContextTakeover() bool { return c.deflate != nil && c.deflate.takeover }
