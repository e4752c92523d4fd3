package push

import (
	"container/heap"
	"sync"
	"time"
)

// Token expiry. A connection whose tokens (the one it connected with, the
// ones it registered with) carry an "exp" is closed with CloseTokenExpired
// once the earliest of them would be refused (exp plus the leeway), unless
// a "refresh" moved it. No connection has a timer of its own: each node
// keeps one min-heap of the connections it watches, ordered by that
// deadline, and one time.Timer armed for the top of it (as the server's
// loops keep one re-check timer each, server/timers.go). The heap holds at
// most one entry per open connection of the node (bounded by the server's
// connection cap) and Stats.Expiring counts them.

// expiries is a node's heap of token deadlines. Safe for concurrent use:
// the connections' workers set and clear their entries, the timer's
// function pops the due ones.
type expiries struct {
	mu    sync.Mutex
	h     expiryHeap  // guarded by mu
	timer *time.Timer // guarded by mu; nil until first armed
	at    int64       // guarded by mu: unix nanos the timer is set for; 0 = stopped
	stats *Stats
}

// expiryHeap orders the watched connections by Push.xdue. Lock should be
// held for every method (container/heap calls them under expiries.mu).
type expiryHeap []*Push

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].xdue < h[j].xdue }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].xslot, h[j].xslot = i+1, j+1
}
func (h *expiryHeap) Push(x any) {
	p := x.(*Push)
	p.xslot = len(*h) + 1
	*h = append(*h, p)
}
func (h *expiryHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	p.xslot = 0
	return p
}

// set makes due (unix nanos; 0 = none) p's deadline. It returns false when
// p's deadline passed already: the timer has taken it and is closing the
// connection, and nothing can extend it any more.
func (e *expiries) set(p *Push, due int64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p.xfired {
		return false
	}
	switch {
	case due == 0 && p.xslot != 0:
		heap.Remove(&e.h, p.xslot-1)
	case due == 0:
		return true
	case p.xslot != 0:
		p.xdue = due
		heap.Fix(&e.h, p.xslot-1)
	default:
		p.xdue = due
		heap.Push(&e.h, p)
	}
	e.stats.Expiring.Store(int64(len(e.h)))
	e.armLocked()
	return true
}

// armLocked sets the timer for the earliest deadline, or stops it when
// none is watched. Lock should be held.
func (e *expiries) armLocked() {
	if len(e.h) == 0 {
		if e.timer != nil && e.at != 0 {
			e.timer.Stop()
		}
		e.at = 0
		return
	}
	top := e.h[0].xdue
	if e.at == top {
		return
	}
	e.at = top
	d := max(0, time.Duration(top-time.Now().UnixNano()))
	if e.timer == nil {
		e.timer = time.AfterFunc(d, e.fire)
		return
	}
	e.timer.Reset(d)
}

// fire closes the connections whose deadline passed and sets the timer
// for the next one. A stale firing (the timer was moved) finds nothing due
// and only sets it again.
func (e *expiries) fire() {
	now := time.Now().UnixNano()
	var due []*Push
	e.mu.Lock()
	for len(e.h) > 0 && e.h[0].xdue <= now {
		p := heap.Pop(&e.h).(*Push)
		p.xfired = true
		due = append(due, p)
	}
	e.stats.Expiring.Store(int64(len(e.h)))
	e.at = 0
	e.armLocked()
	e.mu.Unlock()
	for _, p := range due {
		e.stats.Expired.Add(1)
		p.CloseWith(CloseTokenExpired, "token expired")
	}
}
