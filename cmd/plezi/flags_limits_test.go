package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// badLimits are values each limit setting refuses: out of range, negative,
// with a suffix or a missing unit, or not the whole text.
var badLimits = map[string][]string{
	"max-header":          {"-1", "1023", "1048577", "16k", " 1024"},
	"max-body":            {"-1", "1073741825", "1MiB", "1.5"},
	"max-inbound":         {"-1", "2147483648", "1e6"},
	"inbound-messages":    {"-2", "1000001", "fast"},
	"inbound-bytes":       {"-2", "1023", "1073741825", "4MiB"},
	"inbound-burst":       {"-1s", "11m", "250", "500us"},
	"backlog-timeout":     {"-1s", "5", "9ms", "25h"},
	"close-timeout":       {"-3s", "3", "1ms", "48h"},
	"message-timeout":     {"-1ns", "30", "5ms", "25h", "forever"},
	"max-partial-bytes":   {"-1", "1099511627777", "64MiB"},
	"static-buffer":       {"-1", "65535", "1073741825", "256k"},
	"max-pending-opens":   {"-1", "1048577", "1024 "},
	"note-window":         {"-1", "65537", "256.0"},
	"max-mail":            {"-1", "1048577", "256notes"},
	"max-mail-bytes":      {"-1", "1073741825", "1M"},
	"max-note-bytes":      {"-1", "1073741825"},
	"max-node-mail-bytes": {"-1", "1099511627777", "99999999999999999999"},
	"max-identities":      {"-1", "1073741825"},
}

// TestLimitSettingsRejectBadValues: each limit setting refuses a bad flag
// or PL_ value with one line naming it (and its source) and what is
// allowed, never a silent default.
func TestLimitSettingsRejectBadValues(t *testing.T) {
	t.Parallel()
	for name, values := range badLimits {
		for _, v := range values {
			for _, src := range []struct {
				args, env []string
				names     string
			}{
				{[]string{"-" + name, v}, nil, "flag -" + name},
				{[]string{"-" + name + "=" + v}, nil, "flag -" + name},
				{nil, []string{envName(name), v}, "env " + envName(name)},
			} {
				o, err := parse(src.args, envMap(src.env...), io.Discard)
				if err == nil {
					t.Fatalf("parse(%q, %q) = %+v, want an error", src.args, src.env, o)
				}
				if msg := err.Error(); src.env != nil && !errors.Is(err, errWant) || !strings.Contains(msg, src.names+": want ") || strings.Contains(msg, "\n") {
					t.Fatalf("parse(%q, %q): error %q: want one line naming %s and what is allowed", src.args, src.env, msg, src.names)
				}
			}
		}
	}
	for _, s := range defaults().settings() { // every limit setting has bad values above
		if _, ok := badLimits[s.name]; !ok && isLimit(s.name) {
			t.Errorf("setting -%s has no bad values in the table", s.name)
		}
	}
}

// isLimit reports whether name is one of the limit settings.
func isLimit(name string) bool {
	o := defaults()
	for _, s := range append(o.limits.settings(), o.mail.settings()...) {
		if s.name == name {
			return true
		}
	}
	return false
}

// TestLimitSettingsRejectConflicts: a limit that conflicts with another
// setting (which the server would raise, or ignore) is refused with one
// line naming it, where it came from and what is allowed.
func TestLimitSettingsRejectConflicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		args, env []string
		names     string
	}{
		{"inbound below one request", []string{"-max-inbound", "100000"}, nil, "flag -max-inbound"},
		{"inbound below raised head and body", []string{"-max-header", "65536", "-max-body", "2000000"},
			[]string{"PL_MAX_INBOUND", "2097152"}, "env PL_MAX_INBOUND"},
		{"partial below four messages", nil, []string{"PL_MAX_PARTIAL_BYTES", "4194303"}, "env PL_MAX_PARTIAL_BYTES"},
		{"partial below raised messages", []string{"-max-message", "4096", "-max-partial-bytes", "16383"}, nil, "flag -max-partial-bytes"},
		{"note over default mailbox", []string{"-max-note-bytes", "1048577"}, nil, "flag -max-note-bytes"},
		{"note over mailbox", []string{"-max-mail-bytes", "1000"}, []string{"PL_MAX_NOTE_BYTES", "1001"}, "env PL_MAX_NOTE_BYTES"},
		{"node mail bytes with redis", []string{"-max-node-mail-bytes", "1000"}, []string{"PL_REDIS_URL", "redis://r:6379/0"}, "flag -max-node-mail-bytes"},
		{"identities with redis", nil, []string{"PL_REDIS_URL", "redis://r:6379/0", "PL_MAX_IDENTITIES", "10"}, "env PL_MAX_IDENTITIES"},
	}
	for _, tt := range tests {
		o, err := parse(tt.args, envMap(tt.env...), io.Discard)
		if err == nil {
			t.Fatalf("%s: parse = %+v, want an error", tt.name, o)
		}
		if msg := err.Error(); !errors.Is(err, errWant) || !strings.Contains(msg, tt.names+": want ") || strings.Contains(msg, "\n") {
			t.Fatalf("%s: error %q: want one line naming %s and what is allowed", tt.name, msg, tt.names)
		}
	}
}

// TestLimitSettingsAccept: good values, the bounds of each range, 0 (the
// default) and -1 (a rate off) are taken as given.
func TestLimitSettingsAccept(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args, env []string
		got       func(*options) any
		want      any
	}{
		{[]string{"-max-header", "1024"}, nil, func(o *options) any { return o.limits.maxHeader }, 1024},
		{nil, []string{"PL_MAX_HEADER", "1048576"}, func(o *options) any { return o.limits.maxHeader }, 1 << 20},
		{[]string{"-max-body", "1"}, nil, func(o *options) any { return o.limits.maxBody }, int64(1)},
		{[]string{"-max-body", "1073741824", "-max-inbound", "1073823744"}, nil, func(o *options) any { return o.limits.maxInbound }, 1<<30 + 16<<10 + 64<<10},
		{nil, []string{"PL_MAX_INBOUND", "1130496"}, func(o *options) any { return o.limits.maxInbound }, 1130496},
		{[]string{"-inbound-messages", "-1"}, nil, func(o *options) any { return o.limits.inboundMessages }, -1},
		{nil, []string{"PL_INBOUND_MESSAGES", "1000000"}, func(o *options) any { return o.limits.inboundMessages }, 1_000_000},
		{[]string{"-inbound-bytes", "-1"}, nil, func(o *options) any { return o.limits.inboundBytes }, -1},
		{[]string{"-inbound-bytes", "1024"}, nil, func(o *options) any { return o.limits.inboundBytes }, 1024},
		{[]string{"-inbound-burst", "10m"}, nil, func(o *options) any { return o.limits.inboundBurst }, 10 * time.Minute},
		{[]string{"-backlog-timeout", "0"}, nil, func(o *options) any { return o.limits.backlogTimeout }, time.Duration(0)},
		{[]string{"-close-timeout", "10ms"}, nil, func(o *options) any { return o.limits.closeTimeout }, 10 * time.Millisecond},
		{nil, []string{"PL_MESSAGE_TIMEOUT", "500ms"}, func(o *options) any { return o.limits.messageTimeout }, 500 * time.Millisecond},
		{[]string{"-message-timeout", "24h"}, nil, func(o *options) any { return o.limits.messageTimeout }, 24 * time.Hour},
		{[]string{"-max-partial-bytes", "4194304"}, nil, func(o *options) any { return o.limits.maxPartialBytes }, int64(4 << 20)},
		{[]string{"-max-message", "1", "-max-partial-bytes", "4"}, nil, func(o *options) any { return o.limits.maxPartialBytes }, int64(4)},
		{[]string{"-static-buffer", "65536"}, nil, func(o *options) any { return o.limits.staticBuffer }, 64 << 10},
		{[]string{"-max-pending-opens", "1"}, nil, func(o *options) any { return o.limits.maxPendingOpens }, 1},
		{[]string{"-note-window", "65536"}, nil, func(o *options) any { return o.limits.noteWindow }, 1 << 16},
		{[]string{"-max-mail", "1048576"}, nil, func(o *options) any { return o.mail.maxMail }, 1 << 20},
		{[]string{"-max-mail-bytes", "1073741824", "-max-note-bytes", "1073741824"}, nil, func(o *options) any { return o.mail.maxNoteBytes }, 1 << 30},
		{nil, []string{"PL_MAX_NOTE_BYTES", "1048576"}, func(o *options) any { return o.mail.maxNoteBytes }, 1 << 20},
		{[]string{"-max-node-mail-bytes", "1099511627776"}, nil, func(o *options) any { return o.mail.maxNodeMailBytes }, int64(1 << 40)},
		{[]string{"-max-identities", "1"}, nil, func(o *options) any { return o.mail.maxIdentities }, 1},
		{[]string{"-max-mail", "5"}, []string{"PL_REDIS_URL", "redis://r:6379/0"}, func(o *options) any { return o.mail.maxMail }, 5},
	}
	for _, tt := range tests {
		o, err := parse(tt.args, envMap(tt.env...), io.Discard)
		if err != nil {
			t.Fatalf("parse(%q, %q): %v", tt.args, tt.env, err)
		}
		if got := tt.got(o); got != tt.want {
			t.Fatalf("parse(%q, %q): got %v, want %v", tt.args, tt.env, got, tt.want)
		}
	}
}

// limitArgs sets every server limit to a value other than its default.
var limitArgs = []string{
	"-max-header", "8192", "-max-body", "65536", "-max-inbound", "200000",
	"-inbound-messages", "-1", "-inbound-bytes", "2048", "-inbound-burst", "1s",
	"-backlog-timeout", "7s", "-close-timeout", "2s", "-message-timeout", "500ms",
	"-max-partial-bytes", "8388608", "-static-buffer", "131072", "-max-pending-opens", "64", "-note-window", "512",
}

// limitConfig is the server.Config limitArgs ask for (its limits only).
var limitConfig = server.Config{
	MaxHeader: 8192, MaxBody: 65536, MaxInbound: 200000,
	InboundMessages: -1, InboundBytes: 2048, InboundBurst: time.Second,
	BacklogTimeout: 7 * time.Second, CloseTimeout: 2 * time.Second, MessageTimeout: 500 * time.Millisecond,
	MaxPartialBytes: 8 << 20, StaticBuffer: 128 << 10, MaxPendingOpens: 64, NoteWindow: 512,
}

// limitsOf is cfg's limit fields alone, for comparing.
func limitsOf(cfg server.Config) server.Config {
	return server.Config{
		MaxHeader: cfg.MaxHeader, MaxBody: cfg.MaxBody, MaxInbound: cfg.MaxInbound,
		InboundMessages: cfg.InboundMessages, InboundBytes: cfg.InboundBytes, InboundBurst: cfg.InboundBurst,
		BacklogTimeout: cfg.BacklogTimeout, CloseTimeout: cfg.CloseTimeout, MessageTimeout: cfg.MessageTimeout,
		MaxPartialBytes: cfg.MaxPartialBytes, StaticBuffer: cfg.StaticBuffer, MaxPendingOpens: cfg.MaxPendingOpens,
		NoteWindow: cfg.NoteWindow,
	}
}

// TestConfigCarriesLimits: config() puts every limit setting into its
// server.Config field; unset, each stays 0 for the server's default.
func TestConfigCarriesLimits(t *testing.T) {
	t.Parallel()
	o, err := parse(limitArgs, envMap(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := limitsOf(o.config()); !reflect.DeepEqual(got, limitConfig) {
		t.Fatalf("config() limits\n%+v\nwant\n%+v", got, limitConfig)
	}
	o, err = parse(nil, envMap(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := limitsOf(o.config()); !reflect.DeepEqual(got, server.Config{}) {
		t.Fatalf("config() limits without settings: %+v, want all 0 (the server's defaults)", got)
	}
}

// TestConfigFileLimits: the limits come from the config file too (TOML
// integers and duration strings), a flag still wins, and a bad one is
// refused naming the file and the key.
func TestConfigFileLimits(t *testing.T) {
	t.Parallel()
	file := writeTOML(t, `
max-header = 8192
max-body = 65536
max-inbound = 200000
inbound-messages = -1
inbound-bytes = 2048
inbound-burst = "1s"
backlog-timeout = "7s"
close-timeout = "2s"
message-timeout = "30s"
max-partial-bytes = 8388608
static-buffer = 131072
max-pending-opens = 64
note-window = 512
max-mail = 16
max-mail-bytes = 4096
max-note-bytes = 1024
max-identities = 100
`)
	o, err := parse([]string{"-config", file, "-message-timeout", "500ms"}, envMap(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := limitsOf(o.config()); !reflect.DeepEqual(got, limitConfig) {
		t.Fatalf("config() limits from the file\n%+v\nwant\n%+v", got, limitConfig)
	}
	if want := (mailOptions{maxMail: 16, maxMailBytes: 4096, maxNoteBytes: 1024, maxIdentities: 100}); o.mail != want {
		t.Fatalf("mailbox bounds from the file %+v, want %+v", o.mail, want)
	}
	for _, tt := range []struct{ body, key string }{
		{"message-timeout = 500\n", `key "message-timeout"`},
		{`message-timeout = "-1s"` + "\n", `key "message-timeout"`},
		{"inbound-messages = -2\n", `key "inbound-messages"`},
		{`max-partial-bytes = "64MiB"` + "\n", `key "max-partial-bytes"`},
		{"static-buffer = 1024\n", `key "static-buffer"`},
		{"max-inbound = 1000\n", `key "max-inbound"`},                                      // a conflict, found after every source
		{"max-mail-bytes = 100\nmax-note-bytes = 200\n", `key "max-note-bytes"`},           // idem
		{"redis-url = \"redis://r:6379/0\"\nmax-identities = 5\n", `key "max-identities"`}, // idem
	} {
		file := writeTOML(t, tt.body)
		_, err := parse([]string{"-config", file}, envMap(), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "config file "+file) || !strings.Contains(err.Error(), tt.key) ||
			!strings.Contains(err.Error(), "want ") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("file %q: %v, want one line naming the file, %s and what is allowed", tt.body, err, tt.key)
		}
	}
}

// TestMailBounds: the mailbox settings bound the store the command builds,
// in process and on Redis: a note over -max-note-bytes is refused, one
// past -max-mail drops the oldest, and in process an identity past
// -max-identities is refused.
func TestMailBounds(t *testing.T) {
	t.Parallel()
	m := &mailOptions{maxMail: 2, maxMailBytes: 4096, maxNoteBytes: 64, maxIdentities: 1}
	mem, err := m.backend("", "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	checkMailBounds(t, mem)
	if _, _, err := mem.Register(uniqueIdentity(t), "n-2", time.Minute, 1, 0); !errors.Is(err, dispatch.ErrTooManyIdentities) {
		t.Fatalf("a second identity past -max-identities 1: %v, want ErrTooManyIdentities", err)
	}
	m.maxIdentities = 0 // in process only
	red, err := m.backend("redis://127.0.0.1:6379/0", "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("Redis at 127.0.0.1:6379: %v", err)
	}
	defer red.Close()
	if _, ok := red.(*cluster.Redis); !ok {
		t.Fatalf("backend is a %T, want *cluster.Redis", red)
	}
	checkMailBounds(t, red)
}

// checkMailBounds registers a fresh identity in ids and checks the bounds
// maxMail 2 and maxNoteBytes 64.
func checkMailBounds(t *testing.T, ids dispatch.Identities) {
	t.Helper()
	id := uniqueIdentity(t)
	if _, _, err := ids.Register(id, "n-1", time.Minute, 1, 0); err != nil {
		t.Fatal(err)
	}
	defer ids.Unregister(id, "n-1")
	note := func(n int) func(uint64) []byte { // n bytes naming the id: Redis keeps a mailbox as a set
		return func(id uint64) []byte { return fmt.Appendf(nil, "%0*d", n, id) }
	}
	if _, err := ids.Notify(id, note(65)); !errors.Is(err, dispatch.ErrNoteTooLarge) {
		t.Fatalf("a 65-byte note under -max-note-bytes 64: %v, want ErrNoteTooLarge", err)
	}
	for i, wantDropped := range []int{0, 0, 1} {
		n, err := ids.Notify(id, note(64))
		if err != nil || n.Dropped != wantDropped {
			t.Fatalf("note %d under -max-mail 2: dropped %d, %v; want %d dropped", i+1, n.Dropped, err, wantDropped)
		}
	}
}

// uniqueIdentity is an identity name no other test (or run) uses.
func uniqueIdentity(t *testing.T) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "flags-test-" + t.Name() + "-" + hex.EncodeToString(b)
}
