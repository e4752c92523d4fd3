package bench

import (
	"math"
	"testing"
)

func TestBucketEdges(t *testing.T) {
	t.Parallel()
	tests := []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 20, 123456789, math.MaxInt64, math.MaxUint64}
	for _, v := range tests {
		i := bucketOf(v)
		if i < 0 || i >= histBucket {
			t.Fatalf("bucketOf(%d) = %d out of range", v, i)
		}
		if lo, hi := bucketLow(i), bucketHigh(i); v < lo || v > hi {
			t.Fatalf("v=%d in bucket %d [%d, %d]", v, i, lo, hi)
		}
		if v >= subCount {
			if w := bucketHigh(i) - bucketLow(i) + 1; float64(w)/float64(bucketLow(i)) > 1.0/subHalf+1e-9 {
				t.Fatalf("bucket %d width %d too wide for %d", i, w, bucketLow(i))
			}
		}
	}
	for i := 1; i < histBucket; i++ {
		if bucketLow(i) != bucketHigh(i-1)+1 {
			t.Fatalf("gap between buckets %d and %d", i-1, i)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values func(h *Histogram)
		q      float64
		want   float64
		tol    float64 // relative
	}{
		{"uniform p50", uniform(1, 1_000_000), 0.5, 500_000, 0.035},
		{"uniform p99", uniform(1, 1_000_000), 0.99, 990_000, 0.035},
		{"uniform p0", uniform(1, 1_000_000), 0, 1, 0},
		{"uniform max", uniform(1, 1_000_000), 1, 1_000_000, 0},
		{"small exact", uniform(0, 63), 0.5, 31, 0},
		{"constant", func(h *Histogram) {
			for i := 0; i < 100; i++ {
				h.Record(777_777)
			}
		}, 0.99, 777_777, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h Histogram
			tt.values(&h)
			got := float64(h.Quantile(tt.q))
			if math.Abs(got-tt.want) > tt.tol*tt.want {
				t.Fatalf("Quantile(%v) = %v, want %v ± %.1f%%", tt.q, got, tt.want, tt.tol*100)
			}
		})
	}
}

func uniform(lo, hi int64) func(h *Histogram) {
	return func(h *Histogram) {
		for v := lo; v <= hi; v++ {
			h.Record(v)
		}
	}
}

func TestHistogramMergeSparse(t *testing.T) {
	t.Parallel()
	var a, b, all Histogram
	for v := int64(0); v < 50_000; v += 7 {
		if v%2 == 0 {
			a.Record(v * 3)
		} else {
			b.Record(v * 3)
		}
		all.Record(v * 3)
	}
	a.Record(-5) // clamps to 0
	all.Record(0)
	var got Histogram
	for _, h := range []*Histogram{&a, &b} {
		if err := got.MergeSparse(h.Sparse()); err != nil {
			t.Fatal(err)
		}
	}
	if got != all {
		t.Fatalf("merged %+v != direct (N %d vs %d)", got.Sparse().N, got.N, all.N)
	}
	if err := got.MergeSparse(Sparse{Buckets: [][2]uint64{{histBucket, 1}}}); err != ErrProtocol {
		t.Fatalf("out-of-range bucket: err %v", err)
	}
	var empty Histogram
	if empty.Quantile(0.5) != 0 || empty.Mean() != 0 {
		t.Fatal("empty histogram must report 0")
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(int64(i) * 977)
	}
}
