package cluster

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

// panicky records messages and panics on "boom", as a handler with a bug
// would on one bad message.
func panicky(b *inbox) func([]byte) {
	return func(data []byte) {
		if string(data) == "boom" {
			panic("bad message")
		}
		b.add(string(data))
	}
}

// TestRedisHandlerPanic: a handler that panics on one message loses that
// message only: the subscription reader goes on with the next, the panic
// is counted, and other handlers of the message still run.
func TestRedisHandlerPanic(t *testing.T) {
	t.Parallel()
	prefix := testPrefix(t)
	r := newTestRedis(t, testRedisURL, prefix)
	r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	var got, other inbox
	if _, err := r.Subscribe("t", panicky(&got)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Subscribe("t", func(d []byte) { other.add(string(d)) }); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 5*time.Second, "the subscription", func() bool {
		_ = r.Publish("t", []byte("warm"))
		return len(got.list()) > 0
	})
	for _, m := range []string{"boom", "boom", "after"} {
		if err := r.Publish("t", []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	checkFor(t, 5*time.Second, "the message after the panics", func() bool {
		l := got.list()
		return len(l) > 0 && l[len(l)-1] == "after"
	})
	if p := r.Panics.Load(); p != 2 {
		t.Errorf("Panics = %d, want 2", p)
	}
	checkFor(t, 5*time.Second, "the other handler", func() bool {
		n := 0
		for _, m := range other.list() {
			if m == "boom" {
				n++
			}
		}
		return n == 2
	})
}

// TestMemoryHandlerPanic: the same for the in-memory broker, whose
// handlers run on the publisher's goroutine.
func TestMemoryHandlerPanic(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	var got, other inbox
	_, _ = m.Subscribe("t", panicky(&got))
	_, _ = m.Subscribe("t", func(d []byte) { other.add(string(d)) })
	_, _ = m.PSubscribe("*", func(_ string, d []byte) { panicky(&got)(d) })
	for _, msg := range []string{"boom", "after"} {
		if err := m.Publish("t", []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	if l := got.list(); len(l) != 2 || l[0] != "after" || l[1] != "after" {
		t.Fatalf("got %q", l)
	}
	if l := other.list(); len(l) != 2 {
		t.Fatalf("other handler got %q", l)
	}
	if p := m.Panics.Load(); p != 2 {
		t.Errorf("Panics = %d, want 2", p)
	}
}
