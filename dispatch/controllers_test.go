package dispatch_test

import (
	"errors"
	"time"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// Peer exposes every primitive as an event, so a client can drive them
// (its routes allow clients every event).
type Peer struct {
	dispatch.Socket
	name string
}

func (p *Peer) OnOpen()                          { _ = p.Emit("id", p.ID()) }
func (p *Peer) OnShutdown()                      { _ = p.Write("bye") }
func (p *Peer) OnUnicastFailed(id, event string) { _ = p.Emit("ufail", id, event) }

func (p *Peer) Mcast(event, text string)          { p.Multicast(event, text) }
func (p *Peer) Bcast(event, text string)          { p.Broadcast(event, text) }
func (p *Peer) Ucast(id, event, text string) bool { return p.Unicast(id, event, text) }
func (p *Peer) Number(n int)                      { p.Multicast("seq", n) }
func (p *Peer) Hear(text string)                  { _ = p.Emit("heard", text, p.ID()) }
func (p *Peer) Sub(ch string)                     { p.Subscribe(ch) }
func (p *Peer) Psub(pattern string)               { p.SubscribePattern(pattern) }
func (p *Peer) Unsub(ch string)                   { p.Unsubscribe(ch) }
func (p *Peer) Pub(ch, text string)               { p.Publish(ch, text) }
func (p *Peer) PubBin(ch string, b []byte)        { p.PublishBinary(ch, b) }
func (p *Peer) PubEvent(ch, event, text string) error {
	return p.PublishEvent(ch, event, text)
}
func (p *Peer) Reg(identity string, max int) error {
	return p.RegisterAs(identity, dispatch.MaxConnections(max))
}
func (p *Peer) RegFor(identity string, minutes int) error {
	return p.RegisterAs(identity, dispatch.Lifetime(time.Duration(minutes)*time.Minute), dispatch.MaxConnections(10))
}
func (p *Peer) Add(a, b int) int { return a + b }
func (p *Peer) SetName(name string) string {
	p.name = name
	return "hi " + name
}
func (p *Peer) Fail(status int) error {
	if status == 0 {
		return errors.New("plain failure")
	}
	return dispatch.StatusError(status, "refused")
}
func (p *Peer) Boom() { panic("boom") }

// Other is a second controller type: a separate broadcast channel.
type Other struct{ dispatch.Socket }

func (o *Other) OnOpen()          { _ = o.Emit("id", o.ID()) }
func (o *Other) Hear(text string) { _ = o.Emit("other_heard", text) }

// Unk takes every event it has no method for.
type Unk struct{ dispatch.Socket }

func (u *Unk) OnOpen() { _ = u.Emit("id", u.ID()) }
func (u *Unk) Known()  {}
func (u *Unk) Unknown(event string, args dispatch.RawArgs) {
	_ = u.Emit("unknown", event, string(args))
}

// Taker has one event whose lone parameter is the raw JSON of its
// arguments.
type Taker struct{ dispatch.Socket }

func (k *Taker) OnOpen() { _ = k.Emit("id", k.ID()) }
func (k *Taker) Take(args dispatch.RawArgs) string {
	_ = k.Emit("took", string(args))
	return string(args)
}

// Echo is a raw route: every message goes back as it came.
type Echo struct{ dispatch.Socket }

func (e *Echo) OnMessage(m dispatch.Message) {
	if m.Binary {
		_ = e.WriteBinary(m.Data)
		return
	}
	_ = e.WriteText(m.Data)
}

// routes adds the test routes to s.
func routes(s *server.Server) {
	must(s.Route("/peer", func() dispatch.Controller { return new(Peer) }, dispatch.AllClientEvents()))
	must(s.Route("/peer-inline", func() dispatch.Controller { return new(Peer) }, dispatch.Inline(), dispatch.AllClientEvents()))
	must(s.Route("/other", func() dispatch.Controller { return new(Other) }))
	must(s.Route("/unk", func() dispatch.Controller { return new(Unk) }, dispatch.ClientEvents("known")))
	must(s.Route("/take", func() dispatch.Controller { return new(Taker) }, dispatch.AllClientEvents()))
	must(s.Route("/echo", func() dispatch.Controller { return new(Echo) }))
	must(s.Route("/echo-inline", func() dispatch.Controller { return new(Echo) }, dispatch.Inline()))
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
