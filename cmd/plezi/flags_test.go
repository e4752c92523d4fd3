package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// envMap is a lookup over a fixed environment.
func envMap(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestSettingsRejectBadValues: a bad flag or PL_ value is an error naming
// the setting and what is allowed, on one line, never a silent default.
func TestSettingsRejectBadValues(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		env   []string
		names string // the setting the error must name
	}{
		{"env bytes suffix", nil, []string{"PL_MAX_MESSAGE", "10b"}, "PL_MAX_MESSAGE"},
		{"env zero bytes", nil, []string{"PL_MAX_MESSAGE", "0"}, "PL_MAX_MESSAGE"},
		{"env huge bytes", nil, []string{"PL_MAX_MESSAGE", "99999999999"}, "PL_MAX_MESSAGE"},
		{"flag bytes suffix", []string{"-max-message", "10b"}, nil, "-max-message"},
		{"env negative duration", nil, []string{"PL_PING", "-5s"}, "PL_PING"},
		{"env zero duration", nil, []string{"PL_IDLE", "0"}, "PL_IDLE"},
		{"env duration without unit", nil, []string{"PL_HANDSHAKE_TIMEOUT", "10"}, "PL_HANDSHAKE_TIMEOUT"},
		{"flag negative duration", []string{"-shutdown-timeout", "-1s"}, nil, "-shutdown-timeout"},
		{"env bool", nil, []string{"PL_COMPRESS", "maybe"}, "PL_COMPRESS"},
		{"env bool yes", nil, []string{"PL_DEBUG", "yes"}, "PL_DEBUG"},
		{"flag bool", []string{"-compress=maybe"}, nil, "-compress"},
		{"flag addr no port", []string{"-addr", "localhost"}, nil, "-addr"},
		{"flag addr port range", []string{"-addr", ":70000"}, nil, "-addr"},
		{"env addr port name", nil, []string{"PL_ADDR", ":http"}, "PL_ADDR"},
		{"env negative conns", nil, []string{"PL_MAX_CONNS", "-1"}, "PL_MAX_CONNS"},
		{"env outbound zero", nil, []string{"PL_MAX_OUTBOUND", "0"}, "PL_MAX_OUTBOUND"},
		{"env loops", nil, []string{"PL_LOOPS", "4 "}, "PL_LOOPS"},
		{"flag loops huge", []string{"-loops", "100000"}, nil, "-loops"},
		{"flag loops past the id's 8 bits", []string{"-loops", "257"}, nil, "-loops"},
		{"env procs", nil, []string{"PL_PROCS", "-2"}, "PL_PROCS"},
		{"env static missing", nil, []string{"PL_STATIC", "/no/such/dir"}, "PL_STATIC"},
		{"flag static file", []string{"-static", file}, nil, "-static"},
		{"env origin without scheme", nil, []string{"PL_ORIGINS", "example.com"}, "PL_ORIGINS"},
		{"flag origin with path", []string{"-origins", "https://a.example,https://b.example/app"}, nil, "-origins"},
		{"env short jwt secret", nil, []string{"PL_JWT_SECRET", "short"}, "PL_JWT_SECRET"},
		{"env short api key", nil, []string{"PL_API_KEY", "0123456789"}, "PL_API_KEY"},
		{"env api key spaces", nil, []string{"PL_API_KEY", " 0123456789abcdefghij"}, "PL_API_KEY"},
		{"flag jwt key missing", []string{"-jwt-public-key", "/no/such/key.pem"}, nil, "-jwt-public-key"},
		{"env empty glob", nil, []string{"PL_CLIENT_PUBLISH", "chat:*,,news"}, "PL_CLIENT_PUBLISH"},
		{"env audience newline", nil, []string{"PL_JWT_AUDIENCE", "a\nb"}, "PL_JWT_AUDIENCE"},
		{"env demo", nil, []string{"PL_DEMO", "on"}, "PL_DEMO"},
		{"unicast without demo", []string{"-unicast"}, nil, "-demo"},
		{"unknown flag", []string{"-max-mesage", "10"}, nil, "-max-mesage"},
		{"stray argument", []string{"serve"}, nil, "serve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			o, err := parse(tt.args, envMap(tt.env...), &out)
			if err == nil {
				t.Fatalf("parse(%q, %q) = %+v, want an error", tt.args, tt.env, o)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.names) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line naming %s", msg, tt.names)
			}
			if len(tt.env) > 0 && (!errors.Is(err, errWant) || !strings.Contains(msg, "env "+tt.names)) {
				t.Fatalf("error %q: want %q and what is allowed", msg, "env "+tt.names)
			}
			if out.Len() > 0 {
				t.Fatalf("parse wrote %q; errors are returned only", out.String())
			}
		})
	}
}

// TestSettingsPrecedence: a flag wins over its twin, a twin over the
// default, and an empty twin counts as unset.
func TestSettingsPrecedence(t *testing.T) {
	t.Parallel()
	env := envMap("PL_MAX_MESSAGE", "2048", "PL_PING", "1m", "PL_COMPRESS", "true", "PL_IDLE", "",
		"PL_ADDR", "127.0.0.1:4000", "PL_REDIS_URL", "redis://r:6379/0", "PL_UNICAST", "1", "PL_DEMO", "1",
		"PL_CLIENT_PUBLISH", "chat:*, news")
	o, err := parse([]string{"-ping", "5s", "-compress=false"}, env, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	got := []any{o.maxMessage, o.ping, o.compress, o.idle, o.addr, o.redisURL, o.unicast, o.push.demo, strings.Join(o.push.globs(), "|")}
	want := []any{int64(2048), 5 * time.Second, false, 75 * time.Second, "127.0.0.1:4000", "redis://r:6379/0", true, true, "chat:*|news"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("settings %v, want %v", got, want)
		}
	}
}

// TestHelp: -help answers flag.ErrHelp (exit 0) and lists every flag with
// its environment twin.
func TestHelp(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if _, err := parse([]string{"-help"}, envMap(), &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parse(-help) = %v, want flag.ErrHelp", err)
	}
	for _, s := range defaults().settings() {
		if !strings.Contains(out.String(), "-"+s.name) || !strings.Contains(out.String(), envName(s.name)) {
			t.Fatalf("usage lacks -%s / %s:\n%s", s.name, envName(s.name), out.String())
		}
	}
	for _, name := range []string{"PL_REDIS_URL", "PL_CLUSTER_SECRET"} {
		if !strings.Contains(out.String(), name) {
			t.Fatalf("usage lacks %s", name)
		}
	}
}

// TestRunRefusesBadSetting: run returns the setting's error at once,
// before it listens.
func TestRunRefusesBadSetting(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-max-message", "10b"}, func(string) {
		t.Error("run listened with a bad setting")
	})
	if err == nil || !strings.Contains(err.Error(), "-max-message") {
		t.Fatalf("run = %v, want the -max-message error", err)
	}
}
