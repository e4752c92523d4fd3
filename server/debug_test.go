package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/plezigo/plezi/server"
)

// TestDebugStatsListsEveryCounter: counters of both Stats structs are in
// /debug/stats by their snake_case names, new ones included.
func TestDebugStatsListsEveryCounter(t *testing.T) {
	t.Parallel()
	s := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet, Loops: 1})
	if err := s.Handle("/debug/stats", s.DebugStats); err != nil {
		t.Fatal(err)
	}
	n := run(t, s)
	resp, err := http.Get("http://" + n.Addr() + "/debug/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var got map[string]int64
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	for _, k := range []string{"accepted", "shed", "partial_bytes", "throttled", "cluster_round_trips",
		"denied_events", "notes_dropped", "notes_skipped", "panics", "messages_in"} {
		if _, ok := got[k]; !ok {
			t.Errorf("no %q in %s", k, body)
		}
	}
	if got["accepted"] < 1 {
		t.Errorf("accepted = %d, want the request itself counted", got["accepted"])
	}
}
