package push_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plezigo/plezi/internal/push"
	"github.com/plezigo/plezi/server"
)

// expiresIn is claims for sub whose exp is d from now (whole seconds).
func expiresIn(sub string, d time.Duration, extra ...any) (jwt.MapClaims, time.Time) {
	exp := time.Now().Add(d).Truncate(time.Second)
	c := claims(sub, extra...)
	c["exp"] = exp.Unix()
	return c, exp
}

// closedAfter waits for the connection to close with CloseTokenExpired,
// never before exp.
func (c *client) closedAfter(exp time.Time) {
	c.t.Helper()
	if code := c.closed(); code != push.CloseTokenExpired {
		c.t.Fatalf("closed with %d, want %d", code, push.CloseTokenExpired)
	}
	if now := time.Now(); now.Before(exp) {
		c.t.Fatalf("closed at %v, before the token's exp %v", now, exp)
	}
}

// TestTokenExpiry: a connection is closed with CloseTokenExpired when its
// token expires (no leeway here), whether the token is the connection's
// or a register's, unless a refresh with a valid token for the same
// subject moved the expiry; a refresh that does not check out, or names
// another subject, is refused and moves nothing; a token without exp
// never expires. The connections that must stay open prove it after the
// last one that must close has (its exp is the latest).
func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{JWTSecret: []byte(testSecret), JWTLeeway: -1}, server.Config{})
	noExp := func(sub string, extra ...any) string {
		c := claims(sub, extra...)
		delete(c, "exp")
		return token(t, testSecret, c)
	}

	// refreshed: a 2 s token, refreshed with a 1 h one that also narrows
	// the channels: the subscription it no longer allows is dropped.
	ac, _ := expiresIn("ann", 2*time.Second)
	refreshed := connect(t, n.addr, tokenQuery(token(t, testSecret, ac)), nil)
	if refreshed.ttl <= 0 || refreshed.ttl > 2000 {
		t.Fatalf("welcome ttl_ms %d, want 1 to 2000", refreshed.ttl)
	}
	refreshed.ok(1, `{"event":"subscribe","channel":"news"}`)
	refreshed.ok(2, `{"event":"subscribe","channel":"room:1"}`)
	r := refreshed.ok(3, `{"event":"refresh","token":"`+token(t, testSecret, claims("ann", "channels", []string{"room:*"}))+`"}`)
	if !strings.Contains(string(r.Data), `"unsubscribed":["news"]`) || !strings.Contains(string(r.Data), `"ttl_ms":`) {
		t.Fatalf("refresh ack %s, want ttl_ms and unsubscribed news", r.raw)
	}
	refreshed.refused(4, `{"event":"subscribe","channel":"news"}`, http.StatusForbidden)

	// never: a token without exp; welcome without ttl_ms.
	never := connect(t, n.addr, tokenQuery(noExp("cy")), nil)
	if never.ttl != 0 {
		t.Fatalf("welcome ttl_ms %d for a token without exp", never.ttl)
	}

	// refused: wrong secret, another subject, already expired, no token:
	// each an _err_, and it still closes at its exp.
	dc, dExp := expiresIn("dan", 2*time.Second)
	refused := connect(t, n.addr, tokenQuery(token(t, testSecret, dc)), nil)
	refused.refused(1, `{"event":"refresh","token":"`+token(t, "another-secret-0123456789-abcdefghij", claims("dan"))+`"}`, http.StatusUnauthorized)
	refused.refused(2, `{"event":"refresh","token":"`+token(t, testSecret, claims("eve"))+`"}`, http.StatusForbidden)
	refused.refused(3, `{"event":"refresh","token":"`+token(t, testSecret, claims("dan", "exp", time.Now().Add(-time.Minute).Unix()))+`"}`, http.StatusUnauthorized)
	refused.refused(4, `{"event":"refresh"}`, http.StatusBadRequest)

	// regShort: no exp on the connection, a 2 s register token: closes.
	regShort := connect(t, n.addr, tokenQuery(noExp("")), nil)
	rc, rExp := expiresIn("fay", 2*time.Second)
	regShort.send(`{"event":"register","token":"` + token(t, testSecret, rc) + `","_EID_":1}`)
	if ttl := regShort.expectRegistered(1, "fay"); ttl <= 0 || ttl > 2000 {
		t.Fatalf("register ack ttl_ms %d, want 1 to 2000", ttl)
	}
	// regRefreshed: the same for gus, refreshed with a token without exp.
	regRefreshed := connect(t, n.addr, tokenQuery(noExp("")), nil)
	gc, _ := expiresIn("gus", 2*time.Second)
	regRefreshed.send(`{"event":"register","token":"` + token(t, testSecret, gc) + `","_EID_":1}`)
	regRefreshed.expectRegistered(1, "gus")
	regRefreshed.send(`{"event":"refresh","token":"` + noExp("gus") + `","_EID_":2}`)
	regRefreshed.expect(`{"event":"_ack_","_EID_":2}`) // nothing expires any more

	// control: the latest exp of the ones that must close.
	bc, bExp := expiresIn("bob", 3*time.Second)
	control := connect(t, n.addr, tokenQuery(token(t, testSecret, bc)), nil)

	refused.closedAfter(dExp)
	regShort.closedAfter(rExp)
	control.closedAfter(bExp)
	for i, c := range []*client{refreshed, never, regRefreshed} {
		c.marker(n.addr, "open "+itoa(i))
	}
	mustAPI(t, n.addr, "/api/publish", `{"channel":"news","data":1}`)
	mustAPI(t, n.addr, "/api/publish", `{"channel":"room:1","data":2}`)
	refreshed.expect(`{"event":"message","channel":"room:1","data":2}`)

	st := n.svc.Stats()
	eventually(t, "expiry counts", func() bool {
		return st.Expired.Load() == 3 && st.Refreshed.Load() == 2 && st.RefreshRefused.Load() == 3 && st.Expiring.Load() == 1
	})
}

// TestTokenExpiryLeeway: by default a token is accepted, and its
// connection kept, until 30 s past its exp (clock skew), and the welcome
// says when that is.
func TestTokenExpiryLeeway(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{JWTSecret: []byte(testSecret)}, server.Config{})
	c, exp := expiresIn("ann", time.Minute)
	late := time.Until(exp.Add(30 * time.Second)).Milliseconds()
	w := connect(t, n.addr, tokenQuery(token(t, testSecret, c)), nil)
	if w.ttl > late || w.ttl < late-5000 {
		t.Fatalf("welcome ttl_ms %d, want about %d (exp + 30 s)", w.ttl, late)
	}
	// A token 10 s past its exp is still accepted, for 20 s more.
	old, _ := expiresIn("ann", -10*time.Second)
	if o := connect(t, n.addr, tokenQuery(token(t, testSecret, old)), nil); o.ttl > 20000 || o.ttl < 15000 {
		t.Fatalf("welcome ttl_ms %d for a token 10 s past exp, want about 20000", o.ttl)
	}
}
