package cluster_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/server"
)

// The fault suite: each test runs two nodes on a private redis-server,
// breaks something while unicasts and notes flow between them, and audits
// the deliveries (faultaudit_test.go). Time to heal is logged. The tests
// run in parallel, each on its own Redis port.

// faultPair is two fault nodes on one private Redis and the audited
// connection on the second, registered as "aud".
type faultPair struct {
	redis *cluster.RedisProc
	a, b  *faultNode
	to    *audPeer
}

func newFaultPair(t *testing.T, aof bool) *faultPair {
	t.Helper()
	f := &faultPair{redis: cluster.StartRedisProc(t, aof)}
	prefix := "plezifault-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	f.a, f.b = startFaultNode(t, f.redis.URL(), prefix), startFaultNode(t, f.redis.URL(), prefix)
	f.to = dialAud(t, f.b.Addr(), "aud")
	cluster.CheckFor(t, 5*time.Second, "warm-up across nodes", func() bool {
		f.a.Hub().Unicast(f.to.id, "w")
		f.to.mu.Lock()
		defer f.to.mu.Unlock()
		return f.to.warm > 0
	})
	return f
}

// audit starts the audit from a to the connection on b.
func (f *faultPair) audit(t *testing.T) *audit {
	t.Helper()
	au := startAudit(t, f.a.Server, f.to, "aud", f.a, f.b)
	cluster.CheckFor(t, 5*time.Second, "deliveries flowing", func() bool { return au.delivering(time.Now().Add(-50 * time.Millisecond)) })
	au.after(t)
	return au
}

// hold keeps a fault on for d: the fault's duration, not a wait for
// anything.
func hold(t *testing.T, d time.Duration) {
	start := time.Now()
	cluster.CheckFor(t, d+time.Second, "the fault's duration", func() bool { return time.Since(start) >= d })
}

// failedNotes counts the notes refused since at.
func (au *audit) failedNotes(since time.Time) int {
	au.notes.mu.Lock()
	defer au.notes.mu.Unlock()
	n := 0
	for i, ok := range au.notes.ok {
		if !ok && !au.notes.at[i].Before(since) {
			n++
		}
	}
	return n
}

// after runs the streams on for 40 notes more (before a fault, and once
// healed, so the audit covers the cluster before and after it).
func (au *audit) after(t *testing.T) {
	seq, _ := au.notes.last()
	cluster.CheckFor(t, 5*time.Second, "streams after healing", func() bool {
		n, _ := au.notes.last()
		return n >= seq+40
	})
}

// checkOutage: both nodes' /readyz said 503 during the outage and 200
// within 5 s of its end, the outage was logged at most twice per node, and
// the sender saw no unicast fail (the target never died).
func (f *faultPair) checkOutage(t *testing.T, au *audit, from, back time.Time, heal time.Duration) {
	t.Helper()
	if !au.sawUnhealthy(from, back) {
		t.Error("a node's /readyz never said 503 during the outage")
	}
	for i, d := range au.healthyBy(back) {
		if d == 0 || d > 5*time.Second {
			t.Errorf("node %d: /readyz 200 for good %v after the outage, want within 5 s", i, d)
		}
	}
	for i, n := range []*faultNode{f.a, f.b} {
		if c := n.logs.count("cluster: redis unavailable; commands fail at once until it answers"); c < 1 || c > 2 {
			t.Errorf("node %d logged the outage %d times", i, c)
		}
	}
	if uf := f.a.Hub().Stats().UnicastFailed.Load(); uf != 0 {
		t.Errorf("%d unicasts reported failed to a live node", uf)
	}
	t.Logf("healed %v after the outage ended (readyz 200 after %v)", heal, au.healthyBy(back))
}

// TestFaultRedisRestart: Redis killed and started again without
// persistence. Commands fail fast during the outage; afterwards each node
// restores its liveness, its connection's registration (the identity's
// note ids go on above what it delivered) and its subscriptions. Notes may
// be lost only with Redis's memory: those notified in the last 500 ms
// before the crash.
func TestFaultRedisRestart(t *testing.T) { faultRestart(t, false) }

// TestFaultRedisRestartAOF: the same with appendonly yes (fsync always):
// every note whose Notify returned true arrives.
func TestFaultRedisRestartAOF(t *testing.T) { faultRestart(t, true) }

func faultRestart(t *testing.T, aof bool) {
	t.Parallel()
	f := newFaultPair(t, aof)
	au := f.audit(t)
	crash := time.Now()
	f.redis.Kill()
	cluster.CheckFor(t, 5*time.Second, "both nodes unhealthy", func() bool { return !f.a.Healthy() && !f.b.Healthy() })
	cluster.CheckFor(t, 5*time.Second, "notes refused in the outage", func() bool { return au.failedNotes(crash) >= 40 })
	f.redis.Start()
	back := time.Now()
	heal := au.healed(back, f.a, f.b)
	au.after(t)
	var lost func(time.Time) bool
	if !aof {
		lost = func(at time.Time) bool { return at.After(crash.Add(-500*time.Millisecond)) && at.Before(back) }
	}
	au.finish(lost)
	f.checkOutage(t, au, crash, back, heal)
	if r := f.b.Hub().Stats().Restored.Load(); r < 1 {
		t.Errorf("the registration was restored %d times", r)
	}
}

// TestFaultRedisFreeze: Redis stopped (SIGSTOP) for over a second, five
// probe periods, then continued. Nothing waits on it longer than the
// Timeout, no subscription is thrown away (the freeze is not deafness),
// and every note arrives; unicasts lost are no more than those whose
// publish failed.
func TestFaultRedisFreeze(t *testing.T) {
	t.Parallel()
	f := newFaultPair(t, false)
	au := f.audit(t)
	errs0 := f.a.Hub().Stats().PublishErrors.Load()
	frozen := time.Now()
	f.redis.Freeze()
	cluster.CheckFor(t, 5*time.Second, "both nodes unhealthy", func() bool { return !f.a.Healthy() && !f.b.Healthy() })
	hold(t, 5*faultProbe+time.Since(frozen))
	f.redis.Thaw()
	back := time.Now()
	heal := au.healed(back, f.a, f.b)
	au.after(t)
	au.finish(nil)
	f.checkOutage(t, au, frozen, back, heal)
	if d := f.a.b.Deaf.Load() + f.b.b.Deaf.Load(); d != 0 {
		t.Errorf("a subscription was renewed %d times over a freeze", d)
	}
	sent, _ := au.uni.last()
	au.uni.mu.Lock()
	refused := 0
	for _, ok := range au.uni.ok {
		if !ok {
			refused++
		}
	}
	au.uni.mu.Unlock()
	au.to.mu.Lock()
	got := len(au.to.us)
	au.to.mu.Unlock()
	errs := f.a.Hub().Stats().PublishErrors.Load() - errs0
	if lost := int64(sent - refused - got); lost > errs {
		t.Errorf("%d unicasts lost, %d publish errors counted: some were lost silently", lost, errs)
	}
	t.Logf("freeze: %d unicasts sent, %d delivered, %d publish errors", sent, got, errs)
}

// TestFaultPubSubKill: Redis kills every subscription connection (CLIENT
// KILL TYPE pubsub) three times. The nodes reconnect by themselves and
// restore their state, so every note arrives (those published while a
// node was not subscribed are replayed from the mailbox). The fault is
// over as it starts (go-redis reconnects at once): /readyz need not say
// 503, only answer at once throughout.
func TestFaultPubSubKill(t *testing.T) {
	t.Parallel()
	f := newFaultPair(t, false)
	au := f.audit(t)
	c := f.redis.Client()
	var last time.Time
	for range 3 {
		last = time.Now()
		if err := c.ClientKillByFilter(context.Background(), "TYPE", "pubsub").Err(); err != nil {
			t.Fatal(err)
		}
		cluster.CheckFor(t, 5*time.Second, "deliveries after the kill", func() bool { return au.delivering(last) })
	}
	heal := au.healed(last, f.a, f.b)
	au.after(t)
	au.finish(nil)
	if r := f.b.Hub().Stats().Restores.Load(); r < 1 {
		t.Errorf("node b restored %d times", r)
	}
	t.Logf("healed %v after the last kill", heal)
}

// TestFaultIdentityDuringOutage: with Redis down, a Notify fails within
// the Timeout and then at once, and a RegisterAs (a connection opening
// while Redis is down) fails within the Timeout while the other
// connections of its worker shard and the node's /readyz go on
// answering.
func TestFaultIdentityDuringOutage(t *testing.T) {
	t.Parallel()
	f := newFaultPair(t, false)
	au := f.audit(t)
	other := dialAud(t, f.b.Addr(), "")
	crash := time.Now()
	f.redis.Kill()
	cluster.CheckFor(t, 5*time.Second, "both nodes unhealthy", func() bool { return !f.a.Healthy() && !f.b.Healthy() })
	for i := range 20 {
		var ok bool
		if d := timed(func() { ok = f.a.Hub().Notify("aud", "x") }); ok || d > 20*time.Millisecond {
			t.Fatalf("notify %d in the outage: %v after %v, want false at once", i, ok, d)
		}
	}
	joined := make(chan string, 1)
	go func() { joined <- registerErr("ws://" + f.b.Addr() + "/aud?user=late") }()
	start := time.Now()
	if err := pingAud(other, faultTimeout+200*time.Millisecond); err != nil {
		t.Fatalf("a connection's callback during a RegisterAs in the outage: %v", err)
	}
	select {
	case e := <-joined:
		if !strings.Contains(e, "unavailable") {
			t.Fatalf("RegisterAs in the outage: %q, want unavailable", e)
		}
	case <-time.After(faultTimeout + 500*time.Millisecond):
		t.Fatal("RegisterAs in the outage waited past its Timeout")
	}
	t.Logf("RegisterAs in the outage answered within %v", time.Since(start))
	// The health probes poll every 50 ms: let each see the outage before
	// it ends (the calls above may all fit between two polls).
	cluster.CheckFor(t, 5*time.Second, "both nodes' /readyz saying 503", func() bool { return au.sawUnhealthy(crash, time.Now()) })
	f.redis.Start()
	back := time.Now()
	heal := au.healed(back, f.a, f.b)
	au.after(t)
	au.finish(func(at time.Time) bool { return at.After(crash.Add(-500*time.Millisecond)) && at.Before(back) })
	f.checkOutage(t, au, crash, back, heal)
	if u := f.b.Hub().Stats().Unavailable.Load(); u < 1 {
		t.Errorf("Unavailable %d", u)
	}
}

func timed(fn func()) time.Duration {
	start := time.Now()
	fn()
	return time.Since(start)
}

// TestFaultNodeKill: a node in a child process is SIGKILLed while a
// connection on the other node unicasts to one of its connections every
// 5 ms. The sender hears OnUnicastFailed within 3 s of the kill; the
// surviving node stays healthy and its event loop answers throughout.
func TestFaultNodeKill(t *testing.T) {
	t.Parallel()
	p := cluster.StartRedisProc(t, false)
	prefix := "plezifault-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	a := startFaultNode(t, p.URL(), prefix)
	z := startChildNode(t, p.URL(), prefix)
	to, from := dialAud(t, z.Addr(), "aud"), dialAud(t, a.Addr(), "")
	cluster.CheckFor(t, 5*time.Second, "unicasts across nodes", func() bool {
		_ = from.ucast(to.id, 0)
		to.mu.Lock()
		defer to.mu.Unlock()
		return len(to.us) > 0
	})
	// A fresh Redis gives nodes a grace to announce themselves (no node
	// is taken for dead in it); the kill comes after.
	rc := p.Client()
	cluster.CheckFor(t, 10*time.Second, "the liveness grace of a new Redis over", func() bool {
		n, err := rc.Exists(context.Background(), prefix+":nodes-restored").Result()
		return err == nil && n == 0
	})
	ctl := controlEcho(t)
	loop, health := startLoopProbe(t, a.Addr(), ctl), startHealthProbe(t, a.Addr(), ctl)
	uni := startStream(func(seq int) bool { return from.ucast(to.id, seq) == nil })
	killed := time.Now()
	z.kill()
	cluster.CheckFor(t, 5*time.Second, "OnUnicastFailed after the kill", func() bool {
		from.mu.Lock()
		defer from.mu.Unlock()
		return len(from.ufails) > 0
	})
	from.mu.Lock()
	detect := from.ufails[0].Sub(killed)
	from.mu.Unlock()
	uni.end()
	loop.end()
	health.end()
	au := &audit{t: t, loops: []*loopProbe{loop}, health: []*healthProbe{health}}
	au.checkProbes()
	for _, s := range health.samples() {
		if s.code != 200 {
			t.Fatalf("the surviving node's /readyz said %d", s.code)
		}
	}
	to.mu.Lock()
	for i := 1; i < len(to.us); i++ {
		if to.us[i] != 0 && to.us[i] <= to.us[i-1] {
			t.Errorf("unicast %d after %d: out of order or repeated", to.us[i], to.us[i-1])
		}
	}
	to.mu.Unlock()
	t.Logf("dead node detected %v after SIGKILL", detect)
	if detect > 3*time.Second {
		t.Fatalf("OnUnicastFailed %v after the kill, want within 3 s", detect)
	}
}

// TestRedisLoadPerNode measures the Redis commands an idle node sends
// with the default settings (liveness every 500 ms, a deaf probe every
// 5 s) and keeps it small.
func TestRedisLoadPerNode(t *testing.T) {
	t.Parallel()
	p := cluster.StartRedisProc(t, false)
	b, err := cluster.NewRedis(cluster.RedisConfig{URL: p.URL(), Prefix: "load"})
	if err != nil {
		t.Fatal(err)
	}
	_, stop := runNode(t, server.Config{Broker: b})
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
		_ = b.Close()
	}()
	c := p.Client()
	calls := func() int64 {
		info, err := c.Info(context.Background(), "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, line := range strings.Split(info, "\n") {
			if !strings.HasPrefix(line, "cmdstat_") || strings.HasPrefix(line, "cmdstat_info:") {
				continue
			}
			_, rest, _ := strings.Cut(line, "calls=")
			v, _, _ := strings.Cut(rest, ",")
			k, _ := strconv.ParseInt(v, 10, 64)
			n += k
		}
		return n
	}
	const window = 3 * time.Second
	start, n0 := time.Now(), calls()
	hold(t, window)
	rate := float64(calls()-n0) / time.Since(start).Seconds()
	t.Logf("an idle node sends %.1f Redis commands/s", rate)
	if rate > 10 {
		t.Fatalf("%.1f commands/s from an idle node", rate)
	}
}
