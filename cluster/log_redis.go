package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// go-redis logs through one process-wide logger (redis.SetLogger): every
// go-redis client in the process, ours or not, writes through it. The
// first Redis broker installs redisLog, which writes to slog — to the
// Logger of the most recently created broker — and collapses the dial
// failures a pool logs for every attempt while Redis is down into one
// line per outage, then one line when a probe next succeeds (with the
// number of failures in between).
var redisLog struct {
	once     sync.Once
	log      atomic.Pointer[slog.Logger]
	down     atomic.Bool  // a dial failure was logged; the outage is on
	failures atomic.Int64 // dial failures in this outage
}

// redisLogger adapts go-redis's logger to slog.
type redisLogger struct{}

// routeRedisLog makes log the target of go-redis's lines.
func routeRedisLog(log *slog.Logger) {
	redisLog.log.Store(log)
	redisLog.once.Do(func() { redis.SetLogger(redisLogger{}) })
}

// Printf takes one go-redis line. Concurrency-safe.
func (redisLogger) Printf(_ context.Context, format string, v ...any) {
	line := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	log := redisLog.log.Load()
	if !strings.Contains(line, "dial") {
		log.Warn("cluster: redis client", "detail", line)
		return
	}
	redisLog.failures.Add(1)
	if !redisLog.down.Swap(true) {
		log.Warn("cluster: redis dial failed; further failures are counted until Redis answers", "detail", line)
	}
}

// redisLogRecovered ends an outage of dial failures, with one line.
func redisLogRecovered() {
	if redisLog.down.Load() && redisLog.down.Swap(false) {
		redisLog.log.Load().Info("cluster: redis dials again", "failures", redisLog.failures.Swap(0))
	}
}
