package dispatch

import (
	"math/bits"
	"sync/atomic"
)

// HistogramBuckets is the number of buckets of a Histogram.
const HistogramBuckets = 32

// Histogram counts observations in power-of-two buckets: bucket 0 holds
// values up to 1, bucket i (1 ≤ i < HistogramBuckets-1) values in
// (2^(i-1), 2^i], and the last bucket everything larger. Its size is fixed
// (34 words); Observe is two atomic adds, no lock and no allocation.
// Concurrency-safe. The zero value is ready to use.
type Histogram struct {
	buckets [HistogramBuckets]atomic.Int64
	sum     atomic.Int64
}

// Observe counts v (values below 1 count as 0, in bucket 0).
// Concurrency-safe.
func (h *Histogram) Observe(v int64) {
	v = max(v, 0)
	i := 0
	if v > 1 {
		i = min(bits.Len64(uint64(v-1)), HistogramBuckets-1)
	}
	h.buckets[i].Add(1)
	h.sum.Add(v)
}

// Snapshot reads the per-bucket counts (not cumulative) and the sum of
// the observed values. Each figure is read atomically, the set is not: an
// observation racing with it may show in its bucket and not yet in sum.
// Concurrency-safe.
func (h *Histogram) Snapshot() (buckets [HistogramBuckets]int64, sum int64) {
	for i := range h.buckets {
		buckets[i] = h.buckets[i].Load()
	}
	return buckets, h.sum.Load()
}

// HistogramBound is the upper bound of bucket i: 2^i (the last bucket has
// none; see Histogram). Concurrency-safe.
func HistogramBound(i int) int64 { return 1 << i }
