package codec

import (
	"compress/flate"
	"io"

	"github.com/plezigo/plezi/internal/pool"
)

// inflated decompresses the compressed message src and returns it as the
// event of kind, n bytes consumed. src is the frame payload in b or the
// state's msg; the message state is reset already. Deflate keeps d.st.
func (d *Decoder) inflated(src []byte, n int, kind Kind) (Event, int, error) {
	out, err := d.inflate(src)
	d.dropMsg() // the compressed bytes, if they were buffered
	if err != nil {
		pool.Put(out)
		return Event{}, 0, err
	}
	s := d.st
	s.msg = out
	s.flags |= flagHeld
	if kind == KindText && !ValidUTF8(*out) {
		return Event{}, 0, ErrInvalidUTF8
	}
	return Event{Kind: kind, Payload: *out}, n, nil
}

// inflate decompresses src into a pooled buffer, failing with
// ErrMessageTooBig as soon as the output exceeds the limit, and updates the
// window when the client takes over its context.
func (d *Decoder) inflate(src []byte) (*[]byte, error) {
	f := inflaterPool.Get().(*inflater)
	defer inflaterPool.Put(f)
	f.src.reset(src)
	var dict []byte
	s := d.st
	if s.keep && s.win != nil {
		dict = s.win.bytes()
	}
	_ = f.fr.(flate.Resetter).Reset(&f.src, dict) // never fails for a flate reader
	size := uint64(4*len(src) + 64)
	out := pool.Get(int(min(size, d.max())))
	if err := d.readAll(f.fr, &out); err != nil {
		return out, err
	}
	if s.keep {
		d.remember(*out)
	}
	return out, nil
}

// readAll reads r to EOF into *out, growing it as output arrives; it stops
// with ErrMessageTooBig as soon as one byte more than the limit is out.
func (d *Decoder) readAll(r io.Reader, out **[]byte) error {
	limit := d.max()
	for {
		b := *out
		if len(*b) == cap(*b) {
			b = pool.Grow(b, 1)
			*out = b
		}
		room := (*b)[len(*b):cap(*b)]
		if left := limit + 1 - uint64(len(*b)); uint64(len(room)) > left {
			room = room[:left]
		}
		k, err := r.Read(room)
		*b = (*b)[:len(*b)+k]
		switch {
		case uint64(len(*b)) > limit:
			return ErrMessageTooBig
		case err == io.EOF:
			return nil
		case err != nil:
			return ErrInflate
		}
	}
}

// remember appends a message's output to the connection's window.
func (d *Decoder) remember(out []byte) {
	s := d.st
	if s.win == nil {
		s.win = windowPool.Get().(*window)
		s.win.n = 0
	}
	s.win.add(out)
}
