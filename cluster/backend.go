package cluster

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/plezigo/plezi/dispatch"
)

var (
	_ Backend = (*Memory)(nil)
	_ Backend = (*Redis)(nil)
)

// Backend is what FromURL returns: a broker that is also the identity
// store, closed by its owner once the servers using it have stopped. Set
// it as server.Config.Broker (the server takes the identity half from it
// too). Memory and Redis are Backends. Safe for concurrent use.
type Backend interface {
	dispatch.Broker
	dispatch.Identities
	io.Closer
}

// Option adjusts the RedisConfig FromURL connects with (its URL excepted):
// Prefix, Timeout, mailbox bounds, Logger. Options do not apply to the
// in-process Memory.
type Option func(*RedisConfig)

// WithLogger makes a Redis backend log to l (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *RedisConfig) { c.Logger = l } }

// WithSecret sets RedisConfig.Secret: every key and channel goes under a
// namespace derived from it, so nodes that do not share the secret share
// nothing in Redis. Give the hub the same secret (server.Config's
// ClusterSecret) to sign envelopes.
func WithSecret(secret string) Option { return func(c *RedisConfig) { c.Secret = secret } }

// FromURL returns the cluster backend url names, the one way to turn
// PL_REDIS_URL into a broker:
//
//	""                                      an in-process Memory (one node, or several servers of one process)
//	redis://[user:pass@]host:port/db         Redis (rediss:// with TLS, unix:///path.sock)
//	redis+cluster://h1:p1?addr=h2:p2         Redis Cluster
//
// A Redis backend is connected (one PING) before FromURL returns: an
// unreachable Redis is an error here, not a deaf node later. Any other
// scheme is ErrBadURL. The caller closes the backend after Run returns.
// Safe for concurrent use.
func FromURL(url string, opts ...Option) (Backend, error) {
	if url == "" {
		return NewMemory(), nil
	}
	if !redisScheme(url) {
		return nil, fmt.Errorf("%w: %q", ErrBadURL, redactURL(url))
	}
	cfg := RedisConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.URL = url
	r, err := NewRedis(cfg)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// redisScheme reports whether url names a Redis server or cluster.
func redisScheme(url string) bool {
	for _, s := range []string{"redis://", "rediss://", "unix://", "redis+cluster://"} {
		if strings.HasPrefix(url, s) {
			return true
		}
	}
	return false
}

// redactURL returns url's scheme only: a URL may carry a password.
func redactURL(url string) string {
	if i := strings.Index(url, "://"); i >= 0 {
		return url[:i] + "://…"
	}
	return "(no scheme)"
}
