package dispatch

import (
	"io"
	"log/slog"
	"testing"

	"github.com/plezigo/plezi/internal/bridge"
)

// otherCtl is a second controller type.
type otherCtl struct{ Socket }

// TestFanoutWakesOnlyRecipientLoops: of four loops holding one connection
// each, a publish, a broadcast and a unicast queue a task only on the loop
// that holds a recipient (its table's summary says so); a multicast on
// all four.
func TestFanoutWakesOnlyRecipientLoops(t *testing.T) {
	t.Parallel()
	var tasks [4]int
	runner := bridge.LoopsFunc(func(i int, fn func()) { tasks[i]++; fn() })
	h := newHub(hubConfig{HubConfig: bridge.HubConfig{Node: "n", Loops: 4, Workers: 1, Runner: runner,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}})
	ra, err := h.Route("/a", func() Controller { return new(targetCtl) }, Inline())
	if err != nil {
		t.Fatal(err)
	}
	rb, err := h.Route("/b", func() Controller { return new(otherCtl) }, Inline())
	if err != nil {
		t.Fatal(err)
	}
	var cs []*conn
	for i := range 3 {
		cs = append(cs, openTest(t, new(countT), ra, new(targetCtl), i))
	}
	cs = append(cs, openTest(t, new(countT), rb, new(otherCtl), 3))
	cs[1].ctrl.socket().Subscribe("ch")
	for _, tc := range []struct {
		name string
		do   func()
		want [4]int
	}{
		{"publish", func() { h.Publish("ch", "x") }, [4]int{0, 1, 0, 0}},
		{"broadcast", func() { h.BroadcastTo("otherCtl", "hear", "x", 1) }, [4]int{0, 0, 0, 1}},
		{"unicast", func() { h.Unicast(cs[2].ID(), "hear", "x", 1) }, [4]int{0, 0, 1, 0}},
		{"multicast", func() { h.Multicast("hear", "x", 1) }, [4]int{1, 1, 1, 1}},
	} {
		tasks = [4]int{}
		tc.do()
		if tasks != tc.want {
			t.Errorf("%s: loop tasks %v, want %v", tc.name, tasks, tc.want)
		}
	}
	if got := cs[1].t.(*countT).frames; got != 1 { // the multicast calls Hear
		t.Errorf("the subscriber got %d frames, want 1 (the publish)", got)
	}
}
