package dispatch_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/server"
)

// restoring is the in-memory broker and store with a restore hook (as a
// Redis broker has): fire runs what the hub registered with OnRestore.
type restoring struct {
	*cluster.Memory
	mu        sync.Mutex
	fns       []func()
	announces map[string]int
}

func (r *restoring) OnRestore(fn func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fns = append(r.fns, fn)
}

func (r *restoring) Announce(node string, ttl time.Duration) error {
	r.mu.Lock()
	r.announces[node]++
	r.mu.Unlock()
	return r.Memory.Announce(node, ttl)
}

func (r *restoring) fire() {
	r.mu.Lock()
	fns := r.fns
	r.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

func (r *restoring) announced(node string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.announces[node]
}

// TestRestore: when the broker asks for a restoration, the hub announces
// its node again and registers each connection's identities again, worker
// and inline routes alike, which delivers the notes the connection missed
// (here stored behind the hub's back), once: a second restoration
// delivers nothing again.
func TestRestore(t *testing.T) {
	t.Parallel()
	rb := &restoring{Memory: cluster.NewMemory(), announces: map[string]int{}}
	s := startServer(t, server.Config{Broker: rb, Node: "rs"}, routes)
	eventually(t, "the hub's hook", func() bool { rb.mu.Lock(); defer rb.mu.Unlock(); return len(rb.fns) == 1 })
	for _, path := range []string{"/peer", "/peer-inline"} {
		t.Run(path, func(t *testing.T) {
			c := dialPeer(t, s, path)
			user := "restored" + path
			c.ok(1, "reg", user, 1)
			if !s.Hub().Notify(user, "live", 1) {
				t.Fatal("notify refused")
			}
			c.expect("live")
			for i := range 3 {
				if _, err := rb.Notify(user, func(id uint64) []byte {
					return []byte(`{"event":"missed","args":[` + strconv.Itoa(i) + `],"_NID_":` + strconv.FormatUint(id, 10) + `}`)
				}); err != nil {
					t.Fatal(err)
				}
			}
			before := rb.announced("rs")
			restores := s.Hub().Stats().Restored.Load()
			rb.fire()
			for i := range 3 {
				if m := c.expect("missed"); m.arg(0) != strconv.Itoa(i) {
					t.Fatalf("replayed %s, want missed %d", m.raw, i)
				}
			}
			eventually(t, "the registration restored", func() bool { return s.Hub().Stats().Restored.Load() > restores })
			rb.fire()
			eventually(t, "the second restoration", func() bool { return s.Hub().Stats().Restored.Load() > restores+1 })
			c.marker(s, "nothing replayed twice")
			if rb.announced("rs") < before+2 {
				t.Fatalf("announced %d times in two restorations", rb.announced("rs")-before)
			}
		})
	}
}
