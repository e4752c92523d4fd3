package dispatch

import (
	"io"
	"log/slog"
	"testing"

	"github.com/plezigo/plezi/internal/bridge"
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
	h := newHub(hubConfig{HubConfig: bridge.HubConfig{Node: "n-1", Loops: 1, Workers: 1,
		Runner: inlineLoops, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}})
	r, err := h.Route("/u", func() Controller { return new(unknownCtl) }, Inline())
	if err != nil {
		t.Fatal(err)
	}
	ctl := new(unknownCtl)
	if _, err := (serverSide{}).Open(ctl, new(countT), r, nil, 0); err != nil {
		t.Fatal(err)
	}
	h.Multicast("x", 1, "a")
	if len(ctl.got) != 1 || ctl.got[0] != `x [1,"a"]` {
		t.Fatalf("Unknown got %q", ctl.got)
	}
}
