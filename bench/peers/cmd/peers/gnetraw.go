package main

import (
	"bytes"
	"context"
	"time"

	"github.com/panjf2000/gnet/v2"
)

func init() { servers["gnetraw"] = runGnetRaw }

// gnetRaw echoes TCP bytes: the floor for S2 (no websocket work at all).
type gnetRaw struct {
	gnet.BuiltinEventEngine
	o   options
	eng gnet.Engine
}

var rawMark = new(int) // context of a connection known to be raw

func runGnetRaw(o options, stop <-chan struct{}) error {
	s := &gnetRaw{o: o}
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.eng.Stop(ctx)
	}()
	return gnet.Run(s, "tcp://"+o.addr, gnet.WithMulticore(true), gnet.WithTCPNoDelay(gnet.TCPNoDelay))
}

func (s *gnetRaw) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	listening("gnetraw", s.o.addr)
	return gnet.None
}

func (s *gnetRaw) OnTraffic(c gnet.Conn) gnet.Action {
	if c.Context() == nil {
		buf, _ := c.Peek(-1)
		if bytes.HasPrefix(buf, []byte("GET ")) {
			return serveHTTP(c, buf)
		}
		c.SetContext(rawMark)
	}
	buf, _ := c.Next(-1)
	_, _ = c.Write(buf)
	return gnet.None
}

// serveHTTP answers the plain-HTTP debug paths once the header is complete.
func serveHTTP(c gnet.Conn, buf []byte) gnet.Action {
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		return gnet.None
	}
	_, _ = c.Write(httpReply(requestPath(buf[:end+4])))
	return gnet.Close
}
