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

func dialPeer(t *testing.T, srv *server.Server, query string) (*websocket.Conn, string) {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+srv.Addr()+"/peer"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	msg := readMsg(t, c)
	const pre = `{"event":"id","args":["`
	if !strings.HasPrefix(msg, pre) {
		t.Fatalf("first message %q", msg)
	}
	return c, strings.TrimSuffix(strings.TrimPrefix(msg, pre), `"]}`)
}

func readMsg(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, m, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(m)
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
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.Multicast("hello", "from-a")
		_ = cz.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, m, err := cz.ReadMessage(); err == nil {
			if string(m) != `{"event":"hello","args":["from-a"]}` {
				t.Fatalf("multicast: %s", m)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("multicast never crossed nodes")
		}
		cz.Close()
		cz, _ = dialPeer(t, z, "?user=zed")
	}
	if !a.Unicast(idz, "direct", 1) {
		t.Fatal("unicast to a remote id returned false")
	}
	if m := readMsg(t, cz); m != `{"event":"direct","args":[1]}` {
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
	deadline = time.Now().Add(5 * time.Second)
	for {
		a.Publish("news", "extra")
		_ = cz.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, m, err := cz.ReadMessage(); err == nil {
			if string(m) != "extra" {
				t.Fatalf("publish: %s", m)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("publish never crossed nodes")
		}
	}
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
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.Multicast("signed")
		_ = cw.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, m, err := cw.ReadMessage(); err == nil {
			if string(m) != `{"event":"signed"}` {
				t.Fatalf("got %s", m)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("signed multicast never arrived")
		}
	}
	for z.Hub().Stats().BadEnvelopes.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the node with another secret never rejected an envelope")
		}
		a.Multicast("signed")
		time.Sleep(10 * time.Millisecond)
	}
	_ = cz.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, m, err := cz.ReadMessage(); err == nil {
		t.Fatalf("node with another secret delivered %s", m)
	}
}

// TestRedisURLConfig: Config.RedisURL (PL_REDIS_URL in cmd/plezi) makes the
// server connect to Redis by itself, report healthy, and hear other nodes.
func TestRedisURLConfig(t *testing.T) {
	start := func() *server.Server {
		srv, stop := runNode(t, server.Config{RedisURL: "redis://127.0.0.1:6379/0"})
		t.Cleanup(func() {
			if err := stop(); err != nil {
				t.Errorf("run: %v", err)
			}
		})
		return srv
	}
	a, z := start(), start()
	if !a.Healthy() {
		t.Fatal("node with Redis not healthy")
	}
	cz, idz := dialPeer(t, z, "")
	deadline := time.Now().Add(5 * time.Second)
	for !a.Unicast(idz, "ping") || readOrEmpty(cz) != `{"event":"ping"}` {
		if time.Now().After(deadline) {
			t.Fatal("unicast through RedisURL never arrived")
		}
	}
}

func readOrEmpty(c *websocket.Conn) string {
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, m, err := c.ReadMessage()
	if err != nil {
		return ""
	}
	return string(m)
}

// TestRedisURLUnreachable: a server pointed at a Redis that does not answer
// fails to start with an error, rather than serving deaf.
func TestRedisURLUnreachable(t *testing.T) {
	srv := server.New(server.Config{
		Addr: "127.0.0.1:0", RedisURL: "redis://127.0.0.1:1/0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	err := srv.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "redis") {
		t.Fatalf("Run = %v, want a redis error", err)
	}
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
	_ = ca.WriteMessage(websocket.TextMessage, []byte(`{"event":"ucast","args":["`+idz+`"]}`))
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
			pings := int64(0)
			for pings++; !a.Unicast(idz, "ping") || readOrEmpty(cz) != `{"event":"ping"}`; pings++ {
				if time.Now().After(deadline) {
					t.Fatal("unicast never crossed nodes")
				}
			}
			// The publisher counts a round once Redis has answered, which
			// may be after the ping was delivered: wait for the count.
			st := a.Hub().Stats()
			for st.ClusterEnvelopes.Load() != pings {
				if time.Now().After(deadline) {
					t.Fatalf("%d envelopes counted for %d pings", st.ClusterEnvelopes.Load(), pings)
				}
				time.Sleep(time.Millisecond)
			}
			env0, msg0, rt0 := st.ClusterEnvelopes.Load(), st.ClusterMessages.Load(), st.ClusterRoundTrips.Load()
			const n = 2000
			for i := range n {
				if !a.Unicast(idz, "n", i) {
					t.Fatalf("unicast %d refused", i)
				}
			}
			for i := range n {
				if m, want := readMsg(t, cz), fmt.Sprintf(`{"event":"n","args":[%d]}`, i); m != want {
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
