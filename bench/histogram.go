package bench

import (
	"math"
	"math/bits"
)

// Histogram layout: values below 2^subBits are counted exactly; above, every
// power of two is split into 2^(subBits-1) equal buckets, so a bucket is at
// most 1/32 (~3%) wide relative to its values.
const (
	subBits    = 6
	subCount   = 1 << subBits             // 64 exact values
	subHalf    = subCount / 2             // buckets per power of two
	maxShift   = 64 - subBits             // largest shift of a uint64
	histBucket = (maxShift + 2) * subHalf // bucket count
)

// Histogram counts non-negative int64 values (nanoseconds here) in log
// buckets. Record never allocates. A Histogram is not safe for concurrent
// use: each event loop owns one and they are merged at the end.
type Histogram struct {
	Counts [histBucket]uint64
	N      uint64
	Min    int64
	Max    int64
	Sum    float64
}

// bucketOf returns the bucket index of v (v >= 0).
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits
	return shift*subHalf + int(v>>uint(shift))
}

// bucketLow returns the smallest value that falls into bucket i.
func bucketLow(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := i/subHalf - 1
	top := uint64(i%subHalf + subHalf)
	return top << uint(shift)
}

// bucketHigh returns the largest value that falls into bucket i.
func bucketHigh(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := i/subHalf - 1
	return bucketLow(i) + (uint64(1) << uint(shift)) - 1
}

// Record adds one value; negative values count as 0.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	h.Counts[bucketOf(uint64(v))]++
	if h.N == 0 || v < h.Min {
		h.Min = v
	}
	if v > h.Max {
		h.Max = v
	}
	h.N++
	h.Sum += float64(v)
}

// Merge adds every count of o into h.
func (h *Histogram) Merge(o *Histogram) {
	if o.N == 0 {
		return
	}
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
	if h.N == 0 || o.Min < h.Min {
		h.Min = o.Min
	}
	if o.Max > h.Max {
		h.Max = o.Max
	}
	h.N += o.N
	h.Sum += o.Sum
}

// Reset empties h.
func (h *Histogram) Reset() { *h = Histogram{} }

// Quantile returns the value at quantile q (0..1): the upper edge of the
// bucket holding that rank, clamped to [Min, Max]. It returns 0 when empty.
func (h *Histogram) Quantile(q float64) int64 {
	if h.N == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.N)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.Counts {
		seen += c
		if seen >= rank {
			return h.clamp(int64(bucketHigh(i)))
		}
	}
	return h.Max
}

func (h *Histogram) clamp(v int64) int64 {
	if v > h.Max {
		return h.Max
	}
	if v < h.Min {
		return h.Min
	}
	return v
}

// Mean returns the arithmetic mean, 0 when empty.
func (h *Histogram) Mean() float64 {
	if h.N == 0 {
		return 0
	}
	return h.Sum / float64(h.N)
}

// Sparse is the wire form of a Histogram: only non-empty buckets.
type Sparse struct {
	Buckets [][2]uint64 `json:"buckets"`
	N       uint64      `json:"n"`
	Min     int64       `json:"min"`
	Max     int64       `json:"max"`
	Sum     float64     `json:"sum"`
}

// Sparse returns the wire form of h, a copy owned by the caller. It
// allocates; call it once per run.
func (h *Histogram) Sparse() Sparse {
	s := Sparse{N: h.N, Min: h.Min, Max: h.Max, Sum: h.Sum}
	for i, c := range h.Counts {
		if c != 0 {
			s.Buckets = append(s.Buckets, [2]uint64{uint64(i), c})
		}
	}
	return s
}

// MergeSparse adds a wire-form histogram into h; buckets out of range are
// reported as ErrProtocol.
func (h *Histogram) MergeSparse(s Sparse) error {
	var o Histogram
	for _, b := range s.Buckets {
		if b[0] >= histBucket {
			return ErrProtocol
		}
		o.Counts[b[0]] += b[1]
	}
	o.N, o.Min, o.Max, o.Sum = s.N, s.Min, s.Max, s.Sum
	h.Merge(&o)
	return nil
}
