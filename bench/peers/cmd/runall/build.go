package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// build compiles plezi-bench, the peers, plezi and, when the suite runs it,
// Centrifugo into dir. A plezi or Centrifugo that does not build is left
// out and noted; the other binaries must build.
func build(root, dir string, centrifugo bool) ([]*server, []string, error) {
	var notes []string
	if err := goBuild(root, filepath.Join(dir, "plezi-bench"), "./cmd/plezi-bench"); err != nil {
		return nil, nil, err
	}
	if err := goBuild(filepath.Join(root, "bench", "peers"), filepath.Join(dir, "peers"), "./cmd/peers"); err != nil {
		return nil, nil, err
	}
	svs := servers(dir)
	if err := goBuild(root, filepath.Join(dir, "plezi"), "./cmd/plezi"); err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		notes = append(notes, "plezi did not build, so it is not in these results: "+first)
		svs = svs[1:]
	}
	if !centrifugo {
		svs = svs[:len(svs)-1] // last in servers()
	} else if err := buildCentrifugo(root, dir); err != nil {
		msg := strings.Join(strings.Fields(err.Error()), " ")
		notes = append(notes, "centrifugo did not build, so it is not in these results: "+msg[:min(len(msg), 500)])
		svs = svs[:len(svs)-1]
	}
	return svs, notes, nil
}

func goBuild(dir, out, pkg string) error {
	fmt.Fprintf(os.Stderr, "runall: go build -o %s %s (in %s)\n", out, pkg, dir)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}
