package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

func init() { servers["nbio"] = runNbio }

// nbioHub is the /push subscriber set.
type nbioHub struct {
	mu   sync.RWMutex
	subs map[*websocket.Conn]struct{}
}

func runNbio(o options, stop <-chan struct{}) error {
	hub := &nbioHub{subs: map[*websocket.Conn]struct{}{}}
	mux := http.NewServeMux()
	debugMux(mux)
	mux.HandleFunc("/echo", nbioServe(o, func(u *websocket.Upgrader) {
		u.OnMessage(func(c *websocket.Conn, mt websocket.MessageType, p []byte) { _ = c.WriteMessage(mt, p) })
	}))
	mux.HandleFunc("/push", nbioServe(o, func(u *websocket.Upgrader) {
		u.OnOpen(hub.add)
		u.OnClose(func(c *websocket.Conn, _ error) { hub.remove(c) })
		u.OnMessage(hub.broadcast)
	}))
	engine := nbhttp.NewEngine(nbhttp.Config{
		Network:                 "tcp",
		Addrs:                   []string{o.addr},
		Handler:                 mux,
		MaxLoad:                 100000,
		MaxWriteBufferSize:      o.outLimit, // nbio closes a connection whose unsent data passes this
		ReleaseWebsocketPayload: true,
	})
	if err := engine.Start(); err != nil {
		return err
	}
	listening("nbio", o.addr)
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return engine.Shutdown(ctx)
}

// nbioServe upgrades with an upgrader configured by setup; nbio then reads
// the connection from its pollers (no goroutine per connection).
func nbioServe(o options, setup func(*websocket.Upgrader)) http.HandlerFunc {
	u := websocket.NewUpgrader()
	u.EnableCompression(o.compress)
	u.CheckOrigin = func(*http.Request) bool { return true }
	u.MessageLengthLimit = int(o.maxMessage)
	setup(u)
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = u.Upgrade(w, r, nil)
	}
}

func (h *nbioHub) add(c *websocket.Conn) {
	h.mu.Lock()
	h.subs[c] = struct{}{}
	h.mu.Unlock()
}

func (h *nbioHub) remove(c *websocket.Conn) {
	h.mu.Lock()
	delete(h.subs, c)
	h.mu.Unlock()
}

// broadcast writes the message to every subscriber (nbio frames it per
// connection and buffers what the socket does not take).
func (h *nbioHub) broadcast(_ *websocket.Conn, mt websocket.MessageType, p []byte) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.subs {
		_ = c.WriteMessage(mt, p)
	}
}
