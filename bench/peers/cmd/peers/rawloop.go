package main

import (
	"bytes"
	"net/netip"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

func init() { servers["rawloop"] = runRawLoop }

// rawLoop is the floor of fan-out on this machine: one epoll thread, and the
// bytes any connection sends are written with write(2) to every connection.
// No websocket, no framing, no buffer copies beyond what a socket refuses.
type rawLoop struct {
	o     options
	epfd  int
	lnfd  int
	conns []*rawConn // all connections, in accept order (the fan-out list)
	byFD  map[int]*rawConn
	buf   []byte
}

type rawConn struct {
	fd    int
	at    int // index in conns
	out   []byte
	fresh bool // no byte read yet: may still be a plain HTTP request
}

func runRawLoop(o options, stop <-chan struct{}) error {
	runtime.LockOSThread()
	s := &rawLoop{o: o, byFD: map[int]*rawConn{}, buf: make([]byte, 64<<10)}
	if err := s.listen(); err != nil {
		return err
	}
	defer s.close()
	listening("rawloop", o.addr)
	events := make([]unix.EpollEvent, 1024)
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		n, err := unix.EpollWait(s.epfd, events, 100)
		if err != nil && err != unix.EINTR {
			return os.NewSyscallError("epoll_wait", err)
		}
		for i := 0; i < n; i++ {
			s.event(int(events[i].Fd), events[i].Events)
		}
	}
}

// close releases every socket and the epoll instance.
func (s *rawLoop) close() {
	for _, c := range s.conns {
		unix.Close(c.fd)
	}
	unix.Close(s.lnfd)
	unix.Close(s.epfd)
}

func (s *rawLoop) listen() error {
	ap, err := netip.ParseAddrPort(s.o.addr)
	if err != nil {
		return err
	}
	if s.lnfd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0); err != nil {
		return os.NewSyscallError("socket", err)
	}
	_ = unix.SetsockoptInt(s.lnfd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err = unix.Bind(s.lnfd, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		return os.NewSyscallError("bind", err)
	}
	if err = unix.Listen(s.lnfd, 4096); err != nil {
		return os.NewSyscallError("listen", err)
	}
	if s.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return os.NewSyscallError("epoll_create1", err)
	}
	return s.ctl(unix.EPOLL_CTL_ADD, s.lnfd, unix.EPOLLIN)
}

func (s *rawLoop) ctl(op, fd int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	return unix.EpollCtl(s.epfd, op, fd, &ev)
}

func (s *rawLoop) event(fd int, ev uint32) {
	if fd == s.lnfd {
		s.accept()
		return
	}
	c := s.byFD[fd]
	if c == nil {
		return
	}
	if ev&unix.EPOLLOUT != 0 && !s.flush(c) {
		return
	}
	if ev&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		s.read(c)
	}
}

func (s *rawLoop) accept() {
	for {
		fd, _, err := unix.Accept4(s.lnfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			return
		}
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		c := &rawConn{fd: fd, at: len(s.conns), fresh: true}
		if s.ctl(unix.EPOLL_CTL_ADD, fd, unix.EPOLLIN) != nil {
			unix.Close(fd)
			continue
		}
		s.conns = append(s.conns, c)
		s.byFD[fd] = c
	}
}

func (s *rawLoop) read(c *rawConn) {
	n, err := unix.Read(c.fd, s.buf)
	if err == unix.EAGAIN {
		return
	}
	if err != nil || n == 0 {
		s.drop(c)
		return
	}
	p := s.buf[:n]
	if c.fresh && bytes.HasPrefix(p, []byte("GET ")) {
		s.write(c, httpReply(requestPath(p)))
		s.drop(c)
		return
	}
	c.fresh = false
	for i := 0; i < len(s.conns); i++ {
		d := s.conns[i]
		if !s.write(d, p) && i < len(s.conns) && s.conns[i] != d {
			i-- // d was dropped and the last connection moved into its slot
		}
	}
}

// write sends p to c, queueing what the socket refuses; false when c was
// dropped (error, or more than the out-limit queued).
func (s *rawLoop) write(c *rawConn, p []byte) bool {
	if len(c.out) > 0 {
		if len(c.out)+len(p) > s.o.outLimit {
			s.drop(c)
			return false
		}
		c.out = append(c.out, p...)
		return true
	}
	n, err := unix.Write(c.fd, p)
	if err == unix.EAGAIN {
		n, err = 0, nil
	}
	if err != nil {
		s.drop(c)
		return false
	}
	if n < len(p) {
		c.out = append(c.out, p[n:]...)
		_ = s.ctl(unix.EPOLL_CTL_MOD, c.fd, unix.EPOLLIN|unix.EPOLLOUT)
	}
	return true
}

func (s *rawLoop) flush(c *rawConn) bool {
	n, err := unix.Write(c.fd, c.out)
	if err == unix.EAGAIN {
		return true
	}
	if err != nil {
		s.drop(c)
		return false
	}
	c.out = c.out[:copy(c.out, c.out[n:])]
	if len(c.out) == 0 {
		_ = s.ctl(unix.EPOLL_CTL_MOD, c.fd, unix.EPOLLIN)
	}
	return true
}

// drop closes c and moves the last connection into its slot.
func (s *rawLoop) drop(c *rawConn) {
	if s.byFD[c.fd] != c {
		return
	}
	delete(s.byFD, c.fd)
	unix.Close(c.fd)
	last := s.conns[len(s.conns)-1]
	s.conns[c.at] = last
	last.at = c.at
	s.conns = s.conns[:len(s.conns)-1]
}
