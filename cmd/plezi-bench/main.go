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
// SO_REUSEPORT group; bench/peers/cmd/runall starts the nodes), s8 a
// connection storm while broadcasts go to the connected (storm.go). The
// default -addr is cmd/plezi's default address; -h lists every flag.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
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
	serverWait            time.Duration
	storm, stormPending   int
	stormPath             string
	ps                    pubsubOptions // s9
}

// defaultAddr is where cmd/plezi listens by default (its -addr :3000).
const defaultAddr = "127.0.0.1:3000"

// flagSet declares the flags into o and worker.
func flagSet(o *options, worker *bool) *flag.FlagSet {
	fs := flag.NewFlagSet("plezi-bench", flag.ContinueOnError)
	fs.BoolVar(worker, "worker", false, "internal: run as a worker process (config on stdin)")
	fs.StringVar(&o.addr, "addr", defaultAddr, "server address ip:port (cmd/plezi's default); s4: comma-separated, one per node")
	fs.StringVar(&o.scenario, "scenario", "s2", "s1 idle, s2 echo, s3 broadcast, s4 cross-node unicast, s5 slow consumers, s6 churn, s7 broadcast across nodes, s8 connection storm during broadcasts, s9 push servers (pubsub over the HTTP API; -proto)")
	fs.StringVar(&o.label, "label", "", "server name shown in the output")
	fs.IntVar(&o.conns, "conns", 1000, "connections (s1, s2, s3, s5, s7; s4: over all nodes; s8: the subscribers)")
	fs.IntVar(&o.payload, "payload", 64, "message payload bytes (>= 8)")
	fs.Float64Var(&o.rate, "rate", 0, "s3/s5/s7 broadcasts per second, 0 = single broadcasts, one per second; s4 messages per second over all connections, 0 = 1000; s8 broadcasts per second, 0 = 10")
	fs.IntVar(&o.count, "count", 5, "s3 single mode: number of broadcasts")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured window (s2), sending time (s3/s5/s7 with -rate, s4), churn time (s6), broadcasts before the storm (s8)")
	fs.IntVar(&o.slowEvery, "slow-every", 100, "s5: every Nth connection stops reading (100 = 1%)")
	fs.Float64Var(&o.churnRate, "churn-rate", 2000, "s6: connects per second")
	fs.IntVar(&o.storm, "storm", 10000, "s8: connections the storm opens at once")
	fs.StringVar(&o.stormPath, "storm-path", "/echo", "s8: the route the storm connects to (/echo: the broadcasts keep going to the -conns subscribers alone)")
	fs.IntVar(&o.stormPending, "storm-pending", 1000, "s8: storm connects and handshakes in flight per worker process (the listen backlog here is 4096)")
	fs.Var(&o.pids, "pid", "server process ids, comma-separated, for CPU and memory from /proc, summed (0 = not measured)")
	fs.StringVar(&o.redis, "redis", "127.0.0.1:6379", "s4: the nodes' Redis, for its PUBLISH count and CPU (empty = not measured)")
	fs.IntVar(&o.serverCore, "server-core", -1, "CPU the server is pinned to: its busy time from /proc/stat, softirq included (-1 = not measured)")
	fs.BoolVar(&o.raw, "raw", false, "raw TCP peer: no websocket handshake")
	fs.StringVar(&o.pushPath, "push-path", "/push", "s3/s5/s7/s8: the server's raw push route (cmd/plezi: /demo/push, with -demo)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	fs.IntVar(&o.sources, "sources", 4, "source addresses 127.0.0.2 .. 127.0.0.(1+N)")
	fs.IntVar(&o.perProc, "per-proc", 9500, "connections per worker process (open-file limit)")
	fs.IntVar(&o.loops, "loops", 1, "event loops per worker process")
	fs.DurationVar(&o.settle, "settle", 5*time.Second, "s1: longest wait for the server's memory to settle")
	fs.DurationVar(&o.connectWait, "connect-timeout", 90*time.Second, "longest wait for every connection to open")
	fs.DurationVar(&o.serverWait, "server-wait", 10*time.Second, "longest wait for the server to accept TCP connections before the run")
	bindPubSub(fs, &o.ps)
	return fs
}

// parseFlags parses args; -h gives flag.ErrHelp. It prints nothing.
func parseFlags(args []string) (options, bool, error) {
	var o options
	var worker bool
	fs := flagSet(&o, &worker)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	return o, worker, err
}

// usage prints the synopsis and every flag to w.
func usage(w io.Writer) {
	var o options
	var worker bool
	fs := flagSet(&o, &worker)
	fs.SetOutput(w)
	fmt.Fprintf(w, "Usage: plezi-bench [flags]\n\n"+
		"The load generator of the plezi benchmarks (bench/README.md). Start the server first:\n"+
		"  go run ./cmd/plezi -demo -debug          # listens on :3000, plezi-bench's default -addr\n"+
		"  plezi-bench -scenario s3 -push-path /demo/push -conns 1000 -rate 10\n\nFlags:\n")
	fs.PrintDefaults()
}

// workerMain runs this process as a worker and returns its exit status.
func workerMain(ctx context.Context) int {
	if err := bench.RunWorker(ctx, os.Stdin, os.Stdout, 200*time.Millisecond); err != nil {
		fmt.Fprintln(os.Stderr, "plezi-bench worker:", err)
		return 1
	}
	return 0
}

func main() { os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr)) }

// realMain runs plezi-bench with args and returns its exit status: 0 after
// -h, 2 on bad flags, 1 when the run fails.
func realMain(args []string, stdout, stderr io.Writer) int {
	o, worker, err := parseFlags(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage(stdout)
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "plezi-bench: %v\n", err)
		usage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if worker || os.Getenv(workerEnv) == "1" {
		return workerMain(ctx)
	}
	rep, err := run(ctx, o)
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "plezi-bench: ") {
			msg = "plezi-bench: " + msg
		}
		fmt.Fprintln(stderr, msg)
		return 1
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
		return 0
	}
	rep.table(stdout)
	return 0
}
