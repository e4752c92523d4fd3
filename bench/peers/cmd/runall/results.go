package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// results gathers every report by run and server.
type results struct {
	started time.Time
	load    string // /proc/loadavg's 1, 5 and 15 minute figures at the start
	machine string // the host the suite ran on (see machine)
	elapsed time.Duration
	cfg     *config
	notes   []string
	servers []*server
	runs    []run
	by      map[string]map[string][]report // run key → server → repetitions
}

func (r *results) add(ru run, sv *server, rep report) {
	if r.by == nil {
		r.by = map[string]map[string][]report{}
	}
	m := r.by[ru.key()]
	if m == nil {
		m = map[string][]report{}
		r.by[ru.key()] = m
	}
	m[sv.name] = append(m[sv.name], rep)
}

// reps returns the repetitions of run ru on server name.
func (r *results) reps(ru run, name string) []report { return r.by[ru.key()][name] }

// stat is the median and range of one metric over repetitions.
type stat struct {
	med, lo, hi float64
	n           int
}

// summarize applies f to each repetition that finished with status ok.
func summarize(reps []report, f func(report) float64) stat {
	var v []float64
	for _, rep := range reps {
		if rep.str("status") == "ok" {
			v = append(v, f(rep))
		}
	}
	if len(v) == 0 {
		return stat{}
	}
	sort.Float64s(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return stat{med: med, lo: v[0], hi: v[len(v)-1], n: len(v)}
}

// write saves results.json, RESULTS.md and the charts under dir.
func (r *results) write(dir string) error {
	raw := map[string]map[string][]report{}
	for k, v := range r.by {
		raw[k] = v
	}
	b, err := json.MarshalIndent(map[string]any{
		"started": r.started.UTC().Format(time.RFC3339), "command": r.cfg.commandStr,
		"machine": r.host(), "loadavg": r.load, "runs": raw,
		"elapsed_s": r.elapsed.Seconds(), "notes": r.notes,
	}, "", "  ")
	if err != nil {
		return err
	}
	if err = os.MkdirAll(dir, 0o755); err != nil { // -out DIR need not exist
		return err
	}
	if err = os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644); err != nil {
		return err
	}
	charts, err := r.charts(filepath.Join(dir, "charts"))
	if err != nil {
		return err
	}
	analysis, _ := os.ReadFile(filepath.Join(dir, "ANALYSIS.md")) // optional
	return os.WriteFile(filepath.Join(dir, "RESULTS.md"), r.markdown(charts, analysis), 0o644)
}

// host is the machine the results were measured on: this one, unless
// they were read back from results.json.
func (r *results) host() string {
	if r.machine != "" {
		return r.machine
	}
	return machine()
}

// loadavg returns the 1, 5 and 15 minute load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}
