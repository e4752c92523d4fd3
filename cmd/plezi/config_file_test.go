package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeTOML writes a config file for one test and returns its path.
func writeTOML(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "plezi.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigFilePrecedence: flag > env > file > default, the file named by
// -config or PL_CONFIG; an empty env value counts as unset; the
// environment-only settings come from the file too.
func TestConfigFilePrecedence(t *testing.T) {
	t.Parallel()
	file := writeTOML(t, `
max-message = 2048
ping = "1m"
idle = "2m"
compress = true
loops = 3
origins = ["https://a.example", "https://b.example"]
redis-url = "redis://file:6379/0"
cluster-secret = "from the file"
log-format = "json"
api-key = "file-key-0123456789"
`)
	env := envMap("PL_PING", "5s", "PL_IDLE", "", "PL_REDIS_URL", "redis://env:6379/0", "PL_CONFIG", file)
	o, err := parse([]string{"-compress=false", "-loops", "2"}, env, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	got := []any{o.maxMessage, o.ping, o.idle, o.compress, o.loops, o.origins, o.redisURL, o.clusterSecret, o.logFormat, o.push.apiKey, o.addr}
	want := []any{int64(2048), 5 * time.Second, 2 * time.Minute, false, 2, "https://a.example,https://b.example",
		"redis://env:6379/0", "from the file", "json", "file-key-0123456789", ":3000"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("setting %d = %v, want %v (all %v)", i, got[i], want[i], got)
		}
	}
	o, err = parse([]string{"-config", file}, envMap(), new(bytes.Buffer))
	if err != nil || o.ping != time.Minute || !o.compress || o.redisURL != "redis://file:6379/0" {
		t.Fatalf("-config: %+v, %v", o, err)
	}
}

// TestConfigFileRejects: a bad key, type or value in the file stops the
// command with one line naming the file and the key — also when a flag
// overrides that setting.
func TestConfigFileRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		args       []string
		key        string // the key (or file) the error must name
	}{
		{"unknown key", "max-mesage = 10\n", nil, `key "max-mesage"`},
		{"snake case", "max_message = 10\n", nil, `key "max_message"`},
		{"quoted number", `max-message = "1024"` + "\n", nil, `key "max-message"`},
		{"float", "max-message = 1.5\n", nil, `key "max-message"`},
		{"out of range", "max-message = 0\n", nil, `key "max-message"`},
		{"string bool", `compress = "yes"` + "\n", nil, `key "compress"`},
		{"number duration", "ping = 30\n", nil, `key "ping"`},
		{"duration without unit", `ping = "30"` + "\n", nil, `key "ping"`},
		{"bad addr", `addr = "localhost"` + "\n", nil, `key "addr"`},
		{"bad origin in array", `origins = ["https://a.example", 3]` + "\n", nil, `key "origins"`},
		{"table", "[server]\naddr = \":3000\"\n", nil, `key "server"`},
		{"config in config", `config = "other.toml"` + "\n", nil, `key "config"`},
		{"redis url type", "redis-url = 6379\n", nil, `key "redis-url"`},
		{"bad log level", `log-level = "loud"` + "\n", nil, `key "log-level"`},
		{"short api key", `api-key = "short"` + "\n", nil, `key "api-key"`},
		{"bad value under a flag", "max-message = 0\n", []string{"-max-message", "10"}, `key "max-message"`},
		{"syntax", "max-message = = 3\n", nil, "line 1"},
		{"duplicate key", "ping = \"1s\"\nping = \"2s\"\n", nil, "ping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := writeTOML(t, tt.body)
			o, err := parse(append([]string{"-config", file}, tt.args...), envMap(), new(bytes.Buffer))
			if err == nil {
				t.Fatalf("parse = %+v, want an error", o)
			}
			msg := err.Error()
			if !strings.Contains(msg, "config file "+file) || !strings.Contains(msg, tt.key) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line naming the file and %s", msg, tt.key)
			}
		})
	}
}

// TestConfigFileMissing: -config and PL_CONFIG must name an existing file.
func TestConfigFileMissing(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args  []string
		env   []string
		names string
	}{
		{[]string{"-config", "/no/such/plezi.toml"}, nil, "-config"},
		{nil, []string{"PL_CONFIG", t.TempDir()}, "PL_CONFIG"},
	} {
		if _, err := parse(tt.args, envMap(tt.env...), new(bytes.Buffer)); err == nil || !strings.Contains(err.Error(), tt.names) {
			t.Fatalf("parse(%q, %q) = %v, want an error naming %s", tt.args, tt.env, err, tt.names)
		}
	}
}

// TestOpsSettingsRejectBadValues: the operations settings are checked like
// the others.
func TestOpsSettingsRejectBadValues(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ env, value string }{
		{"PL_LOG_FORMAT", "xml"}, {"PL_LOG_LEVEL", "verbose"}, {"PL_API_KEY", "has spaces in it, long enough"},
		{"PL_API_KEY", "short"}, {"PL_METRICS_ADDR", "localhost"}, {"PL_DRAIN_DELAY", "-1s"}, {"PL_DRAIN_DELAY", "5"},
	} {
		_, err := parse(nil, envMap(tt.env, tt.value), new(bytes.Buffer))
		if err == nil || !strings.Contains(err.Error(), "env "+tt.env) || !strings.Contains(err.Error(), "want") {
			t.Fatalf("%s=%q: %v, want an error naming it and what is allowed", tt.env, tt.value, err)
		}
	}
}

// TestVersion: -version prints the version and stops.
func TestVersion(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if _, err := parse([]string{"-version"}, envMap(), &out); err != errVersion {
		t.Fatalf("parse(-version) = %v, want errVersion", err)
	}
	if s := out.String(); !strings.HasPrefix(s, "plezi ") || len(strings.TrimSpace(s)) <= len("plezi") {
		t.Fatalf("-version printed %q", s)
	}
}

// FuzzConfigFile: any file content either loads or is refused with one
// line naming the file; never a panic. The input's two halves are tried as
// files of their own too.
func FuzzConfigFile(f *testing.F) {
	for _, s := range []string{
		"max-message = 2048\nping = \"1m\"\n", "origins = [\"https://a.example\"]\n", "compress = true\n",
		"[t]\nx = 1\n", "a = [1, \"b\"]\n", "ping = 1979-05-27T07:32:00Z\n", "max-message = 9223372036854775807\n",
		"redis-url = \"redis://x\"\ncluster-secret = \"s\"\n", "\"max-message\" = 1\n", "",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		half := len(data) / 2
		for i, part := range [][]byte{data, data[:half], data[half:]} {
			p := filepath.Join(dir, "fuzz"+strconv.Itoa(i)+".toml")
			if err := os.WriteFile(p, part, 0o600); err != nil {
				t.Fatal(err)
			}
			o, err := parse([]string{"-config", p}, envMap(), new(bytes.Buffer))
			if err != nil {
				if msg := err.Error(); !strings.Contains(msg, p) || strings.Contains(msg, "\n") {
					t.Fatalf("error %q: want one line naming %s", msg, p)
				}
				continue
			}
			if o.maxMessage < 1 || o.maxMessage > maxMessageCap || o.ping <= 0 || o.loops < 0 || o.loops > loopsCap {
				t.Fatalf("loaded out-of-range settings from %q: %+v", part, o)
			}
		}
	})
}
