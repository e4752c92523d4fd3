package main

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/lxzan/gws"
)

func init() { servers["gws"] = runGws }

// gwsHandler implements gws.Event for /echo and /push.
type gwsHandler struct {
	gws.BuiltinEventHandler
	push bool
	mu   sync.RWMutex // guards subs
	subs map[*gws.Conn]struct{}
}

// gwsWriteTimeout bounds a blocked write: a slow consumer's queued writes
// fail after it and gws closes the connection (the library's own answer to
// slow consumers; its write queue has no byte bound).
const gwsWriteTimeout = 5 * time.Second

func runGws(o options, stop <-chan struct{}) error {
	opt := func() *gws.ServerOption {
		return &gws.ServerOption{
			ReadMaxPayloadSize: int(o.maxMessage),
			PermessageDeflate:  gws.PermessageDeflate{Enabled: o.compress},
		}
	}
	echo := &gwsHandler{}
	push := &gwsHandler{push: true, subs: map[*gws.Conn]struct{}{}}
	echoUp, pushUp := gws.NewUpgrader(echo, opt()), gws.NewUpgrader(push, opt())
	mux := http.NewServeMux()
	debugMux(mux)
	mux.HandleFunc("/echo", gwsServe(echoUp))
	mux.HandleFunc("/push", gwsServe(pushUp))
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
	listening("gws", o.addr)
	if err = srv.Serve(ln); err == http.ErrServerClosed {
		return nil
	}
	return err
}

// gwsServe upgrades and runs the connection's read loop in this goroutine
// (gws's model: one reading goroutine per connection, writes queued).
func gwsServe(up *gws.Upgrader) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		c.ReadLoop()
	}
}

func (h *gwsHandler) OnOpen(c *gws.Conn) {
	if h.push {
		h.mu.Lock()
		h.subs[c] = struct{}{}
		h.mu.Unlock()
	}
}

func (h *gwsHandler) OnClose(c *gws.Conn, _ error) {
	if h.push {
		h.mu.Lock()
		delete(h.subs, c)
		h.mu.Unlock()
	}
}

func (h *gwsHandler) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	if !h.push {
		_ = c.WriteMessage(m.Opcode, m.Bytes())
		return
	}
	h.broadcast(m.Opcode, m.Bytes())
}

// broadcast encodes the frame once (gws.Broadcaster) and queues it on every
// subscriber's write queue, refreshing the write deadline.
func (h *gwsHandler) broadcast(op gws.Opcode, p []byte) {
	payload := append([]byte(nil), p...) // the message buffer is recycled on return
	b := gws.NewBroadcaster(op, payload)
	defer b.Close()
	deadline := time.Now().Add(gwsWriteTimeout)
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.subs {
		_ = c.SetWriteDeadline(deadline)
		_ = b.Broadcast(c)
	}
}
