package dispatch

import (
	"hash/maphash"
	"sync/atomic"
)

// table is what dispatch keeps for one event loop: the loop's open
// websocket connections by slot (their ids; a broadcast to a controller
// type walks them, which costs no list per type) and by channel and
// pattern (publish). It has one owner, the
// loop: everything in it but the summary is touched only by tasks running
// on that loop, so it takes no lock. Other goroutines reach it by queuing
// a task on the loop (lookups, Subscribe, Unsubscribe, fan-out) or by
// reading the summary the loop publishes:
//
//   - gens: per slot, the generation and whether a connection holds it, so
//     that Unicast answers at once for an id that is gone;
//   - count, types, chanN, patN: how many connections there are, of each
//     type and on each channel (counted in buckets) and pattern, so that a
//     fan-out wakes only the loops that hold a recipient.
//
// A connection is in the table from Open to End (the server calls End on
// the loop as the websocket starts closing), so a task on the loop never
// meets one that is closed.
type table struct {
	slots   []*conn                       // nil = free
	free    []int32                       // free slots
	chans   map[string]map[*conn]struct{} // channel → members
	pats    map[string]map[*conn]struct{} // pattern → members
	scratch []*conn                       // fan-out's list of recipients

	gens  atomic.Pointer[[]atomic.Uint32] // per slot: gen | liveBit while held; replaced, never resized, as it grows
	count atomic.Int32
	types [typeBuckets]atomic.Int32 // connections per controller type idx % typeBuckets
	chanN [chanBuckets]atomic.Int32 // members and joins in flight per channel bucket
	patN  atomic.Int32              // pattern members and joins in flight
	seed  maphash.Seed              // the hub's: channel buckets
}

// Summary buckets: a loop with a connection of another type or channel in
// the same bucket gets a task that finds no recipient, nothing worse.
const (
	typeBuckets = 64
	chanBuckets = 256
	liveBit     = 1 << 24 // above genMask
)

func newTable(seed maphash.Seed) *table {
	t := &table{chans: map[string]map[*conn]struct{}{}, pats: map[string]map[*conn]struct{}{}, seed: seed}
	t.gens.Store(new([]atomic.Uint32))
	return t
}

// bucket is channel's summary bucket.
func bucket(seed maphash.Seed, channel string) uint32 {
	return uint32(maphash.String(seed, channel)) % chanBuckets
}

// add puts c in a free slot and counts it by type. Loop only.
func (t *table) add(c *conn) (slot int32, gen uint32) {
	if n := len(t.free); n > 0 {
		slot = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		slot = int32(len(t.slots))
		t.slots = append(t.slots, nil)
		t.growGens(len(t.slots))
	}
	t.slots[slot] = c
	g := &(*t.gens.Load())[slot]
	gen = g.Load() & genMask
	g.Store(gen | liveBit)
	t.count.Add(1)
	t.types[c.typ().idx%typeBuckets].Add(1)
	return slot, gen
}

// growGens makes gens hold n slots: a new slice, published once the old
// values are copied (readers of the old one see them, or stale ones a lookup
// task checks again). Loop only.
func (t *table) growGens(n int) {
	old := *t.gens.Load()
	if n <= len(old) {
		return
	}
	g := make([]atomic.Uint32, max(n, 2*len(old), 16))
	for i := range old {
		g[i].Store(old[i].Load())
	}
	t.gens.Store(&g)
}

// del takes c out of its slot (a new generation), its type count and its
// channels, which it returns. Loop only.
func (t *table) del(c *conn) []string {
	if c.slot >= int32(len(t.slots)) || t.slots[c.slot] != c {
		return nil
	}
	t.slots[c.slot] = nil
	(*t.gens.Load())[c.slot].Store((c.gen() + 1) & genMask)
	t.free = append(t.free, c.slot)
	t.count.Add(-1)
	t.types[c.typ().idx%typeBuckets].Add(-1)
	var chans []string
	if x := c.x.Load(); x != nil {
		chans, x.chans = x.chans, nil
	}
	for _, ch := range chans {
		t.leave(c, ch)
		t.expect(ch, -1)
	}
	return chans
}

// get returns the connection in slot of generation gen, or nil. Loop only.
func (t *table) get(slot int32, gen uint32) *conn {
	if slot < 0 || int(slot) >= len(t.slots) || !t.live(slot, gen) {
		return nil
	}
	return t.slots[slot]
}

// live reports whether a connection of generation gen holds slot.
// Concurrency-safe (a lookup task checks again on the loop).
func (t *table) live(slot int32, gen uint32) bool {
	g := *t.gens.Load()
	return slot >= 0 && int(slot) < len(g) && g[slot].Load() == gen&genMask|liveBit
}

// expect counts a join of ch, or its end (d < 0), in the summary: before
// the join runs on the loop, so that a publish after Subscribe returned
// wakes this loop. Concurrency-safe.
func (t *table) expect(ch string, d int32) {
	if isPattern(ch) {
		t.patN.Add(d)
		return
	}
	t.chanN[bucket(t.seed, ch)].Add(d)
}

// has reports whether the loop may hold a recipient of tg (the summary;
// a yes can be wrong, a no is not). Concurrency-safe.
func (t *table) has(tg *target) bool {
	switch tg.kind {
	case toAll:
		return t.count.Load() > 0
	case toType:
		return t.types[tg.typ.idx%typeBuckets].Load() > 0
	}
	switch {
	case tg.remote && isPattern(tg.via):
		return t.patN.Load() > 0
	case tg.remote:
		return t.chanN[tg.bucket].Load() > 0
	}
	return t.chanN[tg.bucket].Load() > 0 || t.patN.Load() > 0
}

// join adds c to channel ch ("\x00"+pattern for patterns); false when c
// is not in the table (it closed) or was a member already. Loop only.
func (t *table) join(c *conn, ch string) bool {
	if c.slot >= int32(len(t.slots)) || t.slots[c.slot] != c {
		return false
	}
	m, key := t.chans, ch
	if isPattern(ch) {
		m, key = t.pats, ch[1:]
	}
	set := m[key]
	if set == nil {
		set = map[*conn]struct{}{}
		m[key] = set
	}
	if _, ok := set[c]; ok {
		return false
	}
	set[c] = struct{}{}
	x := c.extra()
	x.chans = append(x.chans, ch)
	return true
}

// leave removes c from channel ch; false when it was not a member. Loop
// only; the caller takes ch out of c's list.
func (t *table) leave(c *conn, ch string) bool {
	m, key := t.chans, ch
	if isPattern(ch) {
		m, key = t.pats, ch[1:]
	}
	set := m[key]
	if _, ok := set[c]; !ok {
		return false
	}
	delete(set, c)
	if len(set) == 0 {
		delete(m, key)
	}
	return true
}

// unsubscribe removes c from ch, or else from the pattern ch; it returns
// the subscription it left ("" when none). Loop only.
func (t *table) unsubscribe(c *conn, ch string) string {
	if !t.leave(c, ch) {
		if ch = "\x00" + ch; !t.leave(c, ch) {
			return ""
		}
	}
	x := c.extra()
	for i, name := range x.chans {
		if name == ch {
			x.chans = append(x.chans[:i], x.chans[i+1:]...)
			break
		}
	}
	return ch
}

func isPattern(ch string) bool { return len(ch) > 0 && ch[0] == 0 }

type targetKind uint8

const (
	toAll targetKind = iota
	toType
	toChannel
)

type target struct {
	kind    targetKind
	typ     *ctype
	channel string
	// remote publishes arrive once per node subscription: via is the
	// subscription (a channel, or "\x00"+pattern) they came through.
	remote bool
	via    string
	bucket uint32 // the channel's summary bucket (fanout sets it)
}

// collect appends the members of tg to dst. Loop only.
func (t *table) collect(dst []*conn, tg target) []*conn {
	switch tg.kind {
	case toAll:
		for _, c := range t.slots {
			if c != nil {
				dst = append(dst, c)
			}
		}
	case toType:
		for _, c := range t.slots {
			if c != nil && c.route.typ == tg.typ {
				dst = append(dst, c)
			}
		}
	case toChannel:
		dst = t.collectChannel(dst, tg)
	}
	return dst
}

// collectChannel appends each subscriber of tg.channel once: a member of
// the channel itself is reached through it, any other member through the
// smallest of its patterns that matches. A remote publish comes once per
// node subscription, so it takes only the members reached through the
// subscription it came by. Loop only.
func (t *table) collectChannel(dst []*conn, tg target) []*conn {
	exact := t.chans[tg.channel]
	if !tg.remote || tg.via == tg.channel {
		for c := range exact {
			dst = append(dst, c)
		}
	}
	for p, set := range t.pats {
		if tg.remote && (!isPattern(tg.via) || tg.via[1:] != p) || !MatchGlob(p, tg.channel) {
			continue
		}
		for c := range set {
			if _, dup := exact[c]; !dup && firstPattern(c, tg.channel) == p {
				dst = append(dst, c)
			}
		}
	}
	return dst
}

// firstPattern returns the smallest of c's patterns that matches channel.
// Loop only (c.chans).
func firstPattern(c *conn, channel string) string {
	first, found := "", false
	for _, ch := range c.chans() {
		if isPattern(ch) && (!found || ch[1:] < first) && MatchGlob(ch[1:], channel) {
			first, found = ch[1:], true
		}
	}
	return first
}
