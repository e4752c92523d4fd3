package server_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// Echo is the benchmark controller: every message back as it came.
type Echo struct{ dispatch.Socket }

func (e *Echo) OnMessage(m dispatch.Message) {
	if m.Binary {
		_ = e.WriteBinary(m.Data)
	} else {
		_ = e.WriteText(m.Data)
	}
}

// benchServers starts plezi (inline and worker echo routes) and the
// baseline, a goroutine-per-connection gobwas/ws server on net/http.
func benchServers(b *testing.B) map[string]string {
	b.Helper()
	// One connection echoing flat out: the inbound rate limit would be
	// what is measured.
	s := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet, InboundMessages: -1, InboundBytes: -1})
	_ = s.Route("/inline", func() dispatch.Controller { return new(Echo) }, dispatch.Inline())
	_ = s.Route("/worker", func() dispatch.Controller { return new(Echo) })
	n := run(b, s)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(gobwasEcho)}
	go func() { _ = hs.Serve(l) }()
	b.Cleanup(func() { _ = hs.Shutdown(context.Background()) })
	return map[string]string{
		"plezi-inline":    "ws://" + n.Addr() + "/inline",
		"plezi-worker":    "ws://" + n.Addr() + "/worker",
		"baseline-gobwas": "ws://" + l.Addr().String() + "/",
	}
}

func gobwasEcho(w http.ResponseWriter, r *http.Request) {
	c, _, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	go func() {
		defer c.Close()
		for {
			msg, op, err := wsutil.ReadClientData(c)
			if err != nil {
				return
			}
			if wsutil.WriteServerMessage(c, op, msg) != nil {
				return
			}
		}
	}()
}

// BenchmarkEcho measures one round trip (client write, server echo, client
// read) over loopback, for plezi's two callback modes and the baseline.
func BenchmarkEcho(b *testing.B) {
	urls := benchServers(b)
	for _, size := range []int{64, 1024} {
		for _, name := range []string{"plezi-inline", "plezi-worker", "baseline-gobwas"} {
			b.Run(name+"/"+strconv.Itoa(size), func(b *testing.B) {
				c, br, _, err := ws.Dial(context.Background(), urls[name])
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				if br != nil {
					ws.PutReader(br)
				}
				frame := ws.MaskFrame(ws.NewBinaryFrame(make([]byte, size)))
				out, _ := ws.CompileFrame(frame)
				r := bufio.NewReaderSize(c, 64<<10)
				buf := make([]byte, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if _, err := c.Write(out); err != nil {
						b.Fatal(err)
					}
					h, err := ws.ReadHeader(r)
					if err != nil || h.Length != int64(size) {
						b.Fatalf("header %+v: %v", h, err)
					}
					if _, err := readFull(r, buf); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func readFull(r *bufio.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// BenchmarkUpgrade measures connect + websocket handshake + close.
func BenchmarkUpgrade(b *testing.B) {
	urls := benchServers(b)
	for _, name := range []string{"plezi-inline", "baseline-gobwas"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				c, br, _, err := ws.Dial(context.Background(), urls[name])
				if err != nil {
					b.Fatal(err)
				}
				if br != nil {
					ws.PutReader(br)
				}
				_ = c.Close()
			}
		})
	}
}

// BenchmarkAccept measures connection churn: connect, one HTTP request
// (GET /healthz, Connection: close), read to EOF; clients in parallel.
func BenchmarkAccept(b *testing.B) {
	s := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet})
	n := run(b, s)
	req := []byte("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 512)
		for pb.Next() {
			c, err := net.Dial("tcp", n.Addr())
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = c.Write(req)
			for {
				if _, err := c.Read(buf); err != nil {
					break
				}
			}
			_ = c.Close()
		}
	})
}
