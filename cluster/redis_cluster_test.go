package cluster

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startRedisCluster runs a three-master Redis Cluster on free ports, for
// the test only.
func startRedisCluster(t *testing.T) string {
	t.Helper()
	var addrs []string
	for range 3 {
		port := freePort(t)
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--save", "", "--appendonly", "no")
		cmd.Dir = t.TempDir()
		if err := cmd.Start(); err != nil {
			t.Fatalf("redis-server: %v", err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(port))
	}
	for _, a := range addrs {
		checkFor(t, 5*time.Second, "redis node "+a, func() bool {
			return exec.Command("redis-cli", "-u", "redis://"+a, "ping").Run() == nil
		})
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("cluster create: %v\n%s", err, out)
	}
	checkFor(t, 10*time.Second, "cluster_state:ok", func() bool {
		out, _ := exec.Command("redis-cli", "-u", "redis://"+addrs[0], "cluster", "info").Output()
		return strings.Contains(string(out), "cluster_state:ok")
	})
	return fmt.Sprintf("redis+cluster://%s?addr=%s&addr=%s", addrs[0], addrs[1], addrs[2])
}

// TestRedisCluster runs the broker and the identity store on a real Redis
// Cluster: pub/sub between two brokers and identities whose keys share a
// slot (Lua scripts would fail across slots).
func TestRedisCluster(t *testing.T) {
	url := startRedisCluster(t)
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
