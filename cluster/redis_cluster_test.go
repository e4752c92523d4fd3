package cluster

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plezigo/plezi/internal/testutil"
)

// One three-master Redis Cluster serves every test of the package run
// (starting one takes seconds); StopSharedCluster, called by TestMain,
// ends it. Tests that move slots run sequentially, so none of the
// parallel tests sees the layout change under it.
var shared struct {
	once sync.Once
	c    *redisCluster
	err  error
}

// redisCluster is a running test cluster.
type redisCluster struct {
	url   string
	addrs []string
	procs []*exec.Cmd
	dir   string
}

// sharedCluster returns the URL of the package's test cluster, starting
// it on first use.
func sharedCluster(t testing.TB) *redisCluster {
	t.Helper()
	shared.once.Do(func() { shared.c, shared.err = launchCluster() })
	if shared.err != nil {
		t.Fatalf("redis cluster: %v", shared.err)
	}
	return shared.c
}

// stopSharedCluster ends the shared cluster, if one was started.
func stopSharedCluster() {
	if shared.c != nil {
		shared.c.stop()
	}
}

// launchCluster runs a three-master Redis Cluster on free ports.
func launchCluster() (*redisCluster, error) {
	dir, err := os.MkdirTemp("", "plezi-cluster-")
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
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
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
	}
	for _, a := range c.addrs {
		if !poll(5*time.Second, func() bool { return c.cli(a, "ping") == nil }) {
			return errors.New("redis node " + a + " did not answer")
		}
	}
	args := append([]string{"--cluster", "create"}, c.addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("cluster create: %v\n%s", err, out)
	}
	for _, a := range c.addrs {
		ok := poll(10*time.Second, func() bool {
			out, _ := exec.Command("redis-cli", "-u", "redis://"+a, "cluster", "info").Output()
			return strings.Contains(string(out), "cluster_state:ok")
		})
		if !ok {
			return errors.New("cluster_state never ok on " + a)
		}
	}
	c.url = fmt.Sprintf("redis+cluster://%s?addr=%s&addr=%s", c.addrs[0], c.addrs[1], c.addrs[2])
	return nil
}

func (c *redisCluster) stop() {
	for _, p := range c.procs {
		_ = p.Process.Kill()
		_ = p.Wait()
	}
	_ = os.RemoveAll(c.dir)
}

// cli runs redis-cli against addr and returns its error.
func (c *redisCluster) cli(addr string, args ...string) error {
	_, err := c.out(addr, args...)
	return err
}

// out runs redis-cli against addr and returns its trimmed output.
func (c *redisCluster) out(addr string, args ...string) (string, error) {
	b, err := exec.Command("redis-cli", append([]string{"-u", "redis://" + addr}, args...)...).Output()
	s := strings.TrimSpace(string(b))
	if err == nil && strings.HasPrefix(s, "ERR") {
		err = errors.New(s)
	}
	return s, err
}

// poll reports whether cond held within d.
func poll(d time.Duration, cond func() bool) bool { return testutil.Poll(d, cond) }

// TestRedisCluster runs the broker and the identity store on a real Redis
// Cluster: pub/sub between two brokers and identities whose keys share a
// slot (Lua scripts would fail across slots).
func TestRedisCluster(t *testing.T) {
	t.Parallel()
	url := sharedCluster(t).url
	p := testPrefix(t)
	a, b := newTestRedis(t, url, p), newTestRedis(t, url, p)
	var got inbox
	cancel, _ := b.Subscribe("all", func(d []byte) { got.add(string(d)) })
	defer cancel()
	checkFor(t, 10*time.Second, "message across the cluster", func() bool {
		_ = a.Publish("all", []byte("hi"))
		return len(got.list()) > 0
	})
	for i := range 20 { // identities land on different shards
		name := "user-" + strconv.Itoa(i)
		if _, _, err := a.Register(name, "c1", time.Hour, 1, 0); err != nil {
			t.Fatalf("Register %s: %v", name, err)
		}
		res, err := b.Notify(name, func(id uint64) []byte { return []byte("n" + strconv.FormatUint(id, 10)) })
		if err != nil || res.Note.ID != 1 || len(res.Conns) != 1 {
			t.Fatalf("Notify %s: %+v %v", name, res, err)
		}
		_, box, err := b.Register(name, "c2", time.Hour, 1, 0)
		if err != nil || len(box) != 1 || string(box[0].Data) != "n1" {
			t.Fatalf("backlog %s: %+v %v", name, box, err)
		}
	}
	// The mailbox bound holds on a shard too: 5 notes, 3 kept, a gap of 2.
	b.cfg.MaxMail = 3
	dropped := 0
	for range 5 {
		res, err := b.Notify("user-0", func(id uint64) []byte { return []byte("m" + strconv.FormatUint(id, 10)) })
		if err != nil {
			t.Fatal(err)
		}
		dropped += res.Dropped
	}
	_, box, err := a.Register("user-0", "c3", time.Hour, 1, 1)
	if err != nil || dropped != 3 || len(box) != 3 || box[0].ID != 4 || box[0].Gap != 2 {
		t.Fatalf("bound on a shard: dropped %d, backlog %+v, %v", dropped, box, err)
	}
	if err := a.Announce("node-x", time.Minute); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Alive("node-x"); err != nil || !ok {
		t.Fatalf("Alive: %v %v", ok, err)
	}
}
