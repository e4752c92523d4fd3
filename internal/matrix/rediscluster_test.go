package matrix

import (
	"errors"
	"fmt"
	"github.com/plezigo/plezi/internal/testutil"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// One three-master Redis Cluster serves the package's run; it starts on
// first use and stopCluster (TestMain) ends it.
var shared struct {
	once sync.Once
	c    *redisCluster
	err  error
}

type redisCluster struct {
	url   string
	addrs []string
	procs []*exec.Cmd
	dir   string
}

// clusterURL returns the shared cluster's URL, starting it on first use.
func clusterURL(t *testing.T) string {
	t.Helper()
	shared.once.Do(func() { shared.c, shared.err = launchCluster() })
	if shared.err != nil {
		t.Fatalf("redis cluster: %v", shared.err)
	}
	return shared.c.url
}

func stopCluster() {
	if shared.c != nil {
		shared.c.stop()
	}
}

func launchCluster() (*redisCluster, error) {
	dir, err := os.MkdirTemp("", "plezi-matrix-")
	if err != nil {
		return nil, err
	}
	c := &redisCluster{dir: dir}
	if err := c.start(); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

func (c *redisCluster) start() error {
	for i := range 3 {
		if err := c.startServer(i); err != nil {
			return err
		}
	}
	for _, a := range c.addrs {
		if !poll(5*time.Second, func() bool { return cli(a, "ping") == "PONG" }) {
			return errors.New("redis node " + a + " did not answer")
		}
	}
	args := append([]string{"--cluster", "create"}, c.addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("cluster create: %v\n%s", err, out)
	}
	for _, a := range c.addrs {
		if !poll(10*time.Second, func() bool { return strings.Contains(cli(a, "cluster", "info"), "cluster_state:ok") }) {
			return errors.New("cluster_state never ok on " + a)
		}
	}
	c.url = fmt.Sprintf("redis+cluster://%s?addr=%s&addr=%s", c.addrs[0], c.addrs[1], c.addrs[2])
	return nil
}

// startServer runs cluster node i on a free port whose bus port (port +
// 10000) is free too.
func (c *redisCluster) startServer(i int) error {
	port, err := freePort()
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
	c.addrs = append(c.addrs, "127.0.0.1:"+strconv.Itoa(port))
	return nil
}

func freePort() (int, error) {
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
	return 0, errors.New("no free port pair")
}

func (c *redisCluster) stop() {
	for _, p := range c.procs {
		_ = p.Process.Kill()
		_ = p.Wait()
	}
	_ = os.RemoveAll(c.dir)
}

// cli runs redis-cli against addr and returns its trimmed output.
func cli(addr string, args ...string) string {
	b, _ := exec.Command("redis-cli", append([]string{"-u", "redis://" + addr}, args...)...).Output()
	return strings.TrimSpace(string(b))
}

// poll reports whether cond held within d.
func poll(d time.Duration, cond func() bool) bool { return testutil.Poll(d, cond) }
