// Command plezi runs a Plezi websocket server with a demo app: a raw echo at
// /echo, a raw push channel at /push, and a chat at /chat/:room with the
// page at /.
//
//	go run ./cmd/plezi -addr :3000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/plezigo/plezi/server"
)

func main() {
	if err := run(context.Background(), os.Args[1:], nil); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "plezi:", err)
		os.Exit(1)
	}
}

// options are the command's flags; each has an environment twin.
type options struct {
	addr, static, origins                  string
	maxMessage                             int64
	compress                               bool
	handshakeTimeout, ping, idle, shutdown time.Duration
	maxOutbound, maxConns, loops, procs    int
	reusePort, lockThread, debug, quiet    bool
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("plezi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", env("PL_ADDR", ":3000"), "listen address (PL_ADDR)")
	fs.Int64Var(&o.maxMessage, "max-message", envInt("PL_MAX_MESSAGE", 1<<20), "largest inbound message in bytes (PL_MAX_MESSAGE)")
	fs.BoolVar(&o.compress, "compress", envBool("PL_COMPRESS"), "enable permessage-deflate (PL_COMPRESS)")
	fs.StringVar(&o.static, "static", env("PL_STATIC", ""), "directory to serve at / instead of the demo page (PL_STATIC)")
	fs.StringVar(&o.origins, "origins", env("PL_ORIGINS", ""), "comma-separated allowed Origin values; empty allows all (PL_ORIGINS)")
	fs.DurationVar(&o.handshakeTimeout, "handshake-timeout", envDur("PL_HANDSHAKE_TIMEOUT", 10*time.Second), "time to complete the upgrade request (PL_HANDSHAKE_TIMEOUT)")
	fs.DurationVar(&o.ping, "ping", envDur("PL_PING", 30*time.Second), "ping a quiet connection after this long (PL_PING)")
	fs.DurationVar(&o.idle, "idle", envDur("PL_IDLE", 75*time.Second), "close a connection quiet for this long (PL_IDLE)")
	fs.DurationVar(&o.shutdown, "shutdown-timeout", envDur("PL_SHUTDOWN_TIMEOUT", 10*time.Second), "bound on draining at shutdown (PL_SHUTDOWN_TIMEOUT)")
	fs.IntVar(&o.maxOutbound, "max-outbound", int(envInt("PL_MAX_OUTBOUND", 4<<20)), "bytes queued per connection before close 4008 (PL_MAX_OUTBOUND)")
	fs.IntVar(&o.maxConns, "max-conns", int(envInt("PL_MAX_CONNS", 0)), "TCP connections per node, websockets included; 0 = unlimited (PL_MAX_CONNS)")
	fs.IntVar(&o.loops, "loops", int(envInt("PL_LOOPS", 0)), "event loops, 0 = GOMAXPROCS (PL_LOOPS)")
	fs.BoolVar(&o.reusePort, "reuseport", envBool("PL_REUSEPORT"), "SO_REUSEPORT, for several processes on one port (PL_REUSEPORT)")
	fs.IntVar(&o.procs, "procs", int(envInt("PL_PROCS", 0)), "GOMAXPROCS while serving; 0 = at least loops+1, -1 = leave it (PL_PROCS)")
	fs.BoolVar(&o.lockThread, "lock-thread", envBool("PL_LOCK_THREAD"), "pin each event loop to an OS thread (PL_LOCK_THREAD)")
	fs.BoolVar(&o.debug, "debug", envBool("PL_DEBUG"), "serve /debug/heap and /debug/stats (PL_DEBUG)")
	fs.BoolVar(&o.quiet, "quiet", envBool("PL_QUIET"), "log warnings only (PL_QUIET)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *options) config() server.Config {
	level := slog.LevelInfo
	if o.quiet {
		level = slog.LevelWarn
	}
	cfg := server.Config{
		Addr: o.addr, MaxMessage: o.maxMessage, Compress: o.compress,
		HandshakeTimeout: o.handshakeTimeout, PingInterval: o.ping, IdleTimeout: o.idle,
		ShutdownTimeout: o.shutdown, MaxOutbound: o.maxOutbound, MaxConnections: o.maxConns,
		Loops: o.loops, ReusePort: o.reusePort, LockOSThread: o.lockThread, Procs: o.procs, HandleSignals: true,
		RedisURL: os.Getenv("PL_REDIS_URL"), ClusterSecret: os.Getenv("PL_CLUSTER_SECRET"),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	for _, s := range strings.Split(o.origins, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Origins = append(cfg.Origins, s)
		}
	}
	return cfg
}

// run parses args, builds the app and serves until ctx ends (or SIGTERM /
// SIGINT), then drains. ready, if not nil, gets the bound address.
func run(ctx context.Context, args []string, ready func(addr string)) error {
	o, err := parse(args, os.Stderr)
	if err != nil {
		return err
	}
	cfg := o.config()
	srv := newApp(cfg)
	if o.debug {
		srv.Handle("/debug/heap", server.DebugHeap)
		srv.Handle("/debug/stats", srv.DebugStats)
	}
	if o.static != "" {
		if err := srv.Static("/", o.static); err != nil {
			return err
		}
	} else {
		srv.StaticFS("/", publicFS())
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
		if ready != nil {
			ready(srv.Addr())
		}
	case err := <-errc:
		return err
	}
	return <-errc
}

func env(k, def string) string {
	if v, ok := os.LookupEnv(k); ok {
		return v
	}
	return def
}

func envInt(k string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(k), 10, 64); err == nil {
		return v
	}
	return def
}

func envBool(k string) bool {
	v, _ := strconv.ParseBool(os.Getenv(k))
	return v
}

func envDur(k string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(k)); err == nil {
		return v
	}
	return def
}
