package cluster_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/testutil"
	"github.com/plezigo/plezi/server"
)

// Peer is a JSON-route controller with no event methods, so every event
// sent to it is forwarded to its client; it subscribes to "news" and joins
// the identity named in ?user=.
type Peer struct{ dispatch.Socket }

func (p *Peer) OnOpen() {
	p.Subscribe("news")
	if u := p.Request().Query("user"); u != "" {
		_ = p.RegisterAs(u, dispatch.MaxConnections(3))
	}
	_ = p.Emit("id", p.ID())
}

// Ucast unicasts "x" to id; a failure comes back as a "ufail" event.
func (p *Peer) Ucast(id string) bool             { return p.Unicast(id, "x") }
func (p *Peer) OnUnicastFailed(id, event string) { _ = p.Emit("ufail", id, event) }

func startNode(t *testing.T, prefix string) *server.Server { return startSigned(t, prefix, "") }

// startSigned runs a node whose hub signs envelopes with secret, on a
// broker without it (one namespace for every secret: what the signature
// alone protects).
func startSigned(t *testing.T, prefix, secret string) *server.Server {
	t.Helper()
	srv, _ := startBroker(t, cluster.RedisConfig{URL: "redis://127.0.0.1:6379/0", Prefix: prefix}, secret)
	return srv
}

// startSecret runs a node on url whose broker and hub share secret.
func startSecret(t *testing.T, url, prefix, secret string) (*server.Server, *cluster.Redis) {
	t.Helper()
	return startBroker(t, cluster.RedisConfig{URL: url, Prefix: prefix, Secret: secret}, secret)
}

// startBroker runs a node on a broker of cfg, its hub signing with secret.
func startBroker(t *testing.T, cfg cluster.RedisConfig, secret string) (*server.Server, *cluster.Redis) {
	t.Helper()
	b, err := cluster.NewRedis(cfg)
	if err != nil {
		t.Fatalf("redis: %v", err)
	}
	srv, stop := runNode(t, server.Config{Broker: b, ClusterSecret: secret})
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("run: %v", err)
		}
		_ = b.Close()
	})
	return srv, b
}

// runNode starts a server with cfg (on 127.0.0.1:0, quiet) serving /peer
// and /solo;
// stop ends it and returns Run's error.
func runNode(t *testing.T, cfg server.Config) (*server.Server, func() error) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := server.New(cfg)
	if err := srv.Route("/peer", func() dispatch.Controller { return new(Peer) }, dispatch.AutoDispatch(true), dispatch.ClientEvents("ucast")); err != nil {
		t.Fatal(err)
	}
	if err := srv.Route("/solo", func() dispatch.Controller { return new(Solo) }, dispatch.AutoDispatch(true)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	return srv, func() error { cancel(); return <-done }
}

// peerConn is a gorilla client whose messages a reader goroutine hands
// over: a wait that times out leaves the connection readable (gorilla
// fails every read after one has passed its deadline), so retry loops can
// wait in short steps on one connection.
type peerConn struct {
	c    *websocket.Conn
	in   chan string   // messages in order; closed when the connection ends
	quit chan struct{} // closed by cleanup: the reader stops handing over
	done chan struct{} // closed when the reader has returned
}

func dialPeer(t *testing.T, srv *server.Server, query string) (*peerConn, string) {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+srv.Addr()+"/peer"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &peerConn{c: c, in: make(chan string, 16), quit: make(chan struct{}), done: make(chan struct{})}
	go p.reader()
	t.Cleanup(func() {
		close(p.quit)
		_ = c.Close()
		<-p.done
	})
	msg := readMsg(t, p)
	const pre = `{"event":"id","args":["`
	if !strings.HasPrefix(msg, pre) {
		t.Fatalf("first message %q", msg)
	}
	return p, strings.TrimSuffix(strings.TrimPrefix(msg, pre), `"]}`)
}

func (p *peerConn) reader() {
	defer close(p.done)
	defer close(p.in)
	for {
		_, m, err := p.c.ReadMessage()
		if err != nil {
			return
		}
		select {
		case p.in <- string(m):
		case <-p.quit:
			return
		}
	}
}

// next returns the next message, or false when none came within d or the
// connection ended.
func (p *peerConn) next(d time.Duration) (string, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case m, ok := <-p.in:
		return m, ok
	case <-timer.C:
		return "", false
	}
}

// readMsg returns the next message, which must come within 5 s.
func readMsg(t *testing.T, p *peerConn) string {
	t.Helper()
	m, ok := p.next(5 * time.Second)
	if !ok {
		t.Fatal("no message within 5 s (or the connection ended)")
	}
	return m
}

// readPast returns the next message other than skip: what a retry loop
// sent more than once may still be arriving.
func readPast(t *testing.T, p *peerConn, skip string) string {
	t.Helper()
	for {
		if m := readMsg(t, p); m != skip {
			return m
		}
	}
}

// retryUntil calls send, then waits up to 100 ms for p's next message, until
// that message is want; it fails after 5 s or on another message. It
// returns how many times it sent. What it sent more than once may still
// arrive afterwards (readPast skips it).
func retryUntil(t *testing.T, p *peerConn, want, what string, send func()) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for n := 1; ; n++ {
		send()
		if m, ok := p.next(100 * time.Millisecond); ok {
			if m != want {
				t.Fatalf("%s: got %s, want %s", what, m, want)
			}
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never arrived", what)
		}
	}
}

// TestTwoNodesOverRedis runs two servers sharing a real Redis and checks
// that every primitive crosses from one node to the other.
func TestTwoNodesOverRedis(t *testing.T) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "plezitest-" + hex.EncodeToString(b[:])
	a, z := startNode(t, prefix), startNode(t, prefix)
	cz, idz := dialPeer(t, z, "?user=zed")
	if !strings.HasPrefix(idz, z.Hub().Node()+"-") {
		t.Fatalf("id %q does not name node %q", idz, z.Hub().Node())
	}
	// Subscriptions reach Redis asynchronously: repeat until one lands.
	const hello = `{"event":"hello","args":["from-a"]}`
	retryUntil(t, cz, hello, "multicast across nodes", func() { a.Multicast("hello", "from-a") })
	if !a.Unicast(idz, "direct", 1) {
		t.Fatal("unicast to a remote id returned false")
	}
	if m := readPast(t, cz, hello); m != `{"event":"direct","args":[1]}` {
		t.Fatalf("unicast: %s", m)
	}
	dispatch.Broadcast[*Peer](a.Hub(), "typed", "x")
	if m := readMsg(t, cz); m != `{"event":"typed","args":["x"]}` {
		t.Fatalf("broadcast: %s", m)
	}
	if !a.Notify("zed", "note", "hi") {
		t.Fatal("notify returned false for a registered identity")
	}
	if m := readMsg(t, cz); !strings.Contains(m, `"_NID_":`) || !strings.Contains(m, `"note"`) {
		t.Fatalf("notify: %s", m)
	}
	retryUntil(t, cz, "extra", "publish across nodes", func() { a.Publish("news", "extra") })
}

// TestClusterSecret: envelopes signed with another secret (brokers in one
// namespace, built without the secret) are dropped and counted; nodes
// sharing the secret hear each other.
func TestClusterSecret(t *testing.T) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "plezitest-" + hex.EncodeToString(b[:])
	a, w, z := startSigned(t, prefix, "one"), startSigned(t, prefix, "one"), startSigned(t, prefix, "two")
	cw, _ := dialPeer(t, w, "")
	cz, _ := dialPeer(t, z, "")
	retryUntil(t, cw, `{"event":"signed"}`, "signed multicast", func() { a.Multicast("signed") })
	// Each wait for cz to stay silent paces the next multicast.
	deadline := time.Now().Add(5 * time.Second)
	for z.Hub().Stats().BadEnvelopes.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the node with another secret never rejected an envelope")
		}
		a.Multicast("signed")
		if m, ok := cz.next(10 * time.Millisecond); ok {
			t.Fatalf("node with another secret delivered %s", m)
		}
	}
	if m, ok := cz.next(50 * time.Millisecond); ok {
		t.Fatalf("node with another secret delivered %s", m)
	}
}

// TestFromURLNodes: two servers whose brokers cluster.FromURL built from
// one Redis URL (PL_REDIS_URL in cmd/plezi, and the README's embedding
// example) report healthy and hear each other.
func TestFromURLNodes(t *testing.T) {
	var r [6]byte
	_, _ = rand.Read(r[:])
	prefix := func(c *cluster.RedisConfig) { c.Prefix = "plezitest-" + hex.EncodeToString(r[:]) } // alone on the shared Redis
	start := func() *server.Server {
		b, err := cluster.FromURL("redis://127.0.0.1:6379/0", prefix)
		if err != nil {
			t.Fatalf("Redis at 127.0.0.1:6379 (scripts/test.sh starts it): %v", err)
		}
		srv, stop := runNode(t, server.Config{Broker: b})
		t.Cleanup(func() {
			if err := stop(); err != nil {
				t.Errorf("run: %v", err)
			}
			_ = b.Close()
		})
		return srv
	}
	a, z := start(), start()
	if !a.Healthy() {
		t.Fatal("node with Redis not healthy")
	}
	cz, idz := dialPeer(t, z, "")
	retryUntil(t, cz, `{"event":"ping"}`, "unicast through FromURL's broker", func() {
		if !a.Unicast(idz, "ping") {
			t.Fatal("unicast refused")
		}
	})
}

// TestUnicastToDeadNode: once a node has stopped (its liveness key is gone),
// a Unicast to one of its ids reports OnUnicastFailed to the sender.
func TestUnicastToDeadNode(t *testing.T) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "plezitest-" + hex.EncodeToString(b[:])
	a := startNode(t, prefix)
	rb, err := cluster.NewRedis(cluster.RedisConfig{URL: "redis://127.0.0.1:6379/0", Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	z, stop := runNode(t, server.Config{Broker: rb})
	_, idz := dialPeer(t, z, "")
	if ok, _ := rb.Alive(z.Hub().Node()); !ok {
		t.Fatal("a running node is not alive")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if ok, _ := rb.Alive(z.Hub().Node()); ok {
		t.Fatal("a stopped node is still alive")
	}
	ca, _ := dialPeer(t, a, "")
	_ = ca.c.WriteMessage(websocket.TextMessage, []byte(`{"event":"ucast","args":["`+idz+`"]}`))
	if m := readMsg(t, ca); m != `{"event":"ufail","args":["`+idz+`","x"]}` {
		t.Fatalf("got %s, want ufail", m)
	}
}

// TestUnicastBurstBatched: a burst of unicasts to one remote node arrives
// whole and in order, signed or not, and the publisher joined them into
// fewer Redis messages and round trips than envelopes.
func TestUnicastBurstBatched(t *testing.T) {
	for _, secret := range []string{"", "s3cret"} {
		t.Run("secret="+secret, func(t *testing.T) {
			var b [6]byte
			_, _ = rand.Read(b[:])
			prefix := "plezitest-" + hex.EncodeToString(b[:])
			a, z := startSigned(t, prefix, secret), startSigned(t, prefix, secret)
			cz, idz := dialPeer(t, z, "")
			deadline := time.Now().Add(5 * time.Second)
			const ping = `{"event":"ping"}`
			pings := int64(retryUntil(t, cz, ping, "unicast across nodes", func() {
				if !a.Unicast(idz, "ping") {
					t.Fatal("unicast refused")
				}
			}))
			// The publisher counts a round once Redis has answered, which
			// may be after the ping was delivered: wait for the count.
			st := a.Hub().Stats()
			testutil.Eventually(t, time.Until(deadline), fmt.Sprintf("%d envelopes counted for %d pings", pings, pings),
				func() bool { return st.ClusterEnvelopes.Load() == pings })
			env0, msg0, rt0 := st.ClusterEnvelopes.Load(), st.ClusterMessages.Load(), st.ClusterRoundTrips.Load()
			const n = 2000
			for i := range n {
				if !a.Unicast(idz, "n", i) {
					t.Fatalf("unicast %d refused", i)
				}
			}
			for i := range n {
				if m, want := readPast(t, cz, ping), fmt.Sprintf(`{"event":"n","args":[%d]}`, i); m != want {
					t.Fatalf("message %d: %s, want %s", i, m, want)
				}
			}
			env, msgs, rts := st.ClusterEnvelopes.Load()-env0, st.ClusterMessages.Load()-msg0, st.ClusterRoundTrips.Load()-rt0
			if env != n || msgs >= n || rts > msgs {
				t.Fatalf("%d envelopes in %d messages and %d round trips; want %d envelopes joined", env, msgs, rts, n)
			}
			t.Logf("%d unicasts: %d Redis messages, %d round trips", n, msgs, rts)
			if bad := z.Hub().Stats().BadEnvelopes.Load(); bad != 0 {
				t.Fatalf("%d bad envelopes", bad)
			}
		})
	}
}
