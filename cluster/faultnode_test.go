package cluster_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// Nodes of the fault tests. Every node of a fault test shares a private
// redis-server with the test's other nodes, with short timeouts so that
// outages and their ends are seen quickly, and serves:
//
//	/aud   Auditee, a JSON route (the node's one worker shard) whose client is audited
//	/echo  an inline raw echo: a round trip through the node's event loop
//
// A node may run in a child process (the test binary again, TestMain
// switching on faultChildEnv) so that it can be SIGKILLed.

// faultChildEnv holds "<redis url> <prefix>" for a child fault node.
const faultChildEnv = "PLEZI_TEST_FAULT_NODE"

// Broker timings of the fault nodes.
const (
	faultTimeout = 300 * time.Millisecond
	faultProbe   = 200 * time.Millisecond
)

// Auditee registers the identity named in ?user= (one connection), then
// sends its id; events it has no method for go to its client as frames.
// Its client unicasts with "ucast"; a unicast found undeliverable comes
// back as "ufail".
type Auditee struct{ dispatch.Socket }

func (a *Auditee) OnOpen() {
	if u := a.Request().Query("user"); u != "" {
		if err := a.RegisterAs(u); err != nil {
			_ = a.Emit("regerr", err.Error())
		}
	}
	_ = a.Emit("id", a.ID())
}

// Ucast unicasts "u" with seq to id.
func (a *Auditee) Ucast(id string, seq int) bool { return a.Unicast(id, "u", seq) }

// Ping answers its _EID_ (a round trip through the worker shard).
func (a *Auditee) Ping() {}

func (a *Auditee) OnUnicastFailed(id, event string) { _ = a.Emit("ufail", id, event) }

// LoopEcho echoes on the event loop.
type LoopEcho struct{ dispatch.Socket }

func (e *LoopEcho) OnMessage(m dispatch.Message) { _ = e.WriteText(m.Data) }

// faultNode is a running fault node in this process.
type faultNode struct {
	*server.Server
	b    *cluster.Redis
	logs *logCount
}

// newFaultServer makes a fault node's server and broker (not running).
func newFaultServer(url, prefix string, log *slog.Logger) (*server.Server, *cluster.Redis, error) {
	b, err := cluster.NewRedis(cluster.RedisConfig{URL: url, Prefix: prefix, Timeout: faultTimeout, Probe: faultProbe, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Broker: b, Loops: 1, Workers: 1, Logger: log})
	for _, err := range []error{
		srv.Route("/aud", func() dispatch.Controller { return new(Auditee) }, dispatch.AutoDispatch(true), dispatch.ClientEvents("ucast", "ping")),
		srv.Route("/echo", func() dispatch.Controller { return new(LoopEcho) }, dispatch.Inline()),
	} {
		if err != nil {
			_ = b.Close()
			return nil, nil, err
		}
	}
	return srv, b, nil
}

// startFaultNode runs a fault node until the test ends.
func startFaultNode(t *testing.T, url, prefix string) *faultNode {
	t.Helper()
	logs := &logCount{}
	srv, b, err := newFaultServer(url, prefix, slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		_ = b.Close()
	})
	return &faultNode{Server: srv, b: b, logs: logs}
}

// logCount is a slog handler counting records by message. Concurrency-safe.
type logCount struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *logCount) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCount) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logCount) WithGroup(string) slog.Handler            { return l }
func (l *logCount) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = map[string]int{}
	}
	l.n[r.Message]++
	return nil
}

// count is how many records said msg.
func (l *logCount) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[msg]
}

// faultChild is a child fault node's main: it prints "<addr> <node>",
// logs to stderr and serves until its stdin closes (or it is killed).
func faultChild() int {
	url, prefix, _ := strings.Cut(os.Getenv(faultChildEnv), " ")
	srv, b, err := newFaultServer(url, prefix, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		fmt.Fprintln(os.Stderr, "child: run:", err)
		return 1
	}
	fmt.Println(srv.Addr(), srv.Hub().Node())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "child: run:", err)
		return 1
	}
	return 0
}

// childNode is a fault node in a child process.
type childNode struct {
	addr, node string
	cmd        *exec.Cmd
	stdin      io.WriteCloser
	stderr     bytes.Buffer // read only once exited
	exited     chan struct{}
}

// Addr is the child's listening address (as server.Server's).
func (c *childNode) Addr() string { return c.addr }

// startChildNode runs a fault node in a child process until the test
// ends (or kill).
func startChildNode(t *testing.T, url, prefix string) *childNode {
	t.Helper()
	c := &childNode{cmd: exec.Command(os.Args[0]), exited: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), faultChildEnv+"="+url+" "+prefix)
	c.cmd.Stderr = &c.stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	go func() { _ = c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		_ = c.stdin.Close()
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
	})
	fields := strings.Fields(line)
	if err != nil || len(fields) != 2 {
		_ = c.cmd.Process.Kill()
		<-c.exited
		t.Fatalf("child did not start: %v %q\n%s", err, line, c.stderr.String())
	}
	c.addr, c.node = fields[0], fields[1]
	return c
}

// kill SIGKILLs the child and waits for it.
func (c *childNode) kill() {
	_ = c.cmd.Process.Kill()
	<-c.exited
}
