package dispatch_test

import (
	"strconv"
	"testing"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// noteCtl writes notes in its own form (NoteWriter) and registers with
// After(id) on request.
type noteCtl struct{ dispatch.Socket }

func (c *noteCtl) OnOpen() { _ = c.Emit("id", c.ID()) }

// Reg registers identity, resuming after note id after.
func (c *noteCtl) Reg(identity string, after uint64) error {
	return c.RegisterAs(identity, dispatch.After(after))
}

// Sub subscribes to channel.
func (c *noteCtl) Sub(channel string) bool { c.Subscribe(channel); return true }

func (c *noteCtl) OnNote(identity string, n dispatch.Note) {
	_ = c.Emit("mine", identity, strconv.FormatUint(n.ID, 10), string(n.Data))
}

// TestNoteWriterAndAfter: a NoteWriter gets each note once, in its own
// form, and After(id) skips the notes the client saw.
func TestNoteWriterAndAfter(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{Identities: cluster.NewMemory()}, func(s *server.Server) {
		if err := s.Route("/note", func() dispatch.Controller { return new(noteCtl) }, dispatch.AllClientEvents()); err != nil {
			t.Fatal(err)
		}
	})
	a := dialPeer(t, s, "/note")
	a.ok(1, "reg", "ann", 0)
	for i := 1; i <= 3; i++ {
		if !s.Hub().Notify("ann", "alert", i) {
			t.Fatalf("Notify %d = false", i)
		}
		m := a.expect("mine")
		if m.arg(0) != "ann" || m.arg(1) != strconv.Itoa(i) || m.arg(2) != `{"event":"alert","_NID_":`+strconv.Itoa(i)+`,"_identity":"ann","args":[`+strconv.Itoa(i)+`]}` {
			t.Fatalf("note %d: %s", i, m.raw)
		}
	}
	b := dialPeer(t, s, "/note")
	b.emit(1, "reg", "ann", 2) // saw 1 and 2: only 3 is replayed (and a's place is taken)
	if m := b.expect("mine"); m.arg(1) != "3" {
		t.Fatalf("backlog after 2: %s, want note 3", m.raw)
	}
	b.expect("_ack_")
	if code, _ := a.closed(); code != 4009 {
		t.Fatalf("replaced connection closed with %d, want 4009", code)
	}
	if n := s.Hub().Channels(); n != 0 {
		t.Fatalf("Channels() = %d before any subscription", n)
	}
	b.ok(2, "sub", "x")
	b.ok(3, "sub", "y")
	eventually(t, "two channels", func() bool { return s.Hub().Channels() == 2 })
	_ = b.ws.Close()
	eventually(t, "no channels after close", func() bool { return s.Hub().Channels() == 0 })
}
