// Package lograte limits how often a repeated failure is logged, so a
// flood of bad input (each message panicking, say) costs a few log lines,
// not one stack trace per message.
package lograte

import (
	"sync"
	"time"
)

// MaxKeys bounds the keys a Limiter remembers; past it, new keys share the
// per-second line (no stack).
const MaxKeys = 1024

// Limiter decides, per occurrence, whether to log it and how: the first
// occurrence of each key with its stack, later ones at most one line per
// Every, with the number held back since the previous line. The zero
// value is ready (Every 0 → one second). Concurrency-safe; it holds at
// most MaxKeys keys for its whole life.
type Limiter struct {
	Every time.Duration // at most one line per Every after a key's first

	mu      sync.Mutex
	seen    map[string]struct{} // keys already logged with their stack; guarded by mu
	last    time.Time           // when the last line without a stack went out; guarded by mu
	skipped int64               // occurrences held back since then; guarded by mu
}

// Check reports, for one occurrence of key, whether to log a line (log),
// whether that line should carry the stack (stack: key's first
// occurrence), and how many occurrences were held back since the previous
// line without a stack (skipped).
func (l *Limiter) Check(key string) (log, stack bool, skipped int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[key]; !ok && len(l.seen) < MaxKeys {
		if l.seen == nil {
			l.seen = make(map[string]struct{})
		}
		l.seen[key] = struct{}{}
		return true, true, 0
	}
	every := l.Every
	if every <= 0 {
		every = time.Second
	}
	now := time.Now()
	if now.Sub(l.last) < every {
		l.skipped++
		return false, false, 0
	}
	l.last, skipped, l.skipped = now, l.skipped, 0
	return true, false, skipped
}
