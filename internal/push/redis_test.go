package push_test

import (
	"testing"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/internal/push"
	"github.com/plezigo/plezi/server"
)

// TestNotifyStoreDown: when the identity store (Redis) fails, /api/notify
// answers 503, never "registered":false.
func TestNotifyStoreDown(t *testing.T) {
	t.Parallel()
	addr, redis := startRedis(t)
	rb, err := cluster.NewRedis(cluster.RedisConfig{URL: "redis://" + addr + "/0", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rb.Close() }) // after the server's shutdown
	n := startNode(t, push.Config{JWTSecret: []byte(testSecret)}, server.Config{Broker: rb})
	c := connect(t, n.addr, tokenQuery(token(t, testSecret, claims("ann"))), nil)
	c.ok(1, `{"event":"register"}`)
	if m := mustAPI(t, n.addr, "/api/notify", `{"identity":"ann","data":1}`); m["registered"] != true {
		t.Fatalf("notify with Redis up: %v", m)
	}
	c.expect(`{"event":"notify","id":"1","identity":"ann","data":1}`)
	_ = redis.Process.Kill()
	eventually(t, "Redis down", func() bool {
		status, m := api(t, n.addr, testKey, "POST", "/api/notify", `{"identity":"ann","data":2}`)
		if status == 200 && m["registered"] == false {
			t.Fatalf("notify with Redis down answered registered false: %v", m)
		}
		return status == 503
	})
	if n.svc.Stats().APIFailed.Load() == 0 {
		t.Fatal("APIFailed not counted")
	}
}
