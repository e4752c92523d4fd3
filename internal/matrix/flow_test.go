package matrix

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Flow control. A hub's cluster queue holds 4096 envelopes and drops
// past them (dispatch's sendRemote, Stats.PublishErrors), and a
// connection gives up a note that arrives more than HubConfig.NoteWindow
// (256) ids behind the newest it delivered (Stats.NotesSkipped). So that
// neither bound can be reached whatever the machine's speed, a cell has
// at most cellWindow seqs on their way (it sends the next window when
// every receiver has the last), and the Notify cells (six notifiers per
// identity on three nodes) move in lockstep by noteWindow: each sends a
// window, all of them arrive, then the next, so no identity takes more
// than 6 × noteWindow < 256 ids beyond what all its connections have.
// Per node at most 24 × cellWindow + 8 × noteWindow envelopes are queued
// (one per remote target for Unicast and Notify). envWindow=n instead
// sends every cell in windows of n on its own (n=1000: each burst whole),
// to see those bounds hit.
const (
	cellWindow = 100
	noteWindow = 40
	envWindow  = "MATRIX_WINDOW"
)

// fire sends every cell of the plan at once, window by window.
func (m *mesh) fire(plan []*want) []error {
	var mu sync.Mutex
	var errs []error
	fail := func(err error) {
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	}
	free, n := plan, cellWindow
	var notes []*want
	if v, err := strconv.Atoi(os.Getenv(envWindow)); err == nil && v > 0 {
		n = v
	} else {
		free = slices.DeleteFunc(slices.Clone(plan), func(w *want) bool { return w.Kind == "nt" })
		notes = slices.DeleteFunc(slices.Clone(plan), func(w *want) bool { return w.Kind != "nt" })
	}
	var wg sync.WaitGroup
	for _, w := range free {
		wg.Go(func() { fail(w.fire(n)) })
	}
	wg.Go(func() { fail(lockstep(notes, noteWindow)) })
	wg.Wait()
	return errs
}

// fire sends the cell's burst in windows of n. When a window stops
// arriving, the rest is sent without waiting (the report shows what is
// missing).
func (w *want) fire(n int) error {
	waiting := true
	for from := 0; from < w.N; from += n {
		if err := w.send(from, n); err != nil {
			return err
		}
		if waiting {
			waiting = w.wait(min(from+n, w.N))
		}
	}
	return nil
}

// lockstep sends the cells window by window together.
func lockstep(cells []*want, n int) error {
	waiting := true
	for from := 0; from < burstN; from += n {
		errs := make([]error, len(cells))
		var wg sync.WaitGroup
		for i, w := range cells {
			wg.Go(func() { errs[i] = w.send(from, n) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		for _, w := range cells {
			waiting = waiting && w.wait(min(from+n, w.N))
		}
	}
	return nil
}

// send sends seqs from..from+n (at most) of the cell, from its hub or
// its controller.
func (w *want) send(from, n int) error {
	b := w.burst
	b.From, b.N = from, min(n, w.N-from)
	if w.hub != nil {
		return w.hub.send(b)
	}
	_, err := w.ctl.call(2*time.Minute, "burst", b)
	return err
}

// wait waits until every receiver has n seqs of the cell; false when
// nothing more came for 5 s.
func (w *want) wait(n int) bool {
	last, since := -1, time.Now()
	for {
		got := 0
		for _, c := range w.to {
			cl, _ := c.snapshot(w.key())
			got += min(cl.distinct, n)
		}
		switch {
		case got == n*len(w.to):
			return true
		case got != last:
			last, since = got, time.Now()
		case time.Since(since) > 5*time.Second:
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitDelivered waits until every receiver got every seq of its bursts,
// or nothing more came for 5 s.
func (m *mesh) waitDelivered(plan []*want) {
	last, since := -1, time.Now()
	poll(5*time.Minute, func() bool {
		got, all := m.delivered(plan)
		if got != last {
			last, since = got, time.Now()
		}
		return got == all || time.Since(since) > 5*time.Second
	})
}

// delivered counts the distinct seqs that came, of all that should.
func (m *mesh) delivered(plan []*want) (got, all int) {
	for _, w := range plan {
		for _, c := range w.to {
			cl, _ := c.snapshot(w.key())
			got += min(cl.distinct, w.N)
			all += w.N
		}
	}
	return got, all
}
