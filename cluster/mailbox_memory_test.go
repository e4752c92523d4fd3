package cluster_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
)

// notify stores data (padded to size bytes) and returns what Notify did.
func notify(m *cluster.Memory, identity string, size int) (dispatch.Notified, error) {
	return m.Notify(identity, func(uint64) []byte { return []byte(strings.Repeat("x", size)) })
}

// TestMemoryMailboxOverflow: 300 notes to an offline identity, bound 256:
// the newest 256 stay, the 44 dropped are reported by Notify and marked on
// the first backlog note (counted from the resume point).
func TestMemoryMailboxOverflow(t *testing.T) {
	t.Parallel()
	m, _ := newMemory()
	_, _, _ = m.Register("a", "c1", time.Hour, 1, 0)
	_ = m.Unregister("a", "c1")
	dropped := 0
	for i := 1; i <= 300; i++ {
		r, err := notify(m, "a", 10)
		if err != nil || r.Note.ID != uint64(i) {
			t.Fatalf("Notify %d: %+v %v", i, r, err)
		}
		dropped += r.Dropped
	}
	if dropped != 44 {
		t.Fatalf("dropped %d, want 44", dropped)
	}
	for _, tt := range []struct{ after, first, gap uint64 }{{0, 45, 44}, {30, 45, 14}, {44, 45, 0}, {100, 101, 0}} {
		_, backlog, _ := m.Register("a", "c1", time.Hour, 1, tt.after)
		if len(backlog) != int(300-tt.first+1) || backlog[0].ID != tt.first || backlog[0].Gap != tt.gap {
			t.Fatalf("after %d: %d notes from %+v, want from %d with gap %d", tt.after, len(backlog), backlog[0], tt.first, tt.gap)
		}
		for _, n := range backlog[1:] {
			if n.Gap != 0 {
				t.Fatalf("after %d: note %d has gap %d", tt.after, n.ID, n.Gap)
			}
		}
	}
	if got := m.MailBytes(); got != 256*10 {
		t.Fatalf("MailBytes %d, want %d", got, 256*10)
	}
}

// TestMemoryMailboxBytes: 500 KiB notes in a 1 MiB mailbox: two stay.
func TestMemoryMailboxBytes(t *testing.T) {
	t.Parallel()
	m, _ := newMemory()
	_, _, _ = m.Register("a", "c1", time.Hour, 1, 0)
	for i := 1; i <= 5; i++ {
		r, err := notify(m, "a", 500<<10)
		if err != nil || (i > 2 && r.Dropped != 1) {
			t.Fatalf("Notify %d: dropped %d, %v", i, r.Dropped, err)
		}
	}
	_, backlog, _ := m.Register("a", "c1", time.Hour, 1, 0)
	if len(backlog) != 2 || backlog[0].ID != 4 || backlog[0].Gap != 3 {
		t.Fatalf("backlog %d notes from %d (gap %d), want 4 and 5", len(backlog), backlog[0].ID, backlog[0].Gap)
	}
	if got := m.MailBytes(); got != 2*500<<10 {
		t.Fatalf("MailBytes %d, want %d", got, 2*500<<10)
	}
}

// TestMemoryNoteTooLarge: a note over the per-note bound is refused, not
// stored, and takes no id.
func TestMemoryNoteTooLarge(t *testing.T) {
	t.Parallel()
	m, _ := newMemory()
	m.MaxNoteBytes = 1000
	_, _, _ = m.Register("a", "c1", time.Hour, 1, 0)
	if _, err := notify(m, "a", 1001); !errors.Is(err, dispatch.ErrNoteTooLarge) {
		t.Fatalf("1001 bytes: %v, want ErrNoteTooLarge", err)
	}
	m.MaxNoteBytes = 0 // the mailbox bound, 1 MiB
	if _, err := notify(m, "a", 1<<20+1); !errors.Is(err, dispatch.ErrNoteTooLarge) {
		t.Fatalf("1 MiB + 1: %v, want ErrNoteTooLarge", err)
	}
	if r, err := notify(m, "a", 1<<20); err != nil || r.Note.ID != 1 {
		t.Fatalf("1 MiB: %+v %v", r.Note.ID, err)
	}
	_, backlog, _ := m.Register("a", "c1", time.Hour, 1, 0)
	if len(backlog) != 1 || m.MailBytes() != 1<<20 {
		t.Fatalf("%d notes, %d bytes after the refusals", len(backlog), m.MailBytes())
	}
}

// TestMemoryNodeMailBytes: the mailboxes of a node share a byte bound;
// past it a note is refused until expired identities free their bytes.
func TestMemoryNodeMailBytes(t *testing.T) {
	t.Parallel()
	m, clk := newMemory()
	m.MaxNodeMailBytes = 10_000
	m.MaxMailBytes = 4_000
	_, _, _ = m.Register("old", "c", 10*time.Minute, 1, 0)
	for _, name := range []string{"a", "b"} {
		_, _, _ = m.Register(name, "c", time.Hour, 1, 0)
	}
	for _, name := range []string{"old", "a"} {
		for range 4 {
			if _, err := notify(m, name, 1_000); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := notify(m, "b", 1_000); err != nil { // 9,000
		t.Fatal(err)
	}
	if r, err := notify(m, "a", 1_000); err != nil || r.Dropped != 1 { // a full: drops its own, stays 9,000
		t.Fatalf("a within its own bound: %+v %v", r, err)
	}
	if _, err := notify(m, "b", 2_000); !errors.Is(err, dispatch.ErrMailFull) {
		t.Fatalf("past the node bound: %v, want ErrMailFull", err)
	}
	if m.MailBytes() != 9_000 {
		t.Fatalf("MailBytes %d, want 9000", m.MailBytes())
	}
	clk.add(20 * time.Minute) // "old" expires; the next refusal sweeps it
	if _, err := notify(m, "b", 2_000); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if m.MailBytes() != 7_000 {
		t.Fatalf("MailBytes %d, want 7000", m.MailBytes())
	}
}

// TestMemoryMaxIdentities: a new identity past the bound is refused; known
// ones register again, and an expired one makes room.
func TestMemoryMaxIdentities(t *testing.T) {
	t.Parallel()
	m, clk := newMemory()
	m.MaxIdentities = 3
	for i, name := range []string{"a", "b", "c"} {
		if _, _, err := m.Register(name, "c", time.Duration(i+1)*time.Hour, 1, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := m.Register("d", "c", time.Hour, 1, 0); !errors.Is(err, dispatch.ErrTooManyIdentities) {
		t.Fatalf("fourth identity: %v, want ErrTooManyIdentities", err)
	}
	if _, _, err := m.Register("b", "c2", 3*time.Hour, 2, 0); err != nil {
		t.Fatalf("known identity: %v", err)
	}
	clk.add(90 * time.Minute) // a expires
	if _, _, err := m.Register("d", "c", time.Hour, 1, 0); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if n := m.IdentityCount(); n != 3 {
		t.Fatalf("IdentityCount %d, want 3", n)
	}
}
