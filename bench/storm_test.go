package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// TestEngineHaltAndCut: Halt stops the sender at once while the receivers
// go on counting, and two Cuts split the latency histogram with no
// message counted twice or lost (S8's calm and storm windows).
func TestEngineHaltAndCut(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	const conns = 3
	e := newEngine(t, Config{Scenario: ScenarioPush, Addr: srv.addr(), Conns: conns, Sender: true,
		Rate: 200, Count: 1 << 30})
	settle(t, e)
	e.Start()
	waitFor(t, "30 deliveries", 10*time.Second, func() bool { return e.Progress().Msgs >= 30 })
	first := e.Cut()
	waitFor(t, "30 more deliveries", 10*time.Second, func() bool { return e.Progress().Msgs >= first.Msgs+30 })
	e.Halt()
	sent := e.Progress().Sent // Halt ran on the loop: nothing is sent after it
	waitFor(t, "every delivery", 10*time.Second, func() bool { return e.Progress().Msgs == sent*conns })
	second := e.Cut()
	e.Stop()
	if first.Hist.N == 0 || second.Hist.N == 0 || first.Hist.N+second.Hist.N != uint64(sent*conns) {
		t.Fatalf("cuts hold %d + %d latencies, %d delivered", first.Hist.N, second.Hist.N, sent*conns)
	}
	if r := e.Result(); r.Sent != sent || r.Hist.N != 0 {
		t.Fatalf("after Halt: sent %d (was %d), %d latencies after the last cut", r.Sent, sent, r.Hist.N)
	}
}

// TestEngineLastUp: LastUp stamps the last upgrade.
func TestEngineLastUp(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	e := newEngine(t, Config{Scenario: ScenarioIdle, Addr: srv.addr(), Conns: 5})
	if r := e.Result(); r.LastUp != 0 {
		t.Fatalf("last up %d before any connection", r.LastUp)
	}
	t0 := Now()
	settle(t, e)
	r := e.Result()
	if r.Up != 5 || r.LastUp < t0 || r.LastUp > Now() {
		t.Fatalf("up %d, last up %d ns after Connect", r.Up, r.LastUp-t0)
	}
}

// TestRunWorkerHold: a worker whose Config holds opens its connections on
// CmdConnect, not before.
func TestRunWorkerHold(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- RunWorker(context.Background(), inR, outW, time.Hour); outW.Close() }()
	results := make(chan struct{}, 4)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			var ev Event
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Ev == "result" {
				results <- struct{}{}
			}
		}
	}()
	accept := func(wait time.Duration) error {
		_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(wait))
		c, err := ln.Accept()
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
		return err
	}
	cfg, _ := json.Marshal(Config{Scenario: ScenarioIdle, Addr: ln.Addr().String(), Conns: 3, Hold: true})
	fmt.Fprintf(inW, "%s\n%s\n", cfg, CmdResult)
	<-results // the worker is in its command loop: an unheld one has dialled by now
	if err := accept(100 * time.Millisecond); err == nil {
		t.Fatal("a held worker connected before CmdConnect")
	}
	fmt.Fprintln(inW, CmdConnect)
	for i := 0; i < 3; i++ {
		if err := accept(5 * time.Second); err != nil {
			t.Fatalf("connection %d after CmdConnect: %v", i+1, err)
		}
	}
	fmt.Fprintln(inW, CmdQuit)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	inW.Close()
}
