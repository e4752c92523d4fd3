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

func TestGrow(t *testing.T) {
	t.Parallel()
	b := Get(10)
	*b = append(*b, "hello"...)
	same := Grow(b, 100)
	if same != b {
		t.Fatal("Grow replaced a buffer that had the room")
	}
	big := Grow(b, 1<<20)
	if string(*big) != "hello" || cap(*big) < 1<<20+5 {
		t.Fatalf("Grow: %q cap %d", *big, cap(*big))
	}
}
