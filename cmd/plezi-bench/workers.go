package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/plezigo/plezi/bench"
)

// workerEnv marks a worker process (besides -worker), so that a test binary
// re-executed as a worker knows it is one before parsing test flags.
const workerEnv = "PLEZI_BENCH_WORKER"

// worker is one child process running bench.RunWorker.
type worker struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	mu    sync.Mutex // guards p
	p     bench.Progress
	acks  chan string
	res   chan bench.Result
	exit  chan error
	conns int
	// reported is closed at the first progress event: the worker's
	// engine exists. Read goroutine only: seen.
	reported chan struct{}
	seen     bool
}

// spawn re-executes this binary as a worker with cfg.
func spawn(cfg bench.Config) (*worker, error) {
	cmd := exec.Command("/proc/self/exe", "-worker")
	cmd.Env = append(os.Environ(), workerEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err = cmd.Start(); err != nil {
		return nil, err
	}
	w := &worker{cmd: cmd, in: in, acks: make(chan string, 8), res: make(chan bench.Result, 1),
		exit: make(chan error, 1), conns: cfg.Conns, reported: make(chan struct{})}
	line, _ := json.Marshal(cfg)
	if _, err = fmt.Fprintf(in, "%s\n", line); err != nil {
		return nil, err
	}
	go w.read(out)
	return w, nil
}

// read consumes the worker's events until its stdout closes.
func (w *worker) read(out io.Reader) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var ev bench.Event
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		switch ev.Ev {
		case "progress":
			w.mu.Lock()
			w.p = *ev.P
			w.mu.Unlock()
			if !w.seen {
				w.seen = true
				close(w.reported)
			}
		case "ack":
			w.acks <- ev.Cmd
		case "result":
			w.res <- *ev.R
		}
	}
	w.exit <- w.cmd.Wait()
	close(w.acks)
}

func (w *worker) progress() bench.Progress {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.p
}

// command sends cmd to every worker and waits for each to acknowledge.
func command(ws []*worker, cmd string, timeout time.Duration) error {
	for _, w := range ws {
		if _, err := fmt.Fprintln(w.in, cmd); err != nil {
			return err
		}
	}
	deadline := time.After(timeout)
	for _, w := range ws {
		select {
		case _, ok := <-w.acks:
			if !ok {
				return fmt.Errorf("plezi-bench: worker exited during %q", cmd)
			}
		case <-deadline:
			return fmt.Errorf("plezi-bench: no answer to %q", cmd)
		}
	}
	return nil
}

// waitReported waits until every worker has reported once.
func waitReported(ws []*worker, timeout time.Duration) error {
	deadline := time.After(timeout)
	for _, w := range ws {
		select {
		case <-w.reported:
		case <-deadline:
			return fmt.Errorf("plezi-bench: a worker did not start in %v", timeout)
		}
	}
	return nil
}

// results collects and merges every worker's Result.
func results(ws []*worker) (bench.Result, error) { return collect(ws, bench.CmdResult) }

// collect sends cmd (CmdResult or CmdCut) and merges every worker's Result.
func collect(ws []*worker, cmd string) (bench.Result, error) {
	var total bench.Result
	for _, w := range ws {
		if _, err := fmt.Fprintln(w.in, cmd); err != nil {
			return total, err
		}
	}
	for _, w := range ws {
		select {
		case r := <-w.res:
			if err := total.Merge(&r); err != nil {
				return total, err
			}
		case <-time.After(30 * time.Second):
			return total, fmt.Errorf("plezi-bench: no result from a worker")
		}
	}
	return total, nil
}

// quit stops every worker and waits for the processes to exit.
func quit(ws []*worker) {
	for _, w := range ws {
		fmt.Fprintln(w.in, bench.CmdQuit)
		w.in.Close()
	}
	for _, w := range ws {
		select {
		case <-w.exit:
		case <-time.After(10 * time.Second):
			_ = w.cmd.Process.Kill()
			<-w.exit
		}
	}
}

// sum adds the workers' latest progress.
func sum(ws []*worker) bench.Progress {
	var p bench.Progress
	p.Done = len(ws) > 0
	for _, w := range ws {
		q := w.progress()
		p.Up += q.Up
		p.Failed += q.Failed
		p.Closed += q.Closed
		p.Msgs += q.Msgs
		p.Sent += q.Sent
		p.Bytes += q.Bytes
		p.Done = p.Done && q.Done
	}
	return p
}
