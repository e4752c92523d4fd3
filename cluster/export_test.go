package cluster

import (
	"testing"
	"time"
)

// For the external tests (package cluster_test).
var StopSharedCluster = stopSharedCluster

// SharedClusterURL is the URL of the package's test Redis Cluster.
func SharedClusterURL(t testing.TB) string { return sharedCluster(t).URL }

// CheckFor polls cond until it holds; past d the test fails.
func CheckFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	checkFor(t, d, what, cond)
}

// Poll reports whether cond held within d (polling every 20 ms).
func Poll(d time.Duration, cond func() bool) bool { return poll(d, cond) }
