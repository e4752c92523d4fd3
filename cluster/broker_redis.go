package cluster

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/lograte"
)

var (
	_ dispatch.Broker            = (*Redis)(nil)
	_ dispatch.PatternSubscriber = (*Redis)(nil)
	_ dispatch.Identities        = (*Redis)(nil)
	_ dispatch.NodeRegistry      = (*Redis)(nil)
	_ dispatch.BatchPublisher    = (*Redis)(nil)
	_ dispatch.Restorer          = (*Redis)(nil)
	_ dispatch.IdentityRestorer  = (*Redis)(nil)
)

// RedisConfig configures a Redis broker. Zero values get defaults.
type RedisConfig struct {
	URL     string        // redis://[user:pass@]host:port/db; redis+cluster://h1:p1?addr=h2:p2 for Redis Cluster
	Prefix  string        // key and channel prefix; default "plezi"
	Timeout time.Duration // bounds every wait on Redis (dial, command, pooled connection); default 2 s
	Probe   time.Duration // deaf-subscription probe period; default 5 s
	Logger  *slog.Logger
	// Mailbox bounds per identity, enforced in Redis by one script: a note
	// that does not fit drops the oldest ones; a note over MaxNoteBytes is
	// refused (dispatch.ErrNoteTooLarge). Nodes sharing a Redis should agree.
	MaxMail      int // notes per mailbox; default DefaultMaxMail (256)
	MaxMailBytes int // note bytes per mailbox; default DefaultMaxMailBytes (1 MiB)
	MaxNoteBytes int // bytes of one note; default MaxMailBytes, never above it
	// Partitions is how many shard channels the topics are spread over on
	// Redis Cluster (sharded pub/sub, see shard_redis.go); every node of a
	// cluster must use the same number. Default 16; unused on one Redis.
	Partitions int
	// Secret (PL_CLUSTER_SECRET; give the hub the same one to sign
	// envelopes) moves every key and channel under a namespace derived
	// from it: <Prefix>:<16 hex digits of HMAC-SHA256(Secret,
	// "plezi-namespace")>:..., so nodes with another secret (or none)
	// share nothing in Redis: no channel, no identity, no mailbox, no
	// liveness. It does not keep anyone with access to Redis out (Redis
	// ACLs and TLS do that).
	Secret string
}

// Redis is a Broker and Identities store on Redis (or Redis Cluster). Safe
// for concurrent use. Subscriptions are sent by its own goroutines, so
// Subscribe never blocks the caller on the network; a lost subscription
// (a "deaf" node) is found by a probe on a timer and renewed.
//
// On one Redis each topic is a channel (PUBLISH/SUBSCRIBE). On Redis
// Cluster topics travel over sharded pub/sub: a fixed set of partitions
// plus one channel per node (see shard_redis.go).
type Redis struct {
	cfg   RedisConfig
	c     redis.UniversalClient
	log   *slog.Logger
	pre   string // cfg.Prefix + ":" (+ the secret's namespace + ":")
	probe string // this broker's probe topic
	sub   subscription
	// probeNow asks the prober for a round at once (one buffered).
	probeNow chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu        sync.Mutex
	subs      map[string]map[*handler]struct{} // topic → handlers; guarded by mu
	psubs     map[string]map[*handler]struct{} // pattern → handlers; guarded by mu
	restorers []func()                         // OnRestore's; guarded by mu

	healthy  atomic.Bool
	down     atomic.Bool // in an outage: commands fail at once (outage_redis.go)
	panicLog lograte.Limiter
	Deaf     atomic.Int64 // times the subscription was found deaf and renewed
	Errors   atomic.Int64 // failed publishes and commands
	// Outages counts outages (a command failed for want of Redis);
	// Refused, the commands failed at once during one (ErrUnavailable).
	Outages, Refused atomic.Int64
	Panics           atomic.Int64 // handler panics the reader recovered (the message is lost to that handler only)
	// BadMessages counts sharded messages that did not parse (dropped).
	BadMessages atomic.Int64
	// Misrouted counts sharded messages heard on a partition their topic
	// does not hash to: nodes configured with different Partitions.
	Misrouted atomic.Int64
}

// subscription is how a broker hears its topics: plain pub/sub on one
// Redis (plainSub), sharded pub/sub on Redis Cluster (shardSub). Its
// methods are called without r.mu held.
type subscription interface {
	open()                                                                                 // subscribe (NewRedis)
	watch(name string, pattern bool)                                                       // name got its first handler
	unwatch(name string, pattern bool)                                                     // name lost its last handler
	publish(ctx context.Context, c redis.Cmdable, topic string, data []byte) *redis.IntCmd // send (c may be a pipeline)
	sendProbes() error                                                                     // publish this broker's probes (through r.do)
	quiet() time.Duration                                                                  // longest a probe Redis took went unheard
	renew()                                                                                // resubscribe everything (deaf)
	close()
}

// NewRedis connects to Redis and starts the subscription reader. Close
// stops it.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	cfg = cfg.fill()
	c, err := newRedisClient(cfg)
	if err != nil {
		return nil, err
	}
	routeRedisLog(cfg.Logger)
	var b [8]byte
	_, _ = rand.Read(b[:])
	r := &Redis{
		cfg: cfg, c: c, log: cfg.Logger, pre: keyPrefix(cfg), probe: "probe:" + hex.EncodeToString(b[:]),
		subs: map[string]map[*handler]struct{}{}, psubs: map[string]map[*handler]struct{}{},
		probeNow: make(chan struct{}, 1),
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	ctx, cancel := context.WithTimeout(r.ctx, cfg.Timeout)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		r.cancel()
		_ = c.Close()
		return nil, fmt.Errorf("cluster: redis: %w", err)
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		r.sub = newShardSub(r, cc)
	} else {
		r.sub = &plainSub{r: r}
	}
	r.healthy.Store(true)
	r.sub.open()
	r.wg.Add(1)
	go r.prober()
	return r, nil
}

func (cfg RedisConfig) fill() RedisConfig {
	if cfg.Prefix == "" {
		cfg.Prefix = "plezi"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Probe <= 0 {
		cfg.Probe = 5 * time.Second
	}
	cfg.MaxMail = orDefault(cfg.MaxMail, DefaultMaxMail)
	cfg.MaxMailBytes = orDefault(cfg.MaxMailBytes, DefaultMaxMailBytes)
	cfg.MaxNoteBytes = noteLimit(cfg.MaxNoteBytes, cfg.MaxMailBytes)
	if cfg.Partitions <= 0 {
		cfg.Partitions = 16
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// newRedisClient makes the client for cfg.URL. Every wait is bounded by
// cfg.Timeout: dialing (one attempt), reading, writing, waiting for a
// pooled connection, and the caller's context (ContextTimeoutEnabled:
// without it go-redis reads until ReadTimeout whatever the deadline). No
// command is retried: a retried PUBLISH to a frozen Redis is delivered
// twice once it thaws, and failing fast is the broker's answer to an
// outage (outage_redis.go).
func newRedisClient(cfg RedisConfig) (redis.UniversalClient, error) {
	t := cfg.Timeout
	if rest, ok := strings.CutPrefix(cfg.URL, "redis+cluster://"); ok {
		o, err := redis.ParseClusterURL("redis://" + rest)
		if err != nil {
			return nil, fmt.Errorf("cluster: redis url: %w", err)
		}
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = t, t, t, t
		o.ContextTimeoutEnabled, o.MaxRetries, o.DialerRetries = true, -1, 1
		return redis.NewClusterClient(o), nil
	}
	o, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("cluster: redis url: %w", err)
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = t, t, t, t
	o.ContextTimeoutEnabled, o.MaxRetries, o.DialerRetries = true, -1, 1
	return redis.NewClient(o), nil
}

// Close stops the readers and the prober and closes the client.
func (r *Redis) Close() error {
	r.mu.Lock()
	r.cancel() // under mu: goBroker starts nothing after this
	r.mu.Unlock()
	r.sub.close()
	r.wg.Wait()
	return r.c.Close()
}

// Healthy reports whether Redis answers and the subscription heard its
// last probe. Concurrency-safe.
func (r *Redis) Healthy() bool { return r.healthy.Load() && !r.down.Load() }

func (r *Redis) key(s string) string { return r.pre + s }

// keyPrefix is what every key and channel of cfg starts with.
func keyPrefix(cfg RedisConfig) string {
	if cfg.Secret == "" {
		return cfg.Prefix + ":"
	}
	m := hmac.New(sha256.New, []byte(cfg.Secret))
	m.Write([]byte("plezi-namespace"))
	return cfg.Prefix + ":" + hex.EncodeToString(m.Sum(nil)[:8]) + ":"
}

// Publish sends data on topic; during an outage it fails at once.
func (r *Redis) Publish(topic string, data []byte) error {
	return r.do("publish", func(ctx context.Context) error {
		return r.sub.publish(ctx, r.c, topic, data).Err()
	})
}

// PublishBatch sends msgs in order in one pipelined round trip. On Redis
// Cluster the pipeline is split by master, each part in order on one
// connection, so messages to one partition (one slot) keep their order.
func (r *Redis) PublishBatch(msgs []dispatch.Publication) error {
	if len(msgs) == 1 {
		return r.Publish(msgs[0].Topic, msgs[0].Data)
	}
	return r.do("publish", func(ctx context.Context) error {
		_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, m := range msgs {
				r.sub.publish(ctx, p, m.Topic, m.Data)
			}
			return nil
		})
		return err
	})
}

// Subscribe calls fn for each message on topic until cancel.
func (r *Redis) Subscribe(topic string, fn func(data []byte)) (func(), error) {
	return r.add(r.subs, topic, &handler{fn: fn}, false), nil
}

// PSubscribe calls fn for each message on a topic matching the glob.
func (r *Redis) PSubscribe(pattern string, fn func(topic string, data []byte)) (func(), error) {
	return r.add(r.psubs, pattern, &handler{topic: pattern, pfn: fn}, true), nil
}

func (r *Redis) add(m map[string]map[*handler]struct{}, name string, s *handler, pattern bool) func() {
	r.mu.Lock()
	set := m[name]
	first := set == nil
	if first {
		set = map[*handler]struct{}{}
		m[name] = set
	}
	set[s] = struct{}{}
	r.mu.Unlock()
	if first {
		r.sub.watch(name, pattern)
	}
	return func() {
		r.mu.Lock()
		delete(set, s)
		last := len(set) == 0 && m[name] != nil
		if last {
			delete(m, name)
		}
		r.mu.Unlock()
		if last {
			r.sub.unwatch(name, pattern)
		}
	}
}

// async runs a subscription command off the caller's goroutine.
func (r *Redis) async(cmd func(ctx context.Context) error) {
	r.goBroker(func() {
		ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
		defer cancel()
		if err := cmd(ctx); err != nil && r.ctx.Err() == nil {
			r.Errors.Add(1)
			r.log.Warn("cluster: redis subscription command failed", "err", err)
		}
	})
}

// goBroker runs fn on a goroutine of the broker's (Close waits for it),
// unless the broker is closing. Called from any goroutine without r.mu.
func (r *Redis) goBroker(fn func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx.Err() != nil {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		fn()
	}()
}

// handleTopic runs the handlers of topic with data and, with patterns,
// those of every pattern matching topic (sharded pub/sub has no pattern
// subscriptions: a node hears every partition and matches here). list is
// the calling reader's scratch. Handlers only read data, and only until
// they return.
func (r *Redis) handleTopic(topic string, data []byte, patterns bool, list *[]*handler) {
	r.mu.Lock()
	l := (*list)[:0]
	for s := range r.subs[topic] {
		l = append(l, s)
	}
	if patterns {
		for p, set := range r.psubs {
			if dispatch.MatchGlob(p, topic) {
				for s := range set {
					l = append(l, s)
				}
			}
		}
	}
	r.mu.Unlock()
	*list = l
	r.run(l, topic, data)
}

// handlePattern runs the handlers of pattern for a message on topic.
func (r *Redis) handlePattern(pattern, topic string, data []byte, list *[]*handler) {
	r.mu.Lock()
	l := (*list)[:0]
	for s := range r.psubs[pattern] {
		l = append(l, s)
	}
	r.mu.Unlock()
	*list = l
	r.run(l, topic, data)
}

// run hands one message to each handler of list.
func (r *Redis) run(list []*handler, topic string, data []byte) {
	for _, s := range list {
		r.deliver(s, topic, data)
	}
}

// deliver hands one message to one handler. A handler that panics (one
// bad message from another node) loses that message, not the reader: the
// panic is counted and logged, rate-limited.
func (r *Redis) deliver(s *handler, topic string, data []byte) {
	defer recoverHandler(&r.Panics, &r.panicLog, r.log)
	if s.fn != nil {
		s.fn(data)
	} else {
		s.pfn(topic, data)
	}
}
