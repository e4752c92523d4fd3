package matrix

import (
	"sync"
	"testing"
	"time"

	"github.com/plezigo/plezi/internal/testutil"
)

// One three-master Redis Cluster serves the package's run; it starts on
// first use and stopCluster (TestMain) ends it.
var shared struct {
	once sync.Once
	c    *testutil.RedisCluster
	err  error
}

// clusterURL returns the shared cluster's URL, starting it on first use.
func clusterURL(t *testing.T) string {
	t.Helper()
	shared.once.Do(func() { shared.c, shared.err = testutil.StartRedisCluster() })
	if shared.err != nil {
		t.Fatalf("redis cluster: %v", shared.err)
	}
	return shared.c.URL
}

func stopCluster() {
	if shared.c != nil {
		shared.c.Stop()
	}
}

// poll reports whether cond held within d.
func poll(d time.Duration, cond func() bool) bool { return testutil.Poll(d, cond) }
