package dispatch_test

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// probeBroker is a real cluster.Memory that counts the node's channel
// subscriptions (pub: topics) still open and, once armed, calls a hook
// from inside the next Subscribe: a broker that calls back into the hub
// (its handlers run other code; another subscription) must not find a
// hub lock held.
type probeBroker struct {
	*cluster.Memory
	mu     sync.Mutex
	hook   func()
	active atomic.Int64
}

func (b *probeBroker) arm(hook func()) {
	b.mu.Lock()
	b.hook = hook
	b.mu.Unlock()
}

func (b *probeBroker) Subscribe(topic string, fn func([]byte)) (func(), error) {
	b.mu.Lock()
	hook := b.hook
	b.hook = nil
	b.mu.Unlock()
	if hook != nil {
		hook()
	}
	cancel, err := b.Memory.Subscribe(topic, fn)
	if err != nil || !strings.HasPrefix(topic, "pub:") {
		return cancel, err
	}
	b.active.Add(1)
	var once sync.Once
	return func() { once.Do(func() { b.active.Add(-1); cancel() }) }, nil
}

// Subscriber tells the test it is open, and subscribes on request.
type Subscriber struct {
	dispatch.Socket
	opened chan<- *Subscriber
}

func (s *Subscriber) OnOpen()         { s.opened <- s }
func (s *Subscriber) Sub(ch string)   { s.Subscribe(ch) }
func (s *Subscriber) Unsub(ch string) { s.Unsubscribe(ch) }
func (s *Subscriber) Ping() bool      { return true }

func subscriberServer(t *testing.T, cfg server.Config, opened chan *Subscriber) *server.Server {
	return startServer(t, cfg, func(s *server.Server) {
		must(s.Route("/sub", func() dispatch.Controller { return &Subscriber{opened: opened} }, dispatch.AllClientEvents()))
	})
}

// TestBrokerCalledWithoutHubLock: the hub holds no lock of its own while
// it calls the broker (LOCKING.md): a broker whose Subscribe subscribes
// another connection (the hub's subscription path again) does not
// deadlock, and both subscriptions work.
func TestBrokerCalledWithoutHubLock(t *testing.T) {
	t.Parallel()
	b := &probeBroker{Memory: cluster.NewMemory()}
	opened := make(chan *Subscriber, 2)
	s := subscriberServer(t, server.Config{Broker: b}, opened)
	a := dial(t, s, "/sub")
	<-opened
	other := dial(t, s, "/sub")
	os := <-opened
	b.arm(func() { os.Subscribe("sports") })
	a.ok(1, "sub", "news") // its broker subscription runs the hook
	other.ok(1, "ping")    // the hook's join ran before this reply
	s.Publish("sports", "goal")
	if _, m := other.read(); string(m) != "goal" {
		t.Fatalf("other got %q", m)
	}
	s.Publish("news", "extra")
	if _, m := a.read(); string(m) != "extra" {
		t.Fatalf("a got %q", m)
	}
}

// TestChannelRefsUnderChurn (run with -race): connections on two loops
// subscribe, unsubscribe and subscribe again to one channel at once, then
// a publish from another node through the broker reaches every one of
// them, and once they have all closed the node holds no broker
// subscription.
func TestChannelRefsUnderChurn(t *testing.T) {
	t.Parallel()
	b := &probeBroker{Memory: cluster.NewMemory()}
	opened := make(chan *Subscriber, 64)
	s := subscriberServer(t, server.Config{Broker: b, Node: "churn-a"}, opened)
	other := subscriberServer(t, server.Config{Broker: b, Node: "churn-b"}, opened)
	for round := range 5 {
		clients := make([]*client, 8)
		var wg sync.WaitGroup
		for i := range clients {
			clients[i] = dial(t, s, "/sub")
			<-opened
			wg.Add(1)
			go func(c *client) {
				defer wg.Done()
				c.ok(1, "sub", "x")
				c.ok(2, "unsub", "x")
				c.ok(3, "sub", "x")
			}(clients[i])
		}
		wg.Wait()
		eventually(t, "the node's subscription to x", func() bool { return b.active.Load() == 1 })
		tag := "m" + itoa(round)
		other.Publish("x", tag)
		for i, c := range clients {
			if _, m := c.read(); string(m) != tag {
				t.Fatalf("round %d, client %d: got %q, want %q", round, i, m, tag)
			}
		}
		for _, c := range clients {
			_ = c.ws.Close()
		}
		eventually(t, "every connection closed", func() bool { return s.Hub().Count() == 0 })
		eventually(t, "no broker subscription left", func() bool { return b.active.Load() == 0 })
	}
}
