package bench

import (
	"encoding/binary"
	"math/rand/v2"

	"golang.org/x/sys/unix"
)

// Connection states.
const (
	stClosed uint8 = iota
	stConnecting
	stHandshake
	stOpen
)

// conn is one client connection, owned by its loop.
type conn struct {
	fd    int
	idx   int // global index
	node  int // address index: the connection dials Config.Addrs[node]
	state uint8
	up    bool   // counted in Progress.Up (unicast: once its id arrived)
	slow  bool   // S5: does not read while the run lasts
	half  bool   // churn: sends half a handshake, then is reset
	id    string // unicast: the id the server gave the connection
	t0    int64
	in    []byte // unparsed input (partial handshake or frame)
	out   []byte // unwritten output
	last  int64  // last read (slow consumers while draining)
}

// open starts connection idx; half selects the churn half-handshake role.
func (l *loop) open(idx int, half bool) {
	cfg := &l.e.cfg
	slow := cfg.SlowEvery > 0 && idx != 0 && idx%cfg.SlowEvery == cfg.SlowEvery/2
	rcv := 0
	if slow {
		rcv = cfg.SlowRcvBuf
	}
	node := idx % len(l.dsts)
	fd, err := dial(&l.dsts[node], l.e.src[idx%len(l.e.src)], rcv)
	if err != nil {
		l.stats.connectErrs++
		l.c.failed.Add(1)
		return
	}
	c := &conn{fd: fd, idx: idx, node: node, state: stConnecting, slow: slow, half: half, t0: Now()}
	for fd >= len(l.conns) {
		l.conns = append(l.conns, make([]*conn, len(l.conns)+1024)...)
	}
	l.conns[fd] = c
	ev := unix.EpollEvent{Events: evInOut, Fd: int32(fd)}
	if err = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.conns[fd] = nil
		closeFD(fd, true)
		l.stats.connectErrs++
		l.c.failed.Add(1)
		return
	}
	l.pending++
	l.timeouts.push(c, c.t0+int64(cfg.HandshakeTimeout))
}

// writable handles EPOLLOUT; it returns false when c was closed.
func (l *loop) writable(c *conn) bool {
	if c.state != stConnecting {
		return l.flush(c)
	}
	if err := connectError(c.fd); err != nil {
		l.stats.connectErrs++
		l.fail(c)
		return false
	}
	switch {
	case l.e.cfg.Raw:
		l.mod(c, evIn)
		l.opened1(c)
		return c.state == stOpen
	case c.half:
		c.state = stHandshake
		l.mod(c, evIn)
		l.halfSent(c)
		return l.write(c, l.e.hss[c.node].partial)
	default:
		c.state = stHandshake
		l.mod(c, evIn)
		return l.write(c, l.e.hss[c.node].request)
	}
}

// readable reads until the socket is empty; it closes c on EOF or error.
func (l *loop) readable(c *conn) {
	for c.state != stClosed {
		n, err := unix.Read(c.fd, l.buf)
		if err == unix.EAGAIN || err == unix.EINTR {
			return
		}
		if err != nil || n == 0 {
			l.lost(c, err)
			return
		}
		l.c.bytes.Add(int64(n))
		if c.slow {
			c.last = Now()
		}
		if !l.feed(c, l.buf[:n]) || n < len(l.buf) {
			return
		}
	}
}

// lost handles a connection the server closed or reset.
func (l *loop) lost(c *conn, err error) {
	switch {
	case c.state == stOpen:
		l.serverClosed(c)
	case c.half && c.state == stHandshake:
		l.halfClosed(c)
	case err == unix.ECONNREFUSED:
		l.stats.connectErrs++
		l.fail(c)
	default:
		l.stats.handshakeErrs++
		l.fail(c)
	}
}

// feed consumes input; it returns false when c was closed.
func (l *loop) feed(c *conn, data []byte) bool {
	if c.state == stHandshake {
		c.in = append(c.in, data...)
		n, err := l.e.hss[c.node].checkResponse(c.in)
		if err != nil {
			l.stats.handshakeErrs++
			l.fail(c)
			return false
		}
		if n == 0 {
			return true
		}
		data = c.in[n:]
		l.opened1(c)
		if c.state != stOpen {
			return false
		}
	} else if len(c.in) > 0 {
		c.in = append(c.in, data...)
		data = c.in
	}
	return l.frames(c, data)
}

// frames handles every complete frame in b and keeps the rest in c.in.
func (l *loop) frames(c *conn, b []byte) bool {
	for len(b) > 0 {
		h, ok, err := ParseHeader(b)
		if err != nil {
			l.fail(c)
			return false
		}
		if !ok || len(b) < h.Size+h.Len {
			break
		}
		p := b[h.Size : h.Size+h.Len]
		h.Unmask(p)
		b = b[h.Size+h.Len:]
		if !l.frame(c, &h, p) || c.state != stOpen {
			return false // closed: its fd may already belong to another socket
		}
	}
	c.in = append(c.in[:0], b...)
	return true
}

// frame handles one frame; it returns false when c was closed.
func (l *loop) frame(c *conn, h *Header, p []byte) bool {
	switch h.Op {
	case OpText, OpBinary:
		l.message(c, p)
	case OpClose:
		l.serverClosed(c)
		return false
	case OpPing:
		return l.pong(c, p)
	}
	return true
}

func (l *loop) pong(c *conn, p []byte) bool {
	var scratch [2 + 4 + 125]byte
	mask := l.e.mask()
	b := AppendHeader(scratch[:0], OpPong, len(p), true, mask)
	off := len(b)
	b = append(b, p...)
	maskBytes(b[off:], mask, 0)
	return l.write(c, b)
}

// write sends b or queues what the socket does not take; it returns false
// when c was closed.
func (l *loop) write(c *conn, b []byte) bool {
	if len(c.out) > 0 {
		c.out = append(c.out, b...)
		return true
	}
	n, err := unix.Write(c.fd, b)
	if err == unix.EAGAIN {
		n, err = 0, nil
	}
	if err != nil {
		l.lost(c, err)
		return false
	}
	if n < len(b) {
		c.out = append(c.out, b[n:]...)
		l.mod(c, evInOut)
	}
	return true
}

// flush writes queued output on EPOLLOUT.
func (l *loop) flush(c *conn) bool {
	n, err := unix.Write(c.fd, c.out)
	if err == unix.EAGAIN {
		return true
	}
	if err != nil {
		l.lost(c, err)
		return false
	}
	c.out = c.out[:copy(c.out, c.out[n:])]
	if len(c.out) == 0 {
		l.mod(c, l.interest(c))
	}
	return true
}

func (l *loop) interest(c *conn) uint32 {
	if c.slow && !l.e.draining.Load() {
		return unix.EPOLLRDHUP
	}
	return evIn
}

// opened1 marks c upgraded and, but for unicast (which waits for the
// connection's id, see gotID) and pubsub (which subscribes first, see
// subOpen), ready.
func (l *loop) opened1(c *conn) {
	c.state = stOpen
	l.pending--
	if c.slow {
		l.stats.slow++
		l.mod(c, l.interest(c))
	}
	if c.idx == 0 && l.e.cfg.Sender {
		l.sender = c
	}
	switch l.e.cfg.Scenario {
	case ScenarioUnicast: // ready once its id arrives (gotID)
	case ScenarioPubSub: // ready once subscribed (subStep)
		l.subOpen(c)
	default:
		l.ready(c)
	}
	l.fillConnects()
}

// ready counts c up and hands it to the scenario.
func (l *loop) ready(c *conn) {
	c.up = true
	l.c.up.Add(1)
	l.stats.lastUp = Now()
	l.onOpen(c)
}

// fail closes a connection that never opened.
func (l *loop) fail(c *conn) {
	if c.state == stOpen {
		l.serverClosed(c)
		return
	}
	l.release(c, true)
	l.pending--
	l.c.failed.Add(1)
	l.onFailed(c)
	l.fillConnects()
}

// serverClosed handles an open connection the server closed.
func (l *loop) serverClosed(c *conn) {
	l.stats.serverClosed++
	if c.slow {
		l.stats.slowClosed++
	}
	if c.up {
		l.c.closed.Add(1)
	} else {
		l.c.failed.Add(1) // unicast: closed before it learnt its id
	}
	if c == l.sender {
		l.sender = nil
	}
	l.release(c, true)
}

// release closes c's socket and forgets it.
func (l *loop) release(c *conn, rst bool) {
	if c.state == stClosed {
		return
	}
	c.state = stClosed
	l.conns[c.fd] = nil
	closeFD(c.fd, rst)
}

// handshakeTimeout fails c when it is still not upgraded (or, for unicast,
// still without its id) at its deadline.
func (l *loop) handshakeTimeout(c *conn) {
	if c.state == stConnecting || (c.state == stHandshake && !c.half) || (c.state == stOpen && !c.up) {
		l.stats.timeouts++
		l.fail(c)
	}
}

// deadlines is a FIFO of connection deadlines; pushes come in deadline
// order because every connection gets the same timeout.
type deadlines struct {
	q    []deadline
	head int
}

type deadline struct {
	at int64
	c  *conn
}

func (d *deadlines) push(c *conn, at int64) { d.q = append(d.q, deadline{at, c}) }

// expire calls f for each entry due at now.
func (d *deadlines) expire(now int64, f func(*conn)) {
	for d.head < len(d.q) && d.q[d.head].at <= now {
		c := d.q[d.head].c
		d.q[d.head] = deadline{}
		d.head++
		f(c)
	}
	if d.head == len(d.q) {
		d.q, d.head = d.q[:0], 0
	}
}

// mask returns a fresh masking key. Safe from any goroutine.
func (e *Engine) mask() [4]byte {
	var m [4]byte
	binary.LittleEndian.PutUint32(m[:], rand.Uint32()|1)
	return m
}
