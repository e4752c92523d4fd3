package dispatch_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// TestNotifyOverflowGap: 300 notes to an offline identity whose mailbox
// holds 256 keep the newest 256; the first one delivered on resume says
// that 44 are missing.
func TestNotifyOverflowGap(t *testing.T) {
	t.Parallel()
	s, _ := idServer(t)
	a := dialPeer(t, s, "/peer")
	a.ok(1, "reg", "ivy", 1)
	_ = a.ws.Close()
	eventually(t, "a closed", func() bool { return s.Hub().Count() == 0 })
	for i := 1; i <= 300; i++ {
		if !s.Hub().Notify("ivy", "alert", "n"+strconv.Itoa(i)) {
			t.Fatalf("Notify %d = false", i)
		}
	}
	c := dialPeer(t, s, "/peer"+resumeQuery(map[string]uint64{"ivy": 20}))
	c.emit(1, "reg", "ivy", 1)
	for id := uint64(45); id <= 300; id++ {
		m := c.expect("alert")
		if m.NID != id || m.arg(0) != "n"+strconv.FormatUint(id, 10) {
			t.Fatalf("got %s, want note %d", m.raw, id)
		}
		gap := strings.Contains(m.raw, `"_gap_":24`)
		if gap != (id == 45) || (id != 45 && strings.Contains(m.raw, "_gap_")) {
			t.Fatalf("note %d: %s (the first, and only it, says 24 are missing)", id, m.raw)
		}
	}
	c.expect("_ack_")
}

// TestNotifyMailboxBytes: 500 KiB notes to an offline identity whose
// mailbox holds 1 MiB: the newest two arrive, the first says 3 are missing.
func TestNotifyMailboxBytes(t *testing.T) {
	t.Parallel()
	s, _ := idServer(t)
	a := dialPeer(t, s, "/peer")
	a.ok(1, "reg", "joy", 1)
	_ = a.ws.Close()
	eventually(t, "a closed", func() bool { return s.Hub().Count() == 0 })
	big := strings.Repeat("x", 500<<10)
	for i := 1; i <= 5; i++ {
		if !s.Hub().Notify("joy", "alert", big) {
			t.Fatalf("Notify %d = false", i)
		}
	}
	c := dialPeer(t, s, "/peer")
	c.emit(1, "reg", "joy", 1)
	for id := uint64(4); id <= 5; id++ {
		m := c.expect("alert")
		if m.NID != id || len(m.arg(0)) != len(big) || strings.Contains(m.raw, `"_gap_":3`) != (id == 4) {
			t.Fatalf("note %d (want %d), gap marker %v", m.NID, id, strings.Contains(m.raw, `"_gap_"`))
		}
	}
	c.expect("_ack_")
}

// TestNotifyRefused: NotifyErr reports each bound, and the hub counts it.
func TestNotifyRefused(t *testing.T) {
	t.Parallel()
	mem := cluster.NewMemory()
	mem.MaxMail, mem.MaxNoteBytes, mem.MaxNodeMailBytes, mem.MaxIdentities = 2, 200, 400, 2
	s := startServer(t, server.Config{Identities: mem}, routes)
	h, st := s.Hub(), s.Hub().Stats()
	if _, err := h.NotifyErr("nobody", "alert", "x"); !errors.Is(err, dispatch.ErrNotRegistered) {
		t.Fatalf("unregistered: %v", err)
	}
	c := dialPeer(t, s, "/peer")
	c.ok(1, "reg", "kim", 1)
	c.ok(2, "reg", "lee", 1)
	if m := c.call(3, "reg", "max", 1); m.Event != "_err_" || st.IdentitiesFull.Load() != 1 {
		t.Fatalf("third identity: %s, IdentitiesFull %d", m.raw, st.IdentitiesFull.Load())
	}
	big := strings.Repeat("x", 200)
	if _, err := h.NotifyErr("kim", "alert", big); !errors.Is(err, dispatch.ErrNoteTooLarge) || h.Notify("kim", "alert", big) {
		t.Fatalf("too large: %v", err)
	}
	for i := 1; i <= 3; i++ {
		r, err := h.NotifyErr("kim", "alert", "n"+strconv.Itoa(i))
		if err != nil || r.ID != uint64(i) || r.Dropped != i/3 {
			t.Fatalf("Notify %d: %+v %v", i, r, err)
		}
	}
	for id := uint64(1); id <= 3; id++ { // live notes never carry a gap
		if m := c.expect("alert"); m.NID != id || strings.Contains(m.raw, "_gap_") {
			t.Fatalf("live note %d: %s", id, m.raw)
		}
	}
	var err error
	for i := 0; i < 3 && err == nil; i++ {
		_, err = h.NotifyErr("lee", "alert", strings.Repeat("y", 100))
	}
	if !errors.Is(err, dispatch.ErrMailFull) || mem.MailBytes() > 400 {
		t.Fatalf("node bound: %v, %d bytes held", err, mem.MailBytes())
	}
	if st.NotesTooLarge.Load() != 2 || st.NotesDropped.Load() != 1 || st.MailFull.Load() != 1 {
		t.Fatalf("counters: too large %d, dropped %d, full %d",
			st.NotesTooLarge.Load(), st.NotesDropped.Load(), st.MailFull.Load())
	}
}
