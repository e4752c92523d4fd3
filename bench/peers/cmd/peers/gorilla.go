package main

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

func init() { servers["gorilla"] = runGorilla }

// gorillaClient is one /push subscriber: a writer goroutine drains send.
type gorillaClient struct {
	ws     *websocket.Conn
	send   chan gorillaMsg
	queued atomic.Int64 // bytes waiting in send
	once   sync.Once
}

// gorillaMsg is a queued broadcast and its payload size.
type gorillaMsg struct {
	pm *websocket.PreparedMessage
	n  int64
}

// gorillaHub is the /push fan-out: a set of clients under a lock.
type gorillaHub struct {
	mu      sync.RWMutex
	clients map[*gorillaClient]struct{}
	limit   int64
}

func runGorilla(o options, stop <-chan struct{}) error {
	up := websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096, EnableCompression: o.compress,
		CheckOrigin: func(*http.Request) bool { return true }}
	hub := &gorillaHub{clients: map[*gorillaClient]struct{}{}, limit: int64(o.outLimit)}
	mux := http.NewServeMux()
	debugMux(mux)
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		ws.SetReadLimit(o.maxMessage)
		gorillaEcho(ws)
	})
	mux.HandleFunc("/push", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		ws.SetReadLimit(o.maxMessage)
		hub.serve(ws)
	})
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	listening("gorilla", o.addr)
	if err = srv.Serve(ln); err == http.ErrServerClosed {
		return nil
	}
	return err
}

// gorillaEcho is the goroutine-per-connection echo loop.
func gorillaEcho(ws *websocket.Conn) {
	defer ws.Close()
	for {
		mt, p, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if err = ws.WriteMessage(mt, p); err != nil {
			return
		}
	}
}

func (h *gorillaHub) serve(ws *websocket.Conn) {
	c := &gorillaClient{ws: ws, send: make(chan gorillaMsg, 4096)}
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	go c.writeLoop()
	defer h.drop(c)
	for {
		mt, p, err := ws.ReadMessage()
		if err != nil {
			return
		}
		pm, err := websocket.NewPreparedMessage(mt, p)
		if err != nil {
			return
		}
		h.broadcast(pm, int64(len(p)))
	}
}

// broadcast queues pm (encoded once per compression variant) to every
// client; a client past its byte bound is closed as a slow consumer.
func (h *gorillaHub) broadcast(pm *websocket.PreparedMessage, n int64) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.clients {
		if c.queued.Load()+n > h.limit {
			c.close()
			continue
		}
		select {
		case c.send <- gorillaMsg{pm, n}:
			c.queued.Add(n)
		default:
			c.close()
		}
	}
}

func (h *gorillaHub) drop(c *gorillaClient) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	close(c.send) // no broadcast reaches c once it left the set
	c.close()
}

func (c *gorillaClient) close() {
	c.once.Do(func() {
		c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4008, "slow consumer"), time.Now().Add(10*time.Millisecond))
		c.ws.NetConn().Close()
	})
}

// writeLoop is the client's writer goroutine; it ends when send is closed.
func (c *gorillaClient) writeLoop() {
	for m := range c.send {
		c.queued.Add(-m.n)
		if err := c.ws.WritePreparedMessage(m.pm); err != nil {
			c.close()
		}
	}
}
