package testutil

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RedisCluster is a three-master Redis Cluster on free ports, for tests:
// redis-server and redis-cli must be installed (a test that needs one
// fails without them).
type RedisCluster struct {
	URL   string   // redis+cluster://a?addr=b&addr=c
	Addrs []string // host:port of each master
	procs []*exec.Cmd
	dir   string
}

// StartRedisCluster runs the three masters under a temporary directory,
// creates the cluster and waits until every node reports cluster_state:ok.
// Stop ends it. Safe to call from any goroutine.
func StartRedisCluster() (*RedisCluster, error) {
	dir, err := os.MkdirTemp("", "plezi-redis-cluster-")
	if err != nil {
		return nil, err
	}
	c := &RedisCluster{dir: dir}
	if err := c.start(); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *RedisCluster) start() error {
	for i := range 3 {
		if err := c.startServer(i); err != nil {
			return err
		}
	}
	for _, a := range c.Addrs {
		if !Poll(5*time.Second, func() bool { s, err := RedisCLI(a, "ping"); return err == nil && s == "PONG" }) {
			return errors.New("redis node " + a + " did not answer")
		}
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("cluster create: %v\n%s", err, out)
	}
	for _, a := range c.Addrs {
		if !Poll(10*time.Second, func() bool { s, _ := RedisCLI(a, "cluster", "info"); return strings.Contains(s, "cluster_state:ok") }) {
			return errors.New("cluster_state never ok on " + a)
		}
	}
	c.URL = fmt.Sprintf("redis+cluster://%s?addr=%s&addr=%s", c.Addrs[0], c.Addrs[1], c.Addrs[2])
	return nil
}

// startServer runs node i on a free port whose cluster bus port (port +
// 10000) is free too.
func (c *RedisCluster) startServer(i int) error {
	port, err := freePortPair()
	if err != nil {
		return err
	}
	d := filepath.Join(c.dir, strconv.Itoa(i))
	if err := os.Mkdir(d, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
		"--save", "", "--appendonly", "no")
	cmd.Dir = d
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redis-server: %w", err)
	}
	c.procs = append(c.procs, cmd)
	c.Addrs = append(c.Addrs, "127.0.0.1:"+strconv.Itoa(port))
	return nil
}

func freePortPair() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port+10000 > 65535 {
			continue
		}
		if b, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000)); err == nil {
			b.Close()
			return port, nil
		}
	}
	return 0, errors.New("testutil: no free port pair for a Redis Cluster node")
}

// Stop kills the masters and removes their directory. Safe on a cluster
// that failed to start.
func (c *RedisCluster) Stop() {
	for _, p := range c.procs {
		_ = p.Process.Kill()
		_ = p.Wait()
	}
	_ = os.RemoveAll(c.dir)
}

// RedisCLI runs redis-cli against addr and returns its trimmed output; an
// "ERR" reply is an error.
func RedisCLI(addr string, args ...string) (string, error) {
	b, err := exec.Command("redis-cli", append([]string{"-u", "redis://" + addr}, args...)...).Output()
	s := strings.TrimSpace(string(b))
	if err == nil && strings.HasPrefix(s, "ERR") {
		err = errors.New(s)
	}
	return s, err
}
