package dispatch

import (
	"sync"

	"github.com/plezigo/plezi/internal/pool"
)

type jobKind uint8

const (
	jobOpen jobKind = iota
	jobMessage
	jobClose
	jobShutdown
	jobDeliver
	jobFunc
)

// job is one unit of a connection's callbacks; jobs of one connection run in
// order on its shard.
type job struct {
	c      *conn
	kind   jobKind
	binary bool
	code   int
	buf    *[]byte // jobMessage payload, pooled
	reason string
	d      *delivery
	fn     func()
}

func (j *job) exec() {
	c := j.c
	switch j.kind {
	case jobOpen:
		if o, ok := c.ctrl.(Opener); ok && c.t.Open() {
			c.safe("OnOpen", o.OnOpen)
		}
		c.releaseRequest()
	case jobMessage:
		if c.t.Open() {
			c.handleMessage(*j.buf, j.binary)
		}
		pool.Put(j.buf)
	case jobClose:
		if cl, ok := c.ctrl.(Closer); ok {
			c.safe("OnClose", func() { cl.OnClose(j.code, j.reason) })
		}
		c.hub().forgetIdentities(c)
	case jobShutdown:
		if s, ok := c.ctrl.(ShutdownHandler); ok && c.t.Open() {
			c.safe("OnShutdown", s.OnShutdown)
		}
	case jobDeliver:
		c.invoke(j.d)
	case jobFunc:
		j.fn()
	}
}

// shard is a worker: one goroutine (work) running the jobs of the
// connections hashed to it, one at a time, so a slow callback stalls only
// its own shard.
type shard struct {
	mu      sync.Mutex
	q       []job // guarded by mu
	spare   []job // owned by the shard goroutine
	wake    chan struct{}
	stopped bool // guarded by mu
}

func newShard() *shard { return &shard{wake: make(chan struct{}, 1)} }

// push queues j. Never blocks. Concurrency-safe.
func (s *shard) push(j job) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		if j.kind == jobMessage {
			pool.Put(j.buf)
		}
		return
	}
	s.q = append(s.q, j)
	first := len(s.q) == 1
	s.mu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// work runs queued jobs until stop is closed and the queue is empty. The
// shard's goroutine.
func (s *shard) work(stop <-chan struct{}) {
	for {
		s.mu.Lock()
		q := s.q
		s.q = s.spare[:0]
		s.mu.Unlock()
		for i := range q {
			q[i].exec()
			q[i] = job{}
		}
		s.spare = q
		if len(q) > 0 {
			continue
		}
		select {
		case <-s.wake:
		case <-stop:
			s.mu.Lock()
			empty := len(s.q) == 0
			if empty {
				s.stopped = true
			}
			s.mu.Unlock()
			if empty {
				return
			}
		}
	}
}
