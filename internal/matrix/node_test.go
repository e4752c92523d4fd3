package matrix

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/server"
)

// A test binary started with envNode set is a child node (see TestMain):
// it serves the package's routes on a broker at envURL with key prefix
// envPrefix, prints its address and runs until its stdin closes.
const (
	envNode   = "MATRIX_NODE"
	envURL    = "MATRIX_REDIS_URL"
	envPrefix = "MATRIX_PREFIX"
)

// loopsPerNode is every node's event loops.
const loopsPerNode = 2

// logger keeps warnings: a node that logs one in a passing run says why.
var logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// httpc drives hub senders through the nodes' /send handlers.
var httpc = &http.Client{Transport: &http.Transport{}, Timeout: 2 * time.Minute}

// newServer makes a matrix node: its routes, the /send handler and, when
// url is set, a Redis (or Redis Cluster) broker with key prefix. It is
// the one place that wires a node to its cluster; closeBroker closes what
// it made besides the server. procs is server.Config.Procs: -1 for nodes
// sharing this process, whose GOMAXPROCS the test sets for all of them.
func newServer(url, prefix string, procs int) (srv *server.Server, closeBroker func(), err error) {
	cfg := server.Config{Addr: "127.0.0.1:0", Logger: logger, Loops: loopsPerNode, Procs: procs}
	closeBroker = func() {}
	if url != "" {
		b, err := cluster.NewRedis(cluster.RedisConfig{URL: url, Prefix: prefix, Logger: logger})
		if err != nil {
			return nil, nil, err
		}
		cfg.Broker, closeBroker = b, func() { _ = b.Close() }
	}
	srv = server.New(cfg)
	if err := addRoutes(srv); err != nil {
		closeBroker()
		return nil, nil, err
	}
	return srv, closeBroker, nil
}

// serve runs srv until ctx ends and returns once it is ready; done gets
// Run's result.
func serve(ctx context.Context, srv *server.Server) (done <-chan error, err error) {
	c := make(chan error, 1)
	go func() { c <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
		return c, nil
	case err := <-c:
		return nil, fmt.Errorf("run: %w", err)
	}
}

// childMain is a child node's main.
func childMain() int {
	srv, closeBroker, err := newServer(os.Getenv(envURL), os.Getenv(envPrefix), 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "matrix node:", err)
		return 1
	}
	defer closeBroker()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, err := serve(ctx, srv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "matrix node:", err)
		return 1
	}
	fmt.Println(srv.Addr())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "matrix node:", err)
		return 1
	}
	return 0
}

// node is a running matrix node, in this process or a child.
type node struct {
	name string
	addr string
	stop func() error // idempotent
}

// send runs bursts from the node's hub and returns when they are sent.
func (n *node) send(bs ...burst) error {
	body, _ := json.Marshal(bs)
	status, id, err := n.get("/send", body)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("%d %s", status, id)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for err == nil {
		var msg string
		status, msg, err = n.get("/done?id="+id, nil)
		switch {
		case err != nil:
		case status == http.StatusOK:
			return nil
		case status != http.StatusAccepted:
			err = errors.New(msg)
		case time.Now().After(deadline):
			err = errors.New("bursts still running after 2 minutes")
		default:
			time.Sleep(20 * time.Millisecond)
		}
	}
	return fmt.Errorf("%s /send: %w", n.name, err)
}

// get asks the node for path: a POST of body, or a GET when body is nil.
func (n *node) get(path string, body []byte) (status int, msg string, err error) {
	var resp *http.Response
	if body != nil {
		resp, err = httpc.Post("http://"+n.addr+path, "application/json", bytes.NewReader(body))
	} else {
		resp, err = httpc.Get("http://" + n.addr + path)
	}
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// stats reads the node's counters (server.DebugStats).
func (n *node) stats() (map[string]int64, error) {
	status, msg, err := n.get("/stats", nil)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("%d %s", status, msg)
	}
	var m map[string]int64
	if err == nil {
		err = json.Unmarshal([]byte(msg), &m)
	}
	return m, err
}

// startNodes starts count nodes named n0, n1, ... at once, in this
// process or, when child is set, each in a child process; the test's
// cleanup stops them. Nodes in this process share its GOMAXPROCS, set to
// one more than all their loops (a loop waiting in epoll_wait holds its
// P; see server.Config.Procs) until the test ends.
func startNodes(t *testing.T, count int, url, prefix string, child bool) []*node {
	t.Helper()
	if !child {
		prev := runtime.GOMAXPROCS(count*loopsPerNode + 1)
		t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	}
	nodes := make([]*node, count)
	errs := make([]error, count)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			name := "n" + strconv.Itoa(i)
			if child {
				nodes[i], errs[i] = startChild(name, url, prefix)
			} else {
				nodes[i], errs[i] = startLocal(name, url, prefix)
			}
		})
	}
	wg.Wait()
	for _, n := range nodes {
		if n != nil {
			t.Cleanup(func() {
				if err := n.stop(); err != nil {
					t.Errorf("node %s: %v", n.name, err)
				}
			})
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return nodes
}

func startLocal(name, url, prefix string) (*node, error) {
	srv, closeBroker, err := newServer(url, prefix, -1)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, err := serve(ctx, srv)
	if err != nil {
		cancel()
		closeBroker()
		return nil, err
	}
	stop := sync.OnceValue(func() error {
		cancel()
		defer closeBroker()
		return <-done
	})
	return &node{name: name, addr: srv.Addr(), stop: stop}, nil
}

// startChild re-executes the test binary as a node and reads the
// address it prints.
func startChild(name, url, prefix string) (*node, error) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envNode+"="+name, envURL+"="+url, envPrefix+"="+prefix)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := sync.OnceValue(func() error { return stopChild(cmd, stdin) })
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case a := <-addr:
		if a == "" {
			return nil, errors.Join(errors.New("no address"), stop())
		}
		return &node{name: name, addr: a, stop: stop}, nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return nil, errors.Join(errors.New("no address within 30 s"), stop())
	}
}

// stopChild closes the child's stdin (it drains and exits) and waits,
// killing it after 20 s.
func stopChild(cmd *exec.Cmd, stdin io.Closer) error {
	_ = stdin.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		return errors.Join(errors.New("did not exit within 20 s"), <-done)
	}
}
