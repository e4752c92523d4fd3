package cluster_test

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/plezigo/plezi/cluster"
)

// recorder collects what a subscription receives. Safe for concurrent use.
type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) fn(data []byte) {
	r.mu.Lock()
	r.got = append(r.got, string(data))
	r.mu.Unlock()
}

func (r *recorder) pfn(topic string, data []byte) { r.fn([]byte(topic + "=" + string(data))) }

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMemorySubscribe(t *testing.T) {
	t.Parallel()
	m := cluster.NewMemory()
	var a, b, p recorder
	cancelA, _ := m.Subscribe("all", a.fn)
	cancelB, _ := m.Subscribe("all", b.fn)
	cancelP, _ := m.PSubscribe("pub:*", p.pfn)
	other, _ := m.Subscribe("node:x", b.fn)

	for _, msg := range []struct{ topic, data string }{
		{"all", "1"}, {"pub:room", "2"}, {"node:x", "3"}, {"nobody", "4"}, {"all", "5"},
	} {
		if err := m.Publish(msg.topic, []byte(msg.data)); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.list(); !equal(got, []string{"1", "5"}) {
		t.Errorf("a got %q", got)
	}
	if got := b.list(); !equal(got, []string{"1", "3", "5"}) {
		t.Errorf("b got %q", got)
	}
	if got := p.list(); !equal(got, []string{"pub:room=2"}) {
		t.Errorf("pattern got %q", got)
	}

	cancelA()
	cancelA() // idempotent
	cancelP()
	other()
	_ = m.Publish("all", []byte("6"))
	_ = m.Publish("pub:room", []byte("7"))
	_ = m.Publish("node:x", []byte("8"))
	if got := a.list(); len(got) != 2 {
		t.Errorf("cancelled subscriber got %q", got)
	}
	if got := p.list(); len(got) != 1 {
		t.Errorf("cancelled pattern got %q", got)
	}
	if got := b.list(); !equal(got, []string{"1", "3", "5", "6"}) {
		t.Errorf("b got %q", got)
	}
	cancelB()
}

// TestMemoryPublishCopies: a subscriber may keep nothing past its call, and
// the publisher may reuse its buffer after Publish returns.
func TestMemoryPublishCopies(t *testing.T) {
	t.Parallel()
	m := cluster.NewMemory()
	var r recorder
	cancel, _ := m.Subscribe("t", r.fn)
	defer cancel()
	buf := []byte("first")
	_ = m.Publish("t", buf)
	copy(buf, "XXXXX")
	if got := r.list(); got[0] != "first" {
		t.Fatalf("got %q", got)
	}
}

// TestMemorySubscribeInCallback: a subscriber may subscribe and cancel from
// inside its callback (the hub does this) without deadlock.
func TestMemorySubscribeInCallback(t *testing.T) {
	t.Parallel()
	m := cluster.NewMemory()
	var inner recorder
	var cancelInner func()
	cancel, _ := m.Subscribe("t", func(data []byte) {
		if bytes.Equal(data, []byte("sub")) {
			cancelInner, _ = m.Subscribe("u", inner.fn)
		} else {
			cancelInner()
		}
		_ = m.Publish("u", data)
	})
	defer cancel()
	_ = m.Publish("t", []byte("sub"))
	_ = m.Publish("t", []byte("unsub"))
	if got := inner.list(); !equal(got, []string{"sub"}) {
		t.Fatalf("got %q", got)
	}
}

func TestMemoryConcurrent(t *testing.T) {
	t.Parallel()
	m := cluster.NewMemory()
	var n atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				cancel, _ := m.Subscribe("t", func([]byte) { n.Add(1) })
				pcancel, _ := m.PSubscribe("t*", func(string, []byte) { n.Add(1) })
				_ = m.Publish("t", nil)
				cancel()
				pcancel()
			}
		}()
	}
	wg.Wait()
	if n.Load() < 8*200*2 {
		t.Fatalf("%d deliveries, want at least each publisher's own two", n.Load())
	}
}
