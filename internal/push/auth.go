package push

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plezigo/plezi/dispatch"
)

// Claims are what a verified token grants. Read-only once checked; a
// connection keeps its own.
type Claims struct {
	jwt.RegisteredClaims
	// Channels, when present, lists the channel globs the connection may
	// subscribe and publish to; absent allows every channel.
	Channels *[]string `json:"channels,omitempty"`
	// Lifetime (seconds) and MaxConnections set the identity's
	// registration (dispatch.Lifetime, dispatch.MaxConnections); 0 keeps
	// the library's defaults (7 days, 1).
	Lifetime       int64 `json:"lifetime,omitempty"`
	MaxConnections int   `json:"max_connections,omitempty"`
}

// allows reports whether the claims let the connection use channel.
// Nil claims (anonymous) allow every channel.
func (c *Claims) allows(channel string) bool {
	if c == nil || c.Channels == nil {
		return true
	}
	return matchAny(*c.Channels, channel)
}

// registerOptions are the identity registration the claims ask for.
func (c *Claims) registerOptions(after uint64) []dispatch.RegisterOption {
	opts := []dispatch.RegisterOption{dispatch.After(after)}
	if c.Lifetime > 0 {
		opts = append(opts, dispatch.Lifetime(time.Duration(min(c.Lifetime, maxLifetime))*time.Second))
	}
	if c.MaxConnections > 0 {
		opts = append(opts, dispatch.MaxConnections(c.MaxConnections))
	}
	return opts
}

// maxLifetime (seconds, 10 years) keeps a lifetime claim within a Duration.
const maxLifetime = 10 * 365 * 24 * 3600

// deadline is when the server stops accepting the claims' token, in unix
// nanos: its "exp" plus leeway. 0 when it has no exp, or one more than
// maxLifetime away (it is not watched: a far exp is as good as none, and
// stays within int64 nanos).
func (c *Claims) deadline(leeway time.Duration, now time.Time) int64 {
	if c == nil || c.ExpiresAt == nil {
		return 0
	}
	at := c.ExpiresAt.Add(max(0, leeway))
	if at.After(now.Add(maxLifetime * time.Second)) {
		return 0
	}
	return at.UnixNano()
}

func matchAny(globs []string, s string) bool {
	for _, g := range globs {
		if dispatch.MatchGlob(g, s) {
			return true
		}
	}
	return false
}

// verifier checks tokens with github.com/golang-jwt/jwt/v5: one algorithm,
// one key, the configured audience and issuer, exp and nbf. Immutable,
// safe for concurrent use.
type verifier struct {
	key    any
	parser *jwt.Parser
	alg    string
	leeway time.Duration // on exp and nbf
}

// newVerifier builds the verifier cfg asks for; nil when cfg has no key.
func newVerifier(cfg *Config) (*verifier, error) {
	if len(cfg.JWTSecret) > 0 && len(cfg.JWTPublicKey) > 0 {
		return nil, fmt.Errorf("%w: a JWT secret and a public key; give one", ErrConfig)
	}
	v := &verifier{leeway: max(0, cfg.JWTLeeway)}
	switch {
	case len(cfg.JWTSecret) > 0:
		v.key, v.alg = cfg.JWTSecret, "HS256"
	case len(cfg.JWTPublicKey) > 0:
		if err := v.publicKey(cfg.JWTPublicKey); err != nil {
			return nil, err
		}
	default:
		return nil, nil
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{v.alg}), jwt.WithLeeway(v.leeway)}
	if cfg.JWTAudience != "" {
		opts = append(opts, jwt.WithAudience(cfg.JWTAudience))
	}
	if cfg.JWTIssuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.JWTIssuer))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// publicKey takes an RSA (RS256) or EC P-256 (ES256) public key in PEM.
func (v *verifier) publicKey(pem []byte) error {
	if k, err := jwt.ParseRSAPublicKeyFromPEM(pem); err == nil {
		v.key, v.alg = k, "RS256"
		return nil
	}
	k, err := jwt.ParseECPublicKeyFromPEM(pem)
	if err != nil {
		return fmt.Errorf("%w: JWT public key: not an RSA or EC public key in PEM", ErrConfig)
	}
	if k.Curve.Params().Name != "P-256" {
		return fmt.Errorf("%w: JWT public key: EC curve %s, want P-256 (ES256)", ErrConfig, k.Curve.Params().Name)
	}
	v.key, v.alg = k, "ES256"
	return nil
}

// check verifies token and returns its claims, or an error wrapping
// ErrToken (or ErrNoToken) that says why.
func (v *verifier) check(token string) (*Claims, error) {
	if token == "" {
		return nil, ErrNoToken
	}
	var c Claims
	_, err := v.parser.ParseWithClaims(token, &c, v.keyFor)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrToken, reason(err))
	}
	return &c, nil
}

// keyFor is the jwt.Keyfunc: one key, its algorithm pinned by the parser
// (WithValidMethods), so a token cannot pick another.
func (v *verifier) keyFor(*jwt.Token) (any, error) { return v.key, nil }

// reason is a short, client-safe account of a jwt error.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "signature does not verify"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	}
	return "invalid"
}

// bearer returns the token of an "Authorization: Bearer <token>" value.
func bearer(h string) string {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
