// Command plezi-bench is the load generator of the plezi benchmarks. It
// drives websocket connections from epoll event loops (package bench), splits
// them over child processes past the per-process open-file limit, samples the
// server's CPU and memory from /proc, and prints a table (or -json).
//
//	plezi-bench -addr 127.0.0.1:65001 -scenario s2 -conns 1000 -payload 64 -pid 1234
//	plezi-bench -addr 127.0.0.1:65001,127.0.0.1:65002 -pid 1234,1235 -scenario s4 -conns 10000 -rate 10000
//
// Scenarios: s1 idle, s2 echo, s3 broadcast, s4 cross-node unicast (two
// plezi nodes sharing Redis, -addr lists both), s5 slow consumers, s6 churn,
// s7 broadcast across several nodes on one port (s3 against a
// SO_REUSEPORT group; bench/peers/cmd/runall starts the nodes).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/plezigo/plezi/bench"
)

// options are the command-line flags of a run.
type options struct {
	addr, scenario, label string
	conns, payload, count int
	rate                  float64
	duration              time.Duration
	slowEvery             int
	churnRate             float64
	pids                  pidList
	serverCore            int
	redis, pushPath       string
	raw, jsonOut          bool
	sources               int
	perProc, loops        int
	settle, connectWait   time.Duration
	ps                    pubsubOptions // s8
}

func parseFlags(args []string) (options, bool, error) {
	var o options
	fs := flag.NewFlagSet("plezi-bench", flag.ContinueOnError)
	worker := fs.Bool("worker", false, "internal: run as a worker process (config on stdin)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:65001", "server address ip:port; s4: comma-separated, one per node")
	fs.StringVar(&o.scenario, "scenario", "s2", "s1 idle, s2 echo, s3 broadcast, s4 cross-node unicast, s5 slow consumers, s6 churn, s7 broadcast across nodes")
	fs.StringVar(&o.label, "label", "", "server name shown in the output")
	fs.IntVar(&o.conns, "conns", 1000, "connections (s1, s2, s3, s5, s7; s4: over all nodes)")
	fs.IntVar(&o.payload, "payload", 64, "message payload bytes (>= 8)")
	fs.Float64Var(&o.rate, "rate", 0, "s3/s5/s7 broadcasts per second, 0 = single broadcasts, one per second; s4 messages per second over all connections, 0 = 1000")
	fs.IntVar(&o.count, "count", 5, "s3 single mode: number of broadcasts")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured window (s2), sending time (s3/s5/s7 with -rate, s4), churn time (s6)")
	fs.IntVar(&o.slowEvery, "slow-every", 100, "s5: every Nth connection stops reading (100 = 1%)")
	fs.Float64Var(&o.churnRate, "churn-rate", 2000, "s6: connects per second")
	fs.Var(&o.pids, "pid", "server process ids, comma-separated, for CPU and memory from /proc, summed (0 = not measured)")
	fs.StringVar(&o.redis, "redis", "127.0.0.1:6379", "s4: the nodes' Redis, for its PUBLISH count and CPU (empty = not measured)")
	fs.IntVar(&o.serverCore, "server-core", -1, "CPU the server is pinned to: its busy time from /proc/stat, softirq included (-1 = not measured)")
	fs.BoolVar(&o.raw, "raw", false, "raw TCP peer: no websocket handshake")
	fs.StringVar(&o.pushPath, "push-path", "/push", "s3/s5/s7: the server's raw push route (cmd/plezi: /demo/push, with -demo)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	fs.IntVar(&o.sources, "sources", 4, "source addresses 127.0.0.2 .. 127.0.0.(1+N)")
	fs.IntVar(&o.perProc, "per-proc", 9500, "connections per worker process (open-file limit)")
	fs.IntVar(&o.loops, "loops", 1, "event loops per worker process")
	fs.DurationVar(&o.settle, "settle", 5*time.Second, "s1: longest wait for the server's memory to settle")
	fs.DurationVar(&o.connectWait, "connect-timeout", 90*time.Second, "longest wait for every connection to open")
	bindPubSub(fs, &o.ps)
	if err := fs.Parse(args); err != nil {
		return o, false, err
	}
	return o, *worker, nil
}

// workerMain runs this process as a worker and returns its exit status.
func workerMain(ctx context.Context) int {
	if err := bench.RunWorker(ctx, os.Stdin, os.Stdout, 200*time.Millisecond); err != nil {
		fmt.Fprintln(os.Stderr, "plezi-bench worker:", err)
		return 1
	}
	return 0
}

func main() {
	o, worker, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if worker || os.Getenv(workerEnv) == "1" {
		os.Exit(workerMain(ctx))
	}
	rep, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "plezi-bench:", err)
		os.Exit(1)
	}
	if o.jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
		return
	}
	rep.table(os.Stdout)
}
