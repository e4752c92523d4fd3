package hostile

// Exposure probes: what a default cmd/plezi serves to anyone, and the demo
// chat's identity.

import (
	"net/http"
	"testing"

	"github.com/plezigo/plezi/internal/wstest"
)

// TestBenchRoutesOff: /unicast (raw text to any connection id) is mounted
// only with -unicast, and /debug/* only with -debug (here their PL_
// twins).
func TestBenchRoutesOff(t *testing.T) {
	t.Parallel()
	def, on := start(t), startEnv(t, []string{"PL_UNICAST=1", "PL_DEBUG=true"})
	if got := upgradeStatus(t, def, "/unicast", wstest.Options{}); got != http.StatusNotFound {
		t.Fatalf("upgrade to /unicast by default: %d, want 404", got)
	}
	if got := upgradeStatus(t, on, "/unicast", wstest.Options{}); got != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade to /unicast with -unicast: %d, want 101", got)
	}
	for _, path := range []string{"/debug/stats", "/debug/heap"} {
		for _, tt := range []struct {
			p    *proc
			want int
		}{{def, http.StatusNotFound}, {on, http.StatusOK}} {
			resp, err := client.Get("http://" + tt.p.Addr + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("GET %s: %d, want %d", path, resp.StatusCode, tt.want)
			}
		}
	}
}

// TestNickTakeover: the demo chat refuses a second connection with a
// nickname that is connected (409, before the upgrade, in any room); the
// holder keeps it, and once it closes the nickname is free.
func TestNickTakeover(t *testing.T) {
	t.Parallel()
	p := start(t)
	ann := chat(t, p, "lobby", "ann")
	for _, room := range []string{"lobby", "elsewhere"} {
		if got := upgradeStatus(t, p, "/chat/"+room+"?nick=ann", wstest.Options{}); got != http.StatusConflict {
			t.Fatalf("a second ann in %s: %d, want 409", room, got)
		}
	}
	if err := ann.WriteFrame(wstest.Text(`{"event":"say","args":["still ann"]}`)); err != nil {
		t.Fatal(err)
	}
	ev, m := readEvent(t, ann)
	for ev == "joined" {
		ev, m = readEvent(t, ann)
	}
	if args, _ := m["args"].([]any); ev != "said" || len(args) != 2 || args[0] != "ann" {
		t.Fatalf("ann after the refusals: %v", m)
	}
	if code, _, err := ann.CloseHandshake(1000, "", ioWait); err != nil || code != 1000 {
		t.Fatalf("close: %d, %v", code, err)
	}
	eventually(t, ioWait, "ann's nickname to be free", func() bool {
		return upgradeStatus(t, p, "/chat/elsewhere?nick=ann", wstest.Options{}) == http.StatusSwitchingProtocols
	})
}
