package push

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/apikey"
	"github.com/plezigo/plezi/server"
)

// Service is the push server mounted on one server.Server: the /push
// route, the HTTP API and the stats it shares with the other nodes. Its
// methods are safe for concurrent use.
type Service struct {
	srv       *server.Server
	hub       *dispatch.Hub
	cfg       Config
	verify    *verifier // nil: anonymous connections
	key       apikey.Key
	generated bool // the API key was made by Mount
	stats     Stats
	nodes     *nodeTable
	expiry    *expiries // the token deadlines of this node's connections
	holders   holders   // identity → this node's connections registered as it
}

// Mount adds the push server to srv, before srv.Run: the websocket route
// cfg.Path and the HTTP API under cfg.APIPrefix. It fails for a Config it
// cannot serve (a bad JWT key, both a secret and a public key) and when
// srv refuses a route. Call Run alongside srv.Run for the start-up log,
// the cluster-wide stats and the other nodes' disconnects by identity.
func Mount(srv *server.Server, cfg Config) (*Service, error) {
	cfg.fill()
	s := &Service{srv: srv, hub: srv.Hub(), cfg: cfg}
	var err error
	if s.verify, err = newVerifier(&s.cfg); err != nil {
		return nil, err
	}
	for _, g := range cfg.ClientPublish {
		if g == "" {
			return nil, fmt.Errorf("%w: an empty client-publish glob", ErrConfig)
		}
	}
	if cfg.APIKey == "" {
		cfg.APIKey, s.generated = rand.Text(), true
		s.cfg.APIKey = cfg.APIKey
	}
	s.key = apikey.New(cfg.APIKey)
	s.nodes = newNodeTable(cfg.MaxNodes, 3*cfg.StatsEvery)
	s.expiry = &expiries{stats: &s.stats}
	// The protocol is push's own (OnMessage), and server-side events reach
	// its clients as {"event","args"} frames: a raw route that forwards.
	err = srv.Route(cfg.Path, func() dispatch.Controller { return &Push{svc: s} }, dispatch.AutoDispatch(false), dispatch.ForwardEvents(true))
	if err != nil {
		return nil, err
	}
	if err := s.mountAPI(); err != nil {
		return nil, err
	}
	return s, nil
}

// Stats returns the service's counters.
func (s *Service) Stats() *Stats { return &s.stats }

// APIKey returns the API key and whether Mount generated it (no key was
// configured). Only a generated key belongs in a log.
func (s *Service) APIKey() (key string, generated bool) { return s.cfg.APIKey, s.generated }

// Run waits until the server listens, logs the start-up lines once, then
// shares this node's counts with the other nodes over the server's broker
// (when it has one), and closes this node's connections of an identity
// another node's /api/disconnect names, until ctx ends. It returns ctx's error, or nil when
// the server stopped before it was ready.
func (s *Service) Run(ctx context.Context) error {
	select {
	case <-s.srv.Ready():
	case <-ctx.Done():
		return ctx.Err()
	}
	s.logStart(s.srv.Addr())
	b := s.srv.Broker()
	if b == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.share(ctx, b)
}

// logStart writes the endpoints, the auth mode and a generated API key.
func (s *Service) logStart(addr string) {
	log, host := s.cfg.Logger, displayHost(addr)
	log.Info("push: websocket endpoint", "url", "ws://"+host+s.cfg.Path)
	log.Info("push: HTTP API", "url", "http://"+host+s.cfg.APIPrefix)
	if s.generated {
		log.Warn("push: no API key configured (-api-key, PL_API_KEY); generated one for this run", "api_key", s.cfg.APIKey)
	}
	if s.verify == nil {
		log.Warn("push: no JWT key (-jwt-secret, -jwt-public-key): anonymous connections allowed, register refused")
	} else {
		log.Info("push: connections need a JWT", "alg", s.verify.alg, "audience", s.cfg.JWTAudience, "issuer", s.cfg.JWTIssuer)
	}
	if len(s.cfg.ClientPublish) == 0 {
		log.Info("push: client publishing off")
	} else {
		log.Info("push: client publishing allowed", "channels", strings.Join(s.cfg.ClientPublish, ","))
	}
}

// displayHost is addr with an unspecified host shown as localhost.
func displayHost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func itoa(n int) string { return strconv.Itoa(n) }
