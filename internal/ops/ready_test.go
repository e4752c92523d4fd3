package ops_test

import (
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/internal/ops"
	"github.com/plezigo/plezi/server"
)

// TestReadyzRedisDown: when the node's Redis goes away the node hears no
// cluster: /readyz answers 503 and the metrics say not ready and
// unhealthy, while /healthz (liveness) stays 200; with Redis back it is
// ready again.
func TestReadyzRedisDown(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	redis := startRedis(t, port)
	b, err := cluster.NewRedis(cluster.RedisConfig{URL: "redis://127.0.0.1:" + strconv.Itoa(port), Probe: 100 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() }) // after the server stopped (cleanups run last first)
	n := start(t, server.Config{Broker: b}, ops.Config{})
	base, key := "http://"+n.srv.Addr(), "X-API-Key: "+testKey
	status := func(path string) int { resp, _ := get(t, base+path); return resp.StatusCode }
	if status("/readyz") != 200 || status("/healthz") != 200 {
		t.Fatal("not ready with Redis up")
	}
	_ = redis.Process.Kill()
	_ = redis.Wait()
	eventually(t, "/readyz 503 with Redis down", func() bool { return status("/readyz") == http.StatusServiceUnavailable })
	if status("/healthz") != 200 {
		t.Fatal("/healthz failed with Redis down: it is liveness")
	}
	if m := scrape(t, base+"/metrics", key); m.v("plezi_ready") != 0 || m.v("plezi_broker_healthy") != 0 {
		t.Fatalf("Redis down: plezi_ready %v, plezi_broker_healthy %v", m.v("plezi_ready"), m.v("plezi_broker_healthy"))
	}
	redis = startRedis(t, port)
	defer func() { _ = redis.Process.Kill(); _ = redis.Wait() }()
	eventually(t, "/readyz 200 again", func() bool { return status("/readyz") == 200 })
	if m := scrape(t, base+"/metrics", key); m.v("plezi_ready") != 1 || m.v("plezi_redis_deaf_total") < 0 {
		t.Fatalf("after: plezi_ready %v, plezi_redis_deaf_total %v", m.v("plezi_ready"), m.v("plezi_redis_deaf_total"))
	}
}

// startRedis runs a private redis-server on port (this test kills it).
func startRedis(t *testing.T, port int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server: %v", err)
	}
	eventually(t, "redis-server up", func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
	return cmd
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
