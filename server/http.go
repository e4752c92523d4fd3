package server

import (
	"bytes"
	"io/fs"
	"net/http"
	"strings"
	"sync"

	"github.com/plezigo/plezi/codec"
	"github.com/plezigo/plezi/dispatch"
)

// Response is what an HTTP handler returns.
type Response struct {
	Status      int    // default 200
	ContentType string // default text/plain; charset=utf-8
	Body        []byte
	Header      []string // extra "Name: value" lines

	file *fileBody // a static file's content beyond Body (static.go)
}

// Handler answers a plain HTTP request. It runs on a goroutine of its own
// (at most Config.MaxHandlers at once), off the event loops and the
// worker shards; r and body are valid until it returns.
type Handler func(r *dispatch.Request, body []byte) Response

type httpRoute struct {
	prefix string // pattern without a trailing "*"
	exact  bool
	h      Handler
}

type httpState struct {
	parser codec.RequestParser
	req    codec.Request

	file fs.File // the static file streaming out (static.go); loop-owned
	left int64   // its bytes not yet read
	keep bool    // keep-alive once it is out
}

// httpStates recycles the HTTP state of upgraded connections, with its
// request buffers (a head of at most MaxHeader bytes, a field per header
// line): the next handshake reuses them, where each connection used to
// leave about 400 bytes of garbage. A pooled state is dropped by the GC
// like any pooled object, so what the pool holds is bounded by the
// handshakes in flight.
var httpStates = sync.Pool{New: func() any { return new(httpState) }}

// newHTTPState is the HTTP state of a new connection. Loop only.
func newHTTPState(maxHeader int) *httpState {
	h := httpStates.Get().(*httpState)
	h.parser.Max = maxHeader
	return h
}

// recycle gives h back once its connection is upgraded and nothing
// refers to its request (the 101 is built, dispatch's Request is a copy).
// Loop only.
func (h *httpState) recycle() {
	h.req.Reset()
	*h = httpState{req: h.req}
	httpStates.Put(h)
}

// serveHTTP handles at most one buffered request. It returns true when the
// caller should go on reading (another request, or frames after an
// upgrade). Loop only.
func (c *conn) serveHTTP() bool {
	if !c.mayRead() { // responses not yet sent are over the high-water mark
		return false
	}
	total := c.gc.InboundBuffered()
	buf, _ := c.gc.Peek(min(total, c.l.srv.cfg.MaxHeader+1)) // a window: see peekWindow
	if len(buf) == 0 {
		return false
	}
	h := c.http
	n, err := h.parser.Parse(buf, &h.req)
	if err != nil {
		c.httpError(err)
		return false
	}
	if n == 0 {
		return false
	}
	r := &h.req
	cl := r.ContentLength()
	if cl > c.l.srv.cfg.MaxBody {
		c.respond(http.StatusRequestEntityTooLarge, "request body too large", false)
		return false
	}
	if cl > 0 && int64(total-n) < cl {
		return false // wait for the body; the head is parsed again then
	}
	var body []byte
	if cl > 0 {
		buf, _ = c.gc.Peek(n + int(cl))
		body = append([]byte(nil), buf[n:n+int(cl)]...)
		n += int(cl)
	}
	_, _ = c.gc.Discard(n)
	p := string(r.Path())
	if codec.IsUpgrade(r) {
		c.upgrade(r, p)
	} else {
		c.serveRequest(r, p, body)
	}
	return c.state == stateHTTP || c.state == stateWS
}

// httpError answers a parse or handshake error (every one is a
// *codec.HTTPError) as codec writes it, and closes. Loop only.
func (c *conn) httpError(err error) {
	_, _ = c.gc.Write(codec.AppendHTTPError(nil, err))
	c.endResponse(false)
}

// respond writes a plain-text response; unless keepAlive it then closes.
func (c *conn) respond(status int, msg string, keepAlive bool, extra ...string) {
	c.finish(Response{Status: status, Body: []byte(msg + "\n"), Header: extra}, keepAlive, false)
}

// finish writes resp (no body for HEAD) and goes back to reading requests,
// or closes once the response is out. A static file response streams its
// file first (static.go). Loop only.
func (c *conn) finish(resp Response, keepAlive, head bool) {
	if c.gone() {
		resp.closeFile()
		return
	}
	if resp.Status == 0 {
		resp.Status = http.StatusOK
	}
	keepAlive = keepAlive && !c.l.srv.draining.Load()
	if resp.file != nil {
		c.finishFile(resp, keepAlive, head)
		return
	}
	if resp.ContentType == "" {
		resp.ContentType = "text/plain; charset=utf-8"
	}
	out := codec.AppendResponse(nil, resp.Status, resp.ContentType, resp.Body, keepAlive, resp.Header...)
	if head {
		out = out[:len(out)-len(resp.Body)]
	}
	_, _ = c.gc.Write(out)
	c.endResponse(keepAlive)
}

// endResponse waits for the next request, or closes once the response's
// bytes are out (bounded by IdleTimeout). Loop only.
func (c *conn) endResponse(keepAlive bool) {
	if !keepAlive {
		c.closeAfterFlush(c.l.srv.cfg.IdleTimeout)
		return
	}
	c.to(stateHTTP)
	c.deadline = c.l.now + int64(c.l.srv.cfg.HandshakeTimeout)
}

// serveRequest routes a plain HTTP request. Loop only.
func (c *conn) serveRequest(r *codec.Request, p string, body []byte) {
	s := c.l.srv
	keep := r.KeepAlive()
	method := string(r.Method())
	if route, _ := dsp.Match(s.hub, p); route != nil {
		if method != http.MethodGet {
			c.respond(http.StatusMethodNotAllowed, "method not allowed", keep, "Allow: GET")
			return
		}
		c.respond(http.StatusUpgradeRequired, "websocket upgrade required", keep, "Sec-WebSocket-Version: 13", "Upgrade: websocket")
		return
	}
	hr := s.findHandler(p)
	if hr == nil {
		c.respond(http.StatusNotFound, "not found", keep)
		return
	}
	head := method == http.MethodHead
	req := dispatch.NewRequest(r, c.gc.RemoteAddr(), nil)
	if hr.builtin() {
		c.finish(callHandler(hr.h, req, body), keep, head)
		return
	}
	if n := s.stats.Handlers.Add(1); n > int64(s.cfg.MaxHandlers) {
		s.stats.Handlers.Add(-1)
		s.stats.HandlersBusy.Add(1)
		c.respond(http.StatusServiceUnavailable, "busy", keep, "Retry-After: 1")
		return
	}
	c.to(statePending)
	go c.runHandler(hr.h, req, body, keep, head)
}

// Plain HTTP handlers run each on a goroutine of its own, at most
// Config.MaxHandlers at once (Stats.Handlers; one more is answered 503
// and counted in Stats.HandlersBusy), never on the worker shards of the
// websocket callbacks: a handler that waits (on Redis, on a slow
// backend) holds no other route's requests nor any connection's
// callbacks, and a stalled shard holds no handler. The built-in /healthz,
// /readyz, /plezi.js and /plezi.d.ts answer on the event loop at once:
// they read atomics and constants, so health never waits behind anything.

// runHandler runs h for the request and hands the response back to the
// connection's loop.
func (c *conn) runHandler(h Handler, req *dispatch.Request, body []byte, keep, head bool) {
	resp := callHandler(h, req, body)
	c.l.srv.stats.Handlers.Add(-1)
	c.l.submit(task{fn: func() {
		c.finish(resp, keep, head)
		if c.state == stateHTTP && c.gc.InboundBuffered() > 0 {
			_ = c.gc.Wake(nil)
		}
	}})
}

// builtin reports whether the route is one of the server's own —
// /healthz, /readyz, /plezi.js, /plezi.d.ts — which New adds before any
// other (so no user handler can take their paths) and which are answered
// on the loop.
func (r *httpRoute) builtin() bool {
	if !r.exact {
		return false
	}
	switch r.prefix {
	case "/healthz", "/readyz", "/plezi.js", "/plezi.d.ts":
		return true
	}
	return false
}

func callHandler(h Handler, r *dispatch.Request, body []byte) (resp Response) {
	defer func() {
		if recover() != nil {
			resp = Response{Status: http.StatusInternalServerError, Body: []byte("internal error\n")}
		}
	}()
	return h(r, body)
}

// findHandler is the first handler route matching p, or nil.
func (s *Server) findHandler(p string) *httpRoute {
	for i := range s.handlers {
		r := &s.handlers[i]
		if r.exact && p == r.prefix || !r.exact && strings.HasPrefix(p, r.prefix) {
			return r
		}
	}
	return nil
}

// upgrade checks and answers a websocket upgrade request. Loop only.
func (c *conn) upgrade(r *codec.Request, p string) {
	s := c.l.srv
	route, params := dsp.Match(s.hub, p)
	if route == nil {
		c.respond(http.StatusNotFound, "not found", false)
		return
	}
	if !bytes.Equal(r.Method(), []byte(http.MethodGet)) {
		c.respond(http.StatusMethodNotAllowed, "method not allowed", false, "Allow: GET")
		return
	}
	key, err := codec.CheckUpgrade(r)
	if err != nil {
		c.httpError(err)
		return
	}
	if !s.originAllowed(r) {
		s.refuse(http.StatusForbidden)
		c.respond(http.StatusForbidden, "origin not allowed", false)
		return
	}
	key = append([]byte(nil), key...)
	req := dispatch.NewRequest(r, c.gc.RemoteAddr(), params)
	ctrl := dsp.NewController(route)
	if dsp.HasPreConnect(ctrl) && !route.Inline() {
		c.to(statePending)
		dsp.Go(s.hub, uint64(c.gc.Fd()), func() {
			status, msg := dsp.PreConnect(ctrl, req)
			c.l.submit(task{fn: func() {
				c.accept(r, route, ctrl, req, key, status, msg)
				if c.state == stateWS && c.gc.InboundBuffered() > 0 {
					_ = c.gc.Wake(nil)
				}
			}})
		})
		return
	}
	status, msg := dsp.PreConnect(ctrl, req)
	c.accept(r, route, ctrl, req, key, status, msg)
}

// accept finishes an upgrade once PreConnect has run; raw is the parsed
// request, untouched while the upgrade was pending. Loop only.
func (c *conn) accept(raw *codec.Request, route *dispatch.Route, ctrl dispatch.Controller, req *dispatch.Request, key []byte, status int, msg string) {
	if c.gone() {
		return
	}
	s := c.l.srv
	if status != 0 {
		s.refuse(status)
		c.respond(status, msg, false)
		return
	}
	if s.draining.Load() {
		c.respond(http.StatusServiceUnavailable, "server shutting down", false)
		return
	}
	if n := s.wsCount.Add(1); s.cfg.MaxConnections > 0 && n > int64(s.cfg.MaxConnections) {
		s.wsCount.Add(-1)
		s.refuse(http.StatusServiceUnavailable)
		c.respond(http.StatusServiceUnavailable, "too many connections", false, "Retry-After: 1")
		return
	}
	// Registered before the 101 goes out: a client that has its 101 is
	// reached by every fan-out published after (a fan-out skips only loops
	// whose table holds no recipient). What reaches c meanwhile is queued
	// for the loop, which is busy here, so it follows the 101.
	sock, err := dsp.Open(ctrl, c, route, req, c.l.idx)
	if err != nil {
		s.wsCount.Add(-1)
		s.log.Error("server: upgrade failed", "err", err)
		c.respond(http.StatusInternalServerError, "internal error", false)
		return
	}
	c.sock = sock
	resp := c.upgraded(raw, route, key)
	if !route.Inline() {
		_, _ = c.gc.Write(resp)
		dsp.Opened(sock)
		return
	}
	// Inline: OnOpen runs now, and the 101 goes out after it, ahead of
	// what it wrote, so that what it asked of the loop (Subscribe) is
	// queued before the client can act on its 101.
	c.inCallback(func() {
		c.l.stageFirst(resp)
		dsp.Opened(sock)
	})
}

// upgraded makes c a websocket, counted in wsCount already, and returns
// its 101 (with the deflate and subprotocol answers), for the caller to
// write. Loop only.
func (c *conn) upgraded(raw *codec.Request, route *dispatch.Route, key []byte) []byte {
	s := c.l.srv
	var ext []byte
	if s.cfg.Compress {
		if p, resp, ok := codec.NegotiateDeflateWith(raw, codec.DeflateOptions{ClientNoContextTakeover: true}); ok {
			c.dec.EnableDeflate(p)
			c.enc.EnableDeflate(p)
			ext = resp
		}
	}
	proto := codec.SelectProtocol(raw, route.Protocols())
	resp := codec.AppendUpgradeResponse(nil, key, proto, ext)
	c.to(stateWS)
	if route.Inline() {
		c.flags.Or(flagInline)
	}
	c.http.recycle() // raw with it: not used after this
	c.http = nil
	c.deadline = 0
	c.lastPing = c.l.now
	c.tat = c.l.clock() // a full burst
	c.dec.MaxMessage = s.cfg.MaxMessage
	s.stats.Upgrades.Add(1)
	return resp
}

// originAllowed checks the request's Origin against Config.Origins. With
// an allow-list, a request with two Origin headers is refused: which one a
// proxy or a browser check looked at is unknown.
func (s *Server) originAllowed(r *codec.Request) bool {
	if len(s.cfg.Origins) == 0 {
		return true
	}
	var origin []byte
	n := 0
	r.VisitHeaders(func(name, value []byte) bool {
		if len(name) == len("Origin") && strings.EqualFold(string(name), "Origin") {
			origin, n = value, n+1
		}
		return n < 2
	})
	if n > 1 {
		return false
	}
	for _, o := range s.cfg.Origins {
		if o == "*" || strings.EqualFold(o, string(origin)) {
			return true
		}
	}
	return false
}

// getOnly answers 405 to methods other than GET and HEAD, else calls h.
func getOnly(h Handler) Handler {
	return func(r *dispatch.Request, body []byte) Response {
		if m := string(r.Raw().Method()); m != http.MethodGet && m != http.MethodHead {
			return Response{Status: http.StatusMethodNotAllowed, Body: []byte("method not allowed\n"), Header: []string{"Allow: GET, HEAD"}}
		}
		return h(r, body)
	}
}
