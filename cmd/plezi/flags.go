package main

// The command's settings. Each flag has an environment twin PL_<NAME>
// (-max-message → PL_MAX_MESSAGE); a flag on the command line wins, and an
// empty PL_ value counts as unset. Every value is parsed strictly: one that
// does not parse, or is out of range, stops the command before it listens,
// with one line naming the setting, where it came from and what is allowed.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// options are the command's settings, defaults filled in by defaults.
type options struct {
	addr, static, origins                  string
	maxMessage                             int64
	compress, unicast                      bool
	handshakeTimeout, ping, idle, shutdown time.Duration
	maxOutbound, maxConns, loops, procs    int
	reusePort, lockThread, debug, quiet    bool
	redisURL, clusterSecret                string // environment only (or the config file)
	push                                   pushOptions
	limits                                 limitOptions // server.Config bounds (flags_limits.go)
	mail                                   mailOptions  // mailbox bounds (flags_limits.go)
	opsOptions                                          // config file, metrics, logging (ops.go)
}

// Bounds of the numeric settings.
const (
	maxMessageCap  = 1 << 30 // bytes
	maxOutboundCap = 1 << 40 // bytes
	loopsCap       = 256
)

func defaults() *options {
	return &options{
		addr: ":3000", maxMessage: 1 << 20, maxOutbound: 4 << 20,
		handshakeTimeout: 10 * time.Second, ping: 30 * time.Second,
		idle: 75 * time.Second, shutdown: 10 * time.Second,
		opsOptions: opsOptions{logFormat: "text", logLevel: "info"},
	}
}

// setting is one flag; its environment twin is envName(name).
type setting struct {
	name, usage string
	v           flag.Value
}

func (o *options) settings() []setting {
	bytes := func(hi int64) string { return fmt.Sprintf("a whole number of bytes from 1 to %d", hi) }
	return append([]setting{
		{"addr", "listen `host:port`", addrValue(&o.addr)},
		{"max-message", "largest inbound message in `bytes` (larger → close 1009)", int64Value(&o.maxMessage, 1, maxMessageCap, bytes(maxMessageCap))},
		{"compress", "enable permessage-deflate", boolValue(&o.compress)},
		{"static", "`directory` to serve at / instead of the demo page", dirValue(&o.static)},
		{"origins", "comma-separated allowed Origin `values`; empty allows all", originsValue(&o.origins)},
		{"handshake-timeout", "`duration` allowed to complete the upgrade request", durValue(&o.handshakeTimeout)},
		{"ping", "ping a connection quiet for this `duration`", durValue(&o.ping)},
		{"idle", "close a connection quiet for this `duration`", durValue(&o.idle)},
		{"shutdown-timeout", "bound (a `duration`) on draining at shutdown", durValue(&o.shutdown)},
		{"max-outbound", "`bytes` queued per connection before close 4008", intValue(&o.maxOutbound, 1, maxOutboundCap, bytes(maxOutboundCap))},
		{"max-conns", "TCP `connections` per node, websockets and plain HTTP alike; 0 = unlimited", intValue(&o.maxConns, 0, math.MaxInt32, fmt.Sprintf("a whole number from 0 (no cap) to %d", math.MaxInt32))},
		{"loops", "event `loops`, 0 = GOMAXPROCS", intValue(&o.loops, 0, loopsCap, fmt.Sprintf("a whole number from 0 (GOMAXPROCS) to %d", loopsCap))},
		{"procs", "GOMAXPROCS (`n`) while serving; 0 = at least loops+1, -1 = leave it", intValue(&o.procs, -1, loopsCap, fmt.Sprintf("a whole number from -1 to %d", loopsCap))},
		{"reuseport", "SO_REUSEPORT, for several processes on one port", boolValue(&o.reusePort)},
		{"lock-thread", "pin each event loop to an OS thread", boolValue(&o.lockThread)},
		{"unicast", "mount /unicast, the cross-node unicast benchmark route (S4)", boolValue(&o.unicast)},
		{"debug", "serve /debug/heap and /debug/stats", boolValue(&o.debug)},
		{"quiet", "log warnings only", boolValue(&o.quiet)},
	}, slices.Concat(o.limits.settings(), o.mail.settings(), o.push.settings(), o.opsSettings())...)
}

// envName is a flag's environment twin: "max-message" → "PL_MAX_MESSAGE".
func envName(flagName string) string {
	return "PL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse reads the settings from args, then from lookup (os.LookupEnv) for
// those args did not set. -help writes the usage to out and returns
// flag.ErrHelp. Any other error is one line naming the bad setting.
func parse(args []string, lookup func(string) (string, bool), out io.Writer) (*options, error) {
	o := defaults()
	set := o.settings()
	fs := flag.NewFlagSet("plezi", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, as one line
	fs.Usage = func() {}
	for _, s := range set {
		fs.Var(s.v, s.name, s.usage+" ("+envName(s.name)+")")
	}
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(out, fs)
		}
		return nil, err
	}
	if *showVersion {
		fmt.Fprintln(out, "plezi", buildVersion())
		return nil, errVersion
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: plezi takes flags only (plezi -help)", fs.Arg(0))
	}
	if err := o.fromEnv(fs, set, lookup); err != nil {
		return nil, err
	}
	o.redisURL, _ = lookup("PL_REDIS_URL")
	o.clusterSecret, _ = lookup("PL_CLUSTER_SECRET")
	if err := o.fromFile(fs, set, lookup); err != nil {
		return nil, err
	}
	if err := o.checkLimits(sourceOf(fs, lookup, o.configFile)); err != nil {
		return nil, err
	}
	if o.unicast && !o.push.demo {
		return nil, errors.New("-unicast (PL_UNICAST) mounts a demo route: it needs -demo (PL_DEMO) too")
	}
	return o, nil
}

// fromEnv sets each setting the command line left alone from its non-empty
// environment twin.
func (o *options) fromEnv(fs *flag.FlagSet, set []setting, lookup func(string) (string, bool)) error {
	onCmd := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCmd[f.Name] = true })
	for _, s := range set {
		v, ok := lookup(envName(s.name))
		if !ok || v == "" || onCmd[s.name] {
			continue
		}
		if err := s.v.Set(v); err != nil {
			return fmt.Errorf("invalid value %q for env %s: %w", v, envName(s.name), err)
		}
	}
	return nil
}

func usage(out io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(out, `Usage: plezi [flags]

Runs the Plezi push server (/push, the HTTP API under /api); the demo app
with -demo. Every flag has an
environment twin named in parentheses; a flag on the command line wins over
it, and an empty value counts as unset. Both win over the TOML file named by
-config (PL_CONFIG), whose keys are the flag names (max-message = 1048576,
ping = "30s"). Environment or file only: PL_REDIS_URL (share a Redis with
other nodes), PL_CLUSTER_SECRET (sign cluster envelopes).

`)
	printSettings(out, fs)
}

// value is a flag.Value parsed strictly: parse must take the whole text and
// ok (if set) must accept the result; want says what is allowed.
type value[T any] struct {
	p     *T
	parse func(string) (T, error)
	ok    func(T) bool
	want  string
}

// errWant is what every bad setting's error wraps.
var errWant = errors.New("want")

func (v *value[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil || v.ok != nil && !v.ok(x) {
		return fmt.Errorf("%w %s", errWant, v.want)
	}
	*v.p = x
	return nil
}

func (v *value[T]) String() string {
	if v == nil || v.p == nil { // flag.PrintDefaults probes a zero value
		return fmt.Sprint(*new(T))
	}
	return fmt.Sprint(*v.p)
}

// IsBoolFlag lets a bool setting stand alone ("-compress").
func (v *value[T]) IsBoolFlag() bool { _, ok := any(v.p).(*bool); return ok }

func boolValue(p *bool) flag.Value {
	return &value[bool]{p: p, parse: strconv.ParseBool, want: "true or false (or 1, 0, t, f)"}
}

func intValue(p *int, lo, hi int, want string) flag.Value {
	return &value[int]{p: p, parse: strconv.Atoi, ok: func(n int) bool { return n >= lo && n <= hi }, want: want}
}

func int64Value(p *int64, lo, hi int64, want string) flag.Value {
	parse := func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }
	return &value[int64]{p: p, parse: parse, ok: func(n int64) bool { return n >= lo && n <= hi }, want: want}
}

func durValue(p *time.Duration) flag.Value {
	return &value[time.Duration]{p: p, parse: time.ParseDuration, ok: func(d time.Duration) bool { return d > 0 },
		want: "a duration above 0 with a unit, such as 10s, 1m30s or 500ms"}
}

func addrValue(p *string) flag.Value {
	return &value[string]{p: p, parse: identity, ok: validAddr,
		want: "host:port with a port from 0 to 65535, such as :3000 or 127.0.0.1:8080"}
}

func dirValue(p *string) flag.Value {
	return &value[string]{p: p, parse: identity, ok: func(s string) bool {
		st, err := os.Stat(s)
		return s == "" || err == nil && st.IsDir()
	}, want: "an existing directory"}
}

func originsValue(p *string) flag.Value {
	return &value[string]{p: p, parse: identity, ok: validOrigins,
		want: `comma-separated origins such as https://example.com or http://localhost:3000, or "*"`}
}

func identity(s string) (string, error) { return s, nil }

func validAddr(s string) bool {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	_, err = strconv.ParseUint(port, 10, 16)
	return err == nil
}

// validOrigins accepts "*" and scheme://host[:port] entries: an entry with
// a path or no scheme could never equal a browser's Origin header.
func validOrigins(s string) bool {
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimSpace(o); o == "" || o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			return false
		}
	}
	return true
}
