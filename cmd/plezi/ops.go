package main

// The operations settings and their wiring: config file, API key, metrics
// listener, logging, drain delay (internal/ops serves /metrics and the
// status page).

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/plezigo/plezi/internal/ops"
	"github.com/plezigo/plezi/server"
)

// opsOptions are the operations settings (embedded in options).
type opsOptions struct {
	configFile, metricsAddr string
	logFormat, logLevel     string
	drainDelay              time.Duration
}

func (o *options) opsSettings() []setting {
	return []setting{
		{"config", "TOML `file` of settings, keys named like the flags (flags and env override it)", fileValue(&o.configFile)},
		{"metrics-addr", "serve /metrics, without the key, on this `host:port` instead of the main port", addrValue(&o.metricsAddr)},
		{"log-format", "log `format`: text or json", enumValue(&o.logFormat, "text", "json")},
		{"log-level", "log `level`: debug, info, warn or error (-quiet: at least warn)", enumValue(&o.logLevel, "debug", "info", "warn", "error")},
		{"drain-delay", "at shutdown, /readyz answers 503 this `duration` before the drain (0 = none)", durZeroValue(&o.drainDelay)},
	}
}

func enumValue(p *string, allowed ...string) flag.Value {
	return &value[string]{p: p, parse: identity, ok: func(s string) bool { return slices.Contains(allowed, s) },
		want: "one of " + strings.Join(allowed, ", ")}
}

func durZeroValue(p *time.Duration) flag.Value {
	return &value[time.Duration]{p: p, parse: time.ParseDuration, ok: func(d time.Duration) bool { return d >= 0 },
		want: "a duration of 0 or more with a unit, such as 0s, 5s or 500ms"}
}

// logger is the slog logger the settings ask for, writing to w.
func (o *options) logger(w io.Writer) *slog.Logger {
	level := map[string]slog.Level{"debug": slog.LevelDebug, "warn": slog.LevelWarn, "error": slog.LevelError}[o.logLevel]
	if o.quiet {
		level = max(level, slog.LevelWarn)
	}
	ho := &slog.HandlerOptions{Level: level}
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}

// mountOps adds /metrics (or its listener), /status.json and the status
// page to srv; key is the API key (the push server's, configured or
// generated). Close the result after srv.Run returned.
func mountOps(srv *server.Server, o *options, log *slog.Logger, key string) (*ops.Ops, error) {
	return ops.Mount(srv, ops.Config{
		APIKey: func() string { return key }, Version: buildVersion(), MetricsAddr: o.metricsAddr,
		StatusPaths: statusPaths(o), Logger: log,
	})
}

// statusPaths are where the status page is served: /status always, and /
// when the demo page (or -static) does not hold it.
func statusPaths(o *options) []string {
	if demoAtRoot(o) {
		return []string{"/status"}
	}
	return []string{"/", "/status"}
}

// demoAtRoot reports whether "/" serves the demo page or -static.
func demoAtRoot(o *options) bool { return o.push.demo || o.static != "" }

// printSettings writes every setting with its environment twin and
// default, then the environment-only ones.
func printSettings(out io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if name != "" {
			name = " " + name
		}
		fmt.Fprintf(out, "  -%s%s\n    \t%s", f.Name, name, usage)
		if f.DefValue != "" {
			fmt.Fprintf(out, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(out)
	})
	fmt.Fprint(out, `  PL_REDIS_URL (config file: redis-url)
    	share a Redis with other nodes: redis://host:6379/0, or redis+cluster://h1:7000?addr=h2:7001 (default: none, one node)
  PL_CLUSTER_SECRET (config file: cluster-secret)
    	sign and check cluster envelopes with this secret (default: none)
`)
}
