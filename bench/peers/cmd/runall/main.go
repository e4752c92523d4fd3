// Command runall runs every benchmark scenario against every server in turn
// and writes bench/RESULTS.md, bench/results.json and PNG charts in
// bench/charts. The server is pinned to one core and the load generator to
// the other (taskset); each run is repeated and reported as median and range.
// S4 and S7 start several plezi nodes (all on the server's core) sharing the
// local Redis, which must answer.
//
//	bench/run.sh -quick      # ~2 minute smoke run
//	bench/run.sh             # full suite, 3 repetitions
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// bindFlags declares the suite's flags on fs, into c.
func bindFlags(fs *flag.FlagSet, c *config) {
	fs.BoolVar(&c.quick, "quick", false, "smoke run: small sizes, short windows, 1 repetition (~2 minutes)")
	fs.IntVar(&c.reps, "reps", 0, "repetitions per run (default 3, 1 with -quick)")
	fs.StringVar(&c.only, "only", "", "comma-separated scenarios to run (s1,s2,s3,s4,s5,s6,s7,s8,s9); default all")
	fs.StringVar(&c.servers, "servers", "", "comma-separated servers; default all")
	fs.StringVar(&c.root, "root", "", "repository root (default: found from the working directory)")
	fs.StringVar(&c.out, "out", "", "output folder (default ROOT/bench)")
	fs.StringVar(&c.serverCPU, "server-cpu", "0", "taskset CPU list for the server")
	fs.StringVar(&c.loadCPU, "load-cpu", "1", "taskset CPU list for the load generator")
	fs.IntVar(&c.port, "port", 65001, "first server port (above the ephemeral range; one per run)")
	fs.StringVar(&c.redis, "redis", "127.0.0.1:6379", "Redis for the S4 and S7 nodes (PL_REDIS_URL=redis://ADDR/0)")
}

// defaults fills what the flags leave to be derived.
func (c *config) defaults() {
	if c.reps <= 0 {
		c.reps = 3
		if c.quick {
			c.reps = 1
		}
	}
}

// config holds the flags.
type config struct {
	quick      bool
	reps       int
	only       string // comma-separated scenario ids
	servers    string // comma-separated server names
	root       string // repository root
	out        string // where RESULTS.md and charts go
	serverCPU  string
	loadCPU    string
	port       int
	redis      string // host:port of the Redis the S4/S7 nodes share
	merge      string // -render -merge: a partial run's results.json
	commandStr string
}

func main() {
	var c config
	render := flag.Bool("render", false, "run nothing: write RESULTS.md and the charts again from OUT/results.json and the current ANALYSIS.md")
	flag.StringVar(&c.merge, "merge", "", "with -render: first fold the runs of this results.json (a partial run's) into OUT/results.json")
	bindFlags(flag.CommandLine, &c)
	flag.Parse()
	c.commandStr = strings.TrimSpace("bench/run.sh " + strings.Join(os.Args[1:], " "))
	c.defaults()
	if *render {
		if err := rerender(&c); err != nil {
			fmt.Fprintln(os.Stderr, "runall:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := suite(ctx, &c); err != nil {
		fmt.Fprintln(os.Stderr, "runall:", err)
		os.Exit(1)
	}
}

// suite builds the binaries, runs the matrix and writes the results.
func suite(ctx context.Context, c *config) error {
	var err error
	if c.root == "" {
		if c.root, err = findRoot(); err != nil {
			return err
		}
	}
	if c.out == "" {
		c.out = filepath.Join(c.root, "bench")
	}
	dir, err := os.MkdirTemp("", "plezi-runall-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	svs, notes, err := build(c.root, dir, wantCentrifugo(c))
	if err != nil {
		return err
	}
	svs = pick(svs, c.servers)
	runs := pickRuns(plan(c.quick), c.only)
	if err = checkRedis(c, svs, runs); err != nil {
		return err
	}
	start := time.Now()
	res := &results{started: start, load: loadavg(), cfg: c, notes: notes, servers: svs, runs: runs}
	execute(ctx, c, dir, svs, runs, res)
	res.elapsed = time.Since(start)
	return res.write(c.out)
}

// checkRedis fails the suite before it starts when a cluster run (S4, S7)
// is selected for a server and Redis does not answer.
func checkRedis(c *config, svs []*server, runs []run) error {
	var ids []string
	for _, r := range runs {
		for _, sv := range svs {
			if r.nodes > 0 && r.accepts(sv) && !slices.Contains(ids, r.id) {
				ids = append(ids, r.id)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if err := pingRedis(c.redis); err != nil {
		return fmt.Errorf("%s need Redis at %s (-redis), which does not answer: %v; start redis-server, or leave them out with -only",
			strings.Join(ids, " and "), c.redis, err)
	}
	return nil
}

// findRoot walks up from the working directory to the main module's go.mod.
func findRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/plezigo/plezi\n") {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no github.com/plezigo/plezi go.mod above the working directory")
		}
		d = parent
	}
}

func pick(svs []*server, names string) []*server {
	if names == "" {
		return svs
	}
	var out []*server
	for _, s := range svs {
		if strings.Contains(","+names+",", ","+s.name+",") {
			out = append(out, s)
		}
	}
	return out
}

func pickRuns(runs []run, only string) []run {
	if only == "" {
		return runs
	}
	var out []run
	for _, r := range runs {
		if strings.Contains(","+only+",", ","+r.id+",") {
			out = append(out, r)
		}
	}
	return out
}
