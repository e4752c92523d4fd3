package cluster

import (
	"time"

	"github.com/plezigo/plezi/dispatch"
)

type identity struct {
	expires time.Time
	life    time.Duration
	conns   []string // oldest first
	box     []dispatch.Note
	next    uint64
}

func (m *Memory) lookupLocked(name string) *identity {
	m.ops++
	if m.ops%1024 == 0 {
		m.sweepLocked()
	}
	id := m.ids[name]
	if id != nil && m.now().After(id.expires) {
		delete(m.ids, name)
		return nil
	}
	return id
}

func (m *Memory) sweepLocked() {
	now := m.now()
	for k, id := range m.ids {
		if now.After(id.expires) {
			delete(m.ids, k)
		}
	}
}

// Register joins connID to identity (see dispatch.Identities).
func (m *Memory) Register(name, connID string, life time.Duration, max int, after uint64) (evict []string, backlog []dispatch.Note, err error) {
	m.idMu.Lock()
	defer m.idMu.Unlock()
	id := m.lookupLocked(name)
	if id == nil {
		id = &identity{}
		m.ids[name] = id
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
	return evict, backlog, nil
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

// Notify stores a note in identity's mailbox (see dispatch.Identities).
func (m *Memory) Notify(name string, build func(id uint64) []byte) (dispatch.Note, []string, bool, error) {
	m.idMu.Lock()
	defer m.idMu.Unlock()
	id := m.lookupLocked(name)
	if id == nil {
		return dispatch.Note{}, nil, false, nil
	}
	id.next++
	n := dispatch.Note{ID: id.next, Data: build(id.next)}
	id.box = append(id.box, n)
	if max := m.maxMail(); len(id.box) > max {
		id.box = append(id.box[:0], id.box[len(id.box)-max:]...)
	}
	id.expires = m.now().Add(id.life)
	return n, append([]string(nil), id.conns...), true, nil
}

// Registered reports whether identity is registered and alive.
func (m *Memory) Registered(name string) (bool, error) {
	m.idMu.Lock()
	defer m.idMu.Unlock()
	return m.lookupLocked(name) != nil, nil
}

func (m *Memory) maxMail() int {
	if m.MaxMail > 0 {
		return m.MaxMail
	}
	return 256
}

// SetClock replaces the clock used for lifetimes (tests).
func (m *Memory) SetClock(now func() time.Time) {
	m.idMu.Lock()
	m.now = now
	m.idMu.Unlock()
}
