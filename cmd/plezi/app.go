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

// newApp builds the demo application on cfg: /echo, /push, /chat/:room.
// The caller adds the page (static files), /unicast if asked for
// (mountUnicast), and starts it.
func newApp(cfg server.Config) *server.Server {
	srv := server.New(cfg)
	must(srv.Route("/echo", func() dispatch.Controller { return new(Echo) }, dispatch.Inline()))
	must(srv.Route("/push", func() dispatch.Controller { return new(Push) }, dispatch.Inline()))
	nicks := newNickSet()
	must(srv.Route("/chat/:room", func() dispatch.Controller { return &Chat{nicks: nicks} }, dispatch.ClientEvents("say", "whisper", "tell")))
	return srv
}

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

// Push subscribes every connection to one channel; whatever a client sends
// is published, as-is, to all of them (the sender included).
type Push struct{ dispatch.Socket }

// OnOpen subscribes to the push channel.
func (p *Push) OnOpen() { p.Subscribe("push") }

// OnMessage publishes m to every /push connection.
func (p *Push) OnMessage(m dispatch.Message) {
	if m.Binary {
		p.PublishBinary("push", m.Data)
		return
	}
	p.Publish("push", string(m.Data))
}
