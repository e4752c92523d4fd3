package push_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plezigo/plezi/internal/push"
	"github.com/plezigo/plezi/server"
)

// TestConnectTokens: with a JWT secret, an upgrade without a valid token is
// refused with 401 before the upgrade; a good one connects by ?token= or
// Authorization: Bearer.
func TestConnectTokens(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{JWTSecret: []byte(testSecret), JWTAudience: "web"}, server.Config{})
	good := token(t, testSecret, claims("ann", "aud", "web"))
	connect(t, n.addr, tokenQuery(good), nil)
	connect(t, n.addr, "", http.Header{"Authorization": {"Bearer " + good}})
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims("ann", "aud", "web")).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{
		"missing":        "",
		"garbage":        tokenQuery("not.a.jwt"),
		"expired":        tokenQuery(token(t, testSecret, claims("ann", "aud", "web", "exp", time.Now().Add(-time.Hour).Unix()))),
		"wrong secret":   tokenQuery(token(t, "another-secret-0123456789-abcdefghij", claims("ann", "aud", "web"))),
		"wrong audience": tokenQuery(token(t, testSecret, claims("ann", "aud", "mobile"))),
		"no audience":    tokenQuery(token(t, testSecret, claims("ann"))),
		"alg none":       tokenQuery(none),
		"not yet valid":  tokenQuery(token(t, testSecret, claims("ann", "aud", "web", "nbf", time.Now().Add(time.Hour).Unix()))),
	}
	for name, q := range bad {
		_, status, err := tryConnect(n.addr, q, nil)
		if err == nil || status != http.StatusUnauthorized {
			t.Errorf("%s token: status %d, err %v; want a 401 refusal", name, status, err)
		}
	}
	if got := n.svc.Stats().Unauthorized.Load(); got != int64(len(bad)) {
		t.Fatalf("Unauthorized = %d, want %d", got, len(bad))
	}
}

// TestChannelsClaim: a token's channels claim (globs) limits subscribe
// (403 otherwise); a token without it may use every channel.
func TestChannelsClaim(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{JWTSecret: []byte(testSecret), ClientPublish: []string{"*"}}, server.Config{})
	c := connect(t, n.addr, tokenQuery(token(t, testSecret, claims("ann", "channels", []string{"news", "room:*"}))), nil)
	c.ok(1, `{"event":"subscribe","channel":"news"}`)
	c.ok(2, `{"event":"subscribe","channel":"room:42"}`)
	c.refused(3, `{"event":"subscribe","channel":"admin"}`, http.StatusForbidden)
	c.refused(4, `{"event":"publish","channel":"admin","data":1}`, http.StatusForbidden)
	empty := connect(t, n.addr, tokenQuery(token(t, testSecret, claims("bob", "channels", []string{}))), nil)
	empty.refused(1, `{"event":"subscribe","channel":"news"}`, http.StatusForbidden)
	all := connect(t, n.addr, tokenQuery(token(t, testSecret, claims("cy"))), nil)
	all.ok(1, `{"event":"subscribe","channel":"admin"}`)
}

// TestAnonymous: without a JWT key every connection is anonymous, and
// register and refresh are refused (nothing could vouch for the identity).
func TestAnonymous(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{}, server.Config{})
	c := connect(t, n.addr, tokenQuery(token(t, testSecret, claims("ann", "channels", []string{}))), nil)
	c.ok(1, `{"event":"subscribe","channel":"anything"}`) // the unverifiable claim is ignored
	c.refused(2, `{"event":"register","token":"x"}`, http.StatusForbidden)
	c.refused(3, `{"event":"refresh","token":"x"}`, http.StatusForbidden)
}

// TestPublicKeys: RS256 and ES256 tokens verify against a PEM public key;
// an HS256 token (the algorithm-confusion attack: the public key as an
// HMAC secret) and one of another key are refused.
func TestPublicKeys(t *testing.T) {
	t.Parallel()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, tt := range []struct {
		name   string
		pub    any
		method jwt.SigningMethod
		priv   any
	}{{"RS256", &rk.PublicKey, jwt.SigningMethodRS256, rk}, {"ES256", &ek.PublicKey, jwt.SigningMethodES256, ek}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			der, err := x509.MarshalPKIXPublicKey(tt.pub)
			if err != nil {
				t.Fatal(err)
			}
			pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			n := startNode(t, push.Config{JWTPublicKey: pemKey}, server.Config{})
			sign := func(m jwt.SigningMethod, key any) string {
				s, err := jwt.NewWithClaims(m, claims("ann")).SignedString(key)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			connect(t, n.addr, tokenQuery(sign(tt.method, tt.priv)), nil)
			for name, tok := range map[string]string{
				"hs256 with the public key": sign(jwt.SigningMethodHS256, pemKey),
				"another key":               sign(jwt.SigningMethodES256, other),
			} {
				if _, status, _ := tryConnect(n.addr, tokenQuery(tok), nil); status != http.StatusUnauthorized {
					t.Errorf("%s: status %d, want 401", name, status)
				}
			}
		})
	}
}

// TestMountRefusesBadKeys: a secret and a public key together, and a
// public key that is not one, stop Mount.
func TestMountRefusesBadKeys(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]push.Config{
		"both":       {JWTSecret: []byte(testSecret), JWTPublicKey: []byte("x")},
		"not a key":  {JWTPublicKey: []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")},
		"empty glob": {ClientPublish: []string{""}},
	} {
		if _, err := push.Mount(server.New(server.Config{Logger: quiet}), cfg); !errors.Is(err, push.ErrConfig) {
			t.Errorf("%s: Mount = %v, want ErrConfig", name, err)
		}
	}
}
