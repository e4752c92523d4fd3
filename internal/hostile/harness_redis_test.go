package hostile

// A Redis of the test's own, for probes that run two cmd/plezi nodes: a
// fresh redis-server on a unix socket (no port to race for, nothing shared
// with other tests or with the Redis at 127.0.0.1:6379, whose channels
// and keys cmd/plezi would share: it has no prefix setting).

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// redisServer is a redis-server of the test's own (see startRedis).
// Its methods are safe for concurrent use.
type redisServer struct {
	URL    string // for PL_REDIS_URL
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited
}

// startRedis runs redis-server (no persistence) on a unix socket in a new
// directory and returns its URL for PL_REDIS_URL. The test's cleanup stops
// it, after the nodes started later (cleanups run last first). A missing
// redis-server fails the test.
func startRedis(t testing.TB) string { t.Helper(); return runRedis(t).URL }

// runRedis is startRedis returning the server, for probes that kill it.
func runRedis(t testing.TB) *redisServer {
	t.Helper()
	dir, err := os.MkdirTemp("", "hredis") // short: a socket path has at most 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command("redis-server", "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		t.Fatalf("redis-server: %v (the cluster probes need it)", err)
	}
	r := &redisServer{URL: "unix://" + sock, cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() {
		r.Kill()
		_ = os.RemoveAll(dir)
	})
	eventually(t, bootWait, "redis-server to answer PING", func() bool {
		select {
		case <-r.exited:
			t.Fatalf("redis-server exited: %s", out.String())
		default:
		}
		return redisPing(sock)
	})
	return r
}

// Kill ends the server at once (SIGKILL) and waits until it has exited,
// so its socket answers no more. Calling it again does nothing.
func (r *redisServer) Kill() {
	_ = r.cmd.Process.Kill()
	<-r.exited
}

// redisPing reports whether the Redis at sock answers PING.
func redisPing(sock string) bool {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	b := make([]byte, 7)
	n, _ := c.Read(b)
	return string(b[:n]) == "+PONG\r\n"
}
