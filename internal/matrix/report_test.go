package matrix

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// tally sums a topology's cells.
type tally struct {
	cells, passed, delivered, expected, dupes, inv, unexpected int
}

// entry is one cell of the table: "ok" (every seq once, in order), "-"
// (not a recipient, nothing came), "X<n>" (not a recipient, n came), or
// "got/n" with "+<d>d" duplicates and "~<i>i" inversions.
func (tl *tally) entry(w *want, c *client) string {
	cl, came := c.snapshot(w.key())
	if !slices.Contains(w.to, c) {
		if !came {
			return "-"
		}
		tl.unexpected++
		return fmt.Sprintf("X%d", cl.distinct+cl.dupes)
	}
	tl.cells++
	tl.delivered += cl.distinct
	tl.expected += w.N
	tl.dupes += cl.dupes
	tl.inv += cl.inv
	if cl.distinct == w.N && cl.dupes == 0 && cl.inv == 0 {
		tl.passed++
		return "ok"
	}
	s := fmt.Sprintf("%d/%d", cl.distinct, w.N)
	if cl.dupes > 0 {
		s += fmt.Sprintf("+%dd", cl.dupes)
	}
	if cl.inv > 0 {
		s += fmt.Sprintf("~%di", cl.inv)
	}
	return s
}

// report logs the matrix (a row per burst, a column per receiver) and
// fails the test for every cell that is not exactly once and in order,
// every stream nobody sent, and every stray frame or lost connection.
func (m *mesh) report(t *testing.T, name string, plan []*want, took time.Duration) {
	t.Helper()
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 1, ' ', 0)
	fmt.Fprint(tw, "kind\tsender")
	for _, c := range m.all {
		fmt.Fprint(tw, "\t", c.name)
	}
	fmt.Fprintln(tw)
	var tl tally
	for _, w := range plan {
		fmt.Fprintf(tw, "%s\t%s", w.Kind, w.Sender)
		for _, c := range m.all {
			fmt.Fprint(tw, "\t", tl.entry(w, c))
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
	t.Logf("%s: %d cells, %d exactly once in order; delivered %d/%d, %d duplicates, %d inversions, %d unexpected streams; %v\n%s",
		name, tl.cells, tl.passed, tl.delivered, tl.expected, tl.dupes, tl.inv, tl.unexpected, took.Round(time.Millisecond), b.String())
	if tl.passed != tl.cells || tl.unexpected > 0 {
		t.Errorf("%s: %d of %d cells failed, %d unexpected streams (see the table)", name, tl.cells-tl.passed, tl.cells, tl.unexpected)
	}
	m.checkClients(t, plan)
}

// checkClients fails on streams no burst sent, stray frames, repeated
// note ids and lost connections; it logs note ids that came after a
// higher one (two notifiers racing, which the contract allows).
func (m *mesh) checkClients(t *testing.T, plan []*want) {
	t.Helper()
	sent := map[string]bool{}
	for _, w := range plan {
		sent[w.key()] = true
	}
	for _, c := range m.all {
		for _, k := range c.keys() {
			if !sent[k] {
				t.Errorf("%s: got stream %s that nobody sent", c.name, k)
			}
		}
		c.mu.Lock()
		if c.nStrays > 0 {
			t.Errorf("%s: %d stray frames, first %q", c.name, c.nStrays, c.strays)
		}
		if c.nidDup > 0 {
			t.Errorf("%s: %d note ids came twice", c.name, c.nidDup)
		}
		if c.nidInv > 0 {
			t.Logf("%s: %d notes came after a higher note id (racing notifiers)", c.name, c.nidInv)
		}
		if c.readErr != nil {
			t.Errorf("%s: connection lost: %v", c.name, c.readErr)
		}
		c.mu.Unlock()
	}
}

// logStats logs the counters of each node that tell where messages went.
func (m *mesh) logStats(t *testing.T) {
	t.Helper()
	keys := []string{"delivered", "dropped", "publish_errors", "unicast_failed", "remote_in", "bad_envelopes",
		"cluster_envelopes", "cluster_messages", "cluster_round_trips", "slow_consumers", "panics", "notes_skipped", "notes_dropped"}
	for _, n := range m.nodes {
		st, err := n.stats()
		if err != nil {
			t.Errorf("%s: stats: %v", n.name, err)
			continue
		}
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%d", k, st[k])
		}
		t.Logf("%s:%s", n.name, b.String())
	}
}
