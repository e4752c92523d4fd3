package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
)

func init() { servers["gnetws"] = runGnetWS }

// gnetWS is the bare gnet + gobwas/ws server: the memory baseline of S1 and
// a fan-out that writes one encoded frame to every subscriber.
type gnetWS struct {
	gnet.BuiltinEventEngine
	o    options
	eng  gnet.Engine
	mu   sync.Mutex // guards subs (uncontended with one event loop)
	subs map[gnet.Conn]struct{}
}

// wsState is a connection's context: nil until upgraded. Loop-owned.
type wsState struct {
	push    bool
	scratch []byte    // reused to encode echoes (gnet copies what it cannot write at once)
	frag    []byte    // a fragmented message being gathered
	fragOp  ws.OpCode // its opcode; 0 when none
}

func runGnetWS(o options, stop <-chan struct{}) error {
	s := &gnetWS{o: o, subs: map[gnet.Conn]struct{}{}}
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.eng.Stop(ctx)
	}()
	return gnet.Run(s, "tcp://"+o.addr, gnet.WithMulticore(true), gnet.WithTCPNoDelay(gnet.TCPNoDelay))
}

func (s *gnetWS) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	listening("gnetws", s.o.addr)
	return gnet.None
}

func (s *gnetWS) OnClose(c gnet.Conn, _ error) gnet.Action {
	if st, ok := c.Context().(*wsState); ok && st.push {
		s.mu.Lock()
		delete(s.subs, c)
		s.mu.Unlock()
	}
	return gnet.None
}

func (s *gnetWS) OnTraffic(c gnet.Conn) gnet.Action {
	st, _ := c.Context().(*wsState)
	if st == nil {
		return s.upgrade(c)
	}
	for {
		buf, _ := c.Peek(-1)
		h, size, ok := parseHeader(buf)
		if !ok || len(buf) < size+int(h.Length) {
			return gnet.None
		}
		state := ws.StateServerSide
		if st.fragOp != 0 {
			state = state.Set(ws.StateFragmented)
		}
		if h.Length > s.o.maxMessage || ws.CheckHeader(h, state) != nil {
			return closeWith(c, ws.StatusProtocolError)
		}
		p := buf[size : size+int(h.Length)]
		ws.Cipher(p, h.Mask, 0)
		if a := s.fragment(c, st, h, p); a != gnet.None {
			return a
		}
		_, _ = c.Discard(size + int(h.Length))
	}
}

// fragment gathers a fragmented message (clients such as gorilla split large
// ones) and hands whole messages and control frames to frame.
func (s *gnetWS) fragment(c gnet.Conn, st *wsState, h ws.Header, p []byte) gnet.Action {
	switch {
	case h.OpCode.IsControl() || h.Fin && h.OpCode != ws.OpContinuation && st.fragOp == 0:
		return s.frame(c, st, h.OpCode, p)
	case h.OpCode != ws.OpContinuation && st.fragOp == 0:
		st.fragOp, st.frag = h.OpCode, append(st.frag[:0], p...)
	case h.OpCode == ws.OpContinuation && st.fragOp != 0:
		st.frag = append(st.frag, p...)
	default:
		return closeWith(c, ws.StatusProtocolError)
	}
	if int64(len(st.frag)) > s.o.maxMessage {
		return closeWith(c, ws.StatusMessageTooBig)
	}
	if !h.Fin {
		return gnet.None
	}
	op := st.fragOp
	st.fragOp = 0
	return s.frame(c, st, op, st.frag)
}

// frame handles one client frame; p lives in gnet's buffer until Discard.
func (s *gnetWS) frame(c gnet.Conn, st *wsState, op ws.OpCode, p []byte) gnet.Action {
	switch op {
	case ws.OpText, ws.OpBinary:
		if st.push {
			s.broadcast(c, appendFrame(nil, op, p)) // shared by every subscriber: never reused
			return gnet.None
		}
		st.scratch = appendFrame(st.scratch[:0], op, p)
		_, _ = c.Write(st.scratch)
	case ws.OpPing:
		_, _ = c.Write(appendFrame(nil, ws.OpPong, p))
	case ws.OpClose:
		_, _ = c.Write(ws.CompiledCloseNormalClosure)
		return gnet.Close
	}
	return gnet.None
}

// broadcast writes the one encoded frame f to every subscriber: directly on
// the sender's loop, as a queued write on other loops. A subscriber holding
// more than the out-limit unsent is closed as a slow consumer.
func (s *gnetWS) broadcast(from gnet.Conn, f []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	loop := from.EventLoop()
	for c := range s.subs {
		if c.EventLoop() != loop {
			_ = c.AsyncWrite(f, nil)
			continue
		}
		if c.OutboundBuffered() > s.o.outLimit {
			_, _ = c.Write(closeFrame(4008))
			_ = c.Close()
			continue
		}
		_, _ = c.Write(f)
	}
}

// upgrade answers plain HTTP or upgrades /echo and /push with gobwas/ws.
func (s *gnetWS) upgrade(c gnet.Conn) gnet.Action {
	buf, _ := c.Peek(-1)
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		if len(buf) > 16<<10 {
			return gnet.Close
		}
		return gnet.None
	}
	head := buf[:end+4]
	path := requestPath(head)
	if path != "/echo" && path != "/push" {
		_, _ = c.Write(httpReply(path))
		return gnet.Close
	}
	if _, err := (&ws.Upgrader{}).Upgrade(readWriter{bytes.NewReader(head), c}); err != nil {
		return gnet.Close
	}
	_, _ = c.Discard(len(head))
	st := &wsState{push: path == "/push"}
	c.SetContext(st)
	if st.push {
		s.mu.Lock()
		s.subs[c] = struct{}{}
		s.mu.Unlock()
	}
	return gnet.None
}

// readWriter reads the buffered request and writes the response to the conn.
type readWriter struct {
	*bytes.Reader
	c gnet.Conn
}

func (rw readWriter) Write(p []byte) (int, error) { return rw.c.Write(p) }

// requestPath returns the path of "GET /path HTTP/1.1".
func requestPath(head []byte) string {
	f := bytes.SplitN(head, []byte(" "), 3)
	if len(f) < 3 || string(f[0]) != "GET" {
		return ""
	}
	return string(f[1])
}

// parseHeader reads a frame header from a peeked slice without allocating.
func parseHeader(b []byte) (h ws.Header, size int, ok bool) {
	if len(b) < 2 {
		return h, 0, false
	}
	h.Fin, h.Rsv, h.OpCode = b[0]&0x80 != 0, (b[0]&0x70)>>4, ws.OpCode(b[0]&0x0F)
	h.Masked, size = b[1]&0x80 != 0, 2
	switch n := b[1] & 0x7F; n {
	case 126:
		if len(b) < 4 {
			return h, 0, false
		}
		h.Length, size = int64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return h, 0, false
		}
		h.Length, size = int64(binary.BigEndian.Uint64(b[2:])&(1<<63-1)), 10
	default:
		h.Length = int64(n)
	}
	if h.Masked {
		if len(b) < size+4 {
			return h, 0, false
		}
		copy(h.Mask[:], b[size:])
		size += 4
	}
	return h, size, true
}

// appendFrame appends an unmasked final frame (the server side of RFC 6455
// §5.2; gobwas/ws.WriteHeader writes the same bytes, through an io.Writer).
func appendFrame(dst []byte, op ws.OpCode, p []byte) []byte {
	dst = append(dst, 0x80|byte(op))
	switch n := len(p); {
	case n <= 125:
		dst = append(dst, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, p...)
}

func closeFrame(code ws.StatusCode) []byte {
	return appendFrame(nil, ws.OpClose, ws.NewCloseFrameBody(code, ""))
}

func closeWith(c gnet.Conn, code ws.StatusCode) gnet.Action {
	_, _ = c.Write(closeFrame(code))
	return gnet.Close
}
