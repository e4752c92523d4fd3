package main

import (
	"context"
	"errors"
	"strings"
	"testing"

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
