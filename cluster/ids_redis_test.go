package cluster_test

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Envelope kinds and versions of package dispatch's cluster wire format
// (dispatch/envelope.go), spelled out so the test can craft envelopes no
// node would send.
const (
	envVersion, batchVersion             = 1, 2
	envUnicast, envNote, envClose, envUF = 3, 6, 7, 8
)

func envelope(kind byte, origin, target, sender, name string, data string) []byte {
	b := []byte{envVersion, kind}
	for _, s := range []string{origin, target, sender, name} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, 1000)
	return append(b, data...)
}

func batch(envs ...[]byte) []byte {
	b := []byte{batchVersion}
	for _, e := range envs {
		b = binary.AppendUvarint(b, uint64(len(e)))
		b = append(b, e...)
	}
	return b
}

// TestCraftedIDAcrossNodes: a connection id with a slot past int32, sent
// from a client of one node to another node, neither crashes the other
// node nor leaves the sender without an answer: the sending node refuses
// it (Unicast false, OnUnicastFailed). Envelopes carrying such ids, put
// on Redis by hand, are dropped and counted by the receiving node, which
// then still delivers a good unicast.
func TestCraftedIDAcrossNodes(t *testing.T) {
	prefix := "plezitest-ids-" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + time.Now().Format("150405.000000")
	n1, n2 := startNode(t, prefix), startNode(t, prefix)
	c1, _ := dialPeer(t, n1, "")
	c2, id2 := dialPeer(t, n2, "")
	crafted := n2.Hub().Node() + "-80000000000000"

	send := func(v string) {
		t.Helper()
		if err := c1.c.WriteMessage(1, []byte(`{"event":"ucast","_EID_":1,"args":["`+v+`"]}`)); err != nil {
			t.Fatal(err)
		}
	}
	send(crafted)
	if m := readMsg(t, c1); m != `{"event":"_ack_","_EID_":1,"data":false}` {
		t.Fatalf("Unicast to a crafted id: %s", m)
	}
	if m := readMsg(t, c1); m != `{"event":"ufail","args":["`+crafted+`","x"]}` {
		t.Fatalf("OnUnicastFailed: %s", m)
	}

	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rc.Close()
	bad := batch(
		envelope(envUnicast, n1.Hub().Node(), crafted, "", "x", "[]"),
		envelope(envUnicast, n1.Hub().Node(), n2.Hub().Node()+"-ffffffffffffff", "", "x", "[]"),
		envelope(envNote, n1.Hub().Node(), crafted, "someone", "", `{"event":"x"}`),
		envelope(envClose, n1.Hub().Node(), crafted, "", "", "bye"),
		envelope(envUF, n1.Hub().Node(), crafted, id2, "x", ""),
	)
	st := n2.Hub().Stats()
	ctx := context.Background()
	// The node's subscription reaches Redis asynchronously: repeat.
	for deadline := time.Now().Add(5 * time.Second); st.BadEnvelopes.Load() < 5; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("BadEnvelopes = %d, want the 5 crafted envelopes counted", st.BadEnvelopes.Load())
		}
		if err := rc.Publish(ctx, prefix+":node:"+n2.Hub().Node(), bad).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if p := st.Panics.Load(); p != 0 {
		t.Errorf("node 2 Panics = %d", p)
	}
	send(id2)
	if m := readMsg(t, c1); m != `{"event":"_ack_","_EID_":1,"data":true}` {
		t.Fatalf("Unicast to a good id: %s", m)
	}
	if m := readMsg(t, c2); m != `{"event":"x"}` {
		t.Fatalf("node 2 after the crafted envelopes: %s", m)
	}
}
