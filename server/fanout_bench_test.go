package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// Sub subscribes every connection to "b".
type Sub struct{ dispatch.Socket }

func (s *Sub) OnOpen() { s.Subscribe("b") }

// baselineHub is the goroutine-per-connection baseline: gobwas/ws on
// net/http, a broadcast encodes the frame once and writes it to each
// connection in turn.
type baselineHub struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (h *baselineHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, _, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	h.mu.Lock()
	h.conns = append(h.conns, c)
	h.mu.Unlock()
	go func() { // read (and drop) until the client leaves
		for {
			if _, _, err := wsutil.ReadClientData(c); err != nil {
				return
			}
		}
	}()
}

func (h *baselineHub) broadcast(frame []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		_, _ = c.Write(frame)
	}
}

// BenchmarkBroadcastSockets publishes one 64-byte message to N real
// websocket clients per op and waits until every client has read it.
func BenchmarkBroadcastSockets(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run("plezi/"+strconv.Itoa(n), func(b *testing.B) {
			s := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet})
			_ = s.Route("/sub", func() dispatch.Controller { return new(Sub) }, dispatch.Inline())
			node := run(b, s)
			wait := dialReaders(b, "ws://"+node.Addr()+"/sub", n)
			eventually(b, "subscribed", func() bool { return s.Connections() == n })
			msg := string(make([]byte, 64))
			measure(b, n, wait, func() { s.Publish("b", msg) })
		})
		b.Run("baseline-gobwas/"+strconv.Itoa(n), func(b *testing.B) {
			h := &baselineHub{}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			hs := &http.Server{Handler: h}
			go func() { _ = hs.Serve(l) }()
			defer hs.Shutdown(context.Background())
			wait := dialReaders(b, "ws://"+l.Addr().String()+"/", n)
			eventually(b, "connected", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.conns) == n })
			frame, _ := ws.CompileFrame(ws.NewTextFrame(make([]byte, 64)))
			measure(b, n, wait, func() { h.broadcast(frame) })
			h.mu.Lock()
			for _, c := range h.conns {
				_ = c.Close()
			}
			h.mu.Unlock()
		})
	}
}

func measure(b *testing.B, n int, wait func(int64), send func()) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		send()
		wait(int64(i+1) * int64(n))
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/delivery")
}

// dialReaders opens n clients that count the 64-byte messages they read;
// wait(total) returns once the count reaches total.
func dialReaders(b *testing.B, url string, n int) func(int64) {
	b.Helper()
	var got atomic.Int64
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	for range n {
		c, br, _, err := ws.Dial(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		var r io.Reader = c
		if br != nil {
			r = io.MultiReader(br, c)
		}
		go func() {
			for {
				h, err := ws.ReadHeader(r)
				if err != nil {
					return
				}
				if _, err := io.CopyN(io.Discard, r, h.Length); err != nil {
					return
				}
				got.Add(1)
				mu.Lock()
				cond.Broadcast()
				mu.Unlock()
			}
		}()
	}
	return func(total int64) {
		mu.Lock()
		for got.Load() < total {
			cond.Wait()
		}
		mu.Unlock()
	}
}
