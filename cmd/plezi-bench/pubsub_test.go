package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/plezigo/plezi/internal/push"
	plezi "github.com/plezigo/plezi/server"
)

const testAPIKey = "plezi-bench-test-key-01"

// pushServer runs plezi's push server (internal/push, as cmd/plezi mounts
// it) in the test process, which is the measured server.
func pushServer(t *testing.T) string {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := plezi.New(plezi.Config{Addr: "127.0.0.1:0", Logger: quiet, Loops: 1})
	svc, err := push.Mount(srv, push.Config{APIKey: testAPIKey, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- srv.Run(ctx) }()
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Run: %v", err)
			}
		}
	})
	select {
	case <-srv.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("push server not ready")
	}
	return srv.Addr()
}

// TestRunPubSub: S9 subscribes over /push in two worker processes,
// measures the idle memory, publishes through /api/publish and counts
// every delivery; a wrong API key makes the run partial.
func TestRunPubSub(t *testing.T) {
	addr := pushServer(t)
	for _, tt := range []struct {
		name  string
		o     func(o *options)
		check func(t *testing.T, r *Report)
	}{
		{"idle memory", func(o *options) {}, func(t *testing.T, r *Report) {
			if r.Status != "ok" || r.Up != 10 || r.IdleRSSPerConn == 0 || r.Published != 0 || r.Msgs != 0 {
				t.Fatalf("%+v", r)
			}
		}},
		{"fan-out", func(o *options) { o.rate, o.duration = 20, 150*time.Millisecond }, func(t *testing.T, r *Report) {
			if r.Status != "ok" || r.Published != 3 || r.Sent != 3 || r.Msgs != 30 || r.Expected != 30 ||
				r.LatN != 30 || r.APIP50 <= 0 || r.IdleRSSPerConn == 0 {
				t.Fatalf("%+v", r)
			}
		}},
		{"wrong key", func(o *options) { o.rate, o.duration, o.ps.apiKey = 20, 100*time.Millisecond, "wrong-key-0123456789" },
			func(t *testing.T, r *Report) {
				if !strings.HasPrefix(r.Status, "partial: 2 of 2 publishes failed") || r.Msgs != 0 || r.PublishErrs != 2 ||
					r.Expected != 20 {
					t.Fatalf("%+v", r)
				}
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := opts(addr, "s9")
			o.conns, o.ps.apiKey = 10, testAPIKey
			tt.o(&o)
			r, err := run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
			var b bytes.Buffer
			r.table(&b)
			if !strings.Contains(b.String(), "push protocol") || !strings.Contains(b.String(), "plezi, ") {
				t.Fatalf("table lacks the push protocol:\n%s", b.String())
			}
		})
	}
}
