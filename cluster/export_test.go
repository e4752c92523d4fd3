package cluster

import "testing"

// For the external tests (package cluster_test).
var StopSharedCluster = stopSharedCluster

// SharedClusterURL is the URL of the package's test Redis Cluster.
func SharedClusterURL(t testing.TB) string { return sharedCluster(t).url }
