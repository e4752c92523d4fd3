// Package pool keeps byte buffers in size tiers. Pools store pointers so Get
// and Put do not allocate.
package pool

import (
	"math/bits"
	"sync"
)

const (
	minShift = 9  // 512 B
	maxShift = 20 // 1 MiB; larger buffers are not pooled
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
