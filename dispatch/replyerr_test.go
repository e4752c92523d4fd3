package dispatch_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/server"
)

// logBuffer collects log output; safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPlainErrorHidden: a plain error from an event reaches the client as
// "internal error" with a ref that the log line carries next to the real
// error; a StatusError keeps its status and text.
func TestPlainErrorHidden(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	s := startServer(t, server.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, routes)
	for _, path := range []string{"/peer", "/peer-inline"} {
		c := dialPeer(t, s, path)
		m := c.call(1, "fail", 0)
		if m.Status != 500 || m.Error != "internal error" || m.Ref == "" || strings.Contains(m.raw, "plain failure") {
			t.Fatalf("%s: plain error answered %s", path, m.raw)
		}
		again := c.call(2, "fail", 0)
		if again.Ref == m.Ref {
			t.Errorf("two errors share ref %q", m.Ref)
		}
		line := ""
		eventually(t, "the log line", func() bool {
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "ref="+m.Ref+" ") {
					line = l
				}
			}
			return line != ""
		})
		if !strings.Contains(line, "plain failure") || !strings.Contains(line, "event=fail") {
			t.Errorf("log line %q lacks the error or the event", line)
		}
		if m := c.call(3, "fail", 418); m.Status != 418 || m.Error != "refused" || m.Ref != "" {
			t.Fatalf("%s: StatusError answered %s", path, m.raw)
		}
	}
}

// TestPanicLoggedOnce: every panic in a callback closes its connection
// with 1011 and is counted, but the stack is logged once per controller
// type and callback; repeats within a second are not logged at all.
func TestPanicLoggedOnce(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	s := startServer(t, server.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, routes)
	const n = 4
	for i := range n {
		c := dialPeer(t, s, []string{"/peer", "/peer-inline"}[i%2])
		c.emit(1, "boom")
		if code, _ := c.closed(); code != websocket.CloseInternalServerErr {
			t.Fatalf("close code %d, want 1011", code)
		}
	}
	eventually(t, "the panics counted", func() bool { return s.Hub().Stats().Panics.Load() == n })
	out := logs.String()
	if st, lines := strings.Count(out, "stack="), strings.Count(out, "panic in controller"); st != 1 || lines > 2 {
		t.Fatalf("%d panics logged %d lines, %d with a stack; want 1 stack, at most 2 lines:\n%s", n, lines, st, out)
	}
	if !strings.Contains(out, "callback=Boom") || !strings.Contains(out, "controller=Peer") {
		t.Errorf("the log does not name the controller and callback:\n%s", out)
	}
}
