package pool

import "testing"

func TestGetPut(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 512, 513, 4096, 70000, 1 << 20, 1<<20 + 1} {
		b := Get(n)
		if len(*b) != 0 || cap(*b) < n {
			t.Fatalf("Get(%d): len %d cap %d", n, len(*b), cap(*b))
		}
		*b = append(*b, 1, 2, 3)
		Put(b)
		if c := Get(n); len(*c) != 0 || cap(*c) < n {
			t.Fatalf("Get(%d) after Put: len %d cap %d", n, len(*c), cap(*c))
		}
	}
}
