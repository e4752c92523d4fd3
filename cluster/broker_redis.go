package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

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
)

// RedisConfig configures a Redis broker. Zero values get defaults.
type RedisConfig struct {
	URL     string        // redis://[user:pass@]host:port/db; redis+cluster://h1:p1?addr=h2:p2 for Redis Cluster
	Prefix  string        // key and channel prefix; default "plezi"
	Timeout time.Duration // per command; default 2 s
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
	cfg    RedisConfig
	c      redis.UniversalClient
	log    *slog.Logger
	pre    string // cfg.Prefix + ":"
	probe  string // this broker's probe topic
	sub    subscription
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	subs  map[string]map[*handler]struct{} // topic → handlers; guarded by mu
	psubs map[string]map[*handler]struct{} // pattern → handlers; guarded by mu

	healthy  atomic.Bool
	panicLog lograte.Limiter
	Deaf     atomic.Int64 // times the subscription was found deaf and renewed
	Errors   atomic.Int64 // failed publishes and commands
	Panics   atomic.Int64 // handler panics the reader recovered (the message is lost to that handler only)
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
	sendProbes(ctx context.Context) error                                                  // publish this broker's probes
	quiet() time.Duration                                                                  // longest a probe went unanswered
	renew()                                                                                // resubscribe everything (deaf)
	close()
}

// NewRedis connects to Redis and starts the subscription reader. Close
// stops it.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	cfg = cfg.fill()
	c, err := newRedisClient(cfg.URL)
	if err != nil {
		return nil, err
	}
	routeRedisLog(cfg.Logger)
	var b [8]byte
	_, _ = rand.Read(b[:])
	r := &Redis{
		cfg: cfg, c: c, log: cfg.Logger, pre: cfg.Prefix + ":", probe: "probe:" + hex.EncodeToString(b[:]),
		subs: map[string]map[*handler]struct{}{}, psubs: map[string]map[*handler]struct{}{},
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

func newRedisClient(url string) (redis.UniversalClient, error) {
	if strings.HasPrefix(url, "redis+cluster://") {
		o, err := redis.ParseClusterURL("redis://" + strings.TrimPrefix(url, "redis+cluster://"))
		if err != nil {
			return nil, fmt.Errorf("cluster: redis url: %w", err)
		}
		return redis.NewClusterClient(o), nil
	}
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("cluster: redis url: %w", err)
	}
	return redis.NewClient(o), nil
}

// Close stops the readers and the prober and closes the client.
func (r *Redis) Close() error {
	r.cancel()
	r.sub.close()
	r.wg.Wait()
	return r.c.Close()
}

// Healthy reports whether the subscription answered its last probe.
func (r *Redis) Healthy() bool { return r.healthy.Load() }

func (r *Redis) key(s string) string { return r.pre + s }

// Publish sends data on topic.
func (r *Redis) Publish(topic string, data []byte) error {
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	defer cancel()
	if err := r.sub.publish(ctx, r.c, topic, data).Err(); err != nil {
		r.Errors.Add(1)
		return fmt.Errorf("cluster: publish: %w", err)
	}
	return nil
}

// PublishBatch sends msgs in order in one pipelined round trip. On Redis
// Cluster the pipeline is split by master, each part in order on one
// connection, so messages to one partition (one slot) keep their order.
func (r *Redis) PublishBatch(msgs []dispatch.Publication) error {
	if len(msgs) == 1 {
		return r.Publish(msgs[0].Topic, msgs[0].Data)
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	defer cancel()
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range msgs {
			r.sub.publish(ctx, p, m.Topic, m.Data)
		}
		return nil
	})
	if err != nil {
		r.Errors.Add(1)
		return fmt.Errorf("cluster: publish: %w", err)
	}
	return nil
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
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
		defer cancel()
		if err := cmd(ctx); err != nil && r.ctx.Err() == nil {
			r.Errors.Add(1)
			r.log.Warn("cluster: redis subscription command failed", "err", err)
		}
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

// prober publishes on the probe channel every period; two periods without
// an answer mark the node deaf: unhealthy, counted, subscription renewed.
func (r *Redis) prober() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.Probe)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
		err := r.sub.sendProbes(ctx)
		cancel()
		r.judge(err, r.sub.quiet())
		if r.ctx.Err() != nil {
			return
		}
	}
}

// judge sets the health from one probe round.
func (r *Redis) judge(err error, quiet time.Duration) {
	switch {
	case r.ctx.Err() != nil:
	case err != nil:
		if r.healthy.Swap(false) {
			r.log.Warn("cluster: redis unreachable", "err", err)
		}
	case quiet > 2*r.cfg.Probe:
		r.Deaf.Add(1)
		r.healthy.Store(false)
		r.log.Warn("cluster: redis subscription deaf; resubscribing", "quiet", quiet)
		r.sub.renew()
	default:
		redisLogRecovered()
		if !r.healthy.Swap(true) {
			r.log.Info("cluster: redis healthy again")
		}
	}
}

// plainSub is plain pub/sub on one Redis: a channel per topic and
// pattern, all on one subscription connection.
type plainSub struct {
	r         *Redis
	ps        *redis.PubSub // guarded by r.mu
	lastProbe atomic.Int64  // unix nanos of the last probe heard
}

func (p *plainSub) open() {
	p.lastProbe.Store(time.Now().UnixNano())
	p.subscribeAll()
}

func (p *plainSub) publish(ctx context.Context, c redis.Cmdable, topic string, data []byte) *redis.IntCmd {
	return c.Publish(ctx, p.r.key(topic), data)
}

func (p *plainSub) watch(name string, pattern bool) {
	p.command(name, pattern, true)
}

func (p *plainSub) unwatch(name string, pattern bool) {
	p.command(name, pattern, false)
}

// command sends (un)subscribe for name on the current connection.
func (p *plainSub) command(name string, pattern, on bool) {
	r := p.r
	r.mu.Lock()
	ps := p.ps
	r.mu.Unlock()
	if ps == nil {
		return
	}
	ch := r.key(name)
	r.async(func(ctx context.Context) error {
		switch {
		case pattern && on:
			return ps.PSubscribe(ctx, ch)
		case pattern:
			return ps.PUnsubscribe(ctx, ch)
		case on:
			return ps.Subscribe(ctx, ch)
		}
		return ps.Unsubscribe(ctx, ch)
	})
}

func (p *plainSub) sendProbes(ctx context.Context) error {
	return p.r.c.Publish(ctx, p.r.key(p.r.probe), "1").Err()
}

func (p *plainSub) quiet() time.Duration {
	return time.Since(time.Unix(0, p.lastProbe.Load()))
}

func (p *plainSub) renew() {
	p.lastProbe.Store(time.Now().UnixNano())
	p.subscribeAll()
}

func (p *plainSub) close() {
	p.r.mu.Lock()
	if p.ps != nil {
		_ = p.ps.Close()
	}
	p.r.mu.Unlock()
}

// subscribeAll opens a fresh subscription connection with every channel
// and pattern, and starts its reader.
func (p *plainSub) subscribeAll() {
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx.Err() != nil {
		return
	}
	if p.ps != nil {
		_ = p.ps.Close()
	}
	chans := []string{r.key(r.probe)}
	for topic := range r.subs {
		chans = append(chans, r.key(topic))
	}
	ps := r.c.Subscribe(r.ctx, chans...)
	if len(r.psubs) > 0 {
		pats := make([]string, 0, len(r.psubs))
		for pat := range r.psubs {
			pats = append(pats, r.key(pat))
		}
		_ = ps.PSubscribe(r.ctx, pats...)
	}
	p.ps = ps
	r.wg.Add(1)
	go p.reader(ps)
}

// reader hands each message to its handlers until ps is closed or
// replaced. It reads the subscription itself (ReceiveMessage) rather than
// through PubSub.Channel, which adds a goroutine and a channel hand-off per
// message; a read error (Redis gone) pauses briefly, then the next read
// reconnects and resubscribes, and the prober notices if that fails.
func (p *plainSub) reader(ps *redis.PubSub) {
	r := p.r
	defer r.wg.Done()
	var list []*handler
	for {
		msg, err := ps.ReceiveMessage(r.ctx)
		if err != nil {
			r.mu.Lock()
			current := p.ps == ps
			r.mu.Unlock()
			if !current || r.ctx.Err() != nil {
				return
			}
			select {
			case <-r.ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		p.handle(msg, &list)
	}
}

// handle runs the handlers of one message.
func (p *plainSub) handle(msg *redis.Message, list *[]*handler) {
	r := p.r
	topic, ok := strings.CutPrefix(msg.Channel, r.pre)
	if !ok {
		return
	}
	if topic == r.probe {
		p.lastProbe.Store(time.Now().UnixNano())
		return
	}
	data := unsafe.Slice(unsafe.StringData(msg.Payload), len(msg.Payload))
	if msg.Pattern == "" {
		r.handleTopic(topic, data, false, list)
	} else if pat, ok := strings.CutPrefix(msg.Pattern, r.pre); ok {
		r.handlePattern(pat, topic, data, list)
	}
}

var errRedisReply = errors.New("cluster: unexpected redis reply")

// Announce sets <p>:nodes:<node> for ttl; ttl 0 deletes it.
func (r *Redis) Announce(node string, ttl time.Duration) error {
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	defer cancel()
	var err error
	if ttl <= 0 {
		err = r.c.Del(ctx, r.key("nodes:"+node)).Err()
	} else {
		err = r.c.Set(ctx, r.key("nodes:"+node), 1, ttl).Err()
	}
	if err != nil {
		r.Errors.Add(1)
		return fmt.Errorf("cluster: announce: %w", err)
	}
	return nil
}

// Alive reports whether <p>:nodes:<node> exists.
func (r *Redis) Alive(node string) (bool, error) {
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	defer cancel()
	n, err := r.c.Exists(ctx, r.key("nodes:"+node)).Result()
	if err != nil {
		r.Errors.Add(1)
		return false, fmt.Errorf("cluster: alive: %w", err)
	}
	return n == 1, nil
}
