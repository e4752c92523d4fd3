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
}

// Redis is a Broker and Identities store on Redis (or Redis Cluster). Safe
// for concurrent use. Subscriptions are sent by its own goroutine, so
// Subscribe never blocks the caller on the network; a lost subscription
// (a "deaf" node) is found by a probe on a timer and renewed.
type Redis struct {
	cfg    RedisConfig
	c      redis.UniversalClient
	log    *slog.Logger
	probe  string // this broker's probe channel
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	subs  map[string]map[*memSub]struct{} // full channel → handlers; guarded by mu
	psubs map[string]map[*memSub]struct{} // full pattern → handlers; guarded by mu
	ps    *redis.PubSub                   // guarded by mu

	lastProbe atomic.Int64
	healthy   atomic.Bool
	panicLog  lograte.Limiter
	Deaf      atomic.Int64 // times the subscription was found deaf and renewed
	Errors    atomic.Int64 // failed publishes and commands
	Panics    atomic.Int64 // handler panics the reader recovered (the message is lost to that handler only)
}

// NewRedis connects to Redis and starts the subscription reader. Close
// stops it.
func NewRedis(cfg RedisConfig) (*Redis, error) {
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
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c, err := newRedisClient(cfg.URL)
	if err != nil {
		return nil, err
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	r := &Redis{
		cfg: cfg, c: c, log: cfg.Logger, probe: cfg.Prefix + ":probe:" + hex.EncodeToString(b[:]),
		subs: map[string]map[*memSub]struct{}{}, psubs: map[string]map[*memSub]struct{}{},
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	ctx, cancel := context.WithTimeout(r.ctx, cfg.Timeout)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		r.cancel()
		_ = c.Close()
		return nil, fmt.Errorf("cluster: redis: %w", err)
	}
	r.healthy.Store(true)
	r.lastProbe.Store(time.Now().UnixNano())
	r.subscribeAll()
	r.wg.Add(1)
	go r.prober()
	return r, nil
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

// Close stops the reader and the prober and closes the client.
func (r *Redis) Close() error {
	r.cancel()
	r.mu.Lock()
	if r.ps != nil {
		_ = r.ps.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return r.c.Close()
}

// Healthy reports whether the subscription answered its last probe.
func (r *Redis) Healthy() bool { return r.healthy.Load() }

func (r *Redis) key(s string) string { return r.cfg.Prefix + ":" + s }

// Publish sends data on topic.
func (r *Redis) Publish(topic string, data []byte) error {
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	defer cancel()
	if err := r.c.Publish(ctx, r.key(topic), data).Err(); err != nil {
		r.Errors.Add(1)
		return fmt.Errorf("cluster: publish: %w", err)
	}
	return nil
}

// PublishBatch sends msgs in order in one pipelined round trip.
func (r *Redis) PublishBatch(msgs []dispatch.Publication) error {
	if len(msgs) == 1 {
		return r.Publish(msgs[0].Topic, msgs[0].Data)
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	defer cancel()
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range msgs {
			p.Publish(ctx, r.key(m.Topic), m.Data)
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
	return r.add(r.subs, r.key(topic), &memSub{fn: fn}, false), nil
}

// PSubscribe calls fn for each message on a topic matching the glob.
func (r *Redis) PSubscribe(pattern string, fn func(topic string, data []byte)) (func(), error) {
	p := len(r.cfg.Prefix) + 1
	return r.add(r.psubs, r.key(pattern), &memSub{pfn: func(t string, d []byte) { fn(t[p:], d) }}, true), nil
}

func (r *Redis) add(m map[string]map[*memSub]struct{}, name string, s *memSub, pattern bool) func() {
	r.mu.Lock()
	set := m[name]
	first := set == nil
	if first {
		set = map[*memSub]struct{}{}
		m[name] = set
	}
	set[s] = struct{}{}
	ps := r.ps
	r.mu.Unlock()
	if first && ps != nil {
		r.async(func(ctx context.Context) error {
			if pattern {
				return ps.PSubscribe(ctx, name)
			}
			return ps.Subscribe(ctx, name)
		})
	}
	return func() {
		r.mu.Lock()
		delete(set, s)
		last := len(set) == 0 && m[name] != nil
		if last {
			delete(m, name)
		}
		ps := r.ps
		r.mu.Unlock()
		if last && ps != nil {
			r.async(func(ctx context.Context) error {
				if pattern {
					return ps.PUnsubscribe(ctx, name)
				}
				return ps.Unsubscribe(ctx, name)
			})
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

// subscribeAll opens a fresh subscription connection with every channel
// and pattern, and starts its reader.
func (r *Redis) subscribeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx.Err() != nil {
		return
	}
	if r.ps != nil {
		_ = r.ps.Close()
	}
	chans := []string{r.probe}
	for ch := range r.subs {
		chans = append(chans, ch)
	}
	ps := r.c.Subscribe(r.ctx, chans...)
	if len(r.psubs) > 0 {
		pats := make([]string, 0, len(r.psubs))
		for p := range r.psubs {
			pats = append(pats, p)
		}
		_ = ps.PSubscribe(r.ctx, pats...)
	}
	r.ps = ps
	r.wg.Add(1)
	go r.reader(ps)
}

// reader hands each message to its handlers until ps is closed or
// replaced. It reads the subscription itself (ReceiveMessage) rather than
// through PubSub.Channel, which adds a goroutine and a channel hand-off per
// message; a read error (Redis gone) pauses briefly, then the next read
// reconnects and resubscribes, and the prober notices if that fails.
func (r *Redis) reader(ps *redis.PubSub) {
	defer r.wg.Done()
	var list []*memSub
	for {
		msg, err := ps.ReceiveMessage(r.ctx)
		if err != nil {
			r.mu.Lock()
			current := r.ps == ps
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
		if msg.Channel == r.probe {
			r.lastProbe.Store(time.Now().UnixNano())
			continue
		}
		r.mu.Lock()
		list = list[:0]
		if msg.Pattern != "" {
			for s := range r.psubs[msg.Pattern] {
				list = append(list, s)
			}
		} else {
			for s := range r.subs[msg.Channel] {
				list = append(list, s)
			}
		}
		r.mu.Unlock()
		// Handlers only read data, and only until they return.
		data := unsafe.Slice(unsafe.StringData(msg.Payload), len(msg.Payload))
		for _, s := range list {
			r.deliver(s, msg.Channel, data)
		}
	}
}

// deliver hands one message to one handler. A handler that panics (one
// bad message from another node) loses that message, not the reader: the
// panic is counted and logged, rate-limited.
func (r *Redis) deliver(s *memSub, channel string, data []byte) {
	defer recoverHandler(&r.Panics, &r.panicLog, r.log)
	if s.fn != nil {
		s.fn(data)
	} else {
		s.pfn(channel, data)
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
		err := r.c.Publish(ctx, r.probe, "1").Err()
		cancel()
		quiet := time.Since(time.Unix(0, r.lastProbe.Load()))
		switch {
		case r.ctx.Err() != nil:
			return
		case err != nil:
			if r.healthy.Swap(false) {
				r.log.Warn("cluster: redis unreachable", "err", err)
			}
		case quiet > 2*r.cfg.Probe:
			r.Deaf.Add(1)
			r.healthy.Store(false)
			r.log.Warn("cluster: redis subscription deaf; resubscribing", "quiet", quiet)
			r.lastProbe.Store(time.Now().UnixNano())
			r.subscribeAll()
		default:
			if !r.healthy.Swap(true) {
				r.log.Info("cluster: redis healthy again")
			}
		}
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
