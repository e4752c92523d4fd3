package dispatch_test

import (
	"sync/atomic"
	"testing"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// heldNotify is the in-memory store whose first Notify, once it has its
// id, waits for release before it returns: a later note overtakes it, as
// when two notifiers race between taking an id and delivering.
type heldNotify struct {
	*cluster.Memory
	taken, release chan struct{}
	held           atomic.Bool
}

func (h *heldNotify) Notify(identity string, build func(uint64) []byte) (dispatch.Notified, error) {
	res, err := h.Memory.Notify(identity, build)
	if h.held.CompareAndSwap(false, true) {
		close(h.taken)
		<-h.release
	}
	return res, err
}

// TestLateNoteDelivered: a note that arrives after a higher id is
// delivered, not dropped as a repeat; real repeats still are.
func TestLateNoteDelivered(t *testing.T) {
	t.Parallel()
	ids := &heldNotify{Memory: cluster.NewMemory(), taken: make(chan struct{}), release: make(chan struct{})}
	s := startServer(t, server.Config{Identities: ids}, routes)
	for _, path := range []string{"/peer", "/peer-inline"} {
		t.Run(path, func(t *testing.T) {
			ids.held.Store(false)
			ids.taken, ids.release = make(chan struct{}), make(chan struct{})
			identity := "ivy" + path
			c := dialPeer(t, s, path)
			c.ok(1, "reg", identity, 1)
			done := make(chan bool)
			go func() { done <- s.Hub().Notify(identity, "alert", "n1") }()
			<-ids.taken
			if !s.Hub().Notify(identity, "alert", "n2") {
				t.Fatal("Notify n2 = false")
			}
			expectNotes(t, c, identity, 2)
			close(ids.release)
			if !<-done {
				t.Fatal("Notify n1 = false")
			}
			expectNotes(t, c, identity, 1)
			// Registering again replays the mailbox (1, 2): both were
			// delivered, so nothing comes twice.
			c.ok(2, "reg", identity, 1)
			c.marker(s, "no repeats")
			if !s.Hub().Notify(identity, "alert", "n3") {
				t.Fatal("Notify n3 = false")
			}
			expectNotes(t, c, identity, 3)
		})
	}
}
