package matrix

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// cell is what one receiver got of one (kind, sender) stream.
type cell struct {
	got      []bool // by seq
	distinct int
	dupes    int // a seq that came again
	inv      int // a seq that came after a higher one
	max      int
}

func (c *cell) add(seq int) {
	if seq >= len(c.got) {
		c.got = append(c.got, make([]bool, seq+1-len(c.got))...)
	}
	if c.got[seq] {
		c.dupes++
		return
	}
	c.got[seq] = true
	c.distinct++
	if c.distinct > 1 && seq < c.max {
		c.inv++
	}
	c.max = max(c.max, seq)
}

// frame is every message the server sends a matrix client.
type frame struct {
	Event  string          `json:"event"`
	EID    int             `json:"_EID_"`
	NID    uint64          `json:"_NID_"`
	Args   []string        `json:"args"`
	Data   json.RawMessage `json:"data"`
	Status int             `json:"status"`
	Error  string          `json:"error"`
}

// client is one receiver: a gorilla/websocket connection whose frames a
// goroutine reads and files by tag.
type client struct {
	name     string // "n0/w"
	id       string // connection id
	identity string // the identity it registered as ("" for none)
	peer     bool   // a Peer (else an Other)
	ws       *websocket.Conn
	done     chan struct{}
	wmu      sync.Mutex // one writer at a time

	mu      sync.Mutex
	eid     int                // last call id; guarded by mu
	calls   map[int]chan frame // calls waiting for their reply, by id; guarded by mu
	cells   map[string]*cell   // "kind|sender" → what came; guarded by mu
	marks   map[string]bool    // warm-up and fence tags ("kind|~..."); guarded by mu
	nids    map[uint64]bool    // note ids; guarded by mu
	nidDup  int                // a note id that came again; guarded by mu
	nidInv  int                // a note id lower than one before (any sender); guarded by mu
	nidMax  uint64             // guarded by mu
	ufails  []string           // "id event" of OnUnicastFailed; guarded by mu
	strays  []string           // frames that fit nothing (first 5); guarded by mu
	nStrays int                // guarded by mu
	readErr error              // guarded by mu
}

// dial connects a client to path on addr and waits for its hello.
func dial(name, addr, path string) (*client, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 64 << 10}
	ws, _, err := d.Dial("ws://"+addr+path, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: dial: %w", name, err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var f frame
	_, m, err := ws.ReadMessage()
	if err == nil {
		err = json.Unmarshal(m, &f)
	}
	if err != nil || f.Event != "hello" || len(f.Args) != 1 {
		ws.Close()
		return nil, fmt.Errorf("%s: first frame %s: %v", name, m, err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	c := &client{
		name: name, id: f.Args[0], ws: ws, done: make(chan struct{}), calls: map[int]chan frame{},
		cells: map[string]*cell{}, marks: map[string]bool{}, nids: map[uint64]bool{},
	}
	go c.read()
	return c, nil
}

func (c *client) read() {
	defer close(c.done)
	for {
		_, m, err := c.ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			return
		}
		var f frame
		if err := json.Unmarshal(m, &f); err != nil {
			c.stray(string(m))
			continue
		}
		c.take(f, m)
	}
}

func (c *client) take(f frame, raw []byte) {
	switch {
	case f.Event == "_ack_" || f.Event == "_err_":
		c.reply(f, raw)
	case (f.Event == "rx" || f.Event == "nt") && len(f.Args) == 1:
		c.tag(f.Args[0], f.NID, raw)
	case f.Event == "ufail" && len(f.Args) == 2:
		c.mu.Lock()
		c.ufails = append(c.ufails, f.Args[0]+" "+f.Args[1])
		c.mu.Unlock()
	default:
		c.stray(string(raw))
	}
}

// tag files one delivery; nid is its note id (0: not a note).
func (c *client) tag(tag string, nid uint64, raw []byte) {
	parts := strings.Split(tag, "|")
	if len(parts) != 3 {
		c.mark(tag)
		return
	}
	seq, err := strconv.Atoi(parts[2])
	if err != nil || seq < 0 {
		c.stray(string(raw))
		return
	}
	key := parts[0] + "|" + parts[1]
	if strings.HasPrefix(parts[1], "~") {
		c.mark(key)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if nid != 0 {
		c.note(nid)
	}
	cl := c.cells[key]
	if cl == nil {
		cl = &cell{}
		c.cells[key] = cl
	}
	cl.add(seq)
}

// note records a note id. Lock held.
func (c *client) note(nid uint64) {
	if c.nids[nid] {
		c.nidDup++
		return
	}
	c.nids[nid] = true
	if nid < c.nidMax {
		c.nidInv++
	}
	c.nidMax = max(c.nidMax, nid)
}

func (c *client) mark(key string) {
	c.mu.Lock()
	c.marks[key] = true
	c.mu.Unlock()
}

func (c *client) stray(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nStrays++; len(c.strays) < 5 {
		c.strays = append(c.strays, s)
	}
}

// reply hands a reply to the call waiting for it.
func (c *client) reply(f frame, raw []byte) {
	c.mu.Lock()
	ch := c.calls[f.EID]
	delete(c.calls, f.EID)
	c.mu.Unlock()
	if ch == nil {
		c.stray(string(raw))
		return
	}
	ch <- f
}

// call sends the client event name with args and waits for its reply.
// Concurrency-safe.
func (c *client) call(timeout time.Duration, name string, args ...any) (json.RawMessage, error) {
	ch := make(chan frame, 1)
	c.mu.Lock()
	c.eid++
	eid := c.eid
	c.calls[eid] = ch
	c.mu.Unlock()
	msg, err := json.Marshal(map[string]any{"event": name, "_EID_": eid, "args": args})
	if err == nil {
		c.wmu.Lock()
		err = c.ws.WriteMessage(websocket.TextMessage, msg)
		c.wmu.Unlock()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", c.name, name, err)
	}
	select {
	case f := <-ch:
		if f.Event != "_ack_" {
			return nil, fmt.Errorf("%s: %s: reply %+v", c.name, name, f)
		}
		return f.Data, nil
	case <-c.done:
		return nil, fmt.Errorf("%s: %s: connection ended", c.name, name)
	case <-time.After(timeout):
		return nil, fmt.Errorf("%s: %s: no reply in %v", c.name, name, timeout)
	}
}

// snapshot returns the counts of the cell for key (zero when none came).
func (c *client) snapshot(key string) (cl cell, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.cells[key]
	if ok {
		cl = cell{distinct: p.distinct, dupes: p.dupes, inv: p.inv, max: p.max}
	}
	return cl, ok
}

// keys returns the (kind, sender) streams that reached the client.
func (c *client) keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.cells))
	for k := range c.cells {
		out = append(out, k)
	}
	return out
}

func (c *client) hasMark(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.marks[key]
}

// close ends the connection and waits for the reader.
func (c *client) close() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
	}
	err := c.ws.Close()
	<-c.done
	if errors.Is(err, websocket.ErrCloseSent) {
		return nil
	}
	return err
}
