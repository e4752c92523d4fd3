package cluster

import (
	"errors"
	"fmt"

	"github.com/plezigo/plezi/dispatch"
)

// ErrUnavailable is what every Redis command returns at once while the
// broker is in an outage (see outage_redis.go); it wraps
// dispatch.ErrUnavailable.
var ErrUnavailable = fmt.Errorf("cluster: redis unavailable: %w", dispatch.ErrUnavailable)

// Errors of the Redis broker's sharded subscription (Redis Cluster).
var (
	errShardMoved = errors.New("cluster: redis shard channel moved to another master")
	errShardsDown = errors.New("cluster: redis sharded subscription not established")
)

// ErrBadURL is FromURL's answer to a URL that names no backend (a scheme
// other than redis://, rediss://, unix:// and redis+cluster://).
var ErrBadURL = errors.New("cluster: not a broker URL (want redis://, rediss://, unix:// or redis+cluster://)")

var errRedisReply = errors.New("cluster: unexpected redis reply")
