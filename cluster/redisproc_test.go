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
// stops it when the test ends.
func StartRedisProc(t testing.TB, aof bool) *RedisProc {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &RedisProc{t: t, port: l.Addr().(*net.TCPAddr).Port, dir: t.TempDir(), aof: aof}
	l.Close()
	p.Start()
	t.Cleanup(func() {
		p.Thaw()
		p.Kill()
	})
	return p
}

// URL is the redis:// URL of the server.
func (p *RedisProc) URL() string { return "redis://" + p.Addr() + "/0" }

// Addr is host:port.
func (p *RedisProc) Addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

// Start runs the server (again) and waits until it answers PING.
func (p *RedisProc) Start() {
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
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	testutil.Eventually(p.t, 10*time.Second, "redis-server on "+p.Addr()+" answering", func() bool {
		return c.Ping(context.Background()).Err() == nil
	})
}

// Kill ends the server with SIGKILL and waits for it.
func (p *RedisProc) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Freeze stops the process (SIGSTOP): its sockets stay open, nothing
// answers.
func (p *RedisProc) Freeze() { _ = p.cmd.Process.Signal(syscall.SIGSTOP) }

// Thaw continues a frozen process (SIGCONT).
func (p *RedisProc) Thaw() { _ = p.cmd.Process.Signal(syscall.SIGCONT) }

// Client returns a client of the server's own (closed with the test).
func (p *RedisProc) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1})
	p.t.Cleanup(func() { _ = c.Close() })
	return c
}
