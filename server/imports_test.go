package server_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportArrows holds the dependency arrows of DESIGN.md §2:
// cmd → server → dispatch ← cluster, codec a leaf. The server does not
// import cluster (the caller builds the broker: cluster.FromURL), dispatch
// knows no reactor and no Redis, cluster knows no sockets, and codec and
// codec/event know none of the others. It asks `go list -deps`, so test
// files do not count.
func TestImportArrows(t *testing.T) {
	t.Parallel()
	const mod = "github.com/plezigo/plezi/"
	forbidden := map[string][]string{
		"server":      {mod + "cluster", "github.com/redis/"},
		"dispatch":    {mod + "server", mod + "cluster", "github.com/panjf2000/gnet", "github.com/redis/"},
		"cluster":     {mod + "server", "github.com/panjf2000/gnet"},
		"codec":       {mod + "dispatch", mod + "server", mod + "cluster", mod + "codec/event"},
		"codec/event": {mod + "dispatch", mod + "server", mod + "cluster", mod + "codec"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", mod+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range bad {
				if dep != mod+pkg && within(dep, b) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}

// within reports whether package path dep is tree (a package path, or a
// prefix ending in "/") or below it.
func within(dep, tree string) bool {
	if strings.HasSuffix(tree, "/") {
		return strings.HasPrefix(dep, tree)
	}
	return dep == tree || strings.HasPrefix(dep, tree+"/")
}
