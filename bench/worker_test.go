package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"
)

// TestRunWorker drives the worker protocol over pipes, as cmd/plezi-bench does.
func TestRunWorker(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- RunWorker(context.Background(), inR, outW, 10*time.Millisecond); outW.Close() }()
	events := make(chan Event, 64)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			var ev Event
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				events <- ev
			}
		}
		close(events)
	}()
	cfg, _ := json.Marshal(Config{Scenario: ScenarioEcho, Addr: srv.addr(), Conns: 4})
	fmt.Fprintf(inW, "%s\n", cfg)
	next := func(want string, until func(Event) bool) Event {
		t.Helper()
		for ev := range events {
			if ev.Ev == want && until(ev) {
				return ev
			}
		}
		t.Fatalf("no %s event", want)
		return Event{}
	}
	any := func(Event) bool { return true }
	next("progress", func(ev Event) bool { return ev.P.Settled(4) })
	fmt.Fprintln(inW, CmdGo)
	next("ack", any)
	next("progress", func(ev Event) bool { return ev.P.Msgs >= 50 })
	fmt.Fprintln(inW, CmdStop)
	next("ack", any)
	fmt.Fprintln(inW, CmdResult)
	if ev := next("result", any); ev.R.Up != 4 || ev.R.Msgs < 50 {
		t.Fatalf("result %+v", ev.R)
	}
	fmt.Fprintln(inW, "bogus")
	if ev := next("ack", any); ev.Err == "" {
		t.Fatal("unknown command accepted")
	}
	fmt.Fprintln(inW, CmdQuit)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	inW.Close()
	for range events {
	}
}
