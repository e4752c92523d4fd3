package dispatch

import "math/bits"

// seenSet is the set of note ids one connection has delivered for one
// identity: every id up to floor, and the ids above it marked in a ring
// of bits (id x at bit x mod 64·len(ring)). A note is dropped only when
// it was delivered before: a late one (an id below the highest delivered,
// from two notifiers racing) still goes out. The ring is made on the
// first note that arrives out of order; in order, only floor moves.
//
// The ring bounds the memory: a note more than its width behind the
// newest delivered id is taken as given up — the floor moves past it,
// and the ids it passes that were never delivered are counted
// (Stats.NotesSkipped). Touched only in the connection's callbacks.
type seenSet struct {
	floor uint64
	ring  []uint64
}

// resume takes every id up to after as delivered (the client's _resume).
func (s *seenSet) resume(after uint64) {
	if after > s.floor {
		s.advance(after)
	}
}

// add marks id n delivered. fresh reports that it was not before;
// skipped counts the undelivered ids the window gave up to fit n.
func (s *seenSet) add(n uint64, words int) (fresh bool, skipped uint64) {
	if n <= s.floor {
		return false, 0
	}
	if n == s.floor+1 && s.ring == nil {
		s.floor = n
		return true, 0
	}
	if s.ring == nil {
		s.ring = make([]uint64, max(words, 1))
	}
	if w := s.width(); n-s.floor > w {
		skipped = s.advance(n - w)
	}
	if s.has(n) {
		return false, skipped
	}
	s.flip(n)
	for s.has(s.floor + 1) {
		s.flip(s.floor + 1)
		s.floor++
	}
	return true, skipped
}

func (s *seenSet) width() uint64 { return uint64(len(s.ring)) * 64 }

func (s *seenSet) has(n uint64) bool {
	if s.ring == nil {
		return false
	}
	i := n % s.width()
	return s.ring[i/64]&(1<<(i%64)) != 0
}

func (s *seenSet) flip(n uint64) {
	i := n % s.width()
	s.ring[i/64] ^= 1 << (i % 64)
}

// advance moves the floor to to, clearing the ids it passes; it returns
// how many of them were never delivered.
func (s *seenSet) advance(to uint64) (skipped uint64) {
	if s.ring == nil {
		s.floor = to
		return 0
	}
	if to-s.floor >= s.width() {
		marked := 0
		for i, w := range s.ring {
			marked += bits.OnesCount64(w)
			s.ring[i] = 0
		}
		skipped = to - s.floor - uint64(marked)
		s.floor = to
		return skipped
	}
	for ; s.floor < to; s.floor++ {
		if s.has(s.floor + 1) {
			s.flip(s.floor + 1)
		} else {
			skipped++
		}
	}
	return skipped
}

// top is the highest id delivered.
func (s *seenSet) top() uint64 {
	for n := s.floor + s.width(); n > s.floor; n-- {
		if s.has(n) {
			return n
		}
	}
	return s.floor
}
