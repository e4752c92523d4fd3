// Command peers runs one of the peer servers the plezi benchmarks compare
// against. Every websocket peer implements the benchmark contract:
//
//	GET /echo     websocket: echoes every message (text → text, binary → binary)
//	GET /push     websocket: a message from any connection goes to every one
//	GET /debug/heap  {"heap_inuse","heap_alloc","num_gc","goroutines"}
//	GET /healthz  200
//
// The raw peers (gnetraw, rawloop) speak plain TCP: gnetraw echoes bytes and
// rawloop writes the bytes one connection sends to every connection — the
// floor of what the machine can do. Both still answer /debug/heap and
// /healthz to a connection that starts with "GET ".
//
//	peers -server gorilla -addr 127.0.0.1:65001 [-max-message N] [-compress]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"syscall"
)

// options shared by every peer.
type options struct {
	addr       string
	maxMessage int64
	compress   bool
	outLimit   int // slow-consumer bound, bytes queued per connection
}

// servers maps -server names to their run functions. Each returns when stop
// is closed or on a fatal error, and logs "listening" once it accepts.
var servers = map[string]func(o options, stop <-chan struct{}) error{}

func main() {
	var o options
	name := flag.String("server", "gorilla", "peer: "+names())
	flag.StringVar(&o.addr, "addr", "127.0.0.1:65001", "listen address")
	flag.Int64Var(&o.maxMessage, "max-message", 1<<20, "largest message accepted")
	flag.BoolVar(&o.compress, "compress", false, "permessage-deflate where the library supports it")
	flag.IntVar(&o.outLimit, "out-limit", 4<<20, "bytes queued per connection before it is closed as a slow consumer (gorilla, nbio, gnetws, rawloop; gws closes a connection whose write blocks 5 s)")
	flag.Parse()
	run, ok := servers[*name]
	if !ok {
		fmt.Fprintf(os.Stderr, "peers: unknown server %q (have %s)\n", *name, names())
		os.Exit(2)
	}
	stop := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() { <-sig; close(stop) }()
	if err := run(o, stop); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

func names() string {
	var n []string
	for k := range servers {
		n = append(n, k)
	}
	sort.Strings(n)
	return fmt.Sprint(n)
}

func listening(name, addr string) {
	fmt.Fprintf(os.Stderr, "%s listening on %s\n", name, addr)
}

// heapJSON returns the /debug/heap body.
func heapJSON() []byte {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b, _ := json.Marshal(map[string]uint64{
		"heap_inuse": m.HeapInuse, "heap_alloc": m.HeapAlloc,
		"num_gc": uint64(m.NumGC), "goroutines": uint64(runtime.NumGoroutine()),
	})
	return b
}

// debugMux adds /debug/heap and /healthz to mux.
func debugMux(mux *http.ServeMux) {
	mux.HandleFunc("/debug/heap", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(heapJSON())
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
}

// httpReply returns a whole HTTP/1.1 response for the plain-HTTP paths of
// the event-loop peers, or nil for an unknown path.
func httpReply(path string) []byte {
	switch path {
	case "/debug/heap":
		body := heapJSON()
		return fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	case "/healthz":
		return []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	}
	return []byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
}
