package server_test

import (
	"bytes"
	"cmp"
	"errors"
	"net"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/wstest"
	"github.com/plezigo/plezi/server"
)

// Room is a member of one room: every message it sends is published to
// the room, as is. A member dialled with ?flood=1 sends without listening.
type Room struct{ dispatch.Socket }

func (r *Room) OnOpen() {
	if r.Request().Query("flood") == "" {
		r.Subscribe("room")
	}
}

func (r *Room) OnMessage(m dispatch.Message) { r.PublishBinary("room", m.Data) }

// startWith boots a server with the usual routes, /room, and what setup
// adds.
func startWith(t *testing.T, cfg server.Config, setup func(*server.Server)) *node {
	t.Helper()
	cfg.Addr, cfg.Logger = "127.0.0.1:0", quiet
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	s := server.New(cfg)
	routes(s)
	if err := s.Route("/room", func() dispatch.Controller { return new(Room) }); err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(s)
	}
	return run(t, s)
}

// heldWatch samples the bytes the server holds for its fullest connection
// (its own accounting: gnet's inbound plus outbound buffers).
type heldWatch struct {
	most atomic.Int64
	stop chan struct{}
	done chan struct{}
}

func watchHeld(t *testing.T, n *node) *heldWatch {
	w := &heldWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if h := int64(server.HeldBytes(n.Server)); h > w.most.Load() {
				w.most.Store(h)
			}
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { w.end() })
	return w
}

// end stops sampling and returns the most seen; safe to call twice.
func (w *heldWatch) end() int64 {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	return w.most.Load()
}

// TestPipelinedNonReaderIsBounded: a client pipelines requests for a
// 64 KiB response and never reads. The server stops parsing requests
// while the responses it has not sent pass half the outbound cap; what
// the client sends meanwhile waits, up to MaxInbound, and then the
// connection is closed. What it holds for the client stays bounded.
func TestPipelinedNonReaderIsBounded(t *testing.T) {
	t.Parallel()
	body := bytes.Repeat([]byte("x"), 64<<10)
	n := startWith(t, server.Config{Loops: 1}, func(s *server.Server) {
		s.Handle("/big", func(*dispatch.Request, []byte) server.Response { return server.Response{Body: body} })
	})
	// MaxInbound (2 MiB) + half MaxOutbound (2 MiB) + one read, one response.
	const bound = 2<<20 + 2<<20 + 256<<10
	w := watchHeld(t, n)
	d := net.Dialer{Control: smallReadBuffer}
	conn, err := d.Dial("tcp", n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// 256 responses (16 MiB) are more than the cap: parsing pauses.
	req := []byte("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := conn.Write(bytes.Repeat(req, 256)); err != nil {
		t.Fatal(err)
	}
	st := n.Stats()
	eventually(t, "reading paused", func() bool { return st.ReadPauses.Load() >= 1 || w.most.Load() > bound })
	// Then the requests wait in the server's buffer, up to MaxInbound.
	reqs := bytes.Repeat(req, 1024)
	for sent := 0; sent < 16<<20 && w.most.Load() <= bound; sent += len(reqs) {
		_ = conn.SetWriteDeadline(time.Now().Add(wait))
		if _, err := conn.Write(reqs); err != nil {
			break // closed by the server
		}
	}
	eventually(t, "the pipelining connection closed", func() bool {
		return st.InboundOverflows.Load() >= 1 || w.most.Load() > bound
	})
	if m := w.end(); m > bound {
		t.Fatalf("held %d bytes for one connection, over %d", m, bound)
	}
}

// wsBound is what a websocket may hold with the default limits: MaxInbound
// (2 MiB) of unread input and one read, and up to MaxOutbound (4 MiB) of
// unsent output — reading pauses at half of it, but what the connection
// sent before still arrives; past the cap it is closed with 4008.
const wsBound = 2<<20 + 4<<20 + 256<<10

// TestPingFloodNonReaderIsClosed: a client sends pings flat out and never
// reads its pongs. Pongs count toward the outbound cap, pings toward the
// inbound rates: the connection is paused, then closed, and what the
// server holds for it stays bounded.
func TestPingFloodNonReaderIsClosed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  server.Config
	}{
		{"defaults", server.Config{Loops: 1}},
		{"no rate limit", server.Config{Loops: 1, InboundMessages: -1, InboundBytes: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pingFlood(t, start(t, tc.cfg), tc.cfg.InboundMessages < 0)
		})
	}
}

// pingFlood floods n with pings from a client that never reads; with
// unlimited, only the pongs not sent can pause it.
func pingFlood(t *testing.T, n *node, unlimited bool) {
	const bound = wsBound
	w := watchHeld(t, n)
	c, err := wstest.Dial(n.Addr(), "/peer", wstest.Options{ReadBuffer: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var flood []byte
	for range 256 {
		flood = append(flood, c.Encode(wstest.Frame{Fin: true, Op: wstest.OpPing, Payload: bytes.Repeat([]byte("p"), 125)})...)
	}
	for sent := 0; sent < 128<<20 && w.most.Load() <= bound; sent += len(flood) {
		if err := c.WriteRaw(flood); err != nil {
			break // closed by the server
		}
	}
	st := n.Stats()
	eventually(t, "the ping flood closed", func() bool {
		return st.InboundOverflows.Load()+st.SlowConsumers.Load() >= 1 || w.most.Load() > bound
	})
	if m := w.end(); m > bound {
		t.Fatalf("held %d bytes for one connection, over %d", m, bound)
	}
	if st.ReadPauses.Load()+st.Throttled.Load() == 0 {
		t.Fatal("reading never paused")
	}
	if unlimited && st.ReadPauses.Load() == 0 {
		t.Fatal("reading never paused on the pongs not sent")
	}
}

// TestRateLimitPausesWithoutClosing: a burst past the inbound rates is
// read later, not refused: every call is answered, in order.
func TestRateLimitPausesWithoutClosing(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{InboundMessages: 1000, InboundBurst: 50 * time.Millisecond})
	c := dial(t, n, "/peer")
	const calls = 300
	for i := range calls {
		m := `{"event":"add","_EID_":` + strconv.Itoa(i) + `,"args":[1,2]}`
		if err := c.ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range calls {
		m := c.expect("_ack_")
		if string(m.EID) != strconv.Itoa(i) {
			t.Fatalf("ack %s, want _EID_ %d", m.raw, i)
		}
	}
	if n.Stats().Throttled.Load() == 0 {
		t.Fatal("300 calls at once were never throttled at 1000/s with a 50 ms burst")
	}
}

// smallReadBuffer sets a 4 KiB SO_RCVBUF on a client socket, so a client
// that stops reading backs the server up quickly.
func smallReadBuffer(_, _ string, rc syscall.RawConn) error { return setRcvBuf(rc, 4096) }

func setRcvBuf(rc syscall.RawConn, n int) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
	})
	return cmp.Or(err, serr)
}

// member is a gorilla client of /room that reads at a fixed pace and
// counts what it gets; err is how its reading ended.
type member struct {
	ws   *websocket.Conn
	got  atomic.Int64
	done chan struct{}
	err  error
}

// dialMember dials /room with a 128 KiB SO_RCVBUF (so the kernel does not
// absorb a backlog that belongs in the server's accounting).
func dialMember(t *testing.T, n *node, query string) *websocket.Conn {
	t.Helper()
	nd := net.Dialer{Control: func(network, addr string, rc syscall.RawConn) error { return setRcvBuf(rc, 128<<10) }}
	d := websocket.Dialer{HandshakeTimeout: wait, NetDialContext: nd.DialContext}
	ws, resp, err := d.Dial("ws://"+n.Addr()+"/room"+query, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

// read reads one message per tick until it reads "end" or fails.
func (m *member) read(every time.Duration) {
	defer close(m.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		_ = m.ws.SetReadDeadline(time.Now().Add(wait))
		_, b, err := m.ws.ReadMessage()
		if err != nil {
			m.err = err
			return
		}
		if string(b) == "end" {
			return
		}
		m.got.Add(1)
		<-tick.C
	}
}

// fairness runs one flooding member against four paced readers: the
// flooder sends total bytes of 64 KiB messages as fast as it can; once
// settled says the flood is through, the server publishes "end". Every
// reader must read up to "end" with no close (no 4008); it returns the
// readers.
func fairness(t *testing.T, n *node, total int, readEvery time.Duration, settled func([]*member) bool) []*member {
	t.Helper()
	readers := make([]*member, 4)
	for i := range readers {
		readers[i] = &member{ws: dialMember(t, n, ""), done: make(chan struct{})}
	}
	flooder := dialMember(t, n, "?flood=1")
	eventually(t, "members open", func() bool { return n.Connections() == len(readers)+1 })
	for _, m := range readers {
		go m.read(readEvery)
	}
	msg := bytes.Repeat([]byte("f"), 64<<10)
	for sent := 0; sent < total; sent += len(msg) {
		_ = flooder.SetWriteDeadline(time.Now().Add(wait))
		if err := flooder.WriteMessage(websocket.BinaryMessage, msg); err != nil {
			break // the server closed the flooder
		}
	}
	eventually(t, "the flood through", func() bool { return settled(readers) || anyDone(readers) })
	n.Publish("room", "end")
	for i, m := range readers {
		<-m.done
		if m.err != nil {
			var ce *websocket.CloseError
			if errors.As(m.err, &ce) {
				t.Errorf("reader %d closed with %d %q after %d messages", i, ce.Code, ce.Text, m.got.Load())
			} else {
				t.Errorf("reader %d: %v after %d messages", i, m.err, m.got.Load())
			}
		}
	}
	return readers
}

// anyDone reports whether a reader stopped reading (it failed).
func anyDone(rs []*member) bool {
	for _, m := range rs {
		select {
		case <-m.done:
			return true
		default:
		}
	}
	return false
}

// TestFloodingMemberIsThrottled: one member sends 64 KiB messages flat out
// to a room whose readers read at a normal pace (a message each 2 ms).
// With the default limits the flooder is throttled (and, as it keeps
// sending past MaxInbound, closed); no reader is cut, and they get the
// flooder's messages up to then.
func TestFloodingMemberIsThrottled(t *testing.T) {
	t.Parallel()
	n := startWith(t, server.Config{}, nil)
	readers := fairness(t, n, 64<<20, 2*time.Millisecond, func([]*member) bool { return n.Connections() == 4 })
	st := n.Stats()
	if st.SlowConsumers.Load() != 0 {
		t.Fatalf("%d slow consumers", st.SlowConsumers.Load())
	}
	if st.Throttled.Load() == 0 {
		t.Fatal("the flooder was never throttled")
	}
	for i, m := range readers {
		if m.got.Load() == 0 {
			t.Errorf("reader %d got nothing", i)
		}
	}
}

// TestFanoutHoldsTheSender: the flooder's rate is over what the readers
// read (16 MiB/s against a message each 10 ms, at most 6.4 MiB/s), and
// MaxInbound holds the whole flood, so only fan-out backpressure stands
// between the readers and their cap: the flooder is held while they are
// backlogged, no reader is cut, and every reader gets every message.
func TestFanoutHoldsTheSender(t *testing.T) {
	t.Parallel()
	const total = 16 << 20
	n := startWith(t, server.Config{
		InboundBytes: 16 << 20, InboundBurst: 25 * time.Millisecond, MaxInbound: 64 << 20,
		BacklogTimeout: 10 * time.Second, // a loaded machine's readers are slow, not stuck
	}, nil)
	readers := fairness(t, n, total, 10*time.Millisecond, func(rs []*member) bool {
		for _, m := range rs {
			if m.got.Load() < total/(64<<10) {
				return false
			}
		}
		return true
	})
	st := n.Stats()
	if st.SlowConsumers.Load() != 0 || st.InboundOverflows.Load() != 0 {
		t.Fatalf("%d slow consumers, %d overflows", st.SlowConsumers.Load(), st.InboundOverflows.Load())
	}
	if st.Held.Load() == 0 {
		t.Fatal("the flooder was never held")
	}
	for i, m := range readers {
		if got := m.got.Load(); got != total/(64<<10) {
			t.Errorf("reader %d got %d of %d messages", i, got, total/(64<<10))
		}
	}
}

// TestStuckReaderIsCutNotWaitedFor: a member that never reads makes the
// sender's fan-out backlogged, so the sender is held — but only for a
// while: the stuck member is closed with 4008 once it stays backlogged
// for BacklogTimeout, and the member that reads gets every message.
func TestStuckReaderIsCutNotWaitedFor(t *testing.T) {
	t.Parallel()
	n := startWith(t, server.Config{
		MaxMessage: 64 << 10, MaxOutbound: 256 << 10, BacklogTimeout: time.Second,
	}, nil)
	stuck, err := wstest.Dial(n.Addr(), "/room", wstest.Options{ReadBuffer: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	reader := &member{ws: dialMember(t, n, ""), done: make(chan struct{})}
	sender := dialMember(t, n, "?flood=1")
	eventually(t, "members open", func() bool { return n.Connections() == 3 })
	go reader.read(time.Microsecond)
	const count = 400
	msg := bytes.Repeat([]byte("s"), 8<<10)
	for i := range count {
		eventually(t, "the reader within 8 messages", func() bool { return int64(i)-reader.got.Load() < 8 })
		if err := sender.WriteMessage(websocket.BinaryMessage, msg); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "every message read", func() bool { return reader.got.Load() == count || anyDone([]*member{reader}) })
	n.Publish("room", "end")
	<-reader.done
	if reader.err != nil {
		t.Fatalf("reader: %v after %d messages", reader.err, reader.got.Load())
	}
	for {
		m, err := stuck.ReadMessage(wait)
		if err != nil {
			t.Fatalf("stuck member: %v", err)
		}
		if m.Op == wstest.OpClose {
			if code, _, _ := wstest.ParseClose(m.Payload); code != 4008 {
				t.Fatalf("stuck member closed with %d, want 4008", code)
			}
			break
		}
	}
	if st := n.Stats(); st.Held.Load() == 0 || st.SlowConsumers.Load() != 1 {
		t.Fatalf("held %d times, %d slow consumers; want some, 1", st.Held.Load(), st.SlowConsumers.Load())
	}
}
