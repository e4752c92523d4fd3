package cluster_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plezigo/plezi/cluster"
)

// TestFromURL: "" is an in-process Memory, a URL of another scheme is
// ErrBadURL (without echoing a password), an unreachable Redis an error at
// once rather than a deaf node later.
func TestFromURL(t *testing.T) {
	t.Parallel()
	b, err := cluster.FromURL("")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.(*cluster.Memory); !ok {
		t.Fatalf(`FromURL("") = %T, want *cluster.Memory`, b)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"http://127.0.0.1:6379", "127.0.0.1:6379", "mysql://user:s3cret@host/db"} {
		_, err := cluster.FromURL(u)
		if !errors.Is(err, cluster.ErrBadURL) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("FromURL(%q) = %v, want ErrBadURL without the password", u, err)
		}
	}
	start := time.Now()
	_, err = cluster.FromURL("redis://127.0.0.1:1/0", func(c *cluster.RedisConfig) { c.Timeout = time.Second })
	if err == nil || !strings.Contains(err.Error(), "redis") {
		t.Fatalf("FromURL(unreachable) = %v, want a redis error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("FromURL(unreachable) took %v", d)
	}
}
