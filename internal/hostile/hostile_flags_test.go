package hostile

// Start-up settings: a bad flag or PL_ value stops the process at once
// with exit code 1 and one line naming it, never a silent default.

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// exitWait bounds a run that should refuse to start; one still running
// then has started with the bad setting.
const exitWait = 5 * time.Second

// runToExit runs plezi with env and "-addr 127.0.0.1:0" plus args (so one
// that starts by mistake takes no fixed port) until it exits, and returns
// its exit code, stdout and stderr. A process still running after exitWait
// is killed and fails the test.
func runToExit(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), exitWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("plezi %q %q still running after %v: it started instead of refusing:\n%s", env, args, exitWait, errb.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run plezi: %v", err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// TestBadSettingExits: each bad value exits 1 with one line on stderr that
// names the setting (and its source) and says what is allowed.
func TestBadSettingExits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"bytes suffix", []string{"PL_MAX_MESSAGE=10b"}, nil, "env PL_MAX_MESSAGE"},
		{"negative duration", []string{"PL_PING=-5s"}, nil, "env PL_PING"},
		{"bool", []string{"PL_COMPRESS=maybe"}, nil, "env PL_COMPRESS"},
		{"zero outbound", []string{"PL_MAX_OUTBOUND=0"}, nil, "env PL_MAX_OUTBOUND"},
		{"addr", nil, []string{"-addr", "localhost"}, "flag -addr"},
		{"duration flag", nil, []string{"-idle", "10"}, "flag -idle"},
		{"message timeout", []string{"PL_MESSAGE_TIMEOUT=5"}, nil, "env PL_MESSAGE_TIMEOUT"},
		{"inbound below a request", nil, []string{"-max-inbound", "1000"}, "flag -max-inbound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runToExit(t, tt.env, tt.args...)
			line := strings.TrimSuffix(stderr, "\n")
			if code != 1 || stdout != "" || strings.Contains(line, "\n") ||
				!strings.HasPrefix(line, "plezi: ") || !strings.Contains(line, tt.want) || !strings.Contains(line, "want ") {
				t.Fatalf("exit %d, stdout %q, stderr %q: want exit 1 and one line naming %s and what is allowed",
					code, stdout, stderr, tt.want)
			}
		})
	}
}

// TestHelpExits0: -help lists the flags with their environment twins on
// stdout and exits 0.
func TestHelpExits0(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runToExit(t, nil, "-help")
	if code != 0 {
		t.Fatalf("-help: exit %d", code)
	}
	for _, s := range []string{"-addr", "PL_ADDR", "-max-message", "PL_MAX_MESSAGE", "-unicast", "PL_UNICAST", "PL_REDIS_URL", "PL_CLUSTER_SECRET"} {
		if !strings.Contains(stdout, s) {
			t.Fatalf("-help output lacks %s:\n%s", s, stdout)
		}
	}
}
