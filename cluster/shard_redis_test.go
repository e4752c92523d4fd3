package cluster

import (
	"bytes"
	"context"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plezigo/plezi/dispatch"
)

// numbered collects the numbered messages of a run (others are markers)
// and counts inversions: messages that arrived after a higher number.
type numbered struct{ inbox }

func (n *numbered) values() (got []int) {
	for _, m := range n.list() {
		if v, err := strconv.Atoi(m); err == nil {
			got = append(got, v)
		}
	}
	return got
}

func inversions(got []int) int {
	inv, top := 0, -1
	for _, v := range got {
		if v < top {
			inv++
		}
		top = max(top, v)
	}
	return inv
}

// ready publishes a marker on topic until fn's inbox has one.
func ready(t *testing.T, a *Redis, topic string, in *numbered) {
	t.Helper()
	checkFor(t, 10*time.Second, "a first message on "+topic, func() bool {
		_ = a.Publish(topic, []byte("marker"))
		return len(in.list()) > 0
	})
}

// TestClusterPublishOrder: on Redis Cluster, 1,000 awaited publishes on
// one topic from one broker reach another in order, for every kind of
// topic, one at a time and in pipelined batches. (Plain PUBLISH goes to
// a different master each time and arrives out of order.)
func TestClusterPublishOrder(t *testing.T) {
	t.Parallel()
	url := sharedCluster(t).URL
	p := testPrefix(t)
	a, b := newTestRedis(t, url, p), newTestRedis(t, url, p)
	const n = 1000
	for _, topic := range []string{"pub:room", "node:n1", "all", "ctl:Chat"} {
		var in numbered
		cancel, _ := b.Subscribe(topic, func(d []byte) { in.add(string(d)) })
		ready(t, a, topic, &in)
		for i := range n {
			if err := a.Publish(topic, []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		checkFor(t, 10*time.Second, "every publish on "+topic, func() bool { return len(in.values()) >= n })
		if got := in.values(); len(got) != n || inversions(got) != 0 {
			t.Fatalf("%s: %d messages, %d inversions", topic, len(got), inversions(got))
		}
		cancel()
	}
	// Batches mixing topics keep each topic's order.
	var x, y numbered
	cx, _ := b.Subscribe("pub:x", func(d []byte) { x.add(string(d)) })
	defer cx()
	cy, _ := b.Subscribe("pub:y", func(d []byte) { y.add(string(d)) })
	defer cy()
	ready(t, a, "pub:x", &x)
	ready(t, a, "pub:y", &y)
	for i := 0; i < n; i += 10 {
		var batch []dispatch.Publication
		for j := i; j < i+10; j++ {
			batch = append(batch, dispatch.Publication{Topic: "pub:x", Data: []byte(strconv.Itoa(j))},
				dispatch.Publication{Topic: "pub:y", Data: []byte(strconv.Itoa(j))})
		}
		if err := a.PublishBatch(batch); err != nil {
			t.Fatal(err)
		}
	}
	for name, in := range map[string]*numbered{"pub:x": &x, "pub:y": &y} {
		checkFor(t, 10*time.Second, "every batched publish on "+name, func() bool { return len(in.values()) >= n })
		if got := in.values(); len(got) != n || inversions(got) != 0 {
			t.Fatalf("batched %s: %d messages, %d inversions", name, len(got), inversions(got))
		}
	}
}

// TestClusterPatterns: glob subscriptions work over sharded pub/sub
// (matched locally against every topic heard), beside plain ones.
func TestClusterPatterns(t *testing.T) {
	t.Parallel()
	url := sharedCluster(t).URL
	p := testPrefix(t)
	a, b := newTestRedis(t, url, p), newTestRedis(t, url, p)
	var got, pgot inbox
	cancel, _ := b.Subscribe("pub:room:1", func(d []byte) { got.add(string(d)) })
	defer cancel()
	pcancel, _ := b.PSubscribe("pub:room:*", func(topic string, d []byte) { pgot.add(topic + "=" + string(d)) })
	checkFor(t, 10*time.Second, "pattern message", func() bool {
		_ = a.Publish("pub:other", []byte("no"))
		_ = a.Publish("pub:room:2", []byte("r2"))
		return len(pgot.list()) > 0
	})
	if l := pgot.list(); l[0] != "pub:room:2=r2" {
		t.Fatalf("pattern got %q", l)
	}
	pcancel()
	checkFor(t, 10*time.Second, "plain message", func() bool {
		_ = a.Publish("pub:room:1", []byte("r1"))
		return len(got.list()) > 0
	})
	for _, m := range pgot.list() {
		if !strings.HasPrefix(m, "pub:room:") {
			t.Fatalf("pattern heard %q", m)
		}
	}
}

// TestClusterConnections: a broker holds one subscription connection per
// master (three), whatever its topics; its node channel is its own.
func TestClusterConnections(t *testing.T) {
	t.Parallel()
	url := sharedCluster(t).URL
	p := testPrefix(t)
	a, b := newTestRedis(t, url, p), newTestRedis(t, url, p)
	var got inbox
	for i := range 50 {
		cancel, _ := b.Subscribe("pub:c"+strconv.Itoa(i), func(d []byte) { got.add(string(d)) })
		defer cancel()
	}
	cancel, _ := b.Subscribe("node:b", func(d []byte) { got.add(string(d)) })
	defer cancel()
	checkFor(t, 10*time.Second, "node message", func() bool {
		_ = a.Publish("node:b", []byte("hi"))
		return len(got.list()) > 0
	})
	s := b.sub.(*shardSub)
	b.mu.Lock()
	groups, nodes := len(s.groups), len(s.nodes)
	b.mu.Unlock()
	if groups != 3 || nodes != 1 {
		t.Fatalf("%d connections and %d node channels, want 3 and 1", groups, nodes)
	}
	// PUBSUB SHARDNUMSUB counts on the channel's own master.
	ctx := context.Background()
	for ch, want := range map[string]int64{s.channel("node:b"): 1, s.parts[0]: 2} {
		m, err := s.cc.MasterForKey(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		if n := m.PubSubShardNumSub(ctx, ch).Val()[ch]; n != want {
			t.Fatalf("%s: %d subscribers, want %d", ch, n, want)
		}
	}
}

// TestClusterSlotMoved moves the slot of a topic's partition to another
// master: Redis drops the subscription (sunsubscribe) and the broker
// subscribes again where the slot went, without waiting for the probe.
// Not parallel: the parallel tests share the cluster.
func TestClusterSlotMoved(t *testing.T) {
	rc := sharedCluster(t)
	p := testPrefix(t)
	a := newTestRedis(t, rc.URL, p)
	b, err := NewRedis(RedisConfig{URL: rc.URL, Prefix: p, Probe: time.Hour, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var in numbered
	cancel, _ := b.Subscribe("pub:moving", func(d []byte) { in.add(string(d)) })
	defer cancel()
	ready(t, a, "pub:moving", &in)
	s := b.sub.(*shardSub)
	ch := s.channel("pub:moving")
	moveSlot(t, s.cc, ch)
	checkFor(t, 10*time.Second, "a layout built again", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return s.gen > 1 && len(s.groups) > 0
	})
	before := len(in.list())
	checkFor(t, 10*time.Second, "delivery after the move", func() bool {
		_ = a.Publish("pub:moving", []byte("after"))
		return len(in.list()) > before
	})
	if b.Deaf.Load() != 0 {
		t.Fatalf("found deaf %d times; the move should have been heard", b.Deaf.Load())
	}
}

// moveSlot gives the slot of key (empty) to another master.
func moveSlot(t *testing.T, cc *redis.ClusterClient, key string) {
	t.Helper()
	ctx := context.Background()
	slot, err := cc.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	src, err := cc.MasterForKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var masters []*redis.Client
	_ = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		mu.Lock()
		masters = append(masters, c)
		mu.Unlock()
		return nil
	})
	var dst *redis.Client
	for _, m := range masters {
		if m.Options().Addr != src.Options().Addr {
			dst = m
		}
	}
	srcID, dstID := src.ClusterMyID(ctx).Val(), dst.ClusterMyID(ctx).Val()
	s := strconv.FormatInt(slot, 10)
	steps := []struct {
		c    *redis.Client
		args []any
	}{
		{dst, []any{"cluster", "setslot", s, "importing", srcID}},
		{src, []any{"cluster", "setslot", s, "migrating", dstID}},
		{dst, []any{"cluster", "setslot", s, "node", dstID}},
		{src, []any{"cluster", "setslot", s, "node", dstID}},
	}
	for _, m := range masters {
		if a := m.Options().Addr; a != src.Options().Addr && a != dst.Options().Addr {
			steps = append(steps, struct {
				c    *redis.Client
				args []any
			}{m, []any{"cluster", "setslot", s, "node", dstID}})
		}
	}
	for _, st := range steps {
		if err := st.c.Do(ctx, st.args...).Err(); err != nil {
			t.Fatalf("%v: %v", st.args, err)
		}
	}
}

// FuzzShardMessage: parseShard never panics, accepts what appendShard
// writes, and refuses a header cut short; each half of an input is
// parsed too.
func FuzzShardMessage(f *testing.F) {
	f.Add([]byte{shardVersion, 3, 'a', 'l', 'l', 1, 2}, "pub:x", []byte("data"))
	f.Add([]byte{shardVersion, 0x80}, "", []byte(nil))
	f.Add([]byte{shardVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "node:a", []byte{0})
	f.Fuzz(func(t *testing.T, b []byte, topic string, data []byte) {
		for i := 0; i <= len(b); i++ {
			for _, part := range [][]byte{b[:i], b[i:]} {
				tp, d, ok := parseShard(string(part))
				if ok && !bytes.Equal(appendShard(nil, tp, d), part) {
					t.Fatalf("%x: parsed as %q %x, which encodes differently", part, tp, d)
				}
			}
		}
		enc := appendShard(nil, topic, data)
		tp, d, ok := parseShard(string(enc))
		if !ok || tp != topic || !bytes.Equal(d, data) {
			t.Fatalf("round trip of %q %x: %q %x %v", topic, data, tp, d, ok)
		}
		hdr := len(enc) - len(data)
		for i := 0; i < hdr; i++ {
			if _, _, ok := parseShard(string(enc[:i])); ok {
				t.Fatalf("accepted a header cut at %d of %d", i, hdr)
			}
		}
	})
}

// TestPartitionStable pins the topic hash: nodes of different builds
// must agree on it.
func TestPartitionStable(t *testing.T) {
	t.Parallel()
	for _, topic := range []string{"all", "pub:chat", "ctl:Chat", ""} {
		h := fnv.New32a()
		h.Write([]byte(topic))
		if got, want := partition(topic, 16), int(h.Sum32()%16); got != want {
			t.Fatalf("partition(%q) = %d, want %d (FNV-1a)", topic, got, want)
		}
	}
	spread := map[int]bool{}
	for i := range 200 {
		spread[partition("pub:"+strconv.Itoa(i), 16)] = true
	}
	if len(spread) != 16 {
		t.Fatalf("200 topics over %d of 16 partitions", len(spread))
	}
}

// TestClusterProbe: the probes of a sharded layout are heard (one per
// connection), and a connection that stops hearing its probe makes the
// node deaf: unhealthy, counted, the layout built again.
func TestClusterProbe(t *testing.T) {
	t.Parallel()
	url := sharedCluster(t).URL
	p := testPrefix(t)
	a, b := newTestRedis(t, url, p), newTestRedis(t, url, p) // probes every 100 ms
	var in numbered
	cancel, _ := b.Subscribe("pub:p", func(d []byte) { in.add(string(d)) })
	defer cancel()
	ready(t, a, "pub:p", &in)
	s := b.sub.(*shardSub)
	checkFor(t, 5*time.Second, "probes heard", func() bool { return s.quiet() < 100*time.Millisecond })
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if b.Deaf.Load() != 0 || !b.Healthy() {
			t.Fatalf("deaf %d, healthy %v with every probe answered", b.Deaf.Load(), b.Healthy())
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.mu.Lock()
	s.groups[0].probe = p + ":s:{nowhere}" // its probes now reach no one
	b.mu.Unlock()
	checkFor(t, 5*time.Second, "found deaf", func() bool { return b.Deaf.Load() > 0 })
	checkFor(t, 5*time.Second, "healthy again", b.Healthy)
	before := len(in.list())
	checkFor(t, 5*time.Second, "delivery after renewal", func() bool {
		_ = a.Publish("pub:p", []byte("after"))
		return len(in.list()) > before
	})
}
