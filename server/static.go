package server

import (
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/plezigo/plezi/codec"
	"github.com/plezigo/plezi/dispatch"
)

// A static file is never read whole. The handler (on a worker) stats the
// file and reads its first chunk; a file no larger than that is answered
// like any response. A larger one streams from the loop: the next chunk
// is read and written only while fewer than StaticBuffer bytes are queued
// for the client, so a slow reader holds at most StaticBuffer bytes of it
// (drain.go re-checks the stream as gnet sends). HEAD opens nothing.

// staticChunk is the most one read of a static file takes, and the least
// StaticBuffer is.
const staticChunk = 64 << 10

// errShortFile is a file that ended before the size its Stat announced.
var errShortFile = errors.New("server: static file shorter than its size")

// fileBody is a static file response's content: size bytes (the
// Content-Length), the first len(Response.Body) of them read already; f
// holds the rest, nil for HEAD. Whoever holds it closes f: the loop, or
// finish when the connection is gone.
type fileBody struct {
	f    fs.File
	size int64
}

// closeFile closes a file a response still holds. Any goroutine.
func (r *Response) closeFile() {
	if r.file != nil && r.file.f != nil {
		_ = r.file.f.Close()
		r.file.f = nil
	}
}

// staticHandler serves files from fsys under prefix: GET and HEAD, content
// types by extension (sniffed from the first chunk on GET when the
// extension says nothing), Last-Modified and 304 on If-Modified-Since,
// index.html for directories. fs.FS paths cannot escape the tree.
func staticHandler(prefix string, fsys fs.FS) Handler {
	return func(r *dispatch.Request, _ []byte) Response {
		m := string(r.Raw().Method())
		if m != http.MethodGet && m != http.MethodHead {
			return Response{Status: http.StatusMethodNotAllowed, Body: []byte("method not allowed\n"), Header: []string{"Allow: GET, HEAD"}}
		}
		name := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(r.Path(), prefix)), "/")
		if name == "" {
			name = "."
		}
		if !fs.ValidPath(name) {
			return notFound()
		}
		return serveFile(fsys, name, r.Header("If-Modified-Since"), m == http.MethodHead)
	}
}

func notFound() Response { return Response{Status: http.StatusNotFound, Body: []byte("not found\n")} }

// serveFile answers one file: headers from Stat, and for GET the first
// chunk with the open file behind it. Runs on a worker.
func serveFile(fsys fs.FS, name, ims string, head bool) Response {
	name, st, ok := statFile(fsys, name)
	if !ok {
		return notFound()
	}
	hdr, fresh := lastModified(st, ims)
	if fresh {
		return Response{Status: http.StatusNotModified, Header: hdr}
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if head { // nothing is read; an unknown type is left out (RFC 9110 §9.3.2)
		return Response{ContentType: ct, Header: hdr, file: &fileBody{size: st.Size()}}
	}
	f, err := fsys.Open(name)
	if err != nil {
		return notFound()
	}
	first := make([]byte, min(st.Size(), staticChunk))
	if _, err := io.ReadFull(f, first); err != nil {
		_ = f.Close()
		return Response{Status: http.StatusInternalServerError, Body: []byte("read error\n")}
	}
	if ct == "" {
		ct = http.DetectContentType(first)
	}
	resp := Response{ContentType: ct, Body: first, Header: hdr}
	if int64(len(first)) == st.Size() {
		_ = f.Close()
		return resp
	}
	resp.file = &fileBody{f: f, size: st.Size()}
	return resp
}

// statFile stats name, or its index.html when it is a directory.
func statFile(fsys fs.FS, name string) (string, fs.FileInfo, bool) {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return name, nil, false
	}
	if st.IsDir() {
		name = path.Join(name, "index.html")
		if st, err = fs.Stat(fsys, name); err != nil || st.IsDir() {
			return name, nil, false
		}
	}
	return name, st, true
}

// lastModified is the Last-Modified header of st, and whether the client's
// If-Modified-Since copy is still fresh.
func lastModified(st fs.FileInfo, ims string) ([]string, bool) {
	mod := st.ModTime().UTC().Truncate(time.Second)
	if mod.IsZero() || mod.Unix() <= 0 {
		return nil, false
	}
	hdr := []string{"Last-Modified: " + mod.Format(http.TimeFormat)}
	t, err := http.ParseTime(ims)
	return hdr, err == nil && !mod.After(t)
}

// finishFile writes a static file response's head and first chunk, then
// streams the rest. Loop only.
func (c *conn) finishFile(resp Response, keepAlive, head bool) {
	fb := resp.file
	out := codec.AppendResponseHead(nil, resp.Status, resp.ContentType, fb.size, keepAlive, resp.Header...)
	if !head {
		out = append(out, resp.Body...)
	}
	_, _ = c.gc.Write(out)
	if head || fb.f == nil {
		resp.closeFile()
		c.endResponse(keepAlive)
		return
	}
	h := c.http
	h.file, h.left, h.keep = fb.f, fb.size-int64(len(resp.Body)), keepAlive
	c.state = stateStream
	c.deadline = time.Now().Add(c.l.srv.cfg.IdleTimeout).UnixNano()
	if wait, _ := c.pumpFile(); wait {
		c.l.waitDrain(c)
	}
}

// pumpFile sends c's next chunks while fewer than StaticBuffer bytes are
// queued, at most StaticBuffer bytes per call so that one fast client does
// not hold the loop; wait reports whether the stream goes on. The stream's
// deadline moves with every chunk: a client that reads nothing for
// IdleTimeout is dropped by the sweep. Loop only.
func (c *conn) pumpFile() (wait, moved bool) {
	h, s := c.http, c.l.srv
	limit := s.cfg.StaticBuffer
	for sent := 0; h.left > 0 && sent < limit; {
		queued := c.gc.OutboundBuffered()
		if queued > limit/2 {
			s.stats.StaticWaits.Add(1)
			break
		}
		n := int(min(int64(min(limit-queued, staticChunk)), h.left))
		if !c.sendChunk(n) {
			return false, moved
		}
		sent, moved = sent+n, true
	}
	raiseMax(&s.stats.StaticHeldMax, int64(c.gc.OutboundBuffered()))
	if moved {
		c.deadline = time.Now().Add(s.cfg.IdleTimeout).UnixNano()
	}
	if h.left > 0 {
		return true, moved
	}
	c.endStream()
	return false, moved
}

// sendChunk reads n bytes of c's file into the loop's scratch and writes
// them (gnet copies what the socket does not take). A file that ends early
// drops the connection: the announced length cannot be met. Loop only.
func (c *conn) sendChunk(n int) bool {
	l := c.l
	if l.fileBuf == nil {
		l.fileBuf = make([]byte, staticChunk)
	}
	b := l.fileBuf[:n]
	if _, err := io.ReadFull(c.http.file, b); err != nil {
		l.srv.log.Debug("server: static file", "err", errors.Join(errShortFile, err))
		c.drop()
		return false
	}
	c.http.left -= int64(n)
	_, _ = c.gc.Write(b)
	return c.state == stateStream // a failed write closes the connection
}

// endStream closes the file and ends the response; a request pipelined
// behind it is read now. Loop only.
func (c *conn) endStream() {
	c.closeFile()
	c.endResponse(c.http.keep)
	if c.state == stateHTTP && c.gc.InboundBuffered() > 0 {
		_ = c.gc.Wake(nil)
	}
}

// closeFile closes the file c streams, if any. Loop only.
func (c *conn) closeFile() {
	if h := c.http; h != nil && h.file != nil {
		_ = h.file.Close()
		h.file = nil
	}
}

// streamInput holds what a client sends while its file streams (the next
// request, read when the stream ends), up to a request's worth: more drops
// the connection. Loop only, from OnTraffic.
func (c *conn) streamInput() gnet.Action {
	cfg := &c.l.srv.cfg
	if int64(c.gc.InboundBuffered()) > int64(cfg.MaxHeader)+cfg.MaxBody {
		c.drop()
	}
	return gnet.None
}

// raiseMax lifts the gauge g to v if v is higher. Concurrency-safe.
func raiseMax(g *atomic.Int64, v int64) {
	for old := g.Load(); v > old && !g.CompareAndSwap(old, v); old = g.Load() {
	}
}
