package main

import (
	"bytes"
	"fmt"
	"strings"
)

// The S9 section of RESULTS.md and its targets (see push.go).

// pushFan are the columns of an S9 fan-out row.
var pushFan = []metric{
	{"delivered %", "%.1f", delivered},
	{"p50 ms", "%.1f", ms("lat_p50_us")},
	{"p99 ms", "%.1f", ms("lat_p99_us")},
	{"max ms", "%.1f", ms("lat_max_us")},
	{"server CPU µs/delivery", "%.2f", field("cpu_us_per_msg")},
	{"deliveries per server CPU-s", "%.0f", field("msgs_per_cpu_s")},
	{"API round trip p50 ms", "%.1f", ms("api_p50_us")},
	{"API errors", "%.0f", field("publish_errs")},
	{"load gen CPU %", "%.0f", loadShare},
}

// pushRatios are the same-run ratios plezi ÷ centrifugo of a fan-out.
var pushRatios = []metric{
	{"p50", "%.2f", ms("lat_p50_us")},
	{"p99", "%.2f", ms("lat_p99_us")},
	{"CPU per delivery", "%.2f", field("cpu_us_per_msg")},
	{"deliveries per CPU-s", "%.2f", field("msgs_per_cpu_s")},
}

// pushSection writes S9: idle memory, fan-outs, and same-run ratios.
func (r *results) pushSection(b *bytes.Buffer) {
	fmt.Fprintf(b, "## %s\n\n%s\n\n", titles["s9"], setups["s9"])
	var mem, fan, ratio strings.Builder
	rss := field("idle_rss_per_conn")
	for _, ru := range r.runs {
		if ru.id != "s9" {
			continue
		}
		p, c := r.reps(ru, "plezi"), r.reps(ru, "centrifugo")
		if len(p)+len(c) == 0 {
			continue
		}
		if ru.rate == 0 {
			fmt.Fprintf(&mem, "| %s | %s | %s | %s | %s / %s |\n", ru.title, cell(summarize(p, rss), "%.0f", len(p)),
				cell(summarize(c, rss), "%.0f", len(c)), cell(sameRun(p, c, rss), "%.3f", min(len(p), len(c))),
				cell(summarize(p, field("up")), "%.0f", len(p)), cell(summarize(c, field("up")), "%.0f", len(c)))
			continue
		}
		for _, name := range []string{"plezi", "centrifugo"} {
			if reps := r.reps(ru, name); len(reps) > 0 {
				fmt.Fprintf(&fan, "| %s | %s |%s\n", ru.title, name, cells(pushFan, func(m metric) string {
					return cell(summarize(reps, m.f), m.format, len(reps))
				}))
			}
		}
		fmt.Fprintf(&ratio, "| %s |%s\n", ru.title, cells(pushRatios, func(m metric) string {
			return cell(sameRun(p, c, m.f), m.format, min(len(p), len(c)))
		}))
	}
	if mem.Len()+fan.Len() == 0 {
		b.WriteString("No server in this run takes part in it.\n\n")
		return
	}
	if mem.Len() > 0 {
		b.WriteString("Idle memory: server RSS growth per subscribed connection (bytes).\n\n")
		b.WriteString("| run | plezi | centrifugo | plezi ÷ centrifugo, same run | connections up (plezi / centrifugo) |\n|---|---:|---:|---:|---:|\n")
		b.WriteString(mem.String() + "\n")
	}
	if fan.Len() > 0 {
		b.WriteString("Fan-out of a 64 B publish made through the HTTP API.\n\n")
		b.WriteString(header("| run | server |", pushFan) + fan.String() + "\n")
		b.WriteString("Same-run ratios, plezi ÷ centrifugo: each repetition of plezi against the Centrifugo repetition that ran right after it, median (min–max) over the pairs.\n\n")
		b.WriteString(header("| run |", pushRatios) + ratio.String() + "\n")
	}
}

// cells formats one table cell per metric: " x |" each.
func cells(ms []metric, f func(metric) string) string {
	var s strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&s, " %s |", f(m))
	}
	return s.String()
}

// header is a table header: lead, then one column per metric.
func header(lead string, ms []metric) string {
	var s strings.Builder
	s.WriteString(lead)
	for _, m := range ms {
		fmt.Fprintf(&s, " %s |", m.name)
	}
	s.WriteString("\n|" + strings.Repeat("---|", strings.Count(lead, "|")-1) + strings.Repeat("---:|", len(ms)) + "\n")
	return s.String()
}

// sameRun is the median and range of f(p[i]) / f(c[i]) over the
// repetition pairs where both finished ok and f(c[i]) is not 0.
func sameRun(p, c []report, f func(report) float64) stat {
	var ratios []report
	for i := 0; i < len(p) && i < len(c); i++ {
		if p[i].str("status") != "ok" || c[i].str("status") != "ok" || f(c[i]) == 0 {
			continue
		}
		ratios = append(ratios, report{"status": "ok", "ratio": f(p[i]) / f(c[i])})
	}
	return summarize(ratios, field("ratio"))
}

// pushTargets writes the S9 targets for run ru: at most 1/10 of
// Centrifugo's memory per subscribed connection, at least 2× its
// deliveries per server CPU-second and at most 1/2 its p99.
func (r *results) pushTargets(b *bytes.Buffer, ru run) {
	if ru.rate == 0 {
		r.target(b, "S9: RSS per subscribed conn ≤ 1/10 centrifugo", ru, field("idle_rss_per_conn"), "centrifugo", false, 0.1)
		return
	}
	r.target(b, "S9: deliveries per server CPU-s ≥ 2× centrifugo", ru, field("msgs_per_cpu_s"), "centrifugo", true, 2)
	r.target(b, "S9: p99 publish-to-delivery ≤ 1/2 centrifugo", ru, ms("lat_p99_us"), "centrifugo", false, 0.5)
}
