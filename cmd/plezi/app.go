package main

import (
	"embed"
	"io/fs"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

//go:embed public
var public embed.FS

func publicFS() fs.FS {
	sub, err := fs.Sub(public, "public")
	if err != nil {
		panic(err) // the embedded tree always has public/
	}
	return sub
}

// newApp builds the demo application on cfg (see mountDemo), without its
// page and without the push server. The caller adds the page (static
// files) and starts it.
func newApp(cfg server.Config) *server.Server {
	srv := server.New(cfg)
	mountDemo(srv, false)
	return srv
}

// mountDemo adds the demo routes (-demo): /echo, /demo/push (the raw push
// of the benchmarks), /chat/:room, and /unicast when unicast is set.
func mountDemo(srv *server.Server, unicast bool) {
	must(srv.Route("/echo", func() dispatch.Controller { return new(Echo) }, dispatch.Inline()))
	must(srv.Route(rawPushPath, func() dispatch.Controller { return new(RawPush) }, dispatch.Inline()))
	nicks := newNickSet()
	must(srv.Route("/chat/:room", func() dispatch.Controller { return &Chat{nicks: nicks} }, dispatch.ClientEvents("say", "whisper", "tell")))
	if unicast {
		mountUnicast(srv)
	}
}

// rawPushPath is the demo's raw push route, which the benchmark suite's
// broadcast scenarios (S3, S5, S7) drive.
const rawPushPath = "/demo/push"

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// Echo sends every message back as it came (text → text, binary → binary).
type Echo struct{ dispatch.Socket }

// OnMessage echoes m.
func (e *Echo) OnMessage(m dispatch.Message) {
	if m.Binary {
		_ = e.WriteBinary(m.Data)
		return
	}
	_ = e.WriteText(m.Data)
}

// RawPush subscribes every connection to one channel; whatever a client
// sends is published, as-is, to all of them (the sender included).
type RawPush struct{ dispatch.Socket }

// OnOpen subscribes to the push channel.
func (p *RawPush) OnOpen() { p.Subscribe("push") }

// OnMessage publishes m to every /demo/push connection.
func (p *RawPush) OnMessage(m dispatch.Message) {
	if m.Binary {
		p.PublishBinary("push", m.Data)
		return
	}
	p.Publish("push", string(m.Data))
}
