package codec

import (
	"math/bits"
	"sync"
)

// Message buffers come from pools in size tiers (1 KiB ×4 up to 16 MiB), so
// idle connections hold none and a long message grows with few copies.
// Pools store *[]byte to avoid boxing a slice header on every Put.
const (
	minTierShift = 10 // 1 KiB
	tierStep     = 2  // each tier is 4× the previous
	numTiers     = 8  // 1K 4K 16K 64K 256K 1M 4M 16M
)

var tierPools [numTiers]sync.Pool

// tierOf returns the smallest tier holding n bytes, or numTiers when n is
// larger than the largest tier.
func tierOf(n int) int {
	if n <= 1<<minTierShift {
		return 0
	}
	shift := bits.Len(uint(n - 1)) // 2^shift ≥ n
	return (shift - minTierShift + tierStep - 1) / tierStep
}

func tierSize(t int) int { return 1 << (minTierShift + t*tierStep) }

// getBuf returns an empty buffer with capacity ≥ n.
func getBuf(n int) *[]byte {
	t := tierOf(n)
	if t >= numTiers {
		b := make([]byte, 0, n)
		return &b
	}
	if v := tierPools[t].Get(); v != nil {
		return v.(*[]byte)
	}
	b := make([]byte, 0, tierSize(t))
	return &b
}

// putBuf returns b to its tier; buffers of other sizes are dropped.
func putBuf(b *[]byte) {
	c := cap(*b)
	t := tierOf(c)
	if t >= numTiers || tierSize(t) != c {
		return
	}
	*b = (*b)[:0]
	tierPools[t].Put(b)
}

// growBuf makes room for n more bytes in b, moving to a larger tier (and
// returning the old buffer to its pool) when needed.
func growBuf(b *[]byte, n int) *[]byte {
	need := len(*b) + n
	if need <= cap(*b) {
		return b
	}
	nb := getBuf(max(need, 2*cap(*b)))
	*nb = append(*nb, *b...)
	putBuf(b)
	return nb
}
