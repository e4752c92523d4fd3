package server_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/gobwas/ws"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// Idle is the S1 controller: it holds its connection and does nothing.
type Idle struct{ dispatch.Socket }

// BenchmarkIdleMemory opens 2,000 idle websockets and reports the heap
// they hold, per connection (the S1 figure, measured in process: the
// clients' own net.Conns are counted too, the same amount in every run).
// Run it with -benchtime=1x: one op is the whole measurement.
func BenchmarkIdleMemory(b *testing.B) {
	const n = 2000
	for range b.N {
		s := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet})
		_ = s.Route("/idle", func() dispatch.Controller { return new(Idle) })
		node := run(b, s)
		before := heapAfterGC()
		conns := make([]interface{ Close() error }, 0, n)
		for range n {
			c, br, _, err := ws.Dial(context.Background(), "ws://"+node.Addr()+"/idle")
			if err != nil {
				b.Fatal(err)
			}
			if br != nil {
				ws.PutReader(br)
			}
			conns = append(conns, c)
		}
		eventually(b, "all open", func() bool { return s.Connections() == n })
		after := heapAfterGC()
		b.ReportMetric(float64(after-before)/n, "B/conn")
		for _, c := range conns {
			_ = c.Close()
		}
		eventually(b, "all closed", func() bool { return s.Connections() == 0 })
		_ = node.stop()
	}
}

func heapAfterGC() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
