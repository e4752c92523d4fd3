package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// report is plezi-bench's -json output, kept as numbers by field name.
type report map[string]any

func (r report) num(k string) float64 {
	f, _ := r[k].(float64)
	return f
}

func (r report) str(k string) string {
	s, _ := r[k].(string)
	return s
}

// execute runs every (run, server, repetition) in turn, in the order of
// schedule.
func execute(ctx context.Context, c *config, dir string, svs []*server, runs []run, res *results) {
	port := c.port
	for _, r := range runs {
		for _, j := range schedule(r, svs, c.reps) {
			if ctx.Err() != nil {
				return
			}
			sv := j.sv
			fmt.Fprintf(os.Stderr, "runall: %s [%s] %s, repetition %d/%d\n", r.id, r.title, sv.name, j.rep+1, c.reps)
			var out report
			var err error
			for try := 0; try < 5; try++ { // another process may hold the port
				port = freePorts(port, c.port, r.ports())
				out, err = once(ctx, c, dir, sv, r, port)
				port += r.ports()
				if err == nil || !strings.Contains(err.Error(), "address already in use") {
					break
				}
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "runall:   failed: %v\n", err)
				out = report{"status": "failed: " + err.Error()}
			}
			res.add(r, sv, out)
		}
	}
}

// freePorts returns the first port from p (wrapping to first after 65500)
// such that nothing listens on it and the n-1 ports after it right now.
func freePorts(p, first, n int) int {
	for i := 0; i < 500; i++ {
		if p+n-1 > 65500 {
			p = first
		}
		free := 0
		for free < n && canListen(p+free) {
			free++
		}
		if free == n {
			return p
		}
		p += free + 1
	}
	return p
}

func canListen(port int) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// once starts the server, runs plezi-bench against it and stops it.
func once(ctx context.Context, c *config, dir string, sv *server, r run, port int) (report, error) {
	if r.nodes > 0 {
		return onceCluster(ctx, c, dir, sv, r, port)
	}
	if r.id == "s9" {
		return oncePush(ctx, c, dir, sv, r, port)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"-addr", addr, "-scenario", r.id, "-label", sv.name, "-json"}
	srv, err := startServer(ctx, c.serverCPU, sv, addr, nil, nil)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	args = append(args, "-pid", strconv.Itoa(srv.cmd.Process.Pid))
	args = append(args, coreArgs(c)...)
	if sv.raw {
		args = append(args, "-raw")
	}
	args = append(args, sv.benchArgs()...)
	return bench(ctx, dir, c.loadCPU, append(args, r.args...))
}

// benchArgs are the plezi-bench flags this server needs.
func (sv *server) benchArgs() []string {
	if sv.pushPath == "" {
		return nil
	}
	return []string{"-push-path", sv.pushPath}
}

// coreArgs tells plezi-bench the server's core when it is one CPU.
func coreArgs(c *config) []string {
	if core, err := strconv.Atoi(c.serverCPU); err == nil {
		return []string{"-server-core", strconv.Itoa(core)}
	}
	return nil
}

// onceCluster starts r.nodes plezi nodes sharing the Redis at c.redis, all
// pinned to the server CPU with one event loop each: s4 on consecutive
// ports from port (one per node, plezi-bench dials every one of them), s7
// all on port (SO_REUSEPORT, the kernel spreads the connections). Then it
// runs plezi-bench across them and stops them.
func onceCluster(ctx context.Context, c *config, dir string, sv *server, r run, port int) (report, error) {
	extra := []string{"-loops", "1"}
	if r.ports() == 1 {
		extra = append(extra, "-reuseport")
	}
	if r.id == "s4" {
		extra = append(extra, "-unicast") // /unicast is off by default (and needs -demo, in the server's args)
	}
	env := []string{"PL_REDIS_URL=redis://" + c.redis + "/0"}
	floor := r.id == "s4" && r.nodes == 1 // S4's floor: one node, no Redis
	if floor {
		env = []string{"PL_REDIS_URL="} // empty: in process, whatever the caller's environment holds
	}
	serverCPU, loadCPU := c.serverCPU, c.loadCPU
	if r.id == "s7" {
		// The scale-out: on one core 7 nodes take in about 1,100
		// connections a second and 100,000 do not open within the wait,
		// so the nodes and the load generator share every CPU here.
		serverCPU = "0-" + strconv.Itoa(runtime.NumCPU()-1)
		loadCPU = serverCPU
	}
	var nodes []*running
	defer func() { stopAll(nodes) }()
	var addrs []string
	var pids []string
	for i := 0; i < r.nodes; i++ {
		addr := "127.0.0.1:" + strconv.Itoa(port+min(i, r.ports()-1))
		n, err := startServer(ctx, serverCPU, sv, addr, extra, env)
		if err != nil {
			return nil, fmt.Errorf("node %d of %d: %w", i+1, r.nodes, err)
		}
		nodes = append(nodes, n)
		pids = append(pids, strconv.Itoa(n.cmd.Process.Pid))
		if i < r.ports() {
			addrs = append(addrs, addr)
		}
	}
	if floor {
		addrs, pids = append(addrs, addrs[0]), append(pids, pids[0]) // both halves of the load on the one node
	}
	args := []string{"-addr", strings.Join(addrs, ","), "-scenario", r.id, "-label", sv.name, "-json",
		"-pid", strings.Join(pids, ",")}
	if r.id == "s7" {
		args = append(args, "-connect-timeout", "3m")
	} else {
		args = append(args, coreArgs(c)...)
	}
	args = append(args, sv.benchArgs()...)
	switch {
	case floor:
		args = append(args, "-redis", "") // nothing to count
	case r.id == "s4":
		args = append(args, "-redis", c.redis)
	}
	return bench(ctx, dir, loadCPU, append(args, r.args...))
}

// pingRedis checks that a Redis answers PING at addr (a minimal RESP
// exchange: this module does not take a Redis client).
func pingRedis(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err = io.WriteString(conn, "PING\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// bench runs plezi-bench (pinned to cpus) and decodes its JSON report.
func bench(ctx context.Context, dir, cpus string, args []string) (report, error) {
	argv := append([]string{dir + "/plezi-bench"}, args...)
	if cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("plezi-bench %s: %w", strings.Join(args, " "), err)
	}
	var rep report
	if err = json.Unmarshal(out, &rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// running is a started server process.
type running struct {
	cmd  *exec.Cmd
	done chan error
	mu   sync.Mutex // guards last
	last []string   // last stderr lines
}

// startServer starts sv pinned to cpus, with extra arguments and
// environment variables, and waits for its ready line (server.ready).
func startServer(ctx context.Context, cpus string, sv *server, addr string, extra, env []string) (*running, error) {
	argv := []string{"taskset", "-c", cpus, sv.bin}
	host, port, _ := net.SplitHostPort(addr)
	subst := strings.NewReplacer("{addr}", addr, "{host}", host, "{port}", port)
	for _, a := range sv.args {
		argv = append(argv, subst.Replace(a))
	}
	cmd := exec.Command(argv[0], append(argv[1:], extra...)...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err = cmd.Start(); err != nil {
		return nil, err
	}
	s := &running{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan struct{})
	word := sv.ready
	if word == "" {
		word = "listening"
	}
	go s.watch(errPipe, ready, word)
	select {
	case <-ready:
		return s, nil
	case <-time.After(15 * time.Second):
	case <-ctx.Done():
	}
	s.stop()
	return nil, fmt.Errorf("%s did not log %q (stderr: %q)", sv.name, word, s.tail())
}

// tail returns the last lines the server wrote to stderr.
func (s *running) tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.last, " | ")
}

// watch scans the server's stderr for word, then keeps draining it.
func (s *running) watch(r io.Reader, ready chan struct{}, word string) {
	sc := bufio.NewScanner(r)
	said := false
	for sc.Scan() {
		s.mu.Lock()
		s.last = append(s.last, sc.Text())
		if len(s.last) > 5 {
			s.last = s.last[1:]
		}
		s.mu.Unlock()
		if !said && strings.Contains(sc.Text(), word) {
			said = true
			close(ready)
		}
	}
	s.done <- s.cmd.Wait()
}

// stopAll sends every server SIGTERM at once, then waits for each (see
// wait).
func stopAll(ss []*running) {
	for _, s := range ss {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, s := range ss {
		s.wait()
	}
}

// stop sends SIGTERM and waits.
func (s *running) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	s.wait()
}

// wait waits for the server to exit, and kills it after 10 s.
func (s *running) wait() {
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}
