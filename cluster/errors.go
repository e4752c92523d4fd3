package cluster

import "errors"

// Errors of the Redis broker's sharded subscription (Redis Cluster).
var (
	errShardMoved = errors.New("cluster: redis shard channel moved to another master")
	errShardsDown = errors.New("cluster: redis sharded subscription not established")
)
