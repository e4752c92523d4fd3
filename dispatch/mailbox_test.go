package dispatch_test

import (
	"strconv"
	"strings"
	"testing"
)

// TestNotifyOverflowGap: 300 notes to an offline identity whose mailbox
// holds 256 keep the newest 256; the first one delivered on resume says
// that 44 are missing.
func TestNotifyOverflowGap(t *testing.T) {
	t.Parallel()
	s, _ := idServer(t)
	a := dialPeer(t, s, "/peer")
	a.ok(1, "reg", "ivy", 1)
	_ = a.ws.Close()
	eventually(t, "a closed", func() bool { return s.Hub().Count() == 0 })
	for i := 1; i <= 300; i++ {
		if !s.Hub().Notify("ivy", "alert", "n"+strconv.Itoa(i)) {
			t.Fatalf("Notify %d = false", i)
		}
	}
	c := dialPeer(t, s, "/peer"+resumeQuery(map[string]uint64{"ivy": 20}))
	c.emit(1, "reg", "ivy", 1)
	for id := uint64(45); id <= 300; id++ {
		m := c.expect("alert")
		if m.NID != id || m.arg(0) != "n"+strconv.FormatUint(id, 10) {
			t.Fatalf("got %s, want note %d", m.raw, id)
		}
		gap := strings.Contains(m.raw, `"_gap_":24`)
		if gap != (id == 45) || (id != 45 && strings.Contains(m.raw, "_gap_")) {
			t.Fatalf("note %d: %s (the first, and only it, says 24 are missing)", id, m.raw)
		}
	}
	c.expect("_ack_")
}
