package server

import (
	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"

	"github.com/plezigo/plezi/codec"
)

// readBatch reads every buffered frame. On inline routes the callbacks'
// writes are staged and flushed once for the whole batch: one write per
// read, not one per message. Loop only, from OnTraffic.
func (c *conn) readBatch() gnet.Action {
	if !c.opened || !c.dc.Route().Inline() {
		return c.readFrames()
	}
	var a gnet.Action
	c.inline(func() { a = c.readFrames() })
	return a
}

// readFrames parses every complete frame buffered for c, in place. Loop
// only.
func (c *conn) readFrames() gnet.Action {
	for c.state == stateWS || c.state == stateClosing {
		buf, _ := c.gc.Peek(-1)
		if len(buf) == 0 {
			return gnet.None
		}
		ev, n, err := c.dec.Next(buf)
		if err != nil {
			if c.state == stateClosing {
				break // after our close frame, unreadable input is dropped
			}
			c.l.srv.stats.ProtocolErrors.Add(1)
			c.fail(codec.CloseCodeOf(err), err.Error())
			break
		}
		if ev.Kind != codec.KindNone {
			c.onFrame(&ev)
		}
		if n == 0 {
			return gnet.None // need more bytes
		}
		_, _ = c.gc.Discard(n) // n > 0: gnet discards everything for n <= 0
	}
	_, _ = c.gc.Discard(-1)
	return gnet.None
}

// onFrame handles one event from the decoder; ev's payload is valid until
// the bytes are discarded. Loop only.
func (c *conn) onFrame(ev *codec.Event) {
	switch ev.Kind {
	case codec.KindText, codec.KindBinary:
		if c.state != stateWS {
			return
		}
		c.l.msgsIn.Add(1)
		c.dc.Receive(ev.Payload, ev.Kind == codec.KindBinary)
	case codec.KindPing:
		if c.state == stateWS {
			c.writeNow(c.l.frame(ws.OpPong, ev.Payload))
		}
	case codec.KindClose:
		c.onClose(ev)
	}
}

// onClose answers the peer's close frame and closes the socket. Loop only.
func (c *conn) onClose(ev *codec.Event) {
	if c.state == stateWS {
		code := ev.CloseCode
		if code == ws.StatusNoStatusRcvd {
			c.writeNow(c.l.frame(ws.OpClose, nil))
		} else {
			c.writeNow(c.l.closeFrame(code, ""))
		}
		c.closed(int(code), string(ev.CloseReason))
	}
	c.state = stateClosed
	c.setGone()
	_ = c.gc.Close()
}
