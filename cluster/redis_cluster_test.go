package cluster

import (
	"strconv"
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
	c    *testutil.RedisCluster
	err  error
}

// sharedCluster returns the package's test cluster, starting it on first
// use.
func sharedCluster(t testing.TB) *testutil.RedisCluster {
	t.Helper()
	shared.once.Do(func() { shared.c, shared.err = testutil.StartRedisCluster() })
	if shared.err != nil {
		t.Fatalf("redis cluster: %v", shared.err)
	}
	return shared.c
}

// stopSharedCluster ends the shared cluster, if one was started.
func stopSharedCluster() {
	if shared.c != nil {
		shared.c.Stop()
	}
}

// poll reports whether cond held within d.
func poll(d time.Duration, cond func() bool) bool { return testutil.Poll(d, cond) }

// TestRedisCluster runs the broker and the identity store on a real Redis
// Cluster: pub/sub between two brokers and identities whose keys share a
// slot (Lua scripts would fail across slots).
func TestRedisCluster(t *testing.T) {
	t.Parallel()
	url := sharedCluster(t).URL
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
