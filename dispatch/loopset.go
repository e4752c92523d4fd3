package dispatch

import (
	"sync"
	"sync/atomic"
)

// loopSet is the membership of one event loop: its connection table (for
// ids and multicast), connections by controller type (broadcast) and by
// channel (publish). Fan-out tasks for the loop copy the members they need
// into scratch under the read lock, then write without holding it.
type loopSet struct {
	mu     sync.RWMutex
	slots  []*Conn                       // guarded by mu; nil = free
	gens   []uint32                      // guarded by mu; bumped when a slot is freed
	free   []int32                       // guarded by mu
	byType [][]*Conn                     // guarded by mu; per ctype idx
	chans  map[string]map[*Conn]struct{} // guarded by mu
	pats   map[string]map[*Conn]struct{} // guarded by mu
	count  atomic.Int32

	scratch []*Conn // loop-owned: used only by tasks running on the loop
}

func newLoopSet() *loopSet {
	return &loopSet{chans: map[string]map[*Conn]struct{}{}, pats: map[string]map[*Conn]struct{}{}}
}

// add puts c in a free slot. Lock should be held.
func (ls *loopSet) add(c *Conn) (slot int32, gen uint32) {
	if n := len(ls.free); n > 0 {
		slot = ls.free[n-1]
		ls.free = ls.free[:n-1]
	} else {
		slot = int32(len(ls.slots))
		ls.slots = append(ls.slots, nil)
		ls.gens = append(ls.gens, 0)
	}
	ls.slots[slot] = c
	for len(ls.byType) <= c.typ().idx {
		ls.byType = append(ls.byType, nil)
	}
	c.typeIdx = int32(len(ls.byType[c.typ().idx]))
	ls.byType[c.typ().idx] = append(ls.byType[c.typ().idx], c)
	ls.count.Add(1)
	return slot, ls.gens[slot] & 0xFFFFFF
}

// del frees c's slot and memberships. Lock should be held.
func (ls *loopSet) del(c *Conn) {
	if ls.slots[c.slot] != c {
		return
	}
	ls.slots[c.slot] = nil
	ls.gens[c.slot]++
	ls.free = append(ls.free, c.slot)
	list := ls.byType[c.typ().idx]
	last := len(list) - 1
	moved := list[last]
	list[c.typeIdx] = moved
	moved.typeIdx = c.typeIdx
	list[last] = nil
	ls.byType[c.typ().idx] = list[:last]
	for _, ch := range c.chans() {
		ls.leave(c, ch)
	}
	ls.count.Add(-1)
}

// join adds c to channel ch ("\x00"+pattern for patterns); false when it
// was a member already. Lock should be held.
func (ls *loopSet) join(c *Conn, ch string) bool {
	m, key := ls.chans, ch
	if isPattern(ch) {
		m, key = ls.pats, ch[1:]
	}
	set := m[key]
	if set == nil {
		set = map[*Conn]struct{}{}
		m[key] = set
	}
	if _, ok := set[c]; ok {
		return false
	}
	set[c] = struct{}{}
	return true
}

// leave removes c from channel ch; false when it was not a member. Lock
// should be held.
func (ls *loopSet) leave(c *Conn, ch string) bool {
	m, key := ls.chans, ch
	if isPattern(ch) {
		m, key = ls.pats, ch[1:]
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
}

// collect appends the members of tg to dst. Read lock should be held.
func (ls *loopSet) collect(dst []*Conn, tg target) []*Conn {
	switch tg.kind {
	case toAll:
		for _, c := range ls.slots {
			if c != nil {
				dst = append(dst, c)
			}
		}
	case toType:
		if tg.typ.idx < len(ls.byType) {
			dst = append(dst, ls.byType[tg.typ.idx]...)
		}
	case toChannel:
		dst = ls.collectChannel(dst, tg)
	}
	return dst
}

// collectChannel appends each subscriber of tg.channel once: a member of
// the channel itself is reached through it, any other member through the
// smallest of its patterns that matches. A remote publish comes once per
// node subscription, so it takes only the members reached through the
// subscription it came by. Read lock should be held.
func (ls *loopSet) collectChannel(dst []*Conn, tg target) []*Conn {
	exact := ls.chans[tg.channel]
	if !tg.remote || tg.via == tg.channel {
		for c := range exact {
			dst = append(dst, c)
		}
	}
	for p, set := range ls.pats {
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
// Lock should be held (c.chans).
func firstPattern(c *Conn, channel string) string {
	first, found := "", false
	for _, ch := range c.chans() {
		if isPattern(ch) && (!found || ch[1:] < first) && MatchGlob(ch[1:], channel) {
			first, found = ch[1:], true
		}
	}
	return first
}
