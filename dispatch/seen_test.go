package dispatch

import (
	"math/rand/v2"
	"testing"
)

// TestSeenSetLateAndRepeats: ids arriving shuffled (each at most a window
// late) are each fresh exactly once, repeats never, and in order no ring
// is made.
func TestSeenSetLateAndRepeats(t *testing.T) {
	t.Parallel()
	const words, n = 4, 5000
	var inOrder seenSet
	for id := uint64(1); id <= 100; id++ {
		if fresh, _ := inOrder.add(id, words); !fresh {
			t.Fatalf("in order: %d not fresh", id)
		}
	}
	if inOrder.ring != nil || inOrder.floor != 100 {
		t.Fatalf("in order: ring %v floor %d", inOrder.ring, inOrder.floor)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i + 1)
	}
	for i := 0; i+64 <= n; i += 64 { // shuffle within blocks of 64 (< 256 late)
		rng.Shuffle(64, func(a, b int) { ids[i+a], ids[i+b] = ids[i+b], ids[i+a] })
	}
	var s seenSet
	seen := map[uint64]bool{}
	for i, id := range ids {
		list := []uint64{id}
		if i > 0 && rng.IntN(3) == 0 {
			list = append(list, ids[rng.IntN(i)]) // a repeat of an earlier one
		}
		for _, x := range list {
			fresh, skipped := s.add(x, words)
			if skipped != 0 {
				t.Fatalf("id %d skipped %d", x, skipped)
			}
			if fresh == seen[x] {
				t.Fatalf("id %d: fresh=%v, seen before=%v", x, fresh, seen[x])
			}
			seen[x] = true
		}
	}
	if s.floor != n {
		t.Fatalf("floor %d, want %d", s.floor, n)
	}
}

// TestSeenSetWindow: a note further behind than the window is given up
// and counted; a jump far ahead counts every id it passes; resume marks
// everything up to its id.
func TestSeenSetWindow(t *testing.T) {
	t.Parallel()
	const words = 4
	const w = words * 64
	var s seenSet
	for id := uint64(2); id <= w; id++ {
		if fresh, skipped := s.add(id, words); !fresh || skipped != 0 {
			t.Fatalf("id %d: fresh=%v skipped=%d", id, fresh, skipped)
		}
	}
	if fresh, skipped := s.add(w+1, words); !fresh || skipped != 1 {
		t.Fatalf("id %d: fresh=%v skipped=%d, want 1 (id 1 given up)", w+1, fresh, skipped)
	}
	if s.floor != w+1 {
		t.Fatalf("floor %d, want %d", s.floor, w+1)
	}
	if fresh, _ := s.add(1, words); fresh {
		t.Fatal("id 1 fresh after the window passed it")
	}
	base := s.floor
	if fresh, skipped := s.add(base+10*w, words); !fresh || skipped != 9*w {
		t.Fatalf("jump: fresh=%v skipped=%d, want %d", fresh, skipped, 9*w)
	}
	for id := base + 9*w + 1; id < base+10*w; id++ {
		if fresh, skipped := s.add(id, words); !fresh || skipped != 0 {
			t.Fatalf("id %d after the jump: fresh=%v skipped=%d", id, fresh, skipped)
		}
	}
	if s.floor != base+10*w {
		t.Fatalf("floor %d, want %d", s.floor, base+10*w)
	}
	s.resume(s.floor + 5)
	for id := s.floor - 4; id <= s.floor; id++ {
		if fresh, _ := s.add(id, words); fresh {
			t.Fatalf("id %d fresh after resume past it", id)
		}
	}
	if fresh, _ := s.add(s.floor+1, words); !fresh {
		t.Fatal("id after the resume point not fresh")
	}
}
