package codec

import "bytes"

// DefaultMaxHeader is the request head limit when RequestParser.Max is 0.
const DefaultMaxHeader = 16 << 10

// RequestParser finds and parses HTTP/1.x request heads in a byte stream
// that arrives in pieces. It remembers how far it has looked, so a client
// sending its head a byte at a time (slowloris) costs a constant amount of
// work per call, not a rescan from the start. The zero value is ready; one
// parser per connection, used by one goroutine.
type RequestParser struct {
	// Max limits the head (empty lines before it, request line, header
	// lines, the final empty line) in bytes; 0 means DefaultMaxHeader.
	Max int

	start  int  // first byte of the request line (after leading empty lines)
	scan   int  // where to resume looking for line ends
	begun  bool // leading empty lines skipped: start is known
	lineOK bool // request line complete and valid; scan is at its LF
}

func (p *RequestParser) reset() { *p = RequestParser{Max: p.Max} }

func (p *RequestParser) max() int {
	if p.Max <= 0 {
		return DefaultMaxHeader
	}
	return p.Max
}

// Parse looks for a complete request head at the start of b.
//
// n == 0 with a nil error: more bytes are needed; call again with the same
// stream start plus what arrived since. On success n is the length of the
// head (request line, headers and the empty line that ends them), r holds
// its own copy (valid after b is gone) and p is ready for the next,
// pipelined, request at b[n:]. On error p is reset and err is an *HTTPError:
// ErrHeaderTooLarge (no end within Max bytes), ErrBadRequest (malformed
// request line or header line, obs-fold, bare CR, missing or repeated Host
// in HTTP/1.1, repeated or invalid Content-Length), ErrVersion (not
// HTTP/1.0 or 1.1) or ErrNotImplemented (Transfer-Encoding). A bare LF is
// accepted as a line end (RFC 9112 §2.2), as are empty lines before the
// request line.
//
// Allocation-free once r's buffers have grown to the head's size. Does not
// retain b.
func (p *RequestParser) Parse(b []byte, r *Request) (n int, err error) {
	if p.scan > len(b) || p.start > len(b) {
		p.reset() // the caller broke the contract; start over
	}
	if !p.begun && !p.skipEmptyLines(b) {
		return p.more(len(b))
	}
	if !p.lineOK {
		if err = p.requestLine(b); err != nil || !p.lineOK {
			return p.fail(err, len(b))
		}
	}
	end := p.findEnd(b)
	if end < 0 {
		return p.more(len(b))
	}
	start := p.start
	p.reset()
	if end > p.max() {
		return 0, ErrHeaderTooLarge
	}
	if err = r.parse(b[start:end]); err != nil {
		return 0, err
	}
	return end, nil
}

// more reports "need more bytes", or ErrHeaderTooLarge once have > Max.
func (p *RequestParser) more(have int) (int, error) {
	if have > p.max() {
		p.reset()
		return 0, ErrHeaderTooLarge
	}
	return 0, nil
}

func (p *RequestParser) fail(err error, have int) (int, error) {
	if err == nil {
		return p.more(have)
	}
	p.reset()
	return 0, err
}

// skipEmptyLines moves p.start past CR and LF bytes; false when b holds
// nothing else yet.
func (p *RequestParser) skipEmptyLines(b []byte) bool {
	i := p.start
	for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
		i++
	}
	p.start, p.scan = i, i
	p.begun = i < len(b)
	return p.begun
}

// requestLine checks the request line as soon as its LF arrives, so that
// garbage (a TLS hello, a wrong protocol) fails at once.
func (p *RequestParser) requestLine(b []byte) error {
	i := bytes.IndexByte(b[p.scan:], '\n')
	if i < 0 {
		p.scan = len(b)
		return nil
	}
	lf := p.scan + i
	if lf+1 > p.max() {
		return ErrHeaderTooLarge
	}
	if _, err := parseRequestLine(b[p.start:lf]); err != nil {
		return err
	}
	p.scan, p.lineOK = lf, true
	return nil
}

// findEnd returns the end of the head (just past the empty line), or -1.
// It resumes at p.scan, an LF whose following bytes were not all there yet.
func (p *RequestParser) findEnd(b []byte) int {
	for {
		i := bytes.IndexByte(b[p.scan:], '\n')
		if i < 0 {
			p.scan = len(b)
			return -1
		}
		lf := p.scan + i
		switch {
		case lf+1 >= len(b), b[lf+1] == '\r' && lf+2 >= len(b):
			p.scan = lf
			return -1
		case b[lf+1] == '\n':
			return lf + 2
		case b[lf+1] == '\r' && b[lf+2] == '\n':
			return lf + 3
		}
		p.scan = lf + 1
	}
}
