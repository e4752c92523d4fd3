package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// mergeRuns folds the runs of the results.json at path, a partial run's
// (bench/run.sh -only s9 -out DIR), into sv before -render writes
// RESULTS.md: each run it holds replaces sv's run of the same key (all
// servers), and a note in RESULTS.md says which rows came from which
// command, date and load. Only keys of the plan sv's own command runs are
// rendered: merge a full run's results into a full suite's, a -quick
// run's into a -quick suite's.
func mergeRuns(sv *saved, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var o saved
	if err = json.Unmarshal(b, &o); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(o.Runs) == 0 {
		return fmt.Errorf("%s holds no runs to merge", path)
	}
	var ids []string
	if sv.Runs == nil {
		sv.Runs = map[string]map[string][]report{}
	}
	for k, v := range o.Runs {
		if id, _, _ := strings.Cut(k, " "); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
		sv.Runs[k] = v
	}
	slices.Sort(ids)
	prefix, theirs := "The "+strings.Join(ids, ", ")+" rows come from ", "("+strings.Join(ids, ", ")+" run) "
	notes := slices.DeleteFunc(slices.Clone(sv.Notes), func(n string) bool { // an earlier merge's
		return strings.HasPrefix(n, prefix) || strings.HasPrefix(n, theirs)
	})
	took := time.Duration(o.ElapsedS * float64(time.Second)).Round(time.Second)
	notes = append(notes, fmt.Sprintf("%s`%s`, started %s on %s (load average %s, took %s), merged in with `bench/run.sh -render -merge`; the header above is the rest's.",
		prefix, o.Command, o.Started, o.Machine, o.Loadavg, took))
	for _, n := range o.Notes {
		notes = append(notes, theirs+n)
	}
	sv.Notes = notes
	return nil
}
