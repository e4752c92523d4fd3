package push

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestExpiryHeap: random sets, moves and clears keep the heap ordered,
// every watched connection's slot pointing at itself and the gauge equal
// to the heap's size; fire takes exactly the due ones, once, and a set
// after that is refused. The connections are not open (CloseWith does
// nothing), so this checks the bookkeeping the socket tests cannot see.
func TestExpiryHeap(t *testing.T) {
	var st Stats
	e := &expiries{stats: &st}
	ps := make([]*Push, 200)
	for i := range ps {
		ps[i] = &Push{}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Now().Add(time.Hour).UnixNano()
	want := map[*Push]int64{}
	for range 5000 {
		p := ps[rng.IntN(len(ps))]
		due := int64(0)
		if rng.IntN(4) > 0 {
			due = base + rng.Int64N(1000)
		}
		if !e.set(p, due) {
			t.Fatal("set refused before any deadline passed")
		}
		if due == 0 {
			delete(want, p)
		} else {
			want[p] = due
		}
	}
	check := func() {
		t.Helper()
		e.mu.Lock()
		defer e.mu.Unlock()
		if len(e.h) != len(want) || st.Expiring.Load() != int64(len(want)) {
			t.Fatalf("heap %d, gauge %d, want %d", len(e.h), st.Expiring.Load(), len(want))
		}
		for i, p := range e.h {
			if p.xslot != i+1 || p.xdue != want[p] {
				t.Fatalf("entry %d: slot %d due %d, want due %d", i, p.xslot, p.xdue, want[p])
			}
			if i > 0 && e.h[(i-1)/2].xdue > p.xdue {
				t.Fatalf("entry %d before its parent", i)
			}
		}
		if len(e.h) > 0 && e.at != e.h[0].xdue {
			t.Fatalf("timer at %d, want the top %d", e.at, e.h[0].xdue)
		}
	}
	check()

	// Move half of them into the past: fire takes those, and only those.
	past := 0
	for p := range want {
		if past < len(want)/2 {
			want[p] = time.Now().Add(-time.Second).UnixNano()
			e.set(p, want[p])
			past++
		}
	}
	e.fire()
	fired := 0
	for _, p := range ps {
		if p.xfired {
			fired++
			if want[p] > time.Now().UnixNano() {
				t.Fatal("fired before its deadline")
			}
			delete(want, p)
			if e.set(p, base) {
				t.Fatal("set accepted after the deadline passed")
			}
		}
	}
	if fired != past || st.Expired.Load() != int64(past) {
		t.Fatalf("fired %d, Expired %d, want %d", fired, st.Expired.Load(), past)
	}
	check()
	for p := range want {
		e.set(p, 0)
		delete(want, p)
	}
	check()
	if e.at != 0 {
		t.Fatal("timer still set with nothing watched")
	}
}

// TestHolders: the identity index forgets a connection's registrations
// when it closes, keeps the others, and holds no empty entries.
func TestHolders(t *testing.T) {
	var h holders
	a, b := &Push{}, &Push{}
	for _, n := range []string{"ann", "bob"} {
		h.add(n, a)
	}
	h.add("ann", b)
	h.drop(a, []registered{{name: "ann"}, {name: "bob"}})
	if len(h.m) != 1 || len(h.m["ann"]) != 1 || h.m["ann"][0] != b {
		t.Fatalf("after a closed: %v", h.m)
	}
	if n := h.close("ann"); n != 1 {
		t.Fatalf("close ann: %d connections, want 1", n)
	}
	h.drop(b, []registered{{name: "ann"}})
	if len(h.m) != 0 {
		t.Fatalf("after both closed: %v", h.m)
	}
}
