package push_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/plezigo/plezi/internal/push"
	"github.com/plezigo/plezi/server"
)

// goodBodies is one good request per POST endpoint.
var goodBodies = map[string]string{
	"publish":    `{"channel":"news","data":{"a":1}}`,
	"multicast":  `{"event":"hello","args":[1]}`,
	"broadcast":  `{"controller":"push","event":"hello","args":[]}`,
	"unicast":    `{"id":"nonode-1","event":"hello"}`,
	"notify":     `{"identity":"nobody","event":"hello","data":null}`,
	"disconnect": `{"id":"nonode-1"}`,
	"batch":      `[{"op":"publish","channel":"news","data":1}]`,
}

// TestAPIEndpoints: every endpoint answers 200 to a good request, 401
// without the key or with a wrong one, 400 naming the field to a bad body,
// 413 past the body limit and 405 to a wrong method.
func TestAPIEndpoints(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{MaxBody: 1024}, server.Config{})
	big := `{"channel":"news","data":"` + strings.Repeat("x", 1100) + `"}`
	for name, body := range goodBodies {
		path := "/api/" + name
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if status, m := api(t, n.addr, testKey, "POST", path, body); status != 200 || m["ok"] != true {
				t.Fatalf("good: %d %v", status, m)
			}
			for _, key := range []string{"", "wrong-key-0123456789"} {
				if status, m := api(t, n.addr, key, "POST", path, body); status != 401 || m["ok"] != false {
					t.Fatalf("key %q: %d %v, want 401", key, status, m)
				}
			}
			for _, bad := range []string{``, `{`, `{"zzz":1}`, `[1]`, `{"channel":"x"} {}`} {
				if name == "batch" && bad == `[1]` {
					continue // a batch whose item is bad: that item answers 400 (TestAPIBatch)
				}
				status, m := api(t, n.addr, testKey, "POST", path, bad)
				if status != 400 || m["ok"] != false || m["error"] == "" {
					t.Fatalf("body %q: %d %v, want 400", bad, status, m)
				}
			}
			if status, _ := api(t, n.addr, testKey, "POST", path, big); status != 413 {
				t.Fatalf("%d-byte body: %d, want 413", len(big), status)
			}
			for _, method := range []string{"GET", "PUT", "DELETE"} {
				if status, _ := api(t, n.addr, testKey, method, path, body); status != 405 {
					t.Fatalf("%s: %d, want 405", method, status)
				}
			}
		})
	}
}

// TestAPIFields: a bad body names the field at fault.
func TestAPIFields(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{}, server.Config{})
	for _, tt := range []struct{ path, body, field string }{
		{"publish", `{"data":1}`, "channel"},
		{"publish", `{"channel":3}`, "channel"},
		{"publish", `{"chanel":"x"}`, "chanel"},
		{"multicast", `{"args":[]}`, "event"},
		{"multicast", `{"event":"x","args":{}}`, "args"},
		{"multicast", `{"event":"_ack_"}`, "event"},
		{"broadcast", `{"event":"x"}`, "controller"},
		{"unicast", `{"event":"x"}`, "id"},
		{"notify", `{"data":1}`, "identity"},
		{"notify", `{"identity":"a","event":7}`, "event"},
		{"disconnect", `{"id":5}`, "id"},
	} {
		status, m := api(t, n.addr, testKey, "POST", "/api/"+tt.path, tt.body)
		if status != 400 || m["field"] != tt.field {
			t.Errorf("%s %s: %d %v, want 400 naming %q", tt.path, tt.body, status, m, tt.field)
		}
	}
}

// TestAPIAuthForms: "Authorization: apikey <key>" works like X-API-Key;
// other schemes do not. GET /api/stats counts connections per controller.
func TestAPIAuthForms(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{}, server.Config{})
	c := connect(t, n.addr, "", nil)
	c.ok(1, `{"event":"subscribe","channel":"news"}`)
	for auth, want := range map[string]int{"apikey " + testKey: 200, "ApiKey  " + testKey: 200, "Bearer " + testKey: 401, testKey: 401} {
		req, _ := http.NewRequest("GET", "http://"+n.addr+"/api/stats", nil)
		req.Header.Set("Authorization", auth)
		status, m := do(t, req)
		if status != want {
			t.Fatalf("Authorization %q: %d %v, want %d", auth, status, m, want)
		}
		if status != 200 {
			continue
		}
		conns, _ := m["connections"].(map[string]any)
		if m["node"] != n.srv.Hub().Node() || conns["total"] != 1.0 || conns["push"] != 1.0 || m["channels"] != 1.0 {
			t.Fatalf("stats %v", m)
		}
	}
	if status, _ := api(t, n.addr, testKey, "POST", "/api/stats", ""); status != 405 {
		t.Fatalf("POST /api/stats: %d, want 405", status)
	}
	if status, m := api(t, n.addr, testKey, "POST", "/api/nothing", "{}"); status != 404 || m["ok"] != false {
		t.Fatalf("unknown endpoint: %d %v, want 404", status, m)
	}
	if got := n.svc.Stats().APIUnauthorized.Load(); got != 2 {
		t.Fatalf("APIUnauthorized = %d, want 2", got)
	}
}

// TestAPIBatch: one answer per item, in order, each with its status; a
// bad item does not stop the others; more than MaxBatch items is 413.
func TestAPIBatch(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{MaxBatch: 3}, server.Config{})
	c := connect(t, n.addr, "", nil)
	c.ok(1, `{"event":"subscribe","channel":"news"}`)
	m := mustAPI(t, n.addr, "/api/batch", `[
		{"op":"publish","channel":"news","data":1},
		{"op":"unicast","id":"`+c.id+`","event":"hi"},
		{"op":"notify","identity":"nobody"}]`)
	res, _ := m["results"].([]any)
	if len(res) != 3 {
		t.Fatalf("batch: %v", m)
	}
	for i, want := range []map[string]any{
		{"ok": true, "status": 200.0},
		{"ok": true, "delivered": true, "status": 200.0},
		{"ok": true, "registered": false, "status": 200.0},
	} {
		got, _ := res[i].(map[string]any)
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("result %d: %v, want %v", i, got, want)
			}
		}
	}
	c.expect(`{"event":"message","channel":"news","data":1}`)
	c.expect(`{"event":"hi"}`)
	m = mustAPI(t, n.addr, "/api/batch", `[{"op":"batch"},{"op":"publish"},{"op":"publish","channel":"news","data":2}]`)
	res, _ = m["results"].([]any)
	for i, st := range []float64{400, 400, 200} {
		if got, _ := res[i].(map[string]any); got["status"] != st {
			t.Fatalf("result %d: %v, want status %v", i, got, st)
		}
	}
	c.expect(`{"event":"message","channel":"news","data":2}`)
	if status, _ := api(t, n.addr, testKey, "POST", "/api/batch", `[{},{},{},{}]`); status != 413 {
		t.Fatalf("4 items over MaxBatch 3: %d, want 413", status)
	}
	if status, _ := api(t, n.addr, testKey, "POST", "/api/batch", `{"op":"publish"}`); status != 400 {
		t.Fatalf("batch of an object: %d, want 400", status)
	}
}
