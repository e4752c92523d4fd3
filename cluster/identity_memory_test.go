package cluster_test

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
)

// clock is a settable time source for Memory.SetClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) get() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newMemory() (*cluster.Memory, *clock) {
	m := cluster.NewMemory()
	c := &clock{now: time.Unix(1_700_000_000, 0)}
	m.SetClock(c.get)
	return m, c
}

func note(m *cluster.Memory, identity, text string) (dispatch.Note, []string, bool) {
	r, err := m.Notify(identity, func(id uint64) []byte {
		return []byte(text + "#" + strconv.FormatUint(id, 10))
	})
	if err != nil && !errors.Is(err, dispatch.ErrNotRegistered) {
		panic(err)
	}
	return r.Note, r.Conns, err == nil
}

func ids(ns []dispatch.Note) []string {
	var out []string
	for _, n := range ns {
		out = append(out, strconv.FormatUint(n.ID, 10)+":"+string(n.Data))
	}
	return out
}

func TestIdentitiesRegister(t *testing.T) {
	t.Parallel()
	m, _ := newMemory()
	if ok, _ := m.Registered("a"); ok {
		t.Fatal("Registered before Register")
	}
	if _, _, ok := note(m, "a", "x"); ok {
		t.Fatal("Notify ok before Register")
	}
	evict, backlog, err := m.Register("a", "c1", time.Hour, 2, 0)
	if err != nil || evict != nil || backlog != nil {
		t.Fatalf("Register = %v, %v, %v", evict, backlog, err)
	}
	if ok, _ := m.Registered("a"); !ok {
		t.Fatal("not Registered after Register")
	}
	n, conns, ok := note(m, "a", "x")
	if !ok || n.ID != 1 || string(n.Data) != "x#1" || !equal(conns, []string{"c1"}) {
		t.Fatalf("Notify = %+v, %q, %v", n, conns, ok)
	}
	// The same connection twice counts once.
	evict, _, _ = m.Register("a", "c1", time.Hour, 1, 0)
	if evict != nil {
		t.Fatalf("re-register evicted %q", evict)
	}
	evict, _, _ = m.Register("a", "c2", time.Hour, 2, 0)
	if evict != nil {
		t.Fatalf("evicted %q under the cap", evict)
	}
	evict, _, _ = m.Register("a", "c3", time.Hour, 2, 0)
	if !equal(evict, []string{"c1"}) {
		t.Fatalf("evict = %q, want the oldest c1", evict)
	}
	evict, _, _ = m.Register("a", "c4", time.Hour, 1, 0)
	if !equal(evict, []string{"c2", "c3"}) {
		t.Fatalf("evict = %q, want c2 c3 oldest first", evict)
	}
	_, conns, _ = note(m, "a", "y")
	if !equal(conns, []string{"c4"}) {
		t.Fatalf("conns = %q", conns)
	}
	if err := m.Unregister("a", "c4"); err != nil {
		t.Fatal(err)
	}
	if err := m.Unregister("a", "c4"); err != nil {
		t.Fatal(err)
	}
	if err := m.Unregister("never", "c"); err != nil {
		t.Fatal(err)
	}
	n, conns, ok = note(m, "a", "z")
	if !ok || n.ID != 3 || len(conns) != 0 {
		t.Fatalf("Notify without connections = %+v, %q, %v", n, conns, ok)
	}
}

func TestIdentitiesMailbox(t *testing.T) {
	t.Parallel()
	m, _ := newMemory()
	_, _, _ = m.Register("a", "c1", time.Hour, 1, 0)
	for i := 0; i < 4; i++ {
		note(m, "a", "m")
	}
	tests := []struct {
		after uint64
		want  []string
	}{
		{0, []string{"1:m#1", "2:m#2", "3:m#3", "4:m#4"}},
		{2, []string{"3:m#3", "4:m#4"}},
		{4, nil},
		{99, nil},
	}
	for _, tt := range tests {
		_, backlog, _ := m.Register("a", "c1", time.Hour, 1, tt.after)
		if got := ids(backlog); !equal(got, tt.want) {
			t.Errorf("after %d: backlog %q, want %q", tt.after, got, tt.want)
		}
	}
	// Mailboxes are per identity.
	_, backlog, _ := m.Register("b", "c1", time.Hour, 1, 0)
	if backlog != nil {
		t.Fatalf("b's backlog = %q", ids(backlog))
	}
}

func TestIdentitiesMailboxBound(t *testing.T) {
	t.Parallel()
	m, _ := newMemory()
	m.MaxMail = 3
	_, _, _ = m.Register("a", "c1", time.Hour, 1, 0)
	for i := 0; i < 5; i++ {
		note(m, "a", "m")
	}
	_, backlog, _ := m.Register("a", "c1", time.Hour, 1, 0)
	if got := ids(backlog); !equal(got, []string{"3:m#3", "4:m#4", "5:m#5"}) {
		t.Fatalf("backlog %q, want the newest 3", got)
	}
}

func TestIdentitiesLifetime(t *testing.T) {
	t.Parallel()
	m, clk := newMemory()
	_, _, _ = m.Register("a", "c1", time.Hour, 1, 0)
	clk.add(50 * time.Minute)
	if _, _, ok := note(m, "a", "x"); !ok { // renews for an hour
		t.Fatal("expired early")
	}
	clk.add(50 * time.Minute)
	if ok, _ := m.Registered("a"); !ok {
		t.Fatal("delivery did not renew the lifetime")
	}
	_, _, _ = m.Register("a", "c1", time.Hour, 1, 0) // renews too
	clk.add(59 * time.Minute)
	if ok, _ := m.Registered("a"); !ok {
		t.Fatal("register did not renew the lifetime")
	}
	clk.add(2 * time.Minute)
	if ok, _ := m.Registered("a"); ok {
		t.Fatal("alive past its lifetime")
	}
	if _, _, ok := note(m, "a", "x"); ok {
		t.Fatal("Notify ok past the lifetime")
	}
	// Registering again starts afresh: an empty mailbox, ids from 1.
	_, backlog, _ := m.Register("a", "c9", time.Hour, 1, 0)
	if backlog != nil {
		t.Fatalf("expired mailbox came back: %q", ids(backlog))
	}
	if n, _, _ := note(m, "a", "y"); n.ID != 1 {
		t.Fatalf("note id %d after expiry, want 1", n.ID)
	}
}

// TestIdentitiesSweep: expired identities are dropped even when nobody
// looks them up again.
func TestIdentitiesSweep(t *testing.T) {
	t.Parallel()
	m, clk := newMemory()
	for i := 0; i < 100; i++ {
		_, _, _ = m.Register("old"+strconv.Itoa(i), "c", time.Minute, 1, 0)
	}
	clk.add(time.Hour)
	_, _, _ = m.Register("live", "c", 2*time.Hour, 1, 0)
	for i := 0; i < 2048; i++ {
		_, _ = m.Registered("live")
	}
	for i := 0; i < 100; i++ {
		if ok, _ := m.Registered("old" + strconv.Itoa(i)); ok {
			t.Fatal("expired identity alive")
		}
	}
	if ok, _ := m.Registered("live"); !ok {
		t.Fatal("sweep dropped a live identity")
	}
}

func TestIdentitiesConcurrent(t *testing.T) {
	t.Parallel()
	m := cluster.NewMemory()
	_, _, _ = m.Register("a", "c0", time.Hour, 100, 0)
	var wg sync.WaitGroup
	seen := make([]map[uint64]bool, 4)
	for g := range seen {
		seen[g] = map[uint64]bool{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := "c" + strconv.Itoa(g+1)
			for i := 0; i < 100; i++ {
				_, _, _ = m.Register("a", conn, time.Hour, 100, 0)
				n, _, ok := note(m, "a", conn)
				if !ok {
					t.Error("Notify failed")
					return
				}
				seen[g][n.ID] = true
				_ = m.Unregister("a", conn)
			}
		}()
	}
	wg.Wait()
	all := map[uint64]bool{}
	for _, s := range seen {
		for id := range s {
			if all[id] {
				t.Fatalf("note id %d given twice", id)
			}
			all[id] = true
		}
	}
	if len(all) != 400 {
		t.Fatalf("%d distinct ids, want 400", len(all))
	}
}
