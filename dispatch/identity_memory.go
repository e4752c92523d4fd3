package dispatch

import (
	"fmt"
	"sync"
	"time"
)

var _ Identities = (*MemoryIdentities)(nil)

// Default bounds of MemoryIdentities (and of cluster.RedisConfig's
// mailboxes).
const (
	DefaultMaxMail          = 256       // notes per mailbox
	DefaultMaxMailBytes     = 1 << 20   // note bytes per mailbox
	DefaultMaxNodeMailBytes = 256 << 20 // note bytes in all of a MemoryIdentities' mailboxes
	DefaultMaxIdentities    = 1 << 20   // identities a MemoryIdentities holds
)

// MemoryIdentities is an in-process Identities store: registrations and
// bounded mailboxes in this process's memory. A Hub without Identities
// makes one of its own, so one node needs no setup; hubs that share one
// (cluster.Memory embeds it) share their identities. Safe for concurrent
// use; every method holds its lock for a few map operations only.
type MemoryIdentities struct {
	// Mailbox and identity bounds. Zero values get the defaults; set them
	// before the first Register. A note that does not fit its mailbox drops
	// the oldest ones; one over MaxNoteBytes, or past MaxNodeMailBytes, is
	// refused (ErrNoteTooLarge, ErrMailFull), and so is a new identity
	// past MaxIdentities (ErrTooManyIdentities). MailBytes and
	// IdentityCount report the figures the node-wide bounds cap.
	MaxMail          int   // notes per mailbox; 0 → DefaultMaxMail (256)
	MaxMailBytes     int   // note bytes per mailbox; 0 → DefaultMaxMailBytes (1 MiB)
	MaxNoteBytes     int   // bytes of one note; 0 → MaxMailBytes, never above it
	MaxNodeMailBytes int64 // note bytes in all mailboxes; 0 → DefaultMaxNodeMailBytes (256 MiB)
	MaxIdentities    int   // identities held; 0 → DefaultMaxIdentities (1,048,576)

	mu        sync.Mutex
	ids       map[string]*identity // guarded by mu
	ops       int                  // guarded by mu; sweeps expired identities every 1024 ops
	mailBytes int64                // note bytes in ids' mailboxes; guarded by mu
	fullSweep time.Time            // last sweep made because a bound was reached; guarded by mu
	now       func() time.Time     // guarded by mu
}

// NewMemoryIdentities returns an empty in-process identity store with the
// default bounds. Concurrency-safe, as are its methods.
func NewMemoryIdentities() *MemoryIdentities {
	return &MemoryIdentities{ids: map[string]*identity{}, now: time.Now}
}

type identity struct {
	expires time.Time
	life    time.Duration
	conns   []string // oldest first
	box     []Note
	bytes   int    // data bytes of the notes in box
	floor   uint64 // highest note id dropped from box (0: none)
	next    uint64
}

func (m *MemoryIdentities) lookupLocked(name string) *identity {
	m.ops++
	if m.ops%1024 == 0 {
		m.sweepLocked()
	}
	id := m.ids[name]
	if id != nil && m.now().After(id.expires) {
		m.forgetLocked(name, id)
		return nil
	}
	return id
}

func (m *MemoryIdentities) forgetLocked(name string, id *identity) {
	delete(m.ids, name)
	m.mailBytes -= int64(id.bytes)
}

func (m *MemoryIdentities) sweepLocked() {
	now := m.now()
	for k, id := range m.ids {
		if now.After(id.expires) {
			m.forgetLocked(k, id)
		}
	}
}

// fullSweepLocked sweeps expired identities because a bound was reached, at
// most once a second: a node that stays full does not scan on every call.
func (m *MemoryIdentities) fullSweepLocked() {
	now := m.now()
	if d := now.Sub(m.fullSweep); d >= 0 && d < time.Second {
		return
	}
	m.fullSweep = now
	m.sweepLocked()
}

// Register joins connID to identity (see Identities). Concurrency-safe.
func (m *MemoryIdentities) Register(name, connID string, life time.Duration, max int, after uint64) (evict []string, backlog []Note, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.lookupLocked(name)
	if id == nil {
		if id, err = m.addLocked(name); err != nil {
			return nil, nil, err
		}
	}
	id.life = life
	id.expires = m.now().Add(life)
	present := false
	for _, c := range id.conns {
		present = present || c == connID
	}
	if !present {
		id.conns = append(id.conns, connID)
	}
	if n := len(id.conns) - max; n > 0 {
		evict = append(evict, id.conns[:n]...)
		id.conns = append(id.conns[:0], id.conns[n:]...)
	}
	for _, n := range id.box {
		if n.ID > after {
			backlog = append(backlog, n)
		}
	}
	markGap(backlog, id.floor, after)
	return evict, backlog, nil
}

// addLocked makes identity name, within MaxIdentities.
func (m *MemoryIdentities) addLocked(name string) (*identity, error) {
	if len(m.ids) >= orDefault(m.MaxIdentities, DefaultMaxIdentities) {
		m.fullSweepLocked()
		if len(m.ids) >= orDefault(m.MaxIdentities, DefaultMaxIdentities) {
			return nil, fmt.Errorf("dispatch: register: %w", ErrTooManyIdentities)
		}
	}
	id := &identity{}
	m.ids[name] = id
	return id, nil
}

// Unregister removes connID from identity. Concurrency-safe.
func (m *MemoryIdentities) Unregister(name, connID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.lookupLocked(name)
	if id == nil {
		return nil
	}
	for i, c := range id.conns {
		if c == connID {
			id.conns = append(id.conns[:i], id.conns[i+1:]...)
			break
		}
	}
	return nil
}

// Notify stores a note in identity's mailbox (see Identities). A
// refused note takes no id. Concurrency-safe.
func (m *MemoryIdentities) Notify(name string, build func(id uint64) []byte) (Notified, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.lookupLocked(name)
	if id == nil {
		return Notified{}, ErrNotRegistered
	}
	n := Note{ID: id.next + 1, Data: build(id.next + 1)}
	maxBytes := orDefault(m.MaxMailBytes, DefaultMaxMailBytes)
	if len(n.Data) > noteLimit(m.MaxNoteBytes, maxBytes) {
		return Notified{}, fmt.Errorf("dispatch: notify: %d bytes: %w", len(n.Data), ErrNoteTooLarge)
	}
	drop, freed := id.overflow(len(n.Data), orDefault(m.MaxMail, DefaultMaxMail), maxBytes)
	if !m.roomLocked(int64(len(n.Data) - freed)) {
		return Notified{}, fmt.Errorf("dispatch: notify: %w", ErrMailFull)
	}
	if m.ids[name] != id { // expired during the sweep roomLocked made
		return Notified{}, ErrNotRegistered
	}
	id.next = n.ID
	id.push(n, drop, freed)
	m.mailBytes += int64(len(n.Data) - freed)
	id.expires = m.now().Add(id.life)
	return Notified{Note: n, Conns: append([]string(nil), id.conns...), Dropped: drop}, nil
}

// overflow counts the oldest notes to drop, and their bytes, so that one
// more note of size bytes fits within max notes and maxBytes.
func (id *identity) overflow(size, max, maxBytes int) (drop, freed int) {
	for drop < len(id.box) && (len(id.box)-drop+1 > max || id.bytes-freed+size > maxBytes) {
		freed += len(id.box[drop].Data)
		drop++
	}
	return drop, freed
}

// push drops the oldest drop notes (freed bytes) and appends n.
func (id *identity) push(n Note, drop, freed int) {
	if drop > 0 {
		id.floor = id.box[drop-1].ID
		k := copy(id.box, id.box[drop:])
		clear(id.box[k:]) // the dropped notes' data is not kept alive
		id.box = id.box[:k]
	}
	id.box = append(id.box, n)
	id.bytes += len(n.Data) - freed
}

// roomLocked reports whether the mailboxes take delta more bytes within
// MaxNodeMailBytes, sweeping expired identities once when they do not.
func (m *MemoryIdentities) roomLocked(delta int64) bool {
	limit := orDefault(m.MaxNodeMailBytes, DefaultMaxNodeMailBytes)
	if delta <= 0 || m.mailBytes+delta <= limit {
		return true
	}
	m.fullSweepLocked()
	return m.mailBytes+delta <= limit
}

// Registered reports whether identity is registered and alive.
// Concurrency-safe.
func (m *MemoryIdentities) Registered(name string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lookupLocked(name) != nil, nil
}

// MailBytes returns the note bytes the mailboxes hold, expired identities
// not yet swept included (the figure MaxNodeMailBytes bounds).
// Concurrency-safe.
func (m *MemoryIdentities) MailBytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mailBytes
}

// IdentityCount returns the identities held, expired ones not yet swept
// included (the figure MaxIdentities bounds). Concurrency-safe.
func (m *MemoryIdentities) IdentityCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.ids)
}

// SetClock replaces the clock used for lifetimes (tests). Concurrency-safe.
func (m *MemoryIdentities) SetClock(now func() time.Time) {
	m.mu.Lock()
	m.now = now
	m.mu.Unlock()
}

// orDefault returns v, or def when v is not positive.
func orDefault[T int | int64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// noteLimit is the largest note a mailbox of mail bytes takes: note, or
// mail when note is 0 or larger.
func noteLimit(note, mail int) int {
	if note <= 0 || note > mail {
		return mail
	}
	return note
}

// markGap sets the first backlog note's Gap when the mailbox dropped notes
// above after: floor is the highest id it dropped.
func markGap(backlog []Note, floor, after uint64) {
	if len(backlog) > 0 && floor > after {
		backlog[0].Gap = floor - after
	}
}
