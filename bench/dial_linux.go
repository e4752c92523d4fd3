package bench

import (
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// dial starts a non-blocking TCP connect from src (port chosen at connect
// time, so many source addresses share the ephemeral range) to dst. The
// connect completes when the socket turns writable.
func dial(dst *unix.SockaddrInet4, src [4]byte, rcvBuf int) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if err = prepare(fd, src, rcvBuf); err != nil {
		unix.Close(fd)
		return -1, err
	}
	err = unix.Connect(fd, dst)
	if err != nil && err != unix.EINPROGRESS {
		unix.Close(fd)
		return -1, os.NewSyscallError("connect", err)
	}
	return fd, nil
}

func prepare(fd int, src [4]byte, rcvBuf int) error {
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if rcvBuf > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBuf); err != nil {
			return os.NewSyscallError("setsockopt SO_RCVBUF", err)
		}
	}
	if src == [4]byte{} {
		return nil
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1); err != nil {
		return os.NewSyscallError("setsockopt IP_BIND_ADDRESS_NO_PORT", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: src}); err != nil {
		return os.NewSyscallError("bind", err)
	}
	return nil
}

// connectError returns the pending error of a connecting socket.
func connectError(fd int) error {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return os.NewSyscallError("getsockopt SO_ERROR", err)
	}
	if v != 0 {
		return os.NewSyscallError("connect", unix.Errno(v))
	}
	return nil
}

// closeFD closes fd; with rst the kernel resets the connection instead of a
// FIN, leaving no TIME_WAIT socket behind.
func closeFD(fd int, rst bool) {
	if rst {
		_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	}
	unix.Close(fd)
}

// sockaddr parses an "ip:port" IPv4 address.
func sockaddr(addr string) (*unix.SockaddrInet4, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		return nil, ErrConfig
	}
	return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}, nil
}

// sources parses source IPv4 addresses; none means "let the kernel choose".
func sources(list []string) ([][4]byte, error) {
	out := make([][4]byte, 0, len(list))
	for _, s := range list {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return nil, ErrConfig
		}
		out = append(out, a.As4())
	}
	if len(out) == 0 {
		out = append(out, [4]byte{})
	}
	return out, nil
}
