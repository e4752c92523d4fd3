package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plezigo/plezi/dispatch"
)

// Node liveness: <p>:nodes:<id> is "1" with the announcement's TTL, and
// "0" for a while once the node retired (stopped): known dead. Two more
// keys keep a Redis that lost its data, or froze past the TTLs, from
// declaring every node dead before the nodes had a chance to announce
// again: <p>:nodes-epoch (no TTL) is set by every announcement when
// missing, and <p>:nodes-restored (TTL 2 × dispatch.NodeTTL) is set when
// the epoch is new and whenever a node restores its state after an
// outage. A node is dead only when its key is gone while the epoch exists
// and no restoration is recent.

// restoreGrace is how long after a restoration a missing liveness key is
// not taken as a dead node: every live node re-announces within it.
const restoreGrace = 2 * dispatch.NodeTTL

// Announce sets <p>:nodes:<node> for ttl; ttl 0 retires the node.
func (r *Redis) Announce(node string, ttl time.Duration) error {
	return r.do("announce", func(ctx context.Context) error {
		if ttl <= 0 {
			return r.c.Set(ctx, r.key("nodes:"+node), 0, restoreGrace).Err()
		}
		var epoch *redis.BoolCmd
		_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, r.key("nodes:"+node), 1, ttl)
			epoch = p.SetNX(ctx, r.key("nodes-epoch"), 1, 0)
			return nil
		})
		if err == nil && epoch.Val() {
			err = r.c.Set(ctx, r.key("nodes-restored"), 1, restoreGrace).Err()
		}
		return err
	})
}

// Alive reports whether <p>:nodes:<node> is set; also true, unless the
// node retired, when Redis lost its data or a node restored it lately
// (see above). One round trip.
func (r *Redis) Alive(node string) (bool, error) {
	var n *redis.StringCmd
	var epoch, restored *redis.IntCmd
	err := r.do("alive", func(ctx context.Context) error {
		_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			n = p.Get(ctx, r.key("nodes:"+node))
			epoch = p.Exists(ctx, r.key("nodes-epoch"))
			restored = p.Exists(ctx, r.key("nodes-restored"))
			return nil
		})
		if errors.Is(err, redis.Nil) {
			err = nil // the node's key is missing
		}
		return err
	})
	if err != nil {
		return false, err
	}
	switch n.Val() {
	case "1":
		return true, nil
	case "0":
		return false, nil
	}
	return epoch.Val() == 0 || restored.Val() == 1, nil
}

// markRestored starts the grace in which missing liveness keys are not
// taken as dead nodes.
func (r *Redis) markRestored() {
	_ = r.do("restore", func(ctx context.Context) error {
		return r.c.Set(ctx, r.key("nodes-restored"), 1, restoreGrace).Err()
	})
}
