package push_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/plezigo/plezi/internal/push"
	"github.com/plezigo/plezi/server"
)

// TestPythonExample runs examples/push.py (standard library only) against
// a node: its publish reaches a subscriber and its notify a registered
// identity.
func TestPythonExample(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{JWTSecret: []byte(testSecret)}, server.Config{})
	c := connect(t, n.addr, tokenQuery(token(t, testSecret, claims("ann"))), nil)
	c.ok(1, `{"event":"subscribe","channel":"news"}`)
	c.ok(2, `{"event":"register"}`)
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "examples", "push.py")
	cmd := exec.Command("python3", script, "http://"+n.addr+"/api")
	cmd.Env = []string{"PLEZI_API_KEY=" + testKey}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 examples/push.py: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "'registered': True") {
		t.Fatalf("output:\n%s", out)
	}
	c.expect(`{"event":"message","channel":"news","data":{"title":"hello from Python"}}`)
	c.expect(`{"event":"notify","id":"1","identity":"ann","name":"invoice","data":{"amount":42}}`)
}
