package dispatch_test

import (
	"strconv"
	"testing"

	"github.com/gobwas/ws"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/codec"
	"github.com/plezigo/plezi/dispatch"
)

// sink is a Transport that counts what a connection would write, like a
// socket into io.Discard. Loop-only use here: the benchmark hub runs every
// task inline on the caller's goroutine.
type sink struct{ frames, bytes int }

func (s *sink) Send(_ ws.OpCode, p []byte)     { s.frames++; s.bytes += len(p) }
func (s *sink) SendPrepared(p *codec.Prepared) { s.frames++; s.bytes += len(p.Frame(nil)) }
func (s *sink) SendOnLoop(p *codec.Prepared)   { s.frames++; s.bytes += len(p.Frame(nil)) }
func (s *sink) Close(ws.StatusCode, string)    {}
func (s *sink) Open() bool                     { return true }
func (s *sink) Callback(fn func())             { fn() }
func (s *sink) QueueCallback(fn func())        { fn() }
func (s *sink) Backlogged() bool               { return false }
func (s *sink) Hold()                          {}

func (s *sink) want(t testing.TB, frames int) {
	t.Helper()
	if s.frames != frames {
		t.Fatalf("frames = %d, want %d", s.frames, frames)
	}
}

// Fan is a controller with an event method, so its route auto-dispatches;
// "tick" is not one of its methods and is forwarded to clients.
type Fan struct{ dispatch.Socket }

func (f *Fan) Add(a, b int) int { return a + b }

// inlineHub is a hub on one loop whose runner calls each task at once.
func inlineHub(tb testing.TB, opts ...dispatch.RouteOption) (*dispatch.Hub, *dispatch.Route) {
	tb.Helper()
	h := dispatch.NewTestHub(1, cluster.NewMemory(), quiet)
	opts = append([]dispatch.RouteOption{dispatch.ClientEvents("add")}, opts...)
	r, err := h.Route("/fan", func() dispatch.Controller { return new(Fan) }, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return h, r
}

// openN opens n connections of r on h, all writing into one sink.
func openN(tb testing.TB, r *dispatch.Route, n int, s *sink) []*dispatch.Socket {
	cs := make([]*dispatch.Socket, n)
	for i := range cs {
		cs[i] = dispatch.OpenTest(tb, s, r, new(Fan), 0)
	}
	return cs
}

func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			h, r := inlineHub(b)
			var s sink
			openN(b, r, n, &s)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				dispatch.Broadcast[*Fan](h, "tick", i)
			}
			b.StopTimer()
			if s.frames != n*b.N {
				b.Fatalf("delivered %d, want %d", s.frames, n*b.N)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/recipient")
		})
	}
}

func BenchmarkEventDispatch(b *testing.B) {
	_, r := inlineHub(b, dispatch.Inline())
	var s sink
	c := openN(b, r, 1, &s)[0]
	in := []byte(`{"event":"add","_EID_":1,"args":[2,3]}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dispatch.Receive(c, in, false)
	}
	b.StopTimer()
	if s.frames != b.N {
		b.Fatalf("acks = %d, want %d", s.frames, b.N)
	}
}

func TestInlineHub(t *testing.T) {
	t.Parallel()
	h, r := inlineHub(t, dispatch.Inline())
	var s sink
	cs := openN(t, r, 3, &s)
	dispatch.Broadcast[*Fan](h, "tick", 1)
	s.want(t, 3)
	dispatch.Receive(cs[0], []byte(`{"event":"add","_EID_":1,"args":[2,3]}`), false)
	s.want(t, 4)
	dispatch.End(cs[1], 1000, "")
	h.Multicast("tick")
	s.want(t, 6)
	if h.Count() != 2 || h.Unicast(cs[1].ID(), "tick") || !h.Unicast(cs[2].ID(), "tick") {
		t.Fatalf("Count = %d after a close", h.Count())
	}
	s.want(t, 7)
}
