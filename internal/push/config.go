package push

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// Config configures the push server. Zero values get the documented
// defaults, filled in by Mount.
type Config struct {
	// Path is the websocket endpoint; default "/push".
	Path string
	// APIPrefix is the base path of the HTTP API; default "/api".
	APIPrefix string
	// APIKey authenticates the HTTP API (X-API-Key or "Authorization:
	// apikey ..."). Empty: Mount generates a random one for this run
	// (Service.APIKey reports it, for the start-up log).
	APIKey string

	// JWTSecret turns on token auth with HS256; JWTPublicKey (PEM) with
	// RS256 (an RSA key) or ES256 (a P-256 key). At most one of them.
	// Without either, connections are anonymous and "register" is refused.
	JWTSecret    []byte
	JWTPublicKey []byte
	// JWTAudience, when set, must be in a token's "aud"; JWTIssuer, when
	// set, must be its "iss".
	JWTAudience, JWTIssuer string
	// JWTLeeway is the clock skew tolerated on a token's "exp" and "nbf":
	// a token is accepted until exp + JWTLeeway, and a connection is
	// closed with CloseTokenExpired then. Default 30 s; negative: none.
	JWTLeeway time.Duration

	// ClientPublish lists the channel globs (Redis-style, as
	// dispatch.MatchGlob) a client may publish to; none by default, so
	// clients cannot publish.
	ClientPublish []string

	// MaxBody caps an API request body; past it → 413. Default 1 MiB (the
	// server's own MaxBody applies first).
	MaxBody int64
	// MaxBatch caps the items of one /api/batch; past it → 413. Default 1000.
	MaxBatch int
	// MaxChannels caps the channels one connection subscribes to; past it
	// the subscribe answers 429 (Stats.ChannelsFull). Default 64.
	MaxChannels int
	// MaxIdentities caps the identities one connection registers; past it
	// the register answers 429 (Stats.IdentitiesFull). Default 4.
	MaxIdentities int
	// MaxName caps the bytes of a channel, event, controller, identity or
	// connection id; past it → 400. Default 256.
	MaxName int
	// MaxNodes caps the other nodes whose stats a node keeps (Stats.
	// NodesFull counts the ones it had to ignore). Default 1024.
	MaxNodes int
	// StatsEvery is how often a node shares its counts with the others
	// over the broker (for /api/stats); a node not heard for 3 × StatsEvery
	// is left out. Default 2 s.
	StatsEvery time.Duration
	// Logger gets the start-up lines; default slog.Default().
	Logger *slog.Logger
}

func (c *Config) fill() {
	if c.Path == "" {
		c.Path = "/push"
	}
	if c.APIPrefix == "" {
		c.APIPrefix = "/api"
	}
	c.MaxBody = orDefault(c.MaxBody, 1<<20)
	c.MaxBatch = orDefault(c.MaxBatch, 1000)
	c.MaxChannels = orDefault(c.MaxChannels, 64)
	c.MaxIdentities = orDefault(c.MaxIdentities, 4)
	c.MaxName = orDefault(c.MaxName, 256)
	c.MaxNodes = orDefault(c.MaxNodes, 1024)
	c.StatsEvery = orDefault(c.StatsEvery, 2*time.Second)
	switch {
	case c.JWTLeeway == 0:
		c.JWTLeeway = 30 * time.Second
	case c.JWTLeeway < 0:
		c.JWTLeeway = -1 // none; fill may run again
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

func orDefault[T int | int64 | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

// Stats are the push server's counters, safe for concurrent reads (Load).
type Stats struct {
	// Unauthorized counts upgrades refused with 401 (no token, or a token
	// that did not check out).
	Unauthorized atomic.Int64
	// Denied counts subscribes, publishes and registers refused with 403
	// (channel not allowed, client publishing off, no token).
	Denied atomic.Int64
	// BadFrames counts client frames answered 400 or closed (not JSON,
	// binary, missing fields).
	BadFrames atomic.Int64
	// ChannelsFull and IdentitiesFull count subscribes and registers past
	// MaxChannels and MaxIdentities.
	ChannelsFull, IdentitiesFull atomic.Int64
	// APICalls counts API requests answered 2xx; APIUnauthorized those
	// answered 401; APIRefused those answered 400, 405 or 413; APIFailed
	// those answered 503 (the identity store failed).
	APICalls, APIUnauthorized, APIRefused, APIFailed atomic.Int64
	// NodesFull counts stats messages of other nodes ignored because
	// MaxNodes were known; BadStats the messages of other nodes (stats,
	// disconnects) that did not parse.
	NodesFull, BadStats atomic.Int64
	// Expiring is a gauge: the open connections whose token expiry this
	// node watches (at most one entry each). Expired counts connections
	// closed with CloseTokenExpired; Refreshed the refresh events that
	// moved a deadline; RefreshRefused those answered 401 or 403 (the
	// token did not check out, or named another subject).
	Expiring, Expired, Refreshed, RefreshRefused atomic.Int64
}
