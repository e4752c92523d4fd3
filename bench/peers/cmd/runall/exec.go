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

// execute runs every (run, server, repetition) in turn.
func execute(ctx context.Context, c *config, dir string, svs []*server, runs []run, res *results) {
	port := c.port
	for _, r := range runs {
		for i, sv := range svs {
			if !r.accepts(sv) || (r.id == "s4" || r.id == "s7") && i > 0 {
				continue // s4 and s7 only report "not yet available", once
			}
			for rep := 0; rep < c.reps && ctx.Err() == nil; rep++ {
				fmt.Fprintf(os.Stderr, "runall: %s [%s] %s, repetition %d/%d\n", r.id, r.title, sv.name, rep+1, c.reps)
				var out report
				var err error
				for try := 0; try < 5; try++ { // another process may hold the port
					port = freePort(port, c.port)
					out, err = once(ctx, c, dir, sv, r, port)
					port++
					if err == nil || !strings.Contains(err.Error(), "address already in use") {
						break
					}
				}
				if err != nil {
					fmt.Fprintf(os.Stderr, "runall:   failed: %v\n", err)
					out = report{"status": "failed: " + err.Error()}
				}
				res.add(r, sv, out)
				if r.id == "s4" || r.id == "s7" {
					break
				}
			}
		}
	}
}

// freePort returns the first port from p (wrapping to first after 65500)
// that nothing listens on right now.
func freePort(p, first int) int {
	for i := 0; i < 500; i++ {
		if p > 65500 {
			p = first
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			ln.Close()
			return p
		}
		p++
	}
	return p
}

// once starts the server, runs plezi-bench against it and stops it.
func once(ctx context.Context, c *config, dir string, sv *server, r run, port int) (report, error) {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"-addr", addr, "-scenario", r.id, "-label", sv.name, "-json"}
	if r.id == "s4" || r.id == "s7" {
		return bench(ctx, dir, "", args)
	}
	srv, err := startServer(ctx, c.serverCPU, sv, addr)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	args = append(args, "-pid", strconv.Itoa(srv.cmd.Process.Pid))
	if core, err := strconv.Atoi(c.serverCPU); err == nil {
		args = append(args, "-server-core", strconv.Itoa(core))
	}
	if sv.raw {
		args = append(args, "-raw")
	}
	return bench(ctx, dir, c.loadCPU, append(args, r.args...))
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

// startServer starts sv pinned to cpus and waits for its "listening" line.
func startServer(ctx context.Context, cpus string, sv *server, addr string) (*running, error) {
	argv := []string{"taskset", "-c", cpus, sv.bin}
	for _, a := range sv.args {
		argv = append(argv, strings.ReplaceAll(a, "{addr}", addr))
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err = cmd.Start(); err != nil {
		return nil, err
	}
	s := &running{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan struct{})
	go s.watch(errPipe, ready)
	select {
	case <-ready:
		return s, nil
	case <-time.After(15 * time.Second):
	case <-ctx.Done():
	}
	s.stop()
	return nil, fmt.Errorf("%s did not log \"listening\" (stderr: %q)", sv.name, s.tail())
}

// tail returns the last lines the server wrote to stderr.
func (s *running) tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.last, " | ")
}

// watch scans the server's stderr for "listening", then keeps draining it.
func (s *running) watch(r io.Reader, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	said := false
	for sc.Scan() {
		s.mu.Lock()
		s.last = append(s.last, sc.Text())
		if len(s.last) > 5 {
			s.last = s.last[1:]
		}
		s.mu.Unlock()
		if !said && strings.Contains(sc.Text(), "listening") {
			said = true
			close(ready)
		}
	}
	s.done <- s.cmd.Wait()
}

// stop sends SIGTERM and waits (then SIGKILL after 10 s).
func (s *running) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}
