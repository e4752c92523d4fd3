package push_test

// Real cmd/plezi processes for the cluster and start-up tests: the binary is
// built once per test binary (as internal/hostile does), each process runs
// on a free port and is stopped with SIGTERM when its test ends; a private
// redis-server runs on a free port.

import (
	"bufio"
	"fmt"
	"net"
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
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// plezi builds ./cmd/plezi once and returns its path.
func plezi(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "plezi-push-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "plezi")
		gomod, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			binErr = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/plezi")
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
		if b, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build ./cmd/plezi: %w\n%s", err, b)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is one running cmd/plezi.
type proc struct {
	addr   string
	mu     sync.Mutex
	lines  []string // stderr, guarded by mu
	exited chan struct{}
	cmd    *exec.Cmd
}

var listening = regexp.MustCompile(`msg="server: listening" addr=(\S+)`)

// startProc runs cmd/plezi with env (PL_ variables of the test's own
// environment are dropped) and "-addr 127.0.0.1:0 -shutdown-timeout 3s"
// plus args, and waits until it listens.
func startProc(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(plezi(t), append([]string{"-addr", "127.0.0.1:0", "-shutdown-timeout", "3s"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	up := make(chan string, 1)
	go p.watch(stderr, up)
	select {
	case p.addr = <-up:
	case <-p.exited:
		t.Fatalf("plezi exited before listening:\n%s", p.log())
	case <-time.After(3 * wait):
		_ = cmd.Process.Kill()
		<-p.exited
		t.Fatalf("plezi not listening after %v:\n%s", 3*wait, p.log())
	}
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *proc) watch(stderr interface{ Read([]byte) (int, error) }, up chan<- string) {
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		p.lines = append(p.lines, line)
		p.mu.Unlock()
		if m := listening.FindStringSubmatch(line); m != nil {
			select {
			case up <- m[1]:
			default:
			}
		}
	}
	_ = p.cmd.Wait()
	close(p.exited)
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// stop sends SIGTERM and waits; the process must exit 0 and not panic.
func (p *proc) stop(t testing.TB) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if !p.cmd.ProcessState.Success() {
			t.Errorf("plezi after SIGTERM: %v\n%s", p.cmd.ProcessState, p.log())
		}
	case <-time.After(3 * wait):
		_ = p.cmd.Process.Kill()
		<-p.exited
		t.Errorf("plezi still running after SIGTERM:\n%s", p.log())
	}
	if strings.Contains(p.log(), "panic") {
		t.Errorf("plezi logged a panic:\n%s", p.log())
	}
}

// startRedis runs a private redis-server on a free port and returns its
// address; it is killed when the test ends. A missing redis-server fails
// the test.
func startRedis(t testing.TB) (addr string, cmd *exec.Cmd) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd = exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server (scripts/test.sh installs it): %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	addr = "127.0.0.1:" + strconv.Itoa(port)
	eventually(t, "redis-server up", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
	return addr, cmd
}
