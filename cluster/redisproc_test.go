package cluster

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plezigo/plezi/internal/testutil"
)

// RedisProc is a private redis-server for fault tests, on its own port:
// killed, frozen, thawed and started again on the same port and data
// directory. Without persistence a restart loses everything; with AOF
// (appendfsync always) it keeps every write that was answered.
type RedisProc struct {
	t    testing.TB
	port int
	dir  string
	aof  bool
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd exited
}

// StartRedisProc starts a private redis-server (with AOF when aof) and
// stops it when the test ends. A port found free can be taken before
// redis-server binds it (the range is the one every test's outgoing
// connections draw from), so a server that exits before it answers is
// started again on another port, up to five times.
func StartRedisProc(t testing.TB, aof bool) *RedisProc {
	t.Helper()
	p := &RedisProc{t: t, dir: t.TempDir(), aof: aof}
	t.Cleanup(func() {
		p.Thaw()
		p.Kill()
	})
	for try := 1; ; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p.port = l.Addr().(*net.TCPAddr).Port
		l.Close()
		if p.launch() {
			return p
		}
		if try == 5 || !p.exited() {
			t.Fatalf("redis-server on %s did not answer within 10 s (exited: %v; try %d)", p.Addr(), p.exited(), try)
		}
	}
}

// URL is the redis:// URL of the server.
func (p *RedisProc) URL() string { return "redis://" + p.Addr() + "/0" }

// Addr is host:port.
func (p *RedisProc) Addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

// Start runs the server again on its port and waits until it answers PING.
func (p *RedisProc) Start() {
	p.t.Helper()
	if !p.launch() {
		p.t.Fatalf("redis-server on %s did not answer within 10 s (exited: %v)", p.Addr(), p.exited())
	}
}

// launch runs the server and waits until it answers PING or exits (at
// most 10 s); it reports whether it answered.
func (p *RedisProc) launch() bool {
	p.t.Helper()
	args := []string{"--port", strconv.Itoa(p.port), "--bind", "127.0.0.1", "--save", "", "--dir", p.dir}
	if p.aof {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	p.cmd = exec.Command("redis-server", args...)
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("redis-server: %v", err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(p.cmd, p.done)
	// Short timeouts: a ping that hangs (something else holds the port) is
	// tried again, and the exit is seen between tries.
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1, DialTimeout: 100 * time.Millisecond,
		ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond})
	defer c.Close()
	answered := false
	testutil.Poll(10*time.Second, func() bool {
		answered = c.Ping(context.Background()).Err() == nil
		return answered || p.exited()
	})
	return answered
}

func (p *RedisProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill ends the server with SIGKILL and waits for it.
func (p *RedisProc) Kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return // never started
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Freeze stops the process (SIGSTOP): its sockets stay open, nothing
// answers.
func (p *RedisProc) Freeze() { _ = p.cmd.Process.Signal(syscall.SIGSTOP) }

// Thaw continues a frozen process (SIGCONT).
func (p *RedisProc) Thaw() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
	}
}

// Client returns a client of the server's own (closed with the test).
func (p *RedisProc) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1})
	p.t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestRedisProcPortTaken: a redis-server that cannot bind its port exits,
// and launch says so at once instead of waiting out its 10 s (the case
// StartRedisProc retries on another port).
func TestRedisProcPortTaken(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := &RedisProc{t: t, port: l.Addr().(*net.TCPAddr).Port, dir: t.TempDir()}
	t.Cleanup(p.Kill)
	start := time.Now()
	if p.launch() {
		t.Fatalf("redis-server answered on %s, a port held by the test", p.Addr())
	}
	if !p.exited() || time.Since(start) > 5*time.Second {
		t.Fatalf("launch returned after %v, exited %v", time.Since(start), p.exited())
	}
	if q := StartRedisProc(t, false); q.Client().Ping(context.Background()).Err() != nil {
		t.Fatal("StartRedisProc's server does not answer")
	}
}
