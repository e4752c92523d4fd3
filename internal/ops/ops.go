package ops

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/plezigo/plezi/server"
)

// Config configures Mount.
type Config struct {
	// APIKey returns the key /metrics (on the server's own port) and
	// /status.json require, sent as "X-API-Key: <key>" or
	// "Authorization: apikey <key>". Called once per request,
	// concurrently; an empty key refuses every request. Required.
	APIKey func() string
	// Version is reported by plezi_info and the status feed.
	Version string
	// MetricsAddr, when set, serves /metrics on its own listener (plain
	// net/http, no key: keep it on a private interface) instead of on the
	// server's port.
	MetricsAddr string
	// StatusPaths are where the status page is served (exact paths, such
	// as "/" and "/status"); its feed is always at /status.json.
	StatusPaths []string
	Logger      *slog.Logger // nil → slog.Default()
}

// Ops is what Mount set up: the metrics registry, the handlers and the
// optional metrics listener. Close stops the listener.
type Ops struct {
	srv   *server.Server
	cfg   Config
	reg   *prometheus.Registry
	start time.Time

	ln     net.Listener // the metrics listener, or nil
	hs     *http.Server
	closed chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
}

// Mount registers the metrics of srv and adds /metrics (unless
// cfg.MetricsAddr), /status.json and the status page to srv, which must
// not be running yet; with cfg.MetricsAddr it binds that listener now and
// serves on it once srv is ready. Errors wrap ErrConfig, a failed Handle
// or the listener's bind error. Call before srv.Run, from the goroutine
// that sets srv up (like Server.Handle).
func Mount(srv *server.Server, cfg Config) (*Ops, error) {
	if srv == nil || cfg.APIKey == nil {
		return nil, fmt.Errorf("%w: a server and an APIKey function are required", ErrConfig)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	o := &Ops{srv: srv, cfg: cfg, reg: prometheus.NewRegistry(), start: time.Now(), closed: make(chan struct{})}
	if err := o.register(); err != nil {
		return nil, err
	}
	if err := o.handle(); err != nil {
		return nil, err
	}
	if cfg.MetricsAddr != "" {
		if err := o.listen(cfg.MetricsAddr); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (o *Ops) register() error {
	return errors.Join(
		o.reg.Register(newCollector(o.srv, o.cfg.Version)),
		o.reg.Register(collectors.NewGoCollector()),
		o.reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})),
	)
}

func (o *Ops) handle() error {
	errs := []error{o.srv.Handle("/status.json", guarded(o.cfg.APIKey, o.statusJSON))}
	if o.cfg.MetricsAddr == "" {
		errs = append(errs, o.srv.Handle("/metrics", guarded(o.cfg.APIKey, o.metrics)))
	}
	for _, p := range o.cfg.StatusPaths {
		errs = append(errs, o.srv.Handle(p, statusPage))
	}
	return errors.Join(errs...)
}

// Registry returns the registry the node's metrics are in (more may be
// registered). Concurrency-safe.
func (o *Ops) Registry() *prometheus.Registry { return o.reg }

// MetricsAddr returns the metrics listener's bound address, or "" without
// one. Concurrency-safe.
func (o *Ops) MetricsAddr() string {
	if o.ln == nil {
		return ""
	}
	return o.ln.Addr().String()
}

// Close stops the metrics listener and waits for it. Idempotent; call
// from one goroutine once the server stopped (or never started).
func (o *Ops) Close() error {
	var err error
	o.once.Do(func() {
		close(o.closed)
		if o.hs != nil {
			err = o.hs.Close()
			_ = o.ln.Close()
		}
		o.wg.Wait()
	})
	return err
}
