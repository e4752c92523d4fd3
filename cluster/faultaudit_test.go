package cluster_test

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/server"
)

// The delivery audit of a fault test. While a fault comes and goes it
// runs:
//
//   - a unicast stream (every 5 ms, from one node's hub to a connection on
//     another node) and a note stream (Notify of that connection's
//     identity, every 5 ms, from the same node);
//   - a loop probe per node: a round trip through the /echo route, which
//     runs on the node's only event loop, every 20 ms;
//   - a health probe per node: GET /readyz every 50 ms.
//
// Then it checks: no note whose Notify returned true is missing (but those
// the test allows to be lost with Redis's data), no note id is delivered
// twice on the connection, unicasts arrive in the order they were sent,
// no more than once; every loop round trip took under 100 ms; /readyz
// answered at once every time.
//
// The machine that runs the suite has two cores, shared: a process can be
// starved for a while, and then every round trip is late, with or without
// a node's help. So each probe runs, at the same moment, a control round
// trip through a goroutine-per-connection TCP echo in the test process
// (the same kernel path and client goroutines, no event loop), and the
// budgets apply to the probe's time beyond the control's.

// loopBudget is the longest an event loop may take to answer.
const loopBudget = 100 * time.Millisecond

// healthBudget is the longest a /readyz answer may take beyond its
// control (answered on the loop; the rest is the test's HTTP client).
const healthBudget = 250 * time.Millisecond

// controlEcho runs a goroutine-per-connection TCP echo until the test
// ends and returns its address.
func controlEcho(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = io.Copy(c, c) }()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

// control is one connection to a controlEcho.
type control struct{ c net.Conn }

func dialControl(t *testing.T, addr string) *control {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &control{c: c}
}

// beside runs fn and, at the same time, a control round trip; it returns
// fn's time and how much longer than the control's it was.
func (ct *control) beside(fn func() error) (took, excess time.Duration, err error) {
	ctrl := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		b := []byte{1}
		_ = ct.c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := ct.c.Write(b); err == nil {
			_, _ = io.ReadFull(ct.c, b)
		}
		ctrl <- time.Since(start)
	}()
	err = fn()
	took = time.Since(start)
	return took, max(0, took-<-ctrl), err
}

// audPeer is a client of /aud, read by its own goroutine.
type audPeer struct {
	c    *websocket.Conn
	id   string
	done chan struct{}
	acks chan struct{} // one per "_ack_" (dropped when full)

	mu     sync.Mutex
	us     []int          // "u" seqs, in arrival order
	nids   map[uint64]int // note id → times delivered
	notes  map[int]bool   // note seqs delivered
	ufails []time.Time    // "ufail" arrivals
	warm   int            // "w" frames (warm-up)
	closed int            // the close code; 0 while open
}

// dialAud connects to /aud on addr as user ("" for none) and reads its id.
func dialAud(t *testing.T, addr, user string) *audPeer {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/aud?user="+user, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	p := &audPeer{c: c, done: make(chan struct{}), acks: make(chan struct{}, 16), nids: map[uint64]int{}, notes: map[int]bool{}}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for p.id == "" {
		var m audFrame
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("reading the id: %v", err)
		}
		if m.Event == "regerr" {
			t.Fatalf("RegisterAs %s: %s", user, m.Args)
		}
		if m.Event == "id" {
			_ = json.Unmarshal(m.Args[0], &p.id)
		}
	}
	_ = c.SetReadDeadline(time.Time{})
	go p.read()
	t.Cleanup(func() {
		_ = c.Close()
		<-p.done
	})
	return p
}

type audFrame struct {
	Event string            `json:"event"`
	NID   uint64            `json:"_NID_"`
	Args  []json.RawMessage `json:"args"`
}

func (p *audPeer) read() {
	defer close(p.done)
	for {
		var m audFrame
		err := p.c.ReadJSON(&m)
		if err != nil {
			p.mu.Lock()
			p.closed = -1
			if ce, ok := err.(*websocket.CloseError); ok {
				p.closed = ce.Code
			}
			p.mu.Unlock()
			return
		}
		p.take(m)
	}
}

// take records one frame.
func (p *audPeer) take(m audFrame) {
	var seq int
	if len(m.Args) > 0 {
		_ = json.Unmarshal(m.Args[0], &seq)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch m.Event {
	case "u":
		p.us = append(p.us, seq)
	case "n":
		p.nids[m.NID]++
		p.notes[seq] = true
	case "ufail":
		p.ufails = append(p.ufails, time.Now())
	case "w":
		p.warm++
	case "_ack_":
		select {
		case p.acks <- struct{}{}:
		default:
		}
	}
}

// ucast asks the peer's node to unicast "u" seq to id.
func (p *audPeer) ucast(id string, seq int) error {
	b, _ := json.Marshal(map[string]any{"event": "ucast", "args": []any{id, seq}})
	return p.c.WriteMessage(websocket.TextMessage, b)
}

// pingAud calls the peer's "ping" event and waits for its ack: a round
// trip through its worker shard.
func pingAud(p *audPeer, within time.Duration) error {
	if err := p.c.WriteMessage(websocket.TextMessage, []byte(`{"event":"ping","_EID_":1}`)); err != nil {
		return err
	}
	select {
	case <-p.acks:
		return nil
	case <-time.After(within):
		return errors.New("no answer within " + within.String())
	}
}

// registerErr opens /aud at url and returns the RegisterAs error its
// controller reported ("" for none).
func registerErr(url string) string {
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return "dial: " + err.Error()
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	regerr := ""
	for {
		var m audFrame
		if err := c.ReadJSON(&m); err != nil {
			return "read: " + err.Error()
		}
		switch m.Event {
		case "regerr":
			_ = json.Unmarshal(m.Args[0], &regerr)
		case "id":
			return regerr
		}
	}
}

// stream calls send every 5 ms with 1, 2, ... and keeps when each was
// sent and whether it was taken.
type stream struct {
	mu   sync.Mutex
	at   []time.Time // by seq-1
	ok   []bool
	stop chan struct{}
	done chan struct{}
}

func startStream(send func(seq int) bool) *stream {
	s := &stream{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for seq := 1; ; seq++ {
			// The send time is recorded before the send: its delivery may
			// be seen (and looked up by seq) before send returns.
			s.mu.Lock()
			s.at, s.ok = append(s.at, time.Now()), append(s.ok, false)
			s.mu.Unlock()
			ok := send(seq)
			s.mu.Lock()
			s.ok[seq-1] = ok
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *stream) end() {
	close(s.stop)
	<-s.done
}

// last is the newest seq and when it was sent.
func (s *stream) last() (int, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.at) == 0 {
		return 0, time.Time{}
	}
	return len(s.at), s.at[len(s.at)-1]
}

// sentAt is when seq was sent.
func (s *stream) sentAt(seq int) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.at[seq-1]
}

// probe runs fn every period until ended.
type probe struct {
	stop chan struct{}
	done chan struct{}
}

func startProbe(period time.Duration, fn func()) *probe {
	p := &probe{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			fn()
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *probe) end() {
	close(p.stop)
	<-p.done
}

// loopProbe times round trips through a node's event loop.
type loopProbe struct {
	*probe
	c      *websocket.Conn
	ctl    *control
	worst  atomic.Int64 // nanoseconds, beyond the control's
	rawMax atomic.Int64 // nanoseconds
	n      atomic.Int64
	err    atomic.Pointer[error]
}

func startLoopProbe(t *testing.T, addr, ctl string) *loopProbe {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	lp := &loopProbe{c: c, ctl: dialControl(t, ctl)}
	lp.probe = startProbe(20*time.Millisecond, lp.once)
	return lp
}

func (lp *loopProbe) once() {
	if lp.err.Load() != nil {
		return
	}
	took, excess, err := lp.ctl.beside(func() error {
		_ = lp.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if err := lp.c.WriteMessage(websocket.TextMessage, []byte("p")); err != nil {
			return err
		}
		_, _, err := lp.c.ReadMessage()
		return err
	})
	if err != nil {
		lp.err.Store(&err)
		return
	}
	lp.n.Add(1)
	raise(&lp.worst, int64(excess))
	raise(&lp.rawMax, int64(took))
}

// raise sets a to v when v is larger.
func raise(a *atomic.Int64, v int64) {
	for {
		w := a.Load()
		if v <= w || a.CompareAndSwap(w, v) {
			return
		}
	}
}

func (lp *loopProbe) end() {
	lp.probe.end()
	_ = lp.c.Close()
}

// healthProbe polls /readyz.
type healthProbe struct {
	*probe
	url string
	ctl *control
	mu  sync.Mutex
	log []healthSample
}

type healthSample struct {
	at     time.Time
	code   int // 0: no answer
	took   time.Duration
	excess time.Duration // beyond the control round trip
}

var healthClient = &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func startHealthProbe(t *testing.T, addr, ctl string) *healthProbe {
	hp := &healthProbe{url: "http://" + addr + "/readyz", ctl: dialControl(t, ctl)}
	hp.probe = startProbe(50*time.Millisecond, hp.once)
	return hp
}

func (hp *healthProbe) once() {
	s := healthSample{at: time.Now()}
	s.took, s.excess, _ = hp.ctl.beside(func() error {
		resp, err := healthClient.Get(hp.url)
		if err == nil {
			s.code = resp.StatusCode
			resp.Body.Close()
		}
		return err
	})
	hp.mu.Lock()
	hp.log = append(hp.log, s)
	hp.mu.Unlock()
}

func (hp *healthProbe) samples() []healthSample {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	return append([]healthSample(nil), hp.log...)
}

// audit runs the streams and probes of one fault test.
type audit struct {
	t      *testing.T
	to     *audPeer
	uni    *stream
	notes  *stream
	loops  []*loopProbe
	health []*healthProbe
}

// auditAddr is what the audit needs of a node: its address.
type auditAddr interface{ Addr() string }

// startAudit streams unicasts and notes from `from` to the connection to
// (registered as user) and probes every node.
func startAudit(t *testing.T, from *server.Server, to *audPeer, user string, nodes ...auditAddr) *audit {
	t.Helper()
	a := &audit{t: t, to: to}
	ctl := controlEcho(t)
	for _, n := range nodes {
		a.loops = append(a.loops, startLoopProbe(t, n.Addr(), ctl))
		a.health = append(a.health, startHealthProbe(t, n.Addr(), ctl))
	}
	a.uni = startStream(func(seq int) bool { return from.Hub().Unicast(to.id, "u", seq) })
	a.notes = startStream(func(seq int) bool { return from.Hub().Notify(user, "n", seq) })
	return a
}

// delivering reports whether a unicast and a note sent after since have
// both arrived.
func (a *audit) delivering(since time.Time) bool {
	a.to.mu.Lock()
	var lastU int
	if len(a.to.us) > 0 {
		lastU = a.to.us[len(a.to.us)-1]
	}
	a.to.mu.Unlock()
	if lastU == 0 || a.uni.sentAt(lastU).Before(since) {
		return false
	}
	n, _ := a.notes.last()
	for seq := n; seq > 0; seq-- {
		at := a.notes.sentAt(seq)
		if at.Before(since) {
			return false
		}
		a.to.mu.Lock()
		got := a.to.notes[seq]
		a.to.mu.Unlock()
		if got {
			return true
		}
	}
	return false
}

// healed waits until every node is healthy and deliveries sent after
// since arrive, and returns how long that took from since.
func (a *audit) healed(since time.Time, nodes ...*faultNode) time.Duration {
	a.t.Helper()
	cluster.CheckFor(a.t, 10*time.Second, "healing", func() bool {
		for _, n := range nodes {
			if !n.Healthy() {
				return false
			}
		}
		return a.delivering(since)
	})
	return time.Since(since)
}

// finish ends the streams, waits for the notes that should arrive, ends
// the probes and checks the audit. lost says which notes may be missing
// (notified at that time: Redis lost them).
func (a *audit) finish(lost func(at time.Time) bool) {
	t := a.t
	t.Helper()
	a.uni.end()
	a.notes.end()
	var missing []int
	cluster.Poll(5*time.Second, func() bool {
		missing = a.missingNotes(lost)
		return len(missing) == 0
	})
	for _, p := range a.loops {
		p.end()
	}
	for _, p := range a.health {
		p.end()
	}
	if len(missing) > 0 {
		t.Errorf("%d notes whose Notify returned true never arrived: %v", len(missing), head(missing))
	}
	a.checkConnection()
	a.checkProbes()
}

// missingNotes lists the notes taken and not delivered.
func (a *audit) missingNotes(lost func(time.Time) bool) []int {
	a.notes.mu.Lock()
	ok, at := append([]bool(nil), a.notes.ok...), append([]time.Time(nil), a.notes.at...)
	a.notes.mu.Unlock()
	a.to.mu.Lock()
	defer a.to.mu.Unlock()
	var out []int
	for i, taken := range ok {
		if taken && !a.to.notes[i+1] && (lost == nil || !lost(at[i])) {
			out = append(out, i+1)
		}
	}
	return out
}

// checkConnection: the audited connection is open, got no note id twice
// and its unicasts in order, each once.
func (a *audit) checkConnection() {
	t := a.t
	a.to.mu.Lock()
	defer a.to.mu.Unlock()
	if a.to.closed != 0 {
		t.Errorf("the audited connection closed (%d)", a.to.closed)
	}
	for nid, n := range a.to.nids {
		if n > 1 {
			t.Errorf("note id %d delivered %d times", nid, n)
		}
	}
	for i := 1; i < len(a.to.us); i++ {
		if a.to.us[i] <= a.to.us[i-1] {
			t.Errorf("unicast %d after %d: out of order or repeated", a.to.us[i], a.to.us[i-1])
			break
		}
	}
	t.Logf("audit: %d unicasts and %d notes delivered", len(a.to.us), len(a.to.notes))
}

// checkProbes: every loop answered within loopBudget, /readyz at once
// (both beyond their controls).
func (a *audit) checkProbes() {
	t := a.t
	for i, p := range a.loops {
		if e := p.err.Load(); e != nil {
			t.Errorf("node %d: loop probe: %v", i, *e)
		}
		w, raw := time.Duration(p.worst.Load()), time.Duration(p.rawMax.Load())
		if w > loopBudget || p.n.Load() < 10 {
			t.Errorf("node %d: event loop round trip up to %v beyond its control over %d probes, want under %v",
				i, w, p.n.Load(), loopBudget)
		}
		t.Logf("node %d: event loop round trips: worst %v, %v beyond the control, %d probes", i, raw, w, p.n.Load())
	}
	for i, h := range a.health {
		var worst time.Duration
		for _, s := range h.samples() {
			if s.code == 0 || s.excess > healthBudget {
				t.Errorf("node %d: /readyz answered %d after %v (%v beyond its control)", i, s.code, s.took, s.excess)
				break
			}
			worst = max(worst, s.took)
		}
		t.Logf("node %d: /readyz answered within %v", i, worst)
	}
}

// sawUnhealthy reports whether every node's /readyz said 503 at some
// point in [from, to].
func (a *audit) sawUnhealthy(from, to time.Time) bool {
	for _, h := range a.health {
		seen := false
		for _, s := range h.samples() {
			seen = seen || s.code == http.StatusServiceUnavailable && !s.at.Before(from) && !s.at.After(to)
		}
		if !seen {
			return false
		}
	}
	return true
}

// healthyBy reports the time each node's /readyz answered 200 for good
// after since (zero when it never did).
func (a *audit) healthyBy(since time.Time) []time.Duration {
	var out []time.Duration
	for _, h := range a.health {
		var at time.Time
		for _, s := range h.samples() {
			switch {
			case s.at.Before(since):
			case s.code != http.StatusOK:
				at = time.Time{}
			case at.IsZero():
				at = s.at
			}
		}
		d := time.Duration(0)
		if !at.IsZero() {
			d = at.Sub(since)
		}
		out = append(out, d)
	}
	return out
}

func head(l []int) []int {
	if len(l) > 10 {
		return l[:10]
	}
	return l
}
