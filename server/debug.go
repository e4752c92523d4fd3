package server

import (
	"encoding/json"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"unicode"

	"github.com/plezigo/plezi/dispatch"
)

// heapStats is the body of /debug/heap.
func heapStats() []byte {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b, _ := json.Marshal(map[string]uint64{
		"heap_inuse": m.HeapInuse, "heap_alloc": m.HeapAlloc, "num_gc": uint64(m.NumGC),
		"goroutines": uint64(runtime.NumGoroutine()), "sys": m.Sys,
	})
	return b
}

// DebugHeap is an HTTP handler answering runtime memory figures as JSON.
// Safe from any goroutine.
func DebugHeap(*dispatch.Request, []byte) Response {
	return Response{ContentType: "application/json", Body: heapStats()}
}

// DebugStats is an HTTP handler answering every counter of the server's
// and its hub's Stats as JSON, by field name in snake_case (Panics is the
// sum of both), plus messages_in, for dashboards and benchmarks. A new
// counter shows up here without a change. Safe from any goroutine.
func (s *Server) DebugStats(*dispatch.Request, []byte) Response {
	m := map[string]int64{"messages_in": s.MessagesIn()}
	addCounters(m, &s.stats)
	addCounters(m, s.hub.Stats())
	b, _ := json.Marshal(m)
	return Response{ContentType: "application/json", Body: b}
}

var int64Type = reflect.TypeFor[atomic.Int64]()

// addCounters adds each atomic.Int64 field of the struct v points to into
// m under its snake_case name.
func addCounters(m map[string]int64, v any) {
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		if f.Type != int64Type || !f.IsExported() {
			continue
		}
		m[snake(f.Name)] += rv.Field(i).Addr().Interface().(*atomic.Int64).Load()
	}
}

// snake turns a Go field name into snake_case: ClusterRoundTrips →
// cluster_round_trips.
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
