package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// saved is results.json as write leaves it.
type saved struct {
	Started  string                         `json:"started"`
	Command  string                         `json:"command"`
	Loadavg  string                         `json:"loadavg"`
	Machine  string                         `json:"machine"`
	ElapsedS float64                        `json:"elapsed_s"`
	Notes    []string                       `json:"notes"`
	Runs     map[string]map[string][]report `json:"runs"`
}

// rerender writes RESULTS.md and the charts again from the results.json in
// c's output folder and the current ANALYSIS.md, running nothing: the
// hand-written analysis is written once the numbers are known. The suite's
// configuration is the command line results.json recorded.
func rerender(c *config) error {
	var err error
	if c.out == "" {
		if c.root == "" {
			if c.root, err = findRoot(); err != nil {
				return err
			}
		}
		c.out = filepath.Join(c.root, "bench")
	}
	path := filepath.Join(c.out, "results.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var sv saved
	if err = json.Unmarshal(b, &sv); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if c.merge != "" {
		if err = mergeRuns(&sv, c.merge); err != nil { // merge.go
			return err
		}
	}
	rc, err := recorded(sv.Command)
	if err != nil {
		return err
	}
	started, err := time.Parse(time.RFC3339, sv.Started)
	if err != nil {
		return fmt.Errorf("%s: started: %w", path, err)
	}
	elapsed := time.Duration(sv.ElapsedS * float64(time.Second))
	if elapsed == 0 { // written before elapsed_s was kept: the file's age
		if st, err := os.Stat(path); err == nil {
			elapsed = st.ModTime().Sub(started)
		}
	}
	res := &results{started: started, load: sv.Loadavg, machine: sv.Machine, elapsed: elapsed, cfg: rc, notes: sv.Notes, by: sv.Runs}
	for _, ru := range pickRuns(plan(rc.quick), rc.only) {
		if len(sv.Runs[ru.key()]) > 0 { // a scenario added since the file was written has none
			res.runs = append(res.runs, ru)
		}
	}
	for _, s := range pick(servers(""), rc.servers) {
		if res.ran(s.name) {
			res.servers = append(res.servers, s)
		}
	}
	return res.write(c.out)
}

// recorded parses the suite's command line as results.json keeps it
// ("bench/run.sh -quick ...").
func recorded(command string) (*config, error) {
	var rc config
	fs := flag.NewFlagSet("runall", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	bindFlags(fs, &rc)
	fs.Bool("render", false, "")
	args := strings.Fields(command)
	if len(args) > 0 {
		args = args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("recorded command %q: %w", command, err)
	}
	rc.commandStr = command
	rc.defaults()
	return &rc, nil
}

// ran reports whether server name has reports in any run.
func (r *results) ran(name string) bool {
	for _, m := range r.by {
		if len(m[name]) > 0 {
			return true
		}
	}
	return false
}
