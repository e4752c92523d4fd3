package hostile

// Cluster probes: two cmd/plezi nodes sharing a Redis of the test's own
// (startRedis), one fed crafted input through the other.

import (
	"testing"
)

// TestCrossNodeCraftedIDs: a client on node 1 whispers to ids that name
// node 2 but no connection a server formats (see craftedIDs); those node
// 1 cannot rule out go to node 2 over Redis. Node 2 lives, logs no panic
// and counts none, and still delivers: a whisper from node 1 to a client
// on node 2 arrives after them.
func TestCrossNodeCraftedIDs(t *testing.T) {
	t.Parallel()
	env := []string{"PL_REDIS_URL=" + startRedis(t)}
	n1, n2 := startEnv(t, env, "-debug"), startEnv(t, env, "-debug")
	ann, annID := join(t, n1, "x1", "ann")
	bob, bobID := join(t, n2, "x2", "bob")
	node2 := nodeOf(bobID)
	if nodeOf(annID) == node2 {
		t.Fatalf("both nodes are %q", node2)
	}
	for i, id := range craftedIDs(node2) {
		m := call(t, ann, i+1, "whisper", id, "psst")
		if ev := m["event"]; ev != "_ack_" && (ev != "_err_" || m["status"] != 404.0) {
			t.Fatalf("whisper to %q: %v, want an ack or a 404", clip([]byte(id)), m)
		}
	}
	if m := call(t, ann, 1000, "whisper", bobID, "across"); m["event"] != "_ack_" || m["data"] != true {
		t.Fatalf("whisper to bob on node 2: %v", m)
	}
	if args := expectEvent(t, bob, "private"); len(args) != 3 || args[0] != "ann" || args[2] != "across" {
		t.Fatalf("bob got private %v", args)
	}
	if !n2.Alive() {
		t.Fatal("node 2 died")
	}
	if st := n2.Stats(); st["panics"] != 0 || st["remote_in"] == 0 {
		t.Fatalf("node 2: %d panics, %d remote envelopes in", st["panics"], st["remote_in"])
	}
}
