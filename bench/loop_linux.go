package bench

import (
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

const (
	readBufSize = 64 << 10
	evIn        = unix.EPOLLIN | unix.EPOLLRDHUP
	evInOut     = evIn | unix.EPOLLOUT
)

// counters are the loop's figures that other goroutines read (progress).
type counters struct {
	up, failed, closed, msgs, sent, bytes atomic.Int64
}

// loop is one epoll event loop on a locked OS thread. Every field below mu is
// loop-owned: touched only by the loop goroutine.
type loop struct {
	e    *Engine
	id   int
	epfd int
	evfd int

	mu    sync.Mutex // guards tasks
	tasks []func()

	c counters

	dsts    []unix.SockaddrInet4 // the loop's copies of Engine.dsts: Connect writes into them
	conns   []*conn              // by fd
	buf     []byte
	hist    Histogram
	tmpl    *Frame // the data frame this loop sends, stamped per send
	closing []byte // pre-masked close frame (1000)
	want    int    // connections this loop opens (not churn)
	opened  int
	pending int
	quit    bool

	started, stopped bool
	sending          bool // push: the sender may send
	t0               int64
	timeouts         deadlines // handshake deadlines
	stats            loopStats
	sender           *conn
	nextSend         int64
	churn            churnState
	uni              unicastState
	ps               pubsubFrames
}

// loopStats are loop-owned figures reported in a Result.
type loopStats struct {
	connectErrs, handshakeErrs, timeouts, resets int64
	slow, slowClosed, serverClosed               int64
	halfDone, fullDone, stalls                   int64
	span                                         int64 // churn: start to last connect, ns
	sendSpan                                     int64 // unicast: start to last send, ns
	lastUp                                       int64 // Now() at the last upgrade
}

func newLoop(e *Engine, id, want int) (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(evfd)}
	if err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, err
	}
	l := &loop{e: e, id: id, epfd: epfd, evfd: evfd, want: want, buf: make([]byte, readBufSize)}
	for _, d := range e.dsts {
		l.dsts = append(l.dsts, unix.SockaddrInet4{Port: d.Port, Addr: d.Addr})
	}
	l.tmpl = NewFrame(OpBinary, make([]byte, e.cfg.Payload), e.mask())
	l.closing = newCloseFrame(e.mask())
	return l, nil
}

func newCloseFrame(mask [4]byte) []byte {
	var p [2]byte
	binary.BigEndian.PutUint16(p[:], 1000)
	return NewFrame(OpClose, p[:], mask).Bytes()
}

// post queues f to run on the loop. Safe from any goroutine.
func (l *loop) post(f func()) {
	l.mu.Lock()
	l.tasks = append(l.tasks, f)
	l.mu.Unlock()
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(l.evfd, one[:])
}

func (l *loop) runTasks() {
	var b [8]byte
	_, _ = unix.Read(l.evfd, b[:])
	l.mu.Lock()
	tasks := l.tasks
	l.tasks = nil
	l.mu.Unlock()
	for _, f := range tasks {
		f()
	}
}

// run is the loop goroutine.
func (l *loop) run(done *sync.WaitGroup) {
	defer done.Done()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	events := make([]unix.EpollEvent, 512)
	for !l.quit {
		n, err := unix.EpollWait(l.epfd, events, l.timeoutMs())
		if err != nil && err != unix.EINTR {
			break
		}
		for i := 0; i < n; i++ {
			l.event(int(events[i].Fd), events[i].Events)
		}
		l.tick(Now())
	}
	l.shutdown()
}

// timeoutMs is 1 ms while a timer-driven job runs, else 50 ms.
func (l *loop) timeoutMs() int {
	if l.sender != nil && l.sending && !l.stopped || l.churn.active || l.uni.active {
		return 1
	}
	return 50
}

func (l *loop) event(fd int, ev uint32) {
	if fd == l.evfd {
		l.runTasks()
		return
	}
	if fd >= len(l.conns) || l.conns[fd] == nil {
		return
	}
	c := l.conns[fd]
	if ev&unix.EPOLLOUT != 0 && !l.writable(c) {
		return
	}
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		l.readable(c)
	}
}

// tick runs timers: handshake deadlines, the push sender, churn and
// unicast pacing.
func (l *loop) tick(now int64) {
	l.timeouts.expire(now, l.handshakeTimeout)
	if l.sender != nil {
		l.sendTick(now)
	}
	if l.churn.active {
		l.churnTick(now)
	}
	if l.uni.active {
		l.unicastTick(now)
	}
}

func (l *loop) shutdown() {
	for _, c := range l.conns {
		if c != nil {
			closeFD(c.fd, true)
		}
	}
	l.conns = nil
	unix.Close(l.epfd)
	unix.Close(l.evfd)
}

func (l *loop) mod(c *conn, events uint32) {
	ev := unix.EpollEvent{Events: events, Fd: int32(c.fd)}
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev)
}

// fillConnects opens connections until want is reached or MaxPending
// connects/handshakes are in flight.
func (l *loop) fillConnects() {
	cfg := &l.e.cfg
	for l.opened < l.want && l.pending < cfg.MaxPending {
		local := l.id + l.opened*cfg.Loops
		l.opened++
		l.open(cfg.Base+local, false)
	}
}
