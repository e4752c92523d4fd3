package main

// The limit settings: the bounds of server.Config an operator tunes, and
// the mailbox bounds of the identity store (cluster.Memory's embedded
// dispatch.MemoryIdentities, or cluster.RedisConfig). Each has its PL_
// twin and config-file key like every setting (flags.go). 0, or unset,
// keeps the library's default, which the usage text names; any other
// value must be in range, and the few that depend on another setting are
// checked together once every source was read (checkLimits).

import (
	"flag"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/server"
)

// limitOptions are the server.Config bounds; 0 keeps the server's default.
type limitOptions struct {
	maxHeader, maxInbound, staticBuffer, maxPendingOpens, noteWindow int
	inboundMessages, inboundBytes                                    int // -1: that rate is off
	maxBody, maxPartialBytes                                         int64
	messageTimeout, closeTimeout, backlogTimeout, inboundBurst       time.Duration
}

// mailOptions are the identity store's bounds; 0 keeps its default.
// maxNodeMailBytes and maxIdentities exist in the in-process store only.
type mailOptions struct {
	maxMail, maxMailBytes, maxNoteBytes, maxIdentities int
	maxNodeMailBytes                                   int64
}

// Bounds of the limit settings (besides 0, the default).
const (
	minHeader       = 1 << 10 // bytes: an upgrade request with a token
	maxHeaderCap    = 1 << 20
	maxBodyCap      = 1 << 30
	maxPartialCap   = 1 << 40
	minStaticBuffer = 64 << 10 // one chunk of a static file (server's staticChunk)
	maxStaticBuffer = 1 << 30
	maxPendingCap   = 1 << 20   // 16 B each
	maxRateMessages = 1_000_000 // frames/s: 1 µs each, the rate's unit
	minRateBytes    = 1 << 10   // bytes/s: the server counts less as 1 KiB/s
	maxRateBytes    = 1 << 30
	maxBurstCap     = 10 * time.Minute // the server's clamp
	maxTimeoutCap   = 24 * time.Hour
	minTimeout      = 10 * time.Millisecond // the server's sweep runs at most every 10 ms
	maxNoteWindow   = 1 << 16               // note ids: 8 KiB of bits per connection and identity
	maxMailCap      = 1 << 20               // notes per mailbox
	maxMailBytesCap = 1 << 30
	maxNodeMailCap  = 1 << 40
	maxIdentityCap  = 1 << 30
	inboundSlack    = 64 << 10 // MaxInbound is at least MaxHeader + MaxBody + this
)

func (l *limitOptions) settings() []setting {
	return []setting{
		{"max-header", "largest HTTP request head in `bytes` (larger → 431); 0 = 16384", wholeValue(&l.maxHeader, minHeader, maxHeaderCap, "16384")},
		{"max-body", "largest HTTP request body in `bytes` (larger → 413); 0 = 1048576", wholeValue(&l.maxBody, 1, maxBodyCap, "1048576")},
		{"max-inbound", "unread input `bytes` held for one connection before close 1008; 0 = 2097152, at least max-header + max-body + 65536", wholeValue(&l.maxInbound, 1, math.MaxInt32, "2097152")},
		{"inbound-messages", "websocket `frames` per second a connection may send; 0 = 10000, -1 = no limit", rateValue(&l.inboundMessages, 1, maxRateMessages, "10000")},
		{"inbound-bytes", "websocket `bytes` per second a connection may send; 0 = 4194304, -1 = no limit", rateValue(&l.inboundBytes, minRateBytes, maxRateBytes, "4194304")},
		{"inbound-burst", "how far (a `duration`) a connection may run ahead of its rates; 0 = 250ms", durLimitValue(&l.inboundBurst, time.Millisecond, maxBurstCap, "250ms", "1ms to 10m")},
		{"backlog-timeout", "close 4008 a websocket whose unsent output stays over a quarter of max-outbound this `duration`; 0 = 5s", durLimitValue(&l.backlogTimeout, minTimeout, maxTimeoutCap, "5s", "10ms to 24h")},
		{"close-timeout", "`duration` a close waits for the peer's close frame (or TCP close); 0 = 3s", durLimitValue(&l.closeTimeout, minTimeout, maxTimeoutCap, "3s", "10ms to 24h")},
		{"message-timeout", "`duration` from a message's first frame header to its last byte before close 1008; 0 = 30s", durLimitValue(&l.messageTimeout, minTimeout, maxTimeoutCap, "30s", "10ms to 24h")},
		{"max-partial-bytes", "`bytes` held node-wide by messages still arriving before close 1013; 0 = 67108864 or 4 × max-message if more; else at least 4 × max-message", wholeValue(&l.maxPartialBytes, 1, maxPartialCap, "67108864 or 4 × max-message if more")},
		{"static-buffer", "`bytes` a static file response keeps queued ahead of its client; 0 = 262144", wholeValue(&l.staticBuffer, minStaticBuffer, maxStaticBuffer, "262144")},
		{"max-pending-opens", "accepted `connections` waiting for their event loop before accepting waits; 0 = 1024", wholeValue(&l.maxPendingOpens, 1, maxPendingCap, "1024")},
		{"note-window", "note `ids` a connection remembers per identity to drop repeats (rounded up to 64); 0 = 256", wholeValue(&l.noteWindow, 1, maxNoteWindow, "256")},
	}
}

func (m *mailOptions) settings() []setting {
	return []setting{
		{"max-mail", "`notes` per identity's mailbox (more drop the oldest); 0 = 256", wholeValue(&m.maxMail, 1, maxMailCap, "256")},
		{"max-mail-bytes", "note `bytes` per identity's mailbox (more drop the oldest); 0 = 1048576", wholeValue(&m.maxMailBytes, 1, maxMailBytesCap, "1048576")},
		{"max-note-bytes", "largest note in `bytes` (larger → refused), at most max-mail-bytes; 0 = max-mail-bytes", wholeValue(&m.maxNoteBytes, 1, maxMailBytesCap, "max-mail-bytes")},
		{"max-node-mail-bytes", "note `bytes` in all mailboxes of the in-process store (not with PL_REDIS_URL); 0 = 268435456", wholeValue(&m.maxNodeMailBytes, 1, maxNodeMailCap, "268435456")},
		{"max-identities", "`identities` the in-process store holds (not with PL_REDIS_URL); 0 = 1048576", wholeValue(&m.maxIdentities, 1, maxIdentityCap, "1048576")},
	}
}

// wholeValue is a bound in whole units: 0 (the default, def) or lo to hi.
func wholeValue[T int | int64](p *T, lo, hi T, def string) flag.Value {
	return &value[T]{p: p, parse: parseWhole[T], ok: func(n T) bool { return n == 0 || n >= lo && n <= hi },
		want: fmt.Sprintf("0 (the default, %s) or a whole number from %d to %d", def, lo, hi)}
}

// rateValue is a rate: -1 (off), 0 (the default, def) or lo to hi.
func rateValue(p *int, lo, hi int, def string) flag.Value {
	return &value[int]{p: p, parse: strconv.Atoi, ok: func(n int) bool { return n == -1 || n == 0 || n >= lo && n <= hi },
		want: fmt.Sprintf("-1 (no limit), 0 (the default, %s) or a whole number from %d to %d", def, lo, hi)}
}

// durLimitValue is a duration bound: 0 (the default, def) or lo to hi
// (span says it in words).
func durLimitValue(p *time.Duration, lo, hi time.Duration, def, span string) flag.Value {
	return &value[time.Duration]{p: p, parse: time.ParseDuration, ok: func(d time.Duration) bool { return d == 0 || d >= lo && d <= hi },
		want: fmt.Sprintf("0 (the default, %s) or a duration from %s with a unit, such as 500ms", def, span)}
}

// parseWhole parses a base-10 integer that fits T.
func parseWhole[T int | int64](s string) (T, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil && int64(T(n)) != n {
		err = strconv.ErrRange
	}
	return T(n), err
}

// checkLimits refuses the limits that conflict with another setting,
// which the server would otherwise raise or ignore without a word. Call
// once every source was read; src names where a setting came from.
func (o *options) checkLimits(src func(name string) string) error {
	l, m := &o.limits, &o.mail
	bad := func(name string, v any, format string, args ...any) error {
		return fmt.Errorf("invalid value %v for %s: %w "+format, append([]any{v, src(name), errWant}, args...)...)
	}
	header, body := orDefault(l.maxHeader, 16<<10), orDefault(l.maxBody, 1<<20)
	if least := header + int(body) + inboundSlack; l.maxInbound != 0 && l.maxInbound < least {
		return bad("max-inbound", l.maxInbound, "at least max-header + max-body + %d = %d (one whole request and a read)", inboundSlack, least)
	}
	if l.maxPartialBytes != 0 && l.maxPartialBytes < 4*o.maxMessage {
		return bad("max-partial-bytes", l.maxPartialBytes, "at least 4 × max-message = %d (the pooled buffer of one whole message is up to 4 × its size)", 4*o.maxMessage)
	}
	if mail := orDefault(m.maxMailBytes, 1<<20); m.maxNoteBytes > mail {
		return bad("max-note-bytes", m.maxNoteBytes, "at most max-mail-bytes = %d (a note must fit its mailbox)", mail)
	}
	if o.redisURL == "" {
		return nil
	}
	if m.maxNodeMailBytes != 0 {
		return bad("max-node-mail-bytes", m.maxNodeMailBytes, "it unset with PL_REDIS_URL (it bounds the in-process store only)")
	}
	if m.maxIdentities != 0 {
		return bad("max-identities", m.maxIdentities, "it unset with PL_REDIS_URL (it bounds the in-process store only)")
	}
	return nil
}

// sourceOf names where a setting set to a value other than its default
// came from: the command line, else its non-empty PL_ twin, else the
// config file.
func sourceOf(fs *flag.FlagSet, lookup func(string) (string, bool), file string) func(name string) string {
	return func(name string) string {
		if isSet(fs, name) {
			return "flag -" + name
		}
		if v, _ := lookup(envName(name)); v != "" {
			return "env " + envName(name)
		}
		return fmt.Sprintf("config file %s: key %q", file, name)
	}
}

// isSet reports whether the command line set flag name.
func isSet(fs *flag.FlagSet, name string) (set bool) {
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// orDefault is v, or def when v is 0.
func orDefault[T int | int64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// apply sets the bounds in cfg (0 leaves the server's default).
func (l *limitOptions) apply(cfg *server.Config) {
	cfg.MaxHeader, cfg.MaxBody, cfg.MaxInbound = l.maxHeader, l.maxBody, l.maxInbound
	cfg.InboundMessages, cfg.InboundBytes, cfg.InboundBurst = l.inboundMessages, l.inboundBytes, l.inboundBurst
	cfg.BacklogTimeout, cfg.CloseTimeout, cfg.MessageTimeout = l.backlogTimeout, l.closeTimeout, l.messageTimeout
	cfg.MaxPartialBytes, cfg.StaticBuffer = l.maxPartialBytes, l.staticBuffer
	cfg.MaxPendingOpens, cfg.NoteWindow = l.maxPendingOpens, l.noteWindow
}

// backend is the cluster backend url names (cluster.FromURL), its
// mailboxes bounded as m asks: through a cluster.Option for Redis, on the
// fresh Memory's fields (before any Register) in process.
func (m *mailOptions) backend(url, secret string, log *slog.Logger) (cluster.Backend, error) {
	b, err := cluster.FromURL(url, cluster.WithLogger(log), cluster.WithSecret(secret), m.redisBounds)
	if err != nil {
		return nil, err
	}
	if mem, ok := b.(*cluster.Memory); ok {
		ids := mem.MemoryIdentities
		ids.MaxMail, ids.MaxMailBytes, ids.MaxNoteBytes = m.maxMail, m.maxMailBytes, m.maxNoteBytes
		ids.MaxNodeMailBytes, ids.MaxIdentities = m.maxNodeMailBytes, m.maxIdentities
	}
	return b, nil
}

// redisBounds is the cluster.Option of the Redis mailbox bounds.
func (m *mailOptions) redisBounds(c *cluster.RedisConfig) {
	c.MaxMail, c.MaxMailBytes, c.MaxNoteBytes = m.maxMail, m.maxMailBytes, m.maxNoteBytes
}
