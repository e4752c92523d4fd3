package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/testutil"
	"github.com/plezigo/plezi/server"
)

// fdChildEnv holds the open-file limit of TestFDLimit's child process.
const fdChildEnv = "PLEZI_TEST_FDLIMIT"

// fdLimitChild is the child's main: lower RLIMIT_NOFILE, serve /echo and
// /debug/stats, print the address, log to stderr, stop when stdin closes.
func fdLimitChild() int {
	n, err := strconv.ParseUint(os.Getenv(fdChildEnv), 10, 64)
	var rl syscall.Rlimit
	if err == nil {
		err = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	if err == nil {
		rl.Cur = n
		err = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: rlimit:", err)
		return 2
	}
	s := server.New(server.Config{
		Addr: "127.0.0.1:0", Loops: 2, Workers: 2, HandshakeTimeout: time.Minute,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	_ = s.Route("/echo", func() dispatch.Controller { return new(Echo) })
	s.Handle("/debug/stats", s.DebugStats)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-errc:
		fmt.Fprintln(os.Stderr, "child: run:", err)
		return 1
	}
	fmt.Println(s.Addr())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := <-errc; err != nil {
		fmt.Fprintln(os.Stderr, "child: run:", err)
		return 1
	}
	return 0
}

// fdChild is a running child server.
type fdChild struct {
	addr   string
	stdin  io.WriteCloser
	stderr bytes.Buffer // read only after exited
	exited chan error
}

func startFDChild(t *testing.T, limit int) *fdChild {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fdChildEnv+"="+strconv.Itoa(limit))
	ch := &fdChild{exited: make(chan error, 1)}
	cmd.Stderr = &ch.stderr
	var err error
	if ch.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	go func() { ch.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = ch.stdin.Close()
		select {
		case <-ch.exited:
		case <-time.After(2 * wait):
			_ = cmd.Process.Kill()
		}
	})
	if err != nil {
		<-ch.exited
		t.Fatalf("child did not start: %v\n%s", err, ch.stderr.String())
	}
	ch.addr = strings.TrimSpace(line)
	return ch
}

// stop closes the child's stdin and returns its exit and its log.
func (ch *fdChild) stop(t *testing.T) string {
	t.Helper()
	_ = ch.stdin.Close()
	select {
	case err := <-ch.exited:
		ch.exited <- err // for Cleanup
		if err != nil {
			t.Fatalf("child: %v\n%s", err, ch.stderr.String())
		}
	case <-time.After(2 * wait):
		t.Fatal("child did not stop")
	}
	return ch.stderr.String()
}

func (ch *fdChild) alive(t *testing.T) {
	t.Helper()
	select {
	case err := <-ch.exited:
		ch.exited <- err
		t.Fatalf("child exited: %v\n%s", err, ch.stderr.String())
	default:
	}
}

func echoOnce(ws *websocket.Conn, text string) error {
	_ = ws.SetReadDeadline(time.Now().Add(wait))
	_ = ws.SetWriteDeadline(time.Now().Add(wait))
	if err := ws.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
		return err
	}
	_, b, err := ws.ReadMessage()
	if err == nil && string(b) != text {
		err = fmt.Errorf("echo %q, want %q", b, text)
	}
	return err
}

func dialEcho(addr string, timeout time.Duration) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: timeout}
	ws, resp, err := d.Dial("ws://"+addr+"/echo", nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	return ws, err
}

// openFlood dials n plain TCP connections to addr, each read in the
// background (testutil.Flood); the test's cleanup closes them.
func openFlood(t *testing.T, addr string, n int) *testutil.Flood {
	t.Helper()
	return testutil.OpenFlood(t, addr, n, wait)
}

// TestFDLimit: a server at its open-file limit (a child process with
// RLIMIT_NOFILE lowered) keeps running and serving its websockets, sheds
// new connections (closed at once, a 503 when it can), counts them, logs
// once, and accepts again when fds are free.
func TestFDLimit(t *testing.T) {
	t.Parallel()
	const limit, extra = 96, 200
	ch := startFDChild(t, limit)
	var open []*websocket.Conn
	for i := range 3 {
		ws, err := dialEcho(ch.addr, wait)
		if err != nil {
			t.Fatalf("websocket %d: %v", i, err)
		}
		if err := echoOnce(ws, "before"); err != nil {
			t.Fatal(err)
		}
		open = append(open, ws)
	}

	defer func() {
		for _, ws := range open {
			_ = ws.Close()
		}
	}()
	f := openFlood(t, ch.addr, extra)
	defer f.Close()
	// Each connection held costs the child an fd: at least extra-limit
	// cannot be held and must be closed, not left in the backlog.
	eventually(t, "connections past the limit shed", func() bool { return f.Ended.Load() >= extra-limit })
	ch.alive(t)
	if f.Busy.Load() == 0 {
		t.Errorf("none of %d shed connections read a 503", f.Ended.Load())
	}
	open = refusedAtLimit(t, ch.addr, open)
	for i, ws := range open {
		if err := echoOnce(ws, "during"); err != nil {
			t.Fatalf("websocket %d at the fd limit: %v", i, err)
		}
	}

	f.Close()
	eventually(t, "a new websocket after the flood", func() bool {
		ws, err := dialEcho(ch.addr, time.Second)
		if err != nil {
			return false
		}
		defer ws.Close()
		return echoOnce(ws, "after") == nil
	})
	stats := childStats(t, ch.addr)
	if stats["shed"] < extra-limit {
		t.Errorf("stats after the flood: shed %d, want at least %d", stats["shed"], extra-limit)
	}
	t.Logf("shed %d (%d read a 503), accept errors %d", stats["shed"], f.Busy.Load(), stats["accept_errors"])
	for _, ws := range open {
		_ = ws.Close()
	}
	log := ch.stop(t)
	if n := strings.Count(log, "open-file limit reached"); n != 1 {
		t.Fatalf("%d log lines about the fd limit, want 1:\n%s", n, log)
	}
}

// refusedAtLimit dials websockets until one is refused, which must be
// quick; one that opens (registrations still in flight when the flood
// ended freed an fd) stays open and takes that fd.
func refusedAtLimit(t *testing.T, addr string, open []*websocket.Conn) []*websocket.Conn {
	t.Helper()
	for range 10 {
		start := time.Now()
		ws, err := dialEcho(addr, wait)
		if err == nil {
			open = append(open, ws)
			continue
		}
		if d := time.Since(start); d > wait/2 {
			t.Fatalf("refusal at the fd limit took %v: %v", d, err)
		}
		return open
	}
	t.Fatal("10 websockets opened at the fd limit")
	return nil
}

func childStats(t *testing.T, addr string) map[string]int64 {
	t.Helper()
	_, body := get(t, "GET", "http://"+addr+"/debug/stats", nil)
	var m map[string]int64
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("stats %q: %v", body, err)
	}
	return m
}
