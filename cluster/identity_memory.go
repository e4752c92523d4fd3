package cluster

import (
	"fmt"
	"time"

	"github.com/plezigo/plezi/dispatch"
)

type identity struct {
	expires time.Time
	life    time.Duration
	conns   []string // oldest first
	box     []dispatch.Note
	bytes   int    // data bytes of the notes in box
	floor   uint64 // highest note id dropped from box (0: none)
	next    uint64
}

func (m *Memory) lookupLocked(name string) *identity {
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

func (m *Memory) forgetLocked(name string, id *identity) {
	delete(m.ids, name)
	m.mailBytes -= int64(id.bytes)
}

func (m *Memory) sweepLocked() {
	now := m.now()
	for k, id := range m.ids {
		if now.After(id.expires) {
			m.forgetLocked(k, id)
		}
	}
}

// fullSweepLocked sweeps expired identities because a bound was reached, at
// most once a second: a node that stays full does not scan on every call.
func (m *Memory) fullSweepLocked() {
	now := m.now()
	if d := now.Sub(m.fullSweep); d >= 0 && d < time.Second {
		return
	}
	m.fullSweep = now
	m.sweepLocked()
}

// Register joins connID to identity (see dispatch.Identities).
func (m *Memory) Register(name, connID string, life time.Duration, max int, after uint64) (evict []string, backlog []dispatch.Note, err error) {
	m.idMu.Lock()
	defer m.idMu.Unlock()
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
func (m *Memory) addLocked(name string) (*identity, error) {
	if len(m.ids) >= orDefault(m.MaxIdentities, DefaultMaxIdentities) {
		m.fullSweepLocked()
		if len(m.ids) >= orDefault(m.MaxIdentities, DefaultMaxIdentities) {
			return nil, fmt.Errorf("cluster: register: %w", dispatch.ErrTooManyIdentities)
		}
	}
	id := &identity{}
	m.ids[name] = id
	return id, nil
}

// Unregister removes connID from identity.
func (m *Memory) Unregister(name, connID string) error {
	m.idMu.Lock()
	defer m.idMu.Unlock()
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

// Notify stores a note in identity's mailbox (see dispatch.Identities). A
// refused note takes no id.
func (m *Memory) Notify(name string, build func(id uint64) []byte) (dispatch.Notified, error) {
	m.idMu.Lock()
	defer m.idMu.Unlock()
	id := m.lookupLocked(name)
	if id == nil {
		return dispatch.Notified{}, dispatch.ErrNotRegistered
	}
	n := dispatch.Note{ID: id.next + 1, Data: build(id.next + 1)}
	maxBytes := orDefault(m.MaxMailBytes, DefaultMaxMailBytes)
	if len(n.Data) > noteLimit(m.MaxNoteBytes, maxBytes) {
		return dispatch.Notified{}, fmt.Errorf("cluster: notify: %d bytes: %w", len(n.Data), dispatch.ErrNoteTooLarge)
	}
	drop, freed := id.overflow(len(n.Data), orDefault(m.MaxMail, DefaultMaxMail), maxBytes)
	if !m.roomLocked(int64(len(n.Data) - freed)) {
		return dispatch.Notified{}, fmt.Errorf("cluster: notify: %w", dispatch.ErrMailFull)
	}
	if m.ids[name] != id { // expired during the sweep roomLocked made
		return dispatch.Notified{}, dispatch.ErrNotRegistered
	}
	id.next = n.ID
	id.push(n, drop, freed)
	m.mailBytes += int64(len(n.Data) - freed)
	id.expires = m.now().Add(id.life)
	return dispatch.Notified{Note: n, Conns: append([]string(nil), id.conns...), Dropped: drop}, nil
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
func (id *identity) push(n dispatch.Note, drop, freed int) {
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
func (m *Memory) roomLocked(delta int64) bool {
	limit := orDefault(m.MaxNodeMailBytes, DefaultMaxNodeMailBytes)
	if delta <= 0 || m.mailBytes+delta <= limit {
		return true
	}
	m.fullSweepLocked()
	return m.mailBytes+delta <= limit
}

// Registered reports whether identity is registered and alive.
func (m *Memory) Registered(name string) (bool, error) {
	m.idMu.Lock()
	defer m.idMu.Unlock()
	return m.lookupLocked(name) != nil, nil
}

// MailBytes returns the note bytes the mailboxes hold, expired identities
// not yet swept included (the figure MaxNodeMailBytes bounds).
// Concurrency-safe.
func (m *Memory) MailBytes() int64 {
	m.idMu.Lock()
	defer m.idMu.Unlock()
	return m.mailBytes
}

// IdentityCount returns the identities held, expired ones not yet swept
// included (the figure MaxIdentities bounds). Concurrency-safe.
func (m *Memory) IdentityCount() int {
	m.idMu.Lock()
	defer m.idMu.Unlock()
	return len(m.ids)
}

// SetClock replaces the clock used for lifetimes (tests).
func (m *Memory) SetClock(now func() time.Time) {
	m.idMu.Lock()
	m.now = now
	m.idMu.Unlock()
}
