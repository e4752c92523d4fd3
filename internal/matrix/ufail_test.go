package matrix

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestUnicastGone: a controller (worker and inline route) unicasts
// burstN events to a connection that is gone — closed on its own node,
// closed on another live node, or on a node that stopped — and its
// OnUnicastFailed runs exactly once for each, in order, and for nothing
// else. A hub's Unicast to a gone local connection returns false.
func TestUnicastGone(t *testing.T) {
	for name, url := range map[string]func(*testing.T) string{
		"redis":   func(*testing.T) string { return redisURL },
		"cluster": clusterURL,
	} {
		t.Run(name, func(t *testing.T) { unicastGone(t, url(t)) })
	}
}

func unicastGone(t *testing.T, url string) {
	nodes := startNodes(t, 3, url, newPrefix(), false)
	senders := []*client{mustDial(t, nodes[0], "w", ""), mustDial(t, nodes[0], "i", "")}
	echo := mustDial(t, nodes[1], "w", "")
	gone := map[string]*client{
		"local":  mustDial(t, nodes[0], "w", ""),
		"remote": mustDial(t, nodes[1], "w", ""),
		"dead":   mustDial(t, nodes[2], "w", ""),
	}
	for _, s := range senders {
		fence(t, s, echo) // both ways between n0 and n1 are subscribed
	}
	for _, c := range []*client{gone["local"], gone["remote"]} {
		if err := c.close(); err != nil {
			t.Fatal(err)
		}
	}
	waitConns(t, nodes[0], 2)
	waitConns(t, nodes[1], 1)
	if err := nodes[2].stop(); err != nil {
		t.Fatal(err)
	}
	for _, where := range []string{"local", "remote", "dead"} {
		for _, s := range senders {
			t.Run(where+"/"+s.name, func(t *testing.T) { failsOnce(t, s, echo, gone[where].id, where == "local") })
		}
	}
	err := nodes[0].send(burst{Kind: "uc", Sender: "h0", Targets: []string{gone["local"].id}, N: 1})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("hub Unicast to a gone local connection: %v, want refused", err)
	}
}

// failsOnce runs burstN unicasts from s to id and checks the failures it
// hears: each event once, in order (at once when local, else later).
func failsOnce(t *testing.T, s, echo *client, id string, local bool) {
	raw, err := s.call(time.Minute, "ucast", id, burstN)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	if local {
		want = burstN
	}
	if n, _ := strconv.Atoi(string(raw)); n != want {
		t.Errorf("Unicast returned false %s times, want %d", raw, want)
	}
	fence(t, s, echo)
	s.mu.Lock()
	got := slices.Clone(s.ufails)
	s.ufails = s.ufails[:0]
	s.mu.Unlock()
	var once cell
	for _, g := range got {
		seq, err := strconv.Atoi(strings.TrimPrefix(g, id+" gone_"))
		if err != nil || seq < 0 || seq >= burstN {
			t.Fatalf("OnUnicastFailed for %q, want %s gone_<n>", g, id)
		}
		once.add(seq)
	}
	if once.distinct != burstN || once.dupes > 0 {
		t.Errorf("OnUnicastFailed for %d of %d unicasts, %d twice", once.distinct, burstN, once.dupes)
	}
	if once.inv > 0 {
		t.Errorf("OnUnicastFailed out of order: %d came after a later one", once.inv)
	}
	t.Logf("%d unicasts to a gone connection: OnUnicastFailed for %d, %d twice, %d out of order", burstN, once.distinct, once.dupes, once.inv)
}

// fence has s unicast to echo, on another node, which unicasts back:
// when the answer is in, everything either node sent s before is too.
func fence(t *testing.T, s, echo *client) {
	t.Helper()
	tag := fmt.Sprintf("fence-%d", time.Now().UnixNano())
	ok := poll(10*time.Second, func() bool {
		if _, err := s.call(10*time.Second, "fence", echo.id, tag); err != nil {
			t.Fatal(err)
		}
		return poll(500*time.Millisecond, func() bool { return s.hasMark(tag) })
	})
	if !ok {
		t.Fatalf("%s: no answer from %s", s.name, echo.name)
	}
}

// waitConns waits until n holds want connections.
func waitConns(t *testing.T, n *node, want int64) {
	t.Helper()
	var got int64
	if !poll(10*time.Second, func() bool {
		st, err := n.stats()
		got = st["connections"]
		return err == nil && got == want
	}) {
		t.Fatalf("%s: %d connections, want %d", n.name, got, want)
	}
}
