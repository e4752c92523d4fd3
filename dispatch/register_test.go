package dispatch_test

import "testing"

// TestRegisterAgainEvictsSelf: a connection registering again keeps its
// place, so with a lower cap it can be the oldest: it is closed with 4009
// like any evicted connection, and the newer one stays registered.
func TestRegisterAgainEvictsSelf(t *testing.T) {
	t.Parallel()
	s, _ := idServer(t)
	x, y := dialPeer(t, s, "/peer"), dialPeer(t, s, "/peer-inline")
	x.ok(1, "reg", "kay", 2)
	y.ok(1, "reg", "kay", 2)
	x.emit(2, "reg", "kay", 1)
	if code, reason := x.closed(); code != 4009 || reason != "replaced" {
		t.Fatalf("closed with %d %q, want 4009 replaced", code, reason)
	}
	if !s.Hub().Notify("kay", "alert", "n1") {
		t.Fatal("Notify = false")
	}
	expectNotes(t, y, "kay", 1)
}
