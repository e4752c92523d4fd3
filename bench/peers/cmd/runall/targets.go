package main

import (
	"bytes"
	"fmt"
)

// targets checks the goals against the medians measured here.
func (r *results) targets(b *bytes.Buffer) {
	if !r.has("plezi") {
		b.WriteString("## Targets\n\nplezi is not in this run, so its targets are not checked.\n\n")
		return
	}
	var rows bytes.Buffer
	r.targetRows(&rows)
	b.WriteString("## Targets (server on one core)\n\n")
	if rows.Len() == 0 {
		b.WriteString("No target applies to the runs in this file.\n\n")
		return
	}
	b.WriteString("| target | run | plezi | reference | ratio | met |\n|---|---|---:|---:|---:|:---:|\n")
	b.Write(rows.Bytes())
	b.WriteString("\n")
}

// targetRows writes one row per target a run of this file can check.
func (r *results) targetRows(b *bytes.Buffer) {
	for _, ru := range r.runs {
		switch ru.id {
		case "s1":
			r.target(b, "S1: RSS per idle conn ≤ 1.1× gnetws", ru, field("rss_per_conn"), "gnetws", false, 1.1)
		case "s2":
			// Issue 12: websocket framing at no cost over raw TCP (the
			// raw gnet echo is the floor every server here stands on).
			r.target(b, "S2: msgs per server CPU-s ≥ 1.0× gnetraw (raw gnet TCP echo)", ru, field("msgs_per_cpu_s"), "gnetraw", true, 1)
			best, name := r.bestPeer(ru, field("msgs_per_cpu_s"))
			if name != "" {
				r.targetVs(b, "S2: msgs per server CPU-s ≥ 1.2× best peer ("+name+")", ru, field("msgs_per_cpu_s"), best, true, 1.2)
			}
		case "s7":
			if ru.nodes >= 6 {
				r.targetVs(b, fmt.Sprintf("S7: ≥ 100,000 connections up over ≥ 6 nodes (%d here; reference: 100,000)", ru.nodes), ru, field("up"), 100000, true, 1)
			}
		case "s3":
			r.target(b, "S3: CPU per delivery within 10% of rawloop", ru, field("cpu_us_per_msg"), "rawloop", false, 1.1)
		case "s9":
			r.pushTargets(b, ru) // push_md.go
		case "s4":
			if ru.rate == 10000 && ru.nodes >= 2 {
				r.targetVs(b, "S4: p99 ≤ 2 ms at 10k msg/s with batching (reference: 2 ms)", ru, ms("lat_p99_us"), 2, false, 1)
			}
		case "s8":
			r.targetOwn(b, "S8: storm up during broadcasts ≤ 1.5× without (s; reference: plezi without)", ru,
				field("storm_busy_s"), field("storm_quiet_s"), 1.5)
			r.targetOwn(b, "S8: p99 during the storm ≤ 2× before it (ms; reference: plezi before, S3's figure)", ru,
				ms("lat_p99_us"), ms("calm_p99_us"), 2)
		}
	}
}

// targetOwn writes one row comparing two of plezi's own figures: f at
// most factor × ref.
func (r *results) targetOwn(b *bytes.Buffer, what string, ru run, f, ref func(report) float64, factor float64) {
	if st := summarize(r.reps(ru, "plezi"), ref); st.n > 0 {
		r.targetVs(b, what, ru, f, st.med, false, factor)
	}
}

func (r *results) has(name string) bool {
	for _, s := range r.servers {
		if s.name == name {
			return true
		}
	}
	return false
}

// bestPeer is the highest median among the websocket peers (not raw floors).
func (r *results) bestPeer(ru run, f func(report) float64) (float64, string) {
	best, name := 0.0, ""
	for _, s := range r.servers {
		if s.name == "plezi" || s.raw {
			continue
		}
		if st := summarize(r.reps(ru, s.name), f); st.n > 0 && st.med > best {
			best, name = st.med, s.name
		}
	}
	return best, name
}

func (r *results) target(b *bytes.Buffer, what string, ru run, f func(report) float64, ref string, higher bool, factor float64) {
	st := summarize(r.reps(ru, ref), f)
	if st.n == 0 {
		return
	}
	r.targetVs(b, what, ru, f, st.med, higher, factor)
}

// targetVs writes one row: plezi's median against ref; higher says whether
// plezi must be above factor×ref (else at most factor×ref).
func (r *results) targetVs(b *bytes.Buffer, what string, ru run, f func(report) float64, ref float64, higher bool, factor float64) {
	st := summarize(r.reps(ru, "plezi"), f)
	if st.n == 0 || ref == 0 {
		fmt.Fprintf(b, "| %s | %s | — | %.4g | — | no data |\n", what, ru.title, ref)
		return
	}
	ratio := st.med / ref
	met := ratio <= factor
	if higher {
		met = ratio >= factor
	}
	mark := "no"
	if met {
		mark = "yes"
	}
	fmt.Fprintf(b, "| %s | %s | %.4g | %.4g | %.2f× | %s |\n", what, ru.title, st.med, ref, ratio, mark)
}
