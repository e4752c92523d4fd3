package main

import (
	"fmt"
	"os"
	"time"

	"github.com/plezigo/plezi/bench"
)

// printer shows progress on stderr: one rewritten line on a terminal, a line
// every 2 s otherwise.
type printer struct {
	label    string
	phase    string // of the last line: its message count is lastMsgs
	tty      bool
	every    time.Duration
	last     time.Time
	lastMsgs int64
	shown    bool
}

func newPrinter(o options) *printer {
	fi, err := os.Stderr.Stat()
	tty := err == nil && fi.Mode()&os.ModeCharDevice != 0
	every := 2 * time.Second
	if tty {
		every = 250 * time.Millisecond
	}
	label := o.label
	if label == "" {
		label = o.addr
	}
	return &printer{label: label, tty: tty, every: every, last: time.Now()}
}

func (p *printer) show(phase string, pr bench.Progress) {
	dt := time.Since(p.last)
	if dt < p.every {
		return
	}
	if phase != p.phase { // another phase counts other workers
		p.phase, p.lastMsgs = phase, pr.Msgs
	}
	rate := float64(pr.Msgs-p.lastMsgs) / dt.Seconds()
	p.last, p.lastMsgs = time.Now(), pr.Msgs
	end := "\n"
	if p.tty {
		end = "\033[K\r"
	}
	fmt.Fprintf(os.Stderr, "[%s %s] up %d failed %d closed %d | msgs %d (%.0f/s) sent %d%s",
		p.label, phase, pr.Up-pr.Closed, pr.Failed, pr.Closed, pr.Msgs, rate, pr.Sent, end)
	p.shown = true
}

func (p *printer) done() {
	if p.tty && p.shown {
		fmt.Fprintln(os.Stderr)
	}
}
