package cluster

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"
)

// Sharded pub/sub on Redis Cluster.
//
// A PUBLISH on Redis Cluster goes to whichever master the client picks
// next and is relayed to the others over the cluster bus, so two publishes
// on one channel can arrive in either order. SPUBLISH goes to the master
// owning the channel's slot and is delivered from there, in order. Topics
// are spread over a fixed set of partitions <p>:s:{i} (i < Partitions;
// the hash tag gives each its own slot, so they spread over the masters)
// by a stable hash of the topic, except a node's own topic "node:<id>",
// which has its channel <p>:node:{<id>} so unicasts, notes and closes for
// one node are not heard by all. Every message carries its topic
// (appendShard); a node subscribes to every partition and routes what it
// hears by that topic, dropping topics it has no handlers for. Patterns
// are matched here against the topic of every message heard: there are no
// sharded pattern subscriptions.
//
// Connections: one PubSub per master, each channel subscribed with its
// own SSUBSCRIBE (Redis refuses one SSUBSCRIBE across slots). go-redis
// would resubscribe after a reconnect with a single SSUBSCRIBE of every
// channel, which Redis refuses, so a reader that sees any error (a lost
// connection, MOVED, a sunsubscribe because a slot moved) marks the
// layout broken and the keeper goroutine builds it again: it asks which
// master owns each channel now and subscribes afresh. Messages published
// while the layout is rebuilt are lost (at most once, as the design says
// of these primitives).

// shardVersion opens a sharded message:
//
//	shardVersion(1) uvarint len(topic) topic data
const shardVersion = 1

// appendShard encodes a message for topic after dst.
func appendShard(dst []byte, topic string, data []byte) []byte {
	dst = append(dst, shardVersion)
	dst = binary.AppendUvarint(dst, uint64(len(topic)))
	dst = append(dst, topic...)
	return append(dst, data...)
}

// parseShard decodes msg; topic and data alias it.
func parseShard(msg string) (topic string, data []byte, ok bool) {
	if len(msg) < 2 || msg[0] != shardVersion {
		return "", nil, false
	}
	b := unsafe.Slice(unsafe.StringData(msg), len(msg))[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return "", nil, false
	}
	return msg[1+k : 1+k+int(n)], b[k+int(n):], true
}

// partition maps topic to one of n partitions (FNV-1a): the same on every
// node and every build.
func partition(topic string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(topic); i++ {
		h ^= uint32(topic[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}

// shardSub is sharded pub/sub on Redis Cluster (see above).
type shardSub struct {
	r       *Redis
	cc      *redis.ClusterClient
	parts   []string      // partition channels, by index
	partPre string        // "<p>:s:{", how a partition channel starts
	wake    chan struct{} // one buffered: the keeper has work

	gen    uint64          // layout generation; guarded by r.mu
	groups []*shardGroup   // the layout's connections; guarded by r.mu
	nodes  map[string]bool // node channels in the layout; guarded by r.mu
	broken bool            // the layout must be built again; guarded by r.mu
	empty  atomic.Int64    // unix nanos when the layout was last torn down
}

// shardGroup is one subscription connection: the channels one master owns.
type shardGroup struct {
	addr  string
	ps    *redis.PubSub
	gen   uint64
	probe string // the channel this group's probes go to; guarded by r.mu
	clock probeClock
}

func newShardSub(r *Redis, cc *redis.ClusterClient) *shardSub {
	s := &shardSub{r: r, cc: cc, partPre: r.pre + "s:{", wake: make(chan struct{}, 1), nodes: map[string]bool{}}
	for i := range r.cfg.Partitions {
		s.parts = append(s.parts, s.partPre+strconv.Itoa(i)+"}")
	}
	return s
}

// channel is the shard channel topic is sent on.
func (s *shardSub) channel(topic string) string {
	if id, ok := strings.CutPrefix(topic, "node:"); ok {
		return s.r.pre + "node:{" + id + "}"
	}
	return s.parts[partition(topic, len(s.parts))]
}

// open builds the first layout before NewRedis returns, then starts the
// keeper; a failure is retried by the keeper.
func (s *shardSub) open() {
	s.empty.Store(time.Now().UnixNano())
	if err := s.rebuild(); err != nil {
		s.r.log.Warn("cluster: redis sharded subscribe failed; retrying", "err", err)
		s.kick()
	}
	s.r.wg.Add(1)
	go s.keeper()
}

func (s *shardSub) publish(ctx context.Context, c redis.Cmdable, topic string, data []byte) *redis.IntCmd {
	return c.SPublish(ctx, s.channel(topic), appendShard(nil, topic, data))
}

// watch subscribes a node channel; partitions are always heard.
func (s *shardSub) watch(name string, pattern bool) {
	if !pattern && strings.HasPrefix(name, "node:") {
		s.kick()
	}
}

// unwatch does nothing: a node channel stays subscribed until the next
// layout, and what it hears finds no handler.
func (s *shardSub) unwatch(string, bool) {}

func (s *shardSub) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// renew rebuilds the layout (found deaf).
func (s *shardSub) renew() {
	s.r.mu.Lock()
	s.broken = true
	s.r.mu.Unlock()
	s.kick()
}

func (s *shardSub) close() {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	for _, g := range s.groups {
		_ = g.ps.Close()
	}
	s.groups = nil
}

// keeper builds the layout again when it breaks and adds node channels,
// retrying with a growing pause (50 ms to 2 s) while Redis refuses.
func (s *shardSub) keeper() {
	r := s.r
	defer r.wg.Done()
	failing := false
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-s.wake:
		}
		for pause := 50 * time.Millisecond; ; pause = min(2*pause, 2*time.Second) {
			err := s.sync()
			if err == nil || r.ctx.Err() != nil {
				break
			}
			r.Errors.Add(1)
			if !failing {
				failing = true
				r.log.Warn("cluster: redis sharded subscribe failed; retrying", "err", err)
			}
			select {
			case <-r.ctx.Done():
				return
			case <-time.After(pause):
			}
		}
		if failing && r.ctx.Err() == nil {
			failing = false
			r.log.Info("cluster: redis sharded subscription restored")
		}
	}
}

// sync rebuilds a broken layout, else subscribes node channels that have
// handlers but are not in the layout.
func (s *shardSub) sync() error {
	r := s.r
	r.mu.Lock()
	broken := s.broken
	var missing []string
	for topic := range r.subs {
		if !strings.HasPrefix(topic, "node:") {
			continue
		}
		if ch := s.channel(topic); !s.nodes[ch] {
			missing = append(missing, ch)
		}
	}
	r.mu.Unlock()
	if broken {
		return s.rebuild()
	}
	for _, ch := range missing {
		if err := s.addNode(ch); err != nil {
			return err
		}
	}
	return nil
}

// rebuild closes the layout and builds a new one: every partition and
// every node channel with handlers, grouped by the master owning it now.
func (s *shardSub) rebuild() error {
	r := s.r
	r.mu.Lock()
	s.gen++
	gen, old := s.gen, s.groups
	s.groups, s.nodes, s.broken = nil, map[string]bool{}, false
	chans := append([]string(nil), s.parts...)
	for topic := range r.subs {
		if strings.HasPrefix(topic, "node:") {
			chans = append(chans, s.channel(topic))
		}
	}
	r.mu.Unlock()
	s.empty.Store(time.Now().UnixNano())
	for _, g := range old {
		_ = g.ps.Close()
	}
	if gen > 1 {
		s.cc.ReloadState(r.ctx) // the slots may have moved
	}
	groups, err := s.dial(gen, chans)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil || s.gen != gen || r.ctx.Err() != nil {
		for _, g := range groups {
			_ = g.ps.Close()
		}
		s.broken = s.broken || (err != nil && s.gen == gen)
		return err
	}
	s.groups = groups
	for _, ch := range chans[len(s.parts):] {
		s.nodes[ch] = true
	}
	for _, g := range groups {
		r.wg.Add(1)
		go s.reader(g)
	}
	if gen > 1 {
		r.restore("redis sharded subscription rebuilt")
	}
	return nil
}

// dial opens one connection per master and subscribes each channel on
// the connection to its master, one SSUBSCRIBE per channel.
func (s *shardSub) dial(gen uint64, chans []string) ([]*shardGroup, error) {
	ctx, cancel := context.WithTimeout(s.r.ctx, s.r.cfg.Timeout)
	defer cancel()
	var groups []*shardGroup
	for _, ch := range chans {
		g, err := s.groupFor(ctx, gen, ch, &groups)
		if err == nil {
			err = g.ps.SSubscribe(ctx, ch)
		}
		if err != nil {
			for _, g := range groups {
				_ = g.ps.Close()
			}
			return nil, fmt.Errorf("cluster: redis sharded subscribe %s: %w", ch, err)
		}
	}
	return groups, nil
}

// groupFor finds or opens (in groups) the connection to ch's master.
func (s *shardSub) groupFor(ctx context.Context, gen uint64, ch string, groups *[]*shardGroup) (*shardGroup, error) {
	c, err := s.cc.MasterForKey(ctx, ch)
	if err != nil {
		return nil, err
	}
	addr := c.Options().Addr
	for _, g := range *groups {
		if g.addr == addr {
			if !strings.HasPrefix(ch, s.partPre) {
				g.probe = ch // probe on the node's own channel: no one else hears it
			}
			return g, nil
		}
	}
	g := &shardGroup{addr: addr, ps: c.SSubscribe(ctx), gen: gen, probe: ch}
	*groups = append(*groups, g)
	return g, nil
}

// addNode subscribes node channel ch on the layout's connection to its
// master; with no connection to that master, the layout is built again.
func (s *shardSub) addNode(ch string) error {
	r := s.r
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	defer cancel()
	c, err := s.cc.MasterForKey(ctx, ch)
	if err != nil {
		return err
	}
	addr := c.Options().Addr
	r.mu.Lock()
	gen := s.gen
	var g *shardGroup
	for _, x := range s.groups {
		if x.addr == addr {
			g = x
		}
	}
	s.broken = s.broken || g == nil
	r.mu.Unlock()
	if g == nil {
		return s.rebuild()
	}
	if err := g.ps.SSubscribe(ctx, ch); err != nil {
		return err
	}
	r.mu.Lock()
	if s.gen == gen {
		s.nodes[ch] = true
		g.probe = ch
	}
	r.mu.Unlock()
	return nil
}

// reader hands each message heard on g to its handlers until g fails or
// is closed; a failure breaks the layout (see above).
func (s *shardSub) reader(g *shardGroup) {
	r := s.r
	defer r.wg.Done()
	var list []*handler
	for {
		m, err := g.ps.Receive(r.ctx)
		if err == nil {
			err = s.handle(g, m, &list)
		}
		if err != nil {
			s.fail(g)
			return
		}
	}
}

// handle takes one reply from g's connection.
func (s *shardSub) handle(g *shardGroup, m any, list *[]*handler) error {
	switch m := m.(type) {
	case *redis.Message:
		s.deliver(g, m, list)
	case *redis.Subscription:
		if m.Kind == "sunsubscribe" { // the slot moved (we never unsubscribe)
			return errShardMoved
		}
	}
	return nil
}

// deliver routes one message by the topic it carries.
func (s *shardSub) deliver(g *shardGroup, m *redis.Message, list *[]*handler) {
	r := s.r
	topic, data, ok := parseShard(m.Payload)
	if !ok {
		r.BadMessages.Add(1)
		return
	}
	if strings.HasPrefix(topic, "probe:") { // another node's goes on a partition too
		if topic == r.probe {
			g.clock.hearText(string(data))
		}
		return
	}
	if i, ok := s.partitionOf(m.Channel); ok && i != partition(topic, len(s.parts)) {
		if r.Misrouted.Add(1) == 1 {
			r.log.Warn("cluster: message on a partition its topic does not hash to; do all nodes use the same Partitions?",
				"channel", m.Channel, "topic", topic)
		}
	}
	r.handleTopic(topic, data, true, list)
}

// partitionOf reads the index of a partition channel.
func (s *shardSub) partitionOf(ch string) (int, bool) {
	rest, ok := strings.CutPrefix(ch, s.partPre)
	if !ok || !strings.HasSuffix(rest, "}") {
		return 0, false
	}
	i, err := strconv.Atoi(rest[:len(rest)-1])
	return i, err == nil
}

// fail marks the layout broken when g belongs to it.
func (s *shardSub) fail(g *shardGroup) {
	r := s.r
	r.mu.Lock()
	current := g.gen == s.gen && r.ctx.Err() == nil
	s.broken = s.broken || current
	r.mu.Unlock()
	if current {
		s.kick()
	}
}

// sendProbes publishes one numbered probe per connection, in one round
// trip.
func (s *shardSub) sendProbes() error {
	r := s.r
	r.mu.Lock()
	groups := append([]*shardGroup(nil), s.groups...)
	r.mu.Unlock()
	if len(groups) == 0 {
		return errShardsDown
	}
	seqs := make([]uint64, len(groups))
	err := r.do("probe", func(ctx context.Context) error {
		_, err := s.cc.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, g := range groups {
				seqs[i] = g.clock.next()
				r.mu.Lock()
				ch := g.probe
				r.mu.Unlock()
				p.SPublish(ctx, ch, appendShard(nil, r.probe, strconv.AppendUint(nil, seqs[i], 10)))
			}
			return nil
		})
		return err
	})
	if err == nil {
		for i, g := range groups {
			g.clock.sent(seqs[i])
		}
	}
	return err
}

// quiet is the longest a probe Redis took went unheard on any
// connection of the layout (since the teardown when there is no layout).
func (s *shardSub) quiet() time.Duration {
	r := s.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(s.groups) == 0 {
		return time.Since(time.Unix(0, s.empty.Load()))
	}
	var q time.Duration
	for _, g := range s.groups {
		q = max(q, g.clock.quiet())
	}
	return q
}
