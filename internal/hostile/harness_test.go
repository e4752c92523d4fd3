package hostile

// The harness: TestMain builds cmd/plezi once; start runs it on a free port
// and stops it when the test ends, failing the test if the process died on
// its own, did not exit cleanly after SIGTERM, or logged a panic.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plezigo/plezi/internal/testutil"
	"github.com/plezigo/plezi/internal/wstest"
)

const (
	bootWait = 15 * time.Second // start-up until the "listening" line
	stopWait = 15 * time.Second // SIGTERM until exit (the drain is 5 s at most)
	ioWait   = 10 * time.Second // one read or handshake; generous on 2 cores
	logLines = 200              // stderr lines kept for failure messages
)

// bin is the cmd/plezi binary TestMain built, or $HOSTILE_BIN when set
// (to run the probes against another build).
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plezi-hostile-")
	if bin = os.Getenv("HOSTILE_BIN"); bin == "" && err == nil {
		bin = filepath.Join(dir, "plezi")
		err = build(bin)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "hostile: leaked goroutines:", err)
			code = 1
		}
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles ./cmd/plezi of the module this package is in to out.
func build(out string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	cmd := exec.Command("go", "build", "-o", out, "./cmd/plezi")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/plezi: %w\n%s", err, b)
	}
	return nil
}

// proc is one running cmd/plezi. Its methods are safe for concurrent use.
type proc struct {
	Addr string // host:port it listens on
	PID  int

	t      testing.TB
	cmd    *exec.Cmd
	log    *stderrLog
	up     chan string   // the address from the "listening" line
	exited chan struct{} // closed once the process has exited
	state  *os.ProcessState
}

// start runs cmd/plezi with "-addr 127.0.0.1:0 -shutdown-timeout 5s -demo" and
// args (later flags win) and waits until it listens. The test's cleanup
// stops it; see stop. Do not pass -quiet: the address comes from the
// "server: listening" log line.
func start(t testing.TB, args ...string) *proc { t.Helper(); return startEnv(t, nil, args...) }

// startEnv is start with extra environment variables ("PL_X=v"). PL_
// variables of the test's own environment are not passed on.
func startEnv(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	return startWrapped(t, env, nil, args...)
}

// startNofile is start under "prlimit --nofile=n:n": the process's
// open-file limit, soft and hard, is n.
func startNofile(t testing.TB, n int, args ...string) *proc {
	t.Helper()
	return startWrapped(t, nil, []string{"prlimit", fmt.Sprintf("--nofile=%d:%d", n, n), "--"}, args...)
}

// startWrapped is startEnv with the binary run through wrap (a command
// and its arguments, the binary and its flags after them). wrap must exec
// the binary in place, as prlimit does, so that PID is the server's.
func startWrapped(t testing.TB, env, wrap []string, args ...string) *proc {
	t.Helper()
	argv := append([]string{"-addr", "127.0.0.1:0", "-shutdown-timeout", "5s", "-demo"}, args...)
	p, err := launch(t, env, append(wrap, append([]string{bin}, argv...)...))
	if err != nil {
		t.Fatalf("start plezi %q: %v", args, err)
	}
	select {
	case p.Addr = <-p.up:
	case <-p.exited:
		t.Fatalf("plezi %q exited before listening (%v):\n%s", args, p.state, p.log.tail())
	case <-time.After(bootWait):
		p.kill()
		t.Fatalf("plezi %q not listening after %v:\n%s", args, bootWait, p.log.tail())
	}
	t.Cleanup(p.stop)
	return p
}

// launch starts argv (the command first) with env added to cleanEnv.
func launch(t testing.TB, env, argv []string) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(cleanEnv(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{PID: cmd.Process.Pid, t: t, cmd: cmd, log: &stderrLog{},
		up: make(chan string, 1), exited: make(chan struct{})}
	go p.watch(stderr)
	return p, nil
}

// cleanEnv is the test's environment without PL_ variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PL_") {
			env = append(env, kv)
		}
	}
	return env
}

var listening = regexp.MustCompile(`msg="server: listening" addr=(\S+)`)

// watch reads stderr until the process closes it, then reaps the process.
func (p *proc) watch(stderr io.Reader) {
	br := bufio.NewReaderSize(stderr, 64<<10)
	for {
		line, err := readLine(br)
		if line != "" {
			p.log.add(line)
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case p.up <- m[1]:
				default:
				}
			}
		}
		if err != nil {
			break
		}
	}
	_ = p.cmd.Wait()
	p.state = p.cmd.ProcessState
	close(p.exited)
}

// readLine reads one line, keeping at most the reader's buffer of it.
func readLine(br *bufio.Reader) (string, error) {
	b, err := br.ReadSlice('\n')
	line := string(bytes.TrimRight(b, "\r\n"))
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = br.ReadSlice('\n')
	}
	return line, err
}

// Alive reports whether the process is still running.
func (p *proc) Alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop ends the process with SIGTERM (the test's cleanup). It fails the
// test if the process had died already, does not exit 0 within stopWait,
// or logged a panic.
func (p *proc) stop() {
	t := p.t
	if !p.Alive() {
		t.Errorf("plezi died during the test (%v):\n%s", p.state, p.log.tail())
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if !p.state.Success() {
			t.Errorf("plezi after SIGTERM: %v:\n%s", p.state, p.log.tail())
		}
	case <-time.After(stopWait):
		p.kill()
		t.Errorf("plezi still running %v after SIGTERM:\n%s", stopWait, p.log.tail())
	}
	if bad := p.log.panics(); len(bad) > 0 {
		t.Errorf("plezi logged %d panic lines, first: %s", len(bad), bad[0])
	}
}

func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// RSS is the process's resident memory now, in bytes.
func (p *proc) RSS() int64 { return p.status("VmRSS:") }

// PeakRSS is the most resident memory the process has had, in bytes.
func (p *proc) PeakRSS() int64 { return p.status("VmHWM:") }

// status reads a "kB" field of /proc/PID/status, in bytes.
func (p *proc) status(field string) int64 {
	p.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID))
	if err != nil {
		p.t.Fatalf("read status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				p.t.Fatalf("status %s %q: %v", field, v, err)
			}
			return kb << 10
		}
	}
	p.t.Fatalf("status has no %s", field)
	return 0
}

// FDs is the number of descriptors the process has open.
func (p *proc) FDs() int { p.t.Helper(); n, _ := p.fds(); return n }

// Sockets is the number of sockets the process has open: the listener and
// one per connection (and per Redis connection).
func (p *proc) Sockets() int { p.t.Helper(); _, n := p.fds(); return n }

func (p *proc) fds() (all, sockets int) {
	p.t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", p.PID)
	es, err := os.ReadDir(dir)
	if err != nil {
		p.t.Fatalf("read fds: %v", err)
	}
	for _, e := range es {
		if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.HasPrefix(target, "socket:") {
			sockets++
		}
	}
	return len(es), sockets
}

// OpenFileLimit is the process's open-file limit (soft), from /proc/PID/limits.
func (p *proc) OpenFileLimit() int {
	p.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", p.PID))
	if err != nil {
		p.t.Fatalf("read limits: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Max open files"); ok {
			var soft int
			if _, err := fmt.Sscan(v, &soft); err == nil {
				return soft
			}
		}
	}
	p.t.Fatalf("no open-file limit in:\n%s", b)
	return 0
}

// client is for plain HTTP to the process: no keep-alive, so no goroutine
// outlives a request.
var client = &http.Client{Timeout: ioWait, Transport: &http.Transport{DisableKeepAlives: true}}

// Stats is the server's counters from /debug/stats (start it with -debug).
func (p *proc) Stats() map[string]int64 {
	p.t.Helper()
	resp, err := client.Get("http://" + p.Addr + "/debug/stats")
	if err != nil {
		p.t.Fatalf("GET /debug/stats: %v", err)
	}
	defer resp.Body.Close()
	st := map[string]int64{}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		p.t.Fatalf("GET /debug/stats: %s, %v (was plezi started with -debug?)", resp.Status, err)
	}
	return st
}

// stderrLog keeps the last logLines lines of the process's stderr and
// every line that shows a panic.
type stderrLog struct {
	mu    sync.Mutex
	lines []string // guarded by mu
	bad   []string // guarded by mu
}

func (l *stderrLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if strings.Contains(line, "panic") || strings.Contains(line, "fatal error") {
		l.bad = append(l.bad, line)
	}
	if l.lines = append(l.lines, line); len(l.lines) > logLines {
		l.lines = l.lines[len(l.lines)-logLines:]
	}
}

func (l *stderrLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// Logged is how many times s occurs in the last logLines lines of stderr.
func (p *proc) Logged(s string) int { return strings.Count(p.log.tail(), s) }

func (l *stderrLog) panics() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.bad...)
}

// dial opens a websocket to path with the raw client; the test's cleanup
// closes it.
func dial(t testing.TB, p *proc, path string, o wstest.Options) *wstest.Client {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = ioWait
	}
	c, err := wstest.Dial(p.Addr, path, o)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dialRcvBuf opens a plain TCP connection with an SO_RCVBUF of n bytes
// (a client that stops reading then backs the server up at once, instead
// of the kernel taking megabytes for it); the test's cleanup closes it.
func dialRcvBuf(t testing.TB, p *proc, n int) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: ioWait, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
		})
		return errors.Join(err, serr)
	}}
	conn, err := d.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// upgradeStatus is the HTTP status an upgrade to path gets: 101, or the
// refusal's.
func upgradeStatus(t testing.TB, p *proc, path string, o wstest.Options) int {
	t.Helper()
	o.Timeout = ioWait
	c, err := wstest.Dial(p.Addr, path, o)
	if err == nil {
		c.Close()
		return http.StatusSwitchingProtocols
	}
	var he *wstest.HandshakeError
	if !errors.As(err, &he) || he.Response == nil {
		t.Fatalf("upgrade %s: %v", path, err)
	}
	return he.Response.StatusCode
}

// rawHTTP writes req on a new connection, chop bytes at a time when chop >
// 0, and returns the response, with the connection for further reads.
func rawHTTP(t testing.TB, p *proc, req []byte, chop int) (*http.Response, net.Conn) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", p.Addr, ioWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(ioWait))
	for len(req) > 0 {
		n := len(req)
		if chop > 0 {
			n = min(n, chop)
		}
		if _, err := conn.Write(req[:n]); err != nil {
			t.Fatalf("write: %v", err)
		}
		req = req[n:]
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("response: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, conn
}

// expectClosed reads conn until the server closes it (EOF or reset);
// still open after ioWait fails the test.
func expectClosed(t testing.TB, conn net.Conn) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(ioWait))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", ioWait)
	}
}

// eventually polls cond every few milliseconds until it holds or d passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, d, what, cond)
}
