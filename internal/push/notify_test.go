package push_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/plezigo/plezi/internal/push"
	"github.com/plezigo/plezi/server"
)

// TestRegisterNotify: register joins the token's sub; notifications
// arrive as {"event":"notify","id","identity","data"}; the ones sent while
// offline wait in the mailbox and "after" resumes past the ones seen.
func TestRegisterNotify(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{JWTSecret: []byte(testSecret)}, server.Config{})
	if m := mustAPI(t, n.addr, "/api/notify", `{"identity":"ann","data":1}`); m["registered"] != false {
		t.Fatalf("notify before any register: %v, want registered false", m)
	}
	tok := token(t, testSecret, claims("ann"))
	a := connect(t, n.addr, tokenQuery(token(t, testSecret, claims("someone-else"))), nil)
	a.send(`{"event":"register","token":"` + tok + `","_EID_":1}`)
	a.expectRegistered(1, "ann")
	m := mustAPI(t, n.addr, "/api/notify", `{"identity":"ann","data":{"text":"first"}}`)
	if m["registered"] != true || m["id"] != "1" {
		t.Fatalf("notify: %v", m)
	}
	a.expect(`{"event":"notify","id":"1","identity":"ann","data":{"text":"first"}}`)
	_ = a.ws.Close()
	eventually(t, "a gone", func() bool { return n.srv.Connections() == 0 })
	mustAPI(t, n.addr, "/api/notify", `{"identity":"ann","event":"invoice","data":2}`)
	mustAPI(t, n.addr, "/api/notify", `{"identity":"ann","data":[3]}`)

	b := connect(t, n.addr, tokenQuery(tok), nil)
	b.send(`{"event":"register","after":"1","_EID_":1}`) // the connection's own token
	b.expect(`{"event":"notify","id":"2","identity":"ann","name":"invoice","data":2}`)
	b.expect(`{"event":"notify","id":"3","identity":"ann","data":[3]}`)
	b.expectRegistered(1, "ann")
	_ = b.ws.Close()
	eventually(t, "b gone", func() bool { return n.srv.Connections() == 0 })

	c := connect(t, n.addr, tokenQuery(tok), nil)
	c.ok(1, `{"event":"register","after":3}`) // seen everything: nothing replayed
	c.marker(n.addr, "no backlog")
	c.refused(2, `{"event":"register","token":"`+token(t, testSecret, claims("ann", "exp", time.Now().Add(-time.Hour).Unix()))+`"}`, http.StatusUnauthorized)
	c.refused(3, `{"event":"register","token":"`+token(t, testSecret, claims(""))+`"}`, http.StatusForbidden)
}

// TestRegisterClaims: max_connections in the token lets that many
// connections hold the identity; one more closes the oldest with 4009.
// A connection registers at most MaxIdentities identities.
func TestRegisterClaims(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{JWTSecret: []byte(testSecret), MaxIdentities: 1}, server.Config{})
	tok := token(t, testSecret, claims("bob", "max_connections", 2, "lifetime", 3600))
	cs := []*client{connect(t, n.addr, tokenQuery(tok), nil), connect(t, n.addr, tokenQuery(tok), nil), connect(t, n.addr, tokenQuery(tok), nil)}
	cs[0].ok(1, `{"event":"register"}`)
	cs[1].ok(1, `{"event":"register"}`)
	mustAPI(t, n.addr, "/api/notify", `{"identity":"bob","data":"both"}`)
	cs[0].expect(`{"event":"notify","id":"1","identity":"bob","data":"both"}`)
	cs[1].expect(`{"event":"notify","id":"1","identity":"bob","data":"both"}`)
	cs[2].send(`{"event":"register","after":"1","_EID_":1}`)
	cs[2].expectRegistered(1, "bob")
	if code := cs[0].closed(); code != 4009 {
		t.Fatalf("oldest closed with %d, want 4009", code)
	}
	cs[1].ok(2, `{"event":"register"}`) // the same identity again is fine
	cs[1].refused(3, `{"event":"register","token":"`+token(t, testSecret, claims("carl"))+`"}`, http.StatusTooManyRequests)
	if got := n.svc.Stats().IdentitiesFull.Load(); got != 1 {
		t.Fatalf("IdentitiesFull = %d, want 1", got)
	}
}
