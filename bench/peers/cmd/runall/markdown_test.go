package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeResults fills every (run, server) pair the plan accepts with one ok
// repetition carrying every field the tables read.
func fakeResults(t *testing.T, quick bool, only string) *results {
	t.Helper()
	cfg := &config{quick: quick, reps: 1, only: only, serverCPU: "0", loadCPU: "1", commandStr: "bench/run.sh"}
	r := &results{started: time.Now(), load: "0 0 0", cfg: cfg, servers: servers("/nowhere"), runs: pickRuns(plan(quick), only)}
	if !wantCentrifugo(cfg) { // as build leaves it out
		r.servers = r.servers[:len(r.servers)-1]
	}
	for _, ru := range r.runs {
		for _, sv := range r.servers {
			if !ru.accepts(sv) {
				continue
			}
			rep := report{"status": "ok", "msgs": 100.0, "expected": 100.0, "lat_p50_us": 500.0,
				"lat_p99_us": 1500.0, "lat_max_us": 3000.0, "cpu_us_per_msg": 2.0, "msgs_per_cpu_s": 5e5,
				"rss_per_conn": 4000.0, "send_rate": ru.rate, "round_trips_per_msg": 0.5, "publish_per_msg": 0.5,
				"redis_us_per_msg": 10.0, "window_s": 1.0, "load_cpu_s": 0.5, "up": 100.0, "rss_peak": 200.0 * (1 << 20)}
			r.add(ru, sv, rep)
		}
	}
	return r
}

func TestMarkdownFullPlan(t *testing.T) {
	t.Parallel()
	md := string(fakeResults(t, false, "").markdown(nil, nil))
	for _, want := range []string{
		titles["s1"], titles["s4"], titles["s7"],
		"| 2 nodes × 5k, 10k msg/s for 10s | plezi | 10000 | 100.00 | 500 | 1500 | 3000 | 0.500 | 0.500 | 2.0 | 10.0 |",
		"| 7 nodes, 100k × 64 B, single ×3 | plezi | 100 | 100.0 | 0.5 | 1.5 | 3.0 | 2.00 | 200 | 4000 | 50 |",
		"| S4: p99 ≤ 2 ms at 10k msg/s with batching (reference: 2 ms) | 2 nodes × 5k, 10k msg/s for 10s | 1.5 | 2 | 0.75× | yes |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("RESULTS.md lacks %q", want)
		}
	}
	for _, bad := range []string{"Not in this suite yet", "not yet available", "partial run", "| gorilla |  |"} {
		if strings.Contains(md, bad) {
			t.Errorf("RESULTS.md has %q", bad)
		}
	}
	if strings.Contains(md, "| 2 nodes × 5k, 1k msg/s for 10s | gorilla |") {
		t.Error("a peer takes part in S4")
	}
}

// TestWriteOnly: an -only run writes RESULTS.md, results.json and the
// charts it has data for, says it is partial, and has only its sections.
func TestWriteOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := fakeResults(t, true, "s4,s7")
	if len(r.runs) != 3 { // s4, its floor, s7
		t.Fatalf("quick -only s4,s7 plans %d runs", len(r.runs))
	}
	if err := r.write(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "RESULTS.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	if !strings.Contains(md, "partial run**: scenarios s4,s7") || !strings.Contains(md, titles["s4"]) ||
		!strings.Contains(md, titles["s7"]) || strings.Contains(md, titles["s1"]) {
		t.Fatalf("RESULTS.md of -only s4,s7:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(dir, "results.json")); err != nil {
		t.Fatal(err)
	}
}

// TestSectionWithoutPlezi: with no plezi, S4 says why it has no table.
func TestSectionWithoutPlezi(t *testing.T) {
	t.Parallel()
	r := fakeResults(t, true, "s4")
	r.servers = pick(r.servers, "gorilla")
	md := string(r.markdown(nil, nil))
	if !strings.Contains(md, "No server in this run takes part in it.") {
		t.Fatalf("RESULTS.md:\n%s", md)
	}
}

func TestPlanClusterRuns(t *testing.T) {
	t.Parallel()
	floors := map[bool]int{} // S4 floor runs (one node) per plan
	for _, quick := range []bool{false, true} {
		for _, ru := range plan(quick) {
			switch ru.id {
			case "s4":
				if ru.nodes != 2 && ru.nodes != 1 || ru.ports() != ru.nodes || ru.rate <= 0 || ru.conns%2 != 0 {
					t.Errorf("%+v", ru)
				}
				floors[quick] += 2 - ru.nodes
			case "s7":
				if ru.nodes < 2 || ru.ports() != 1 || ru.conns/ru.nodes > 19000 {
					t.Errorf("%+v", ru)
				}
			}
		}
		if floors[quick] != 1 {
			t.Errorf("quick=%v: %d S4 floor runs, want 1", quick, floors[quick])
		}
	}
}

func TestFreePorts(t *testing.T) {
	t.Parallel()
	p := freePorts(65200, 65200, 3)
	for i := range 3 {
		if !canListen(p + i) {
			t.Fatalf("port %d of %d..%d is taken", p+i, p, p+2)
		}
	}
}

// TestRerender: -render writes the same RESULTS.md from results.json, with
// the ANALYSIS.md written since, and reads the configuration back from the
// recorded command.
func TestRerender(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := fakeResults(t, true, "s2,s3")
	r.cfg.commandStr = "bench/run.sh -quick -only s2,s3"
	r.started = r.started.Truncate(time.Second) // results.json keeps seconds
	r.elapsed = 95 * time.Second
	r.notes = []string{"a note"}
	if err := r.write(dir); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(filepath.Join(dir, "RESULTS.md"))
	if err != nil {
		t.Fatal(err)
	}
	const analysis = "Hand-written: plezi stands here."
	if err = os.WriteFile(filepath.Join(dir, "ANALYSIS.md"), []byte(analysis), 0o644); err != nil {
		t.Fatal(err)
	}
	if err = rerender(&config{out: dir}); err != nil {
		t.Fatal(err)
	}
	again, err := os.ReadFile(filepath.Join(dir, "RESULTS.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := string(again)
	if !strings.Contains(md, analysis) || !strings.Contains(md, "> a note") || !strings.Contains(md, "suite took 1m35s") {
		t.Fatalf("re-rendered RESULTS.md:\n%s", md)
	}
	if without := strings.Replace(md, "## Where plezi stands (from bench/ANALYSIS.md, written by hand)\n\n"+analysis+"\n\n", "", 1); without != string(first) {
		t.Fatalf("re-rendered tables differ:\n--- first\n%s\n--- again\n%s", first, without)
	}
	// the machine is the one results.json names, not the one rendering
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), `"machine": "`, `"machine": "the suite's own machine, `, 1))
	if err = os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err = rerender(&config{out: dir}); err != nil {
		t.Fatal(err)
	}
	if b, err = os.ReadFile(filepath.Join(dir, "RESULTS.md")); err != nil || !strings.Contains(string(b), "- machine: the suite's own machine, ") {
		t.Fatalf("re-rendered machine line (%v):\n%s", err, b)
	}
	if _, err = recorded("bench/run.sh -bogus"); err == nil {
		t.Fatal("an unknown recorded flag was accepted")
	}
}

// TestSummaryOpensResults: the part of ANALYSIS.md before the summary
// marker opens RESULTS.md, ahead of the method and the targets; the rest
// follows the targets.
func TestSummaryOpensResults(t *testing.T) {
	t.Parallel()
	analysis := "## In a minute\n\nplezi is fast.\n\n" + summaryEnd + "\n\nThe details."
	md := string(fakeResults(t, true, "").markdown(nil, []byte(analysis)))
	sum, method, targets := strings.Index(md, "plezi is fast."), strings.Index(md, "- pinning:"), strings.Index(md, "## Targets")
	details := strings.Index(md, "## Where plezi stands (from bench/ANALYSIS.md, written by hand)\n\nThe details.")
	if sum < 0 || method < sum || targets < method || details < targets || strings.Contains(md, summaryEnd) {
		t.Fatalf("summary at %d, method at %d, targets at %d, details at %d:\n%s", sum, method, targets, details, md)
	}
}

// TestRerenderOlderFile: -render of a results.json written before a
// scenario joined the plan leaves that scenario out instead of printing
// an empty section.
func TestRerenderOlderFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := fakeResults(t, true, "s2,s3")
	r.cfg = &config{quick: true, reps: 1, serverCPU: "0", loadCPU: "1", commandStr: "bench/run.sh -quick"}
	if err := r.write(dir); err != nil {
		t.Fatal(err)
	}
	if err := rerender(&config{out: dir}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "RESULTS.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	if !strings.Contains(md, titles["s3"]) || strings.Contains(md, titles["s8"]) || strings.Contains(md, "No server in this run") {
		t.Fatalf("re-rendered RESULTS.md:\n%s", md)
	}
}
