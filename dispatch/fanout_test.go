package dispatch

import (
	"io"
	"log/slog"
	"testing"
)

// unknownCtl records what its Unknown handler got.
type unknownCtl struct {
	Socket
	got []string
}

func (u *unknownCtl) Unknown(name string, args RawArgs) { u.got = append(u.got, name+" "+string(args)) }

// TestUnknownGetsLocalArgs: on a node with no broker whose only controller
// type takes events by Unknown, a local Multicast still gives Unknown the
// JSON array of its arguments (they are encoded for it, not only for the
// cluster or for clients).
func TestUnknownGetsLocalArgs(t *testing.T) {
	t.Parallel()
	h := NewHub(HubConfig{Node: "n-1", Loops: 1, Workers: 1,
		Runner: LoopsFunc(func(_ int, fn func()) { fn() }),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	r, err := h.Route("/u", func() Controller { return new(unknownCtl) }, Inline())
	if err != nil {
		t.Fatal(err)
	}
	ctl := new(unknownCtl)
	h.Open(new(Conn), new(countT), r, ctl, nil, 0)
	h.Multicast("x", 1, "a")
	if len(ctl.got) != 1 || ctl.got[0] != `x [1,"a"]` {
		t.Fatalf("Unknown got %q", ctl.got)
	}
}
