package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plezigo/plezi/cluster"
)

// TestRedisURLEnv: with PL_REDIS_URL, run builds its broker with
// cluster.FromURL, so two nodes started the binary's way hear each other.
func TestRedisURLEnv(t *testing.T) {
	t.Setenv("PL_REDIS_URL", "redis://127.0.0.1:6379/0")
	n1, n2 := bootPlezi(t, "-unicast"), bootPlezi(t, "-unicast")
	a, idA := dialUnicast(t, n1.addr)
	z, idZ := dialUnicast(t, n2.addr)
	if nodeOf(idA) == nodeOf(idZ) {
		t.Fatalf("ids %s and %s name the same node", idA, idZ)
	}
	sendUntil(t, a, idZ, inbox(t, z), "across PL_REDIS_URL")
}

// TestRedisURLEnvRefused: a PL_REDIS_URL that names no Redis, or a Redis
// that does not answer, stops run with an error before it listens.
func TestRedisURLEnvRefused(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want error
	}{
		{"http://127.0.0.1:6379", cluster.ErrBadURL},
		{"redis://127.0.0.1:1/0", nil},
	} {
		t.Run(tt.url, func(t *testing.T) {
			t.Setenv("PL_REDIS_URL", tt.url)
			err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-quiet"}, func(addr string) {
				t.Errorf("listened on %s", addr)
			})
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) || tt.want == nil && !strings.Contains(err.Error(), "redis") {
				t.Fatalf("run = %v, want %v (a redis error)", err, tt.want)
			}
		})
	}
}

// TestClusterSecretNamespacesRedis: with PL_CLUSTER_SECRET, the node's
// keys live under the namespace the secret names (cluster.WithSecret), so
// nodes with another secret share nothing in Redis; without it, under the
// bare prefix.
func TestClusterSecretNamespacesRedis(t *testing.T) {
	t.Setenv("PL_REDIS_URL", "redis://127.0.0.1:6379/0")
	t.Setenv("PL_CLUSTER_SECRET", "a secret for this test only")
	n := bootPlezi(t, "-unicast")
	_, id := dialUnicast(t, n.addr)
	m := hmac.New(sha256.New, []byte("a secret for this test only"))
	m.Write([]byte("plezi-namespace"))
	key := "plezi:" + hex.EncodeToString(m.Sum(nil)[:8]) + ":nodes:" + nodeOf(id)
	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rc.Close()
	eventually(t, 5*time.Second, "the node's liveness key "+key, func() bool {
		return rc.Exists(context.Background(), key).Val() == 1
	})
	if rc.Exists(context.Background(), "plezi:nodes:"+nodeOf(id)).Val() != 0 {
		t.Fatal("the node also announced itself outside its namespace")
	}
}
