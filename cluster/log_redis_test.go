package cluster

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// records is a slog handler that keeps every message.
type records struct {
	mu   sync.Mutex
	msgs []string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *records) WithGroup(string) slog.Handler            { return r }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, rec.Message)
	r.mu.Unlock()
	return nil
}

// count returns how many messages contain s.
func (r *records) count(s string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

// TestRedisLogOnePerOutage: while Redis is down go-redis fails to dial
// over and over; its logger, routed through slog, writes one line for the
// outage and one when Redis answers again. Not parallel: go-redis's
// logger is process-wide and goes to the newest broker's Logger.
func TestRedisLogOnePerOutage(t *testing.T) {
	port := freePort(t)
	srv := startRedis(t, port)
	var rec records
	b, err := NewRedis(RedisConfig{URL: "redis://127.0.0.1:" + strconv.Itoa(port), Prefix: testPrefix(t),
		Probe: 50 * time.Millisecond, Timeout: 200 * time.Millisecond, Logger: slog.New(&rec)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_ = srv.Process.Signal(os.Kill)
	_ = srv.Wait()
	checkFor(t, 10*time.Second, "many dial failures", func() bool { return redisLog.failures.Load() >= 5 })
	if n := rec.count("dial"); n != 1 {
		t.Fatalf("%d lines about dialing for %d failures, want 1", n, redisLog.failures.Load())
	}
	srv = startRedis(t, port)
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	checkFor(t, 10*time.Second, "the recovery line", func() bool { return rec.count("dials again") == 1 })
	checkFor(t, 10*time.Second, "healthy", b.Healthy)
	if n := rec.count("dial"); n != 2 {
		t.Fatalf("%d lines about dialing, want 2 (down, up)", n)
	}
}
