package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"time"
)

// Worker commands, one per line on the worker's input after the Config line.
const (
	CmdGo      = "go"      // start the measured window
	CmdStop    = "stop"    // end it
	CmdDrain   = "drain"   // let slow consumers read until closed or quiet
	CmdResult  = "result"  // send the Result
	CmdQuit    = "quit"    // close everything and exit
	CmdConnect = "connect" // open the connections of a Config with Hold
	CmdHalt    = "halt"    // the push sender stops; receivers go on counting
	CmdCut     = "cut"     // send the Result and start a new latency histogram
)

// Event is one line a worker writes: Ev is "progress", "ack" or "result".
type Event struct {
	Ev  string    `json:"ev"`
	Cmd string    `json:"cmd,omitempty"`
	P   *Progress `json:"p,omitempty"`
	R   *Result   `json:"r,omitempty"`
	Err string    `json:"err,omitempty"`
}

// workerOut serialises a worker's events.
type workerOut struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (w *workerOut) emit(ev Event) {
	w.mu.Lock()
	_ = w.enc.Encode(ev)
	w.mu.Unlock()
}

// RunWorker is the body of a worker process: it reads a Config line from in,
// opens the connections, reports progress every interval on out, and obeys
// the commands that follow until CmdQuit or the end of in. It owns the
// engine it creates and closes it before returning.
func RunWorker(ctx context.Context, in io.Reader, out io.Writer, interval time.Duration) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cfg Config
	if !sc.Scan() {
		return ErrConfig
	}
	if err := json.Unmarshal(sc.Bytes(), &cfg); err != nil {
		return err
	}
	e, err := NewEngine(cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	w := &workerOut{enc: json.NewEncoder(out)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); report(ctx, e, w, interval) }()
	defer func() { cancel(); <-done }()
	if cfg.Scenario != ScenarioChurn && !cfg.Hold {
		e.Connect()
	}
	for sc.Scan() {
		if obey(ctx, e, w, strings.TrimSpace(sc.Text())) {
			return nil
		}
	}
	return sc.Err()
}

// report writes progress until ctx ends.
func report(ctx context.Context, e *Engine, w *workerOut, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		p := e.Progress()
		w.emit(Event{Ev: "progress", P: &p})
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// obey runs one command; it returns true on CmdQuit.
func obey(ctx context.Context, e *Engine, w *workerOut, cmd string) bool {
	switch cmd {
	case CmdGo:
		e.Start()
	case CmdStop:
		e.Stop()
	case CmdDrain:
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		e.Drain(dctx, time.Second)
		cancel()
	case CmdConnect:
		e.Connect()
	case CmdHalt:
		e.Halt()
	case CmdResult:
		r := e.Result()
		w.emit(Event{Ev: "result", R: &r})
	case CmdCut:
		r := e.Cut()
		w.emit(Event{Ev: "result", R: &r})
	case CmdQuit:
		e.Close()
		w.emit(Event{Ev: "ack", Cmd: cmd})
		return true
	default:
		w.emit(Event{Ev: "ack", Cmd: cmd, Err: "unknown command"})
		return false
	}
	if cmd != CmdResult && cmd != CmdCut {
		w.emit(Event{Ev: "ack", Cmd: cmd})
	}
	return false
}
