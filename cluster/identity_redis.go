package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plezigo/plezi/dispatch"
)

// An identity's keys share one hash slot (Redis Cluster) through the tag
// {identity}: <p>:id:{name} (hash: seq, life, bytes — the data bytes in the
// mailbox, floor — the highest note id dropped by the bounds, dropped — how
// many were), <p>:id:{name}:conns (sorted set, in registration order) and
// <p>:id:{name}:box (sorted set of notes, scored by id).
func (r *Redis) idKeys(name string) []string {
	base := r.key("id:{" + name + "}")
	return []string{base, base + ":conns", base + ":box"}
}

// registerScript: ARGV life(ms), max, conn, after, restore, raise. Returns
// {evicted conns, box entries after `after` with scores, floor}. A new
// connection scores one above the newest one, inside the script, so
// registrations are ordered as the scripts ran (a node's clock, read
// before the script, let a later registration sort first and evict
// itself). The guard keeps the score strictly greater when the newest is
// a clock reading of an older build (nanoseconds, where +1 is below a
// double's precision). A connection registering again keeps its place
// (NX) and may be the one evicted. The note counter is raised to `raise`
// (capped at 2^52 by the caller): the connection saw notes up to it, so
// a Redis that lost them (restarted without persistence, or with the
// last second of its AOF) must not hand those ids out again. With
// restore set, a connection the identity no longer holds and has no room
// for evicts only itself: restoring never displaces a newer registration.
var registerScript = redis.NewScript(`
redis.call('HSETNX', KEYS[1], 'seq', 0)
if tonumber(redis.call('HGET', KEYS[1], 'seq')) < tonumber(ARGV[6]) then
  redis.call('HSET', KEYS[1], 'seq', ARGV[6])
end
redis.call('HSET', KEYS[1], 'life', ARGV[1])
local max = tonumber(ARGV[2])
if ARGV[5] == '1' and not redis.call('ZSCORE', KEYS[2], ARGV[3]) and redis.call('ZCARD', KEYS[2]) >= max then
  return {{ARGV[3]}, {}, '0'}
end
local top = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2]
local order = 1
if top then
  top = tonumber(top)
  order = top + 1
  if order <= top then order = top * (1 + 2^-51) end
end
redis.call('ZADD', KEYS[2], 'NX', order, ARGV[3])
local n = redis.call('ZCARD', KEYS[2])
local evict = {}
if n > max then
  evict = redis.call('ZRANGE', KEYS[2], 0, n - max - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, n - max - 1)
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
return {evict, redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. ARGV[4], '+inf', 'WITHSCORES'),
  redis.call('HGET', KEYS[1], 'floor') or '0'}
`)

// maxRaise caps how far a registration raises the note counter (it may
// come from the client's _resume): ids stay exact as sorted-set scores.
const maxRaise = 1 << 52

// seqScript: the next note id, or false when the identity is gone.
var seqScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('HINCRBY', KEYS[1], 'seq', 1)
`)

// storeScript: ARGV id, data, max notes, max bytes. Stores the note, drops
// the oldest ones until the mailbox is within both bounds (keeping bytes,
// floor and dropped), renews the lifetime and returns {live connections,
// notes dropped} (false when gone). A mailbox key that expired before its
// hash resets bytes; bytes never goes below 0 (mailboxes older than the
// counter).
var storeScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local bytes = 0
if redis.call('EXISTS', KEYS[3]) == 1 then
  bytes = tonumber(redis.call('HGET', KEYS[1], 'bytes') or '0')
end
if redis.call('ZADD', KEYS[3], ARGV[1], ARGV[2]) == 1 then bytes = bytes + #ARGV[2] end
local n, max, maxb, dropped = redis.call('ZCARD', KEYS[3]), tonumber(ARGV[3]), tonumber(ARGV[4]), 0
while n > 0 and (n > max or bytes > maxb) do
  local old = redis.call('ZPOPMIN', KEYS[3])
  bytes, n, dropped = bytes - #old[1], n - 1, dropped + 1
  redis.call('HSET', KEYS[1], 'floor', old[2])
end
if dropped > 0 then redis.call('HINCRBY', KEYS[1], 'dropped', dropped) end
if bytes < 0 or n == 0 then bytes = 0 end
redis.call('HSET', KEYS[1], 'bytes', bytes)
local life = redis.call('HGET', KEYS[1], 'life')
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], life) end
return {redis.call('ZRANGE', KEYS[2], 0, -1), dropped}
`)

// Register joins connID to identity (see dispatch.Identities).
func (r *Redis) Register(name, connID string, life time.Duration, max int, after uint64) ([]string, []dispatch.Note, error) {
	return r.register(name, connID, life, max, after, after, false)
}

// Restore registers connID again after Redis may have lost it (see
// dispatch.IdentityRestorer): as Register, but a connection the identity
// no longer has room for evicts only itself, and the note counter is
// raised to seen. Concurrency-safe.
func (r *Redis) Restore(name, connID string, life time.Duration, most int, after, seen uint64) ([]string, []dispatch.Note, error) {
	return r.register(name, connID, life, most, after, max(after, seen), true)
}

// register runs registerScript; the note counter is raised to raise.
func (r *Redis) register(name, connID string, life time.Duration, max int, after, raise uint64, restore bool) ([]string, []dispatch.Note, error) {
	flag := 0
	if restore {
		flag = 1
	}
	var res []any
	err := r.do("register", func(ctx context.Context) error {
		var err error
		res, err = registerScript.Run(ctx, r.c, r.idKeys(name),
			life.Milliseconds(), max, connID, after, flag, min(raise, maxRaise)).Slice()
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if len(res) != 3 {
		return nil, nil, errRedisReply
	}
	floor, _ := res[2].(string)
	notes, err := toNotes(toStrings(res[1]))
	if err != nil {
		return nil, nil, err
	}
	markGap(notes, parseScore(floor), after)
	return toStrings(res[0]), notes, nil
}

// toNotes reads ZRANGE WITHSCORES output: member, score, member, ...
func toNotes(box []string) ([]dispatch.Note, error) {
	notes := make([]dispatch.Note, 0, len(box)/2)
	for i := 0; i+1 < len(box); i += 2 {
		id, err := strconv.ParseUint(box[i+1], 10, 64)
		if err != nil {
			return nil, errRedisReply
		}
		notes = append(notes, dispatch.Note{ID: id, Data: []byte(box[i])})
	}
	return notes, nil
}

// parseScore reads a note id written as a score ("44", or "1.8e+19"
// past 2^53); 0 when it is not a number.
func parseScore(s string) uint64 {
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return n
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0
	}
	return uint64(f)
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// Unregister removes connID from identity.
func (r *Redis) Unregister(name, connID string) error {
	return r.do("unregister", func(ctx context.Context) error {
		return r.c.ZRem(ctx, r.idKeys(name)[1], connID).Err()
	})
}

// Notify stores a note in identity's mailbox (see dispatch.Identities).
// Ids come from a counter; notes are kept in a set scored by id, so two
// notifiers racing still leave the mailbox in id order. A note refused for
// its size has taken an id (ids increase, with holes). Both scripts share
// one Timeout.
func (r *Redis) Notify(name string, build func(id uint64) []byte) (dispatch.Notified, error) {
	keys := r.idKeys(name)
	var out dispatch.Notified
	err := r.do("notify", func(ctx context.Context) error {
		id, err := seqScript.Run(ctx, r.c, keys).Uint64()
		if err != nil {
			return err
		}
		n := dispatch.Note{ID: id, Data: build(id)}
		if len(n.Data) > noteLimit(r.cfg.MaxNoteBytes, r.cfg.MaxMailBytes) {
			return fmt.Errorf("%d bytes: %w", len(n.Data), dispatch.ErrNoteTooLarge)
		}
		res, err := storeScript.Run(ctx, r.c, keys, id, n.Data, r.cfg.MaxMail, r.cfg.MaxMailBytes).Slice()
		if err != nil {
			return err
		}
		if len(res) != 2 {
			return errRedisReply
		}
		dropped, _ := res[1].(int64)
		out = dispatch.Notified{Note: n, Conns: toStrings(res[0]), Dropped: int(dropped)}
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return dispatch.Notified{}, dispatch.ErrNotRegistered
	}
	return out, err
}

// Registered reports whether identity is registered and alive.
func (r *Redis) Registered(name string) (bool, error) {
	var n int64
	err := r.do("registered", func(ctx context.Context) error {
		var err error
		n, err = r.c.Exists(ctx, r.idKeys(name)[0]).Result()
		return err
	})
	return n == 1, err
}
