package cluster_test

import (
	"strings"
	"testing"
	"time"

	"github.com/plezigo/plezi/cluster"
)

// TestSecretNamespaces: nodes with different cluster secrets on one Redis
// and one prefix share nothing. A RegisterAs of an identity on one does
// not take the identity from the other's connection (max 1), a Notify on
// one reaches neither the other's connection nor its mailbox, and no
// envelope of one reaches the other at all.
func TestSecretNamespaces(t *testing.T) {
	prefix := "plezitest-ns-" + time.Now().Format("150405.000000")
	a, ra := startSecret(t, "redis://127.0.0.1:6379/0", prefix, "one")
	z, _ := startSecret(t, "redis://127.0.0.1:6379/0", prefix, "two")
	// Solo registers after it sent its id: wait for each registration.
	wa, err := watchSolo(a, "u")
	if err != nil {
		t.Fatal(err)
	}
	cluster.CheckFor(t, 5*time.Second, "a's registration", func() bool { return a.Hub().Registered("u") })
	wz, err := watchSolo(z, "u")
	if err != nil {
		t.Fatal(err)
	}
	cluster.CheckFor(t, 5*time.Second, "z's registration", func() bool { return z.Hub().Registered("u") })
	if !z.Notify("u", "from", "z") {
		t.Fatal("notify on z refused")
	}
	if m := expectMsg(t, wz); !strings.Contains(m, `"args":["z"]`) {
		t.Fatalf("z's connection got %s", m)
	}
	if !a.Notify("u", "from", "a") {
		t.Fatal("notify on a refused: z's RegisterAs took the identity")
	}
	if m := expectMsg(t, wa); !strings.Contains(m, `"args":["a"]`) {
		t.Fatalf("a's connection got %s, want a's note (z's must not reach it)", m)
	}
	_, box, err := ra.Register("u", "x", time.Hour, 5, 0)
	if err != nil || len(box) != 1 || !strings.Contains(string(box[0].Data), `"args":["a"]`) {
		t.Fatalf("a's mailbox holds %d notes (%v), want a's only", len(box), err)
	}
	for _, w := range []*watched{wa, wz} {
		select {
		case code := <-w.closed:
			t.Fatalf("a connection was closed (%d)", code)
		case m := <-w.msgs:
			t.Fatalf("a connection got %s", m)
		default:
		}
	}
	if bad := a.Hub().Stats().BadEnvelopes.Load() + z.Hub().Stats().BadEnvelopes.Load(); bad != 0 {
		t.Fatalf("%d envelopes crossed between the namespaces", bad)
	}
}

func expectMsg(t *testing.T, w *watched) string {
	t.Helper()
	select {
	case m := <-w.msgs:
		return m
	case code := <-w.closed:
		t.Fatalf("closed (%d) waiting for a message", code)
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
	return ""
}
