// Command plezi runs the Plezi push server: the /push websocket endpoint
// and the HTTP API for backends under /api (package internal/push). With
// -demo it also mounts the demo app: a raw echo at /echo, a raw push
// channel at /demo/push, and a chat at /chat/:room with the page at /; with
// -demo -unicast also /unicast, the cross-node unicast benchmark route.
// Flags and their PL_ environment twins are in flags.go (plezi -help).
//
//	go run ./cmd/plezi -addr :3000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/plezigo/plezi/server"
)

func main() {
	if err := run(context.Background(), os.Args[1:], nil); err != nil && !errors.Is(err, flag.ErrHelp) && !errors.Is(err, errVersion) {
		fmt.Fprintln(os.Stderr, "plezi:", err)
		os.Exit(1)
	}
}

// config is the server configuration o asks for, without its broker:
// run builds that from PL_REDIS_URL.
func (o *options) config() server.Config {
	cfg := server.Config{
		Addr: o.addr, MaxMessage: o.maxMessage, Compress: o.compress,
		HandshakeTimeout: o.handshakeTimeout, PingInterval: o.ping, IdleTimeout: o.idle,
		ShutdownTimeout: o.shutdown, MaxOutbound: o.maxOutbound, MaxConnections: o.maxConns,
		Loops: o.loops, ReusePort: o.reusePort, LockOSThread: o.lockThread, Procs: o.procs, HandleSignals: true,
		ClusterSecret: o.clusterSecret, Logger: o.logger(os.Stderr), DrainDelay: o.drainDelay,
	}
	o.limits.apply(&cfg)
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
	o, err := parse(args, os.LookupEnv, os.Stdout)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg := o.config()
	b, err := o.mail.backend(o.redisURL, o.clusterSecret, cfg.Logger) // cluster.FromURL: "" → in process
	if err != nil {
		return err
	}
	defer b.Close() // after Run returned and push stopped: nothing uses it then
	cfg.Broker = b
	srv := server.New(cfg)
	key, stopPush, err := startPush(ctx, srv, o, cfg.Logger)
	if err != nil {
		return err
	}
	defer stopPush()
	if o.push.demo {
		mountDemo(srv, o.unicast)
	}
	mon, err := mountOps(srv, o, cfg.Logger, key) // before the static files: they take every path under /
	if err != nil {
		return err
	}
	defer mon.Close()
	if o.debug {
		if err := errors.Join(srv.Handle("/debug/heap", server.DebugHeap), srv.Handle("/debug/stats", srv.DebugStats)); err != nil {
			return err
		}
	}
	if o.static != "" {
		err = srv.Static("/", o.static)
	} else if o.push.demo {
		err = srv.StaticFS("/", publicFS())
	}
	if err != nil {
		return err
	}
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
