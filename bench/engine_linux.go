package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Engine drives the connections of one Config over Config.Loops event loops.
// Every method is safe from any goroutine.
type Engine struct {
	cfg   Config
	dsts  []*unix.SockaddrInet4 // by address index (Config.Addrs)
	hss   []*handshake          // by address index
	src   [][4]byte
	loops []*loop
	wg    sync.WaitGroup

	draining  atomic.Bool
	churnDone atomic.Int64
	closed    atomic.Bool
}

// NewEngine validates cfg and starts its event loops; no connection is opened
// until Connect (or Start, for churn). Close releases everything.
func NewEngine(cfg Config) (*Engine, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg}
	for _, a := range cfg.Addrs {
		dst, err := sockaddr(a)
		if err != nil {
			return nil, err
		}
		hs, err := newHandshake(a, cfg.Path)
		if err != nil {
			return nil, err
		}
		e.dsts, e.hss = append(e.dsts, dst), append(e.hss, hs)
	}
	if e.src, err = sources(cfg.Sources); err != nil {
		return nil, err
	}
	for i := 0; i < cfg.Loops; i++ {
		want := cfg.Conns / cfg.Loops
		if i < cfg.Conns%cfg.Loops {
			want++
		}
		if cfg.Scenario == ScenarioChurn {
			want = 0
		}
		l, err := newLoop(e, i, want)
		if err != nil {
			e.Close()
			return nil, err
		}
		e.loops = append(e.loops, l)
		e.wg.Add(1)
		go l.run(&e.wg)
	}
	return e, nil
}

// Config returns the engine's configuration with defaults filled in.
func (e *Engine) Config() Config { return e.cfg }

// Connect starts opening the connections; Progress tells how far it got.
func (e *Engine) Connect() {
	e.each(func(l *loop) { l.fillConnects() })
}

// Progress is a snapshot of an engine's counters.
type Progress struct {
	Up     int64 `json:"up"`     // connections upgraded so far
	Failed int64 `json:"failed"` // connections that never upgraded
	Closed int64 `json:"closed"` // upgraded connections the server closed
	Msgs   int64 `json:"msgs"`   // messages received in the window
	Sent   int64 `json:"sent"`   // messages sent in the window
	Bytes  int64 `json:"bytes"`  // bytes read
	Done   bool  `json:"done"`   // churn: every connection came and went
}

// Progress sums the loops' counters. It does not allocate.
func (e *Engine) Progress() Progress {
	var p Progress
	for _, l := range e.loops {
		p.Up += l.c.up.Load()
		p.Failed += l.c.failed.Load()
		p.Closed += l.c.closed.Load()
		p.Msgs += l.c.msgs.Load()
		p.Sent += l.c.sent.Load()
		p.Bytes += l.c.bytes.Load()
	}
	p.Done = e.cfg.Scenario == ScenarioChurn && int(e.churnDone.Load()) == len(e.loops)
	return p
}

// Settled reports whether every connection has upgraded or failed.
func (p Progress) Settled(conns int) bool { return int(p.Up+p.Failed) >= conns }

// WaitSettled polls until every connection upgraded or failed, or ctx ends.
func (e *Engine) WaitSettled(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !e.Progress().Settled(e.cfg.Conns) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Start begins the measured window: echo sends, churn starts connecting,
// and the push sender starts once every loop counts messages. A push run
// split over several engines must start the sender's engine last. Unicast
// first pairs the connections that are up (see pair), then sends.
func (e *Engine) Start() {
	if e.cfg.Scenario == ScenarioUnicast {
		e.pair()
	}
	e.each(func(l *loop) { l.start() })
	e.each(func(l *loop) { l.startSending() })
}

// Stop ends the measured window; messages after it are not counted.
func (e *Engine) Stop() { e.each(func(l *loop) { l.stop() }) }

// Halt stops the push sender; the receivers go on counting until Stop.
func (e *Engine) Halt() { e.each(func(l *loop) { l.sending = false }) }

// each runs f on every loop and waits for all of them.
func (e *Engine) each(f func(l *loop)) {
	if e.closed.Load() {
		return
	}
	var wg sync.WaitGroup
	for _, l := range e.loops {
		wg.Add(1)
		l.post(func() { f(l); wg.Done() })
	}
	wg.Wait()
}

// Drain lets slow consumers read again and waits until each one was closed
// by the server or stayed quiet for quiet, at most until ctx ends.
func (e *Engine) Drain(ctx context.Context, quiet time.Duration) {
	e.draining.Store(true)
	e.each(func(l *loop) { l.drainStart() })
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		var busy atomic.Int64
		now := Now()
		e.each(func(l *loop) { busy.Add(int64(l.slowBusy(now, int64(quiet)))) })
		if busy.Load() == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Result merges the loops' histograms and figures.
func (e *Engine) Result() Result { return e.result(false) }

// Cut is Result, after which each loop starts a new latency histogram
// (in the same task, so no message is counted twice or lost between
// two cuts). The counters go on.
func (e *Engine) Cut() Result { return e.result(true) }

func (e *Engine) result(cut bool) Result {
	var r Result
	var h Histogram
	var mu sync.Mutex // the loops run their tasks at the same time
	e.each(func(l *loop) {
		mu.Lock()
		h.Merge(&l.hist)
		r.add(&l.stats)
		mu.Unlock()
		if cut {
			l.hist.Reset()
		}
	})
	p := e.Progress()
	r.Up, r.Failed, r.Closed, r.Msgs, r.Sent, r.Bytes = p.Up, p.Failed, p.Closed, p.Msgs, p.Sent, p.Bytes
	r.Hist = h.Sparse()
	return r
}

// Close stops the loops, resets every connection and waits for the loop
// goroutines to exit. Safe to call more than once.
func (e *Engine) Close() {
	if e.closed.Swap(true) {
		return
	}
	for _, l := range e.loops {
		l.post(func() { l.quit = true })
	}
	e.wg.Wait()
}

// drainStart re-arms reading on the loop's slow consumers.
func (l *loop) drainStart() {
	now := Now()
	for _, c := range l.conns {
		if c != nil && c.slow && c.state == stOpen {
			c.last = now
			l.mod(c, l.interest(c))
		}
	}
}

// slowBusy counts slow consumers still open that read within quiet.
func (l *loop) slowBusy(now, quiet int64) int {
	n := 0
	for _, c := range l.conns {
		if c != nil && c.slow && c.state == stOpen && now-c.last < quiet {
			n++
		}
	}
	return n
}
