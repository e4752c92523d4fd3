package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/testutil"
)

// The project's machines run Redis on 127.0.0.1:6379 (scripts/test.sh
// starts it when it is not answering); these tests fail without it.
const testRedisURL = "redis://127.0.0.1:6379/0"

func testPrefix(t *testing.T) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "plezitest-" + hex.EncodeToString(b[:])
}

func newTestRedis(t *testing.T, url, prefix string) *Redis {
	t.Helper()
	r, err := NewRedis(RedisConfig{URL: url, Prefix: prefix, Probe: 100 * time.Millisecond, Timeout: time.Second})
	if err != nil {
		t.Fatalf("NewRedis(%s): %v", url, err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// checkFor polls cond until it holds or the deadline passes.
func checkFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, d, what, cond)
}

type inbox struct {
	mu   sync.Mutex
	msgs []string
}

func (b *inbox) add(s string) { b.mu.Lock(); b.msgs = append(b.msgs, s); b.mu.Unlock() }
func (b *inbox) list() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.msgs...)
}

func TestRedisPubSubAcrossBrokers(t *testing.T) {
	t.Parallel()
	p := testPrefix(t)
	a, b := newTestRedis(t, testRedisURL, p), newTestRedis(t, testRedisURL, p)
	var got, pgot inbox
	cancel, _ := b.Subscribe("all", func(d []byte) { got.add(string(d)) })
	pcancel, _ := b.PSubscribe("pub:room:*", func(topic string, d []byte) { pgot.add(topic + "=" + string(d)) })
	// Subscriptions are sent asynchronously: publish until one arrives.
	checkFor(t, 5*time.Second, "first message", func() bool {
		_ = a.Publish("all", []byte("hello"))
		_ = a.Publish("pub:room:1", []byte("r1"))
		return len(got.list()) > 0 && len(pgot.list()) > 0
	})
	if got.list()[0] != "hello" || pgot.list()[0] != "pub:room:1=r1" {
		t.Fatalf("got %q and %q", got.list(), pgot.list())
	}
	cancel()
	pcancel()
	// A handler added after the cancel sees a marker; the cancelled one
	// must not.
	var later inbox
	c2, _ := b.Subscribe("all", func(d []byte) { later.add(string(d)) })
	defer c2()
	checkFor(t, 5*time.Second, "marker", func() bool {
		_ = a.Publish("all", []byte("marker"))
		return len(later.list()) > 0
	})
	for _, m := range got.list() {
		if m == "marker" {
			t.Fatal("cancelled handler received a message")
		}
	}
}

func TestRedisIdentities(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t, testRedisURL, testPrefix(t))
	if ok, err := r.Registered("u"); err != nil || ok {
		t.Fatalf("Registered before: %v %v", ok, err)
	}
	if _, err := r.Notify("u", func(uint64) []byte { return []byte("x") }); !errors.Is(err, dispatch.ErrNotRegistered) {
		t.Fatalf("Notify unregistered: err=%v", err)
	}
	evict, box, err := r.Register("u", "c1", time.Hour, 2, 0)
	if err != nil || len(evict) != 0 || len(box) != 0 {
		t.Fatalf("Register: %v %v %v", evict, box, err)
	}
	for i := 1; i <= 3; i++ {
		res, err := r.Notify("u", func(id uint64) []byte { return []byte(fmt.Sprint("note", id)) })
		if err != nil || res.Note.ID != uint64(i) || len(res.Conns) != 1 || res.Conns[0] != "c1" {
			t.Fatalf("Notify %d: %+v %v", i, res, err)
		}
	}
	_, box, err = r.Register("u", "c2", time.Hour, 2, 1)
	if err != nil || len(box) != 2 || box[0].ID != 2 || string(box[1].Data) != "note3" {
		t.Fatalf("backlog after 1: %+v %v", box, err)
	}
	evict, _, err = r.Register("u", "c3", time.Hour, 2, 3)
	if err != nil || len(evict) != 1 || evict[0] != "c1" {
		t.Fatalf("evict oldest: %v %v", evict, err)
	}
	if err := r.Unregister("u", "c2"); err != nil {
		t.Fatal(err)
	}
	res, _ := r.Notify("u", func(uint64) []byte { return []byte("y") })
	if len(res.Conns) != 1 || res.Conns[0] != "c3" {
		t.Fatalf("conns after unregister: %v", res.Conns)
	}
	// Lifetime: a short-lived identity expires.
	if _, _, err := r.Register("short", "c", 150*time.Millisecond, 1, 0); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 5*time.Second, "expiry", func() bool { ok, _ := r.Registered("short"); return !ok })
	if _, err := r.Notify("short", func(uint64) []byte { return nil }); !errors.Is(err, dispatch.ErrNotRegistered) {
		t.Fatalf("Notify after expiry: %v", err)
	}
}

func TestRedisMailboxBound(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t, testRedisURL, testPrefix(t))
	r.cfg.MaxMail = 5
	if _, _, err := r.Register("b", "c", time.Hour, 1, 0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		r.Notify("b", func(id uint64) []byte { return []byte(strconv.FormatUint(id, 10)) })
	}
	_, box, err := r.Register("b", "c", time.Hour, 1, 0)
	if err != nil || len(box) != 5 || box[0].ID != 8 || box[4].ID != 12 {
		t.Fatalf("box: %+v %v", box, err)
	}
}

// startRedis runs a private redis-server on a free port (for fault tests).
func startRedis(t *testing.T, port int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server: %v", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	checkFor(t, 5*time.Second, "redis-server up", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return cmd
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestRedisRestart kills Redis under two brokers and starts it again: the
// brokers report unhealthy, then resubscribe by themselves and deliver again.
func TestRedisRestart(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	srv := startRedis(t, port)
	url := "redis://127.0.0.1:" + strconv.Itoa(port)
	p := testPrefix(t)
	a, b := newTestRedis(t, url, p), newTestRedis(t, url, p)
	var got inbox
	cancel, _ := b.Subscribe("all", func(d []byte) { got.add(string(d)) })
	defer cancel()
	checkFor(t, 5*time.Second, "delivery before restart", func() bool {
		_ = a.Publish("all", []byte("before"))
		return len(got.list()) > 0
	})
	_ = srv.Process.Signal(os.Kill)
	_ = srv.Wait()
	checkFor(t, 5*time.Second, "unhealthy", func() bool { return !b.Healthy() })
	if err := a.Publish("all", []byte("down")); err == nil {
		t.Fatal("publish succeeded with Redis down")
	}
	srv = startRedis(t, port)
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	checkFor(t, 10*time.Second, "delivery after restart", func() bool {
		_ = a.Publish("all", []byte("after"))
		l := got.list()
		return l[len(l)-1] == "after"
	})
	checkFor(t, 5*time.Second, "healthy again", b.Healthy)
}
