package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPushPlan(t *testing.T) {
	t.Parallel()
	svs := servers("/nowhere")
	for _, quick := range []bool{false, true} {
		seen := map[string]bool{}
		n := 0
		for _, ru := range plan(quick) {
			for _, sv := range svs {
				if ru.id == "s9" && ru.accepts(sv) != (sv.name == "plezi" || sv.name == "centrifugo") ||
					ru.id != "s9" && sv.name == "centrifugo" && ru.accepts(sv) {
					t.Errorf("%s in %s: %v", sv.name, ru.key(), ru.accepts(sv))
				}
			}
			if ru.id == "s9" {
				n++
				if seen[ru.key()] {
					t.Errorf("two s9 runs are %q", ru.key())
				}
				seen[ru.key()] = true
			}
		}
		if want := map[bool]int{false: 6, true: 2}[quick]; n != want {
			t.Errorf("quick=%v: %d s9 runs, want %d", quick, n, want)
		}
	}
}

// TestSchedule: S9 alternates the servers repetition by repetition; the
// other scenarios run every repetition of one server first.
func TestSchedule(t *testing.T) {
	t.Parallel()
	svs := servers("/nowhere")
	order := func(r run) string {
		var s []string
		for _, j := range schedule(r, svs, 2) {
			s = append(s, j.sv.name+itoa(j.rep+1))
		}
		return strings.Join(s, ",")
	}
	if got := order(pushRuns(true)[0]); got != "plezi1,centrifugo1,plezi2,centrifugo2" {
		t.Errorf("s9: %s", got)
	}
	if got := order(plan(true)[0]); !strings.HasPrefix(got, "plezi1,plezi2,gnetws1,gnetws2,") || strings.Contains(got, "centrifugo") {
		t.Errorf("s1: %s", got)
	}
}

// pushResults is a quick suite with S9 figures: plezi at 1/20 of
// Centrifugo's memory, 3× its deliveries per CPU-second, 1/4 of its p99.
func pushResults(t *testing.T, only string) *results {
	t.Helper()
	r := fakeResults(t, true, only)
	for _, ru := range pushRuns(true) {
		delete(r.by, ru.key())
		for i, sv := range []string{"plezi", "centrifugo", "plezi", "centrifugo"} {
			k := 1.0
			if sv == "centrifugo" {
				k = 20
			}
			rep := report{"status": "ok", "up": float64(ru.conns), "idle_rss_per_conn": 1000 * k * float64(1+i/2),
				"msgs": 1000.0, "expected": 1000.0, "lat_p50_us": 100 * k, "lat_p99_us": 1000 * k / 5,
				"lat_max_us": 2000 * k, "cpu_us_per_msg": k * 3 / 20, "msgs_per_cpu_s": 1e6 / k * 3,
				"api_p50_us": 500.0, "window_s": 1.0, "load_cpu_s": 0.5}
			r.add(ru, &server{name: sv}, rep)
		}
	}
	return r
}

func TestPushSection(t *testing.T) {
	t.Parallel()
	md := string(pushResults(t, "s9").markdown(nil, nil))
	for _, want := range []string{
		titles["s9"],
		"| 2k subscribed, idle | 1500 (1000–2000) | 30000 (20000–40000) | 0.050 (0.050–0.050) | 2000 (2000–2000) / 2000 (2000–2000) |",
		"| 2k subscribed, 64 B via the HTTP API at 10/s for 2s | plezi | 100.0 (100.0–100.0) | 0.1 (0.1–0.1) | 0.2 (0.2–0.2) |",
		"| 2k subscribed, 64 B via the HTTP API at 10/s for 2s | 0.05 (0.05–0.05) | 0.05 (0.05–0.05) | 0.05 (0.05–0.05) | 20.00 (20.00–20.00) |",
		"| S9: RSS per subscribed conn ≤ 1/10 centrifugo | 2k subscribed, idle | 1500 | 3e+04 | 0.05× | yes |",
		"| S9: deliveries per server CPU-s ≥ 2× centrifugo | 2k subscribed, 64 B via the HTTP API at 10/s for 2s | 3e+06 | 1.5e+05 | 20.00× | yes |",
		"| S9: p99 publish-to-delivery ≤ 1/2 centrifugo | 2k subscribed, 64 B via the HTTP API at 10/s for 2s | 0.2 | 4 | 0.05× | yes |",
		"centrifugo (Centrifugo v6, S9 only)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("RESULTS.md lacks %q\n%s", want, md)
		}
	}
	if strings.Contains(md, titles["s1"]) {
		t.Error("an -only s9 run has S1")
	}
}

// TestMergeRuns: -render -merge folds a partial S9 run into a suite's
// results.json: RESULTS.md has its rows and a note naming its command,
// and merging again replaces rather than repeats.
func TestMergeRuns(t *testing.T) {
	t.Parallel()
	suite, part := t.TempDir(), t.TempDir()
	full := fakeResults(t, true, "")
	full.cfg.commandStr = "bench/run.sh -quick"
	for _, ru := range pushRuns(true) {
		delete(full.by, ru.key())
	}
	if err := full.write(suite); err != nil {
		t.Fatal(err)
	}
	// -render keeps the machine the suite ran on, not the one rendering.
	js := filepath.Join(suite, "results.json")
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(`"machine": "`), []byte(`"machine": "a 386 with a turbo button, `), 1)
	if err = os.WriteFile(js, b, 0o644); err != nil {
		t.Fatal(err)
	}
	p := pushResults(t, "s9")
	p.cfg.commandStr = "bench/run.sh -quick -only s9 -servers plezi,centrifugo"
	p.notes = []string{"centrifugo took long to build"}
	if err := p.write(part); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := rerender(&config{out: suite, merge: filepath.Join(part, "results.json")}); err != nil {
			t.Fatal(err)
		}
	}
	if b, err = os.ReadFile(filepath.Join(suite, "RESULTS.md")); err != nil {
		t.Fatal(err)
	}
	md := string(b)
	note := "> The s9 rows come from `bench/run.sh -quick -only s9 -servers plezi,centrifugo`"
	for _, want := range []string{titles["s1"], titles["s9"], note, "> (s9 run) centrifugo took long to build",
		"- machine: a 386 with a turbo button, ", "), merged in with `bench/run.sh -render -merge`",
		"| 2k subscribed, idle | 1500 (1000–2000) | 30000 (20000–40000) |"} {
		if strings.Count(md, want) != 1 {
			t.Errorf("RESULTS.md has %q %d times, want once", want, strings.Count(md, want))
		}
	}
	if strings.Contains(md, "partial run") {
		t.Error("the merged suite calls itself partial")
	}
	if err = rerender(&config{out: suite, merge: filepath.Join(suite, "nothing.json")}); err == nil {
		t.Error("a missing merge file was accepted")
	}
}
