// Package pool is the one pool of byte buffers: messages being read
// (codec's decoder), frames queued for a loop (server), payloads handed to
// workers (dispatch). Buffers come in power-of-two tiers from 512 B to
// 16 MiB, so an idle connection holds none and a long message grows with
// few copies; larger ones are made and dropped. The pools store pointers
// so Get and Put do not allocate.
package pool

import (
	"math/bits"
	"sync"
)

const (
	minShift = 9  // 512 B
	maxShift = 24 // 16 MiB; larger buffers are not pooled
)

var tiers [maxShift - minShift + 1]sync.Pool

func tier(n int) int {
	if n <= 1<<minShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minShift
}

// Get returns a buffer with len 0 and cap ≥ n. Concurrency-safe.
func Get(n int) *[]byte {
	t := tier(n)
	if t >= len(tiers) {
		b := make([]byte, 0, n)
		return &b
	}
	if v := tiers[t].Get(); v != nil {
		b := v.(*[]byte)
		*b = (*b)[:0]
		return b
	}
	b := make([]byte, 0, 1<<(t+minShift))
	return &b
}

// Put returns b for reuse; b must not be used afterwards. Buffers whose
// capacity is not a tier size (grown by append) go to the tier below.
// Concurrency-safe; nil is ignored.
func Put(b *[]byte) {
	if b == nil || cap(*b) < 1<<minShift {
		return
	}
	c := cap(*b)
	t := bits.Len(uint(c)) - 1 - minShift
	if t >= len(tiers) {
		return
	}
	*b = (*b)[:0]
	tiers[t].Put(b)
}

// Grow makes room for n more bytes after len(*b): b itself when it has the
// room, else a buffer at least twice as large holding b's bytes (b goes
// back to its pool). Concurrency-safe; the result replaces b.
func Grow(b *[]byte, n int) *[]byte {
	need := len(*b) + n
	if need <= cap(*b) {
		return b
	}
	nb := Get(max(need, 2*cap(*b)))
	*nb = append(*nb, *b...)
	Put(b)
	return nb
}
