package matrix

import (
	"time"

	"github.com/plezigo/plezi/dispatch"
)

// The test's channel, pattern and a channel only the pattern matches.
const (
	exactChannel   = "mx-exact"
	patternGlob    = "mx-pat.*"
	patternChannel = "mx-pat.a"
)

// Peer is a receiver and a controller sender. On open it subscribes to
// exactChannel and patternGlob, registers as the identity in ?identity=
// and sends its id ("hello").
type Peer struct{ dispatch.Socket }

func (p *Peer) OnOpen() {
	p.Subscribe(exactChannel)
	p.SubscribePattern(patternGlob)
	if id := p.Request().Query("identity"); id != "" {
		if err := p.RegisterAs(id, dispatch.Lifetime(10*time.Minute)); err != nil {
			_ = p.Emit("regerr", err.Error())
			return
		}
	}
	_ = p.Emit("hello", p.ID())
}

// Rx takes Multicast, Broadcast and Unicast deliveries: the tag goes back
// to the client, from the route's context (a worker or the event loop).
func (p *Peer) Rx(tag string) { _ = p.Emit("rx", tag) }

// Burst (a client event) sends b from this controller.
func (p *Peer) Burst(b burst) error { return b.run(&p.Socket) }

// Ucast (a client event) unicasts n events "gone_<i>" to id and returns
// how many Unicast reported as failed at once.
func (p *Peer) Ucast(id string, n int) int {
	failed := 0
	for i := range n {
		if !p.Unicast(id, goneEvent(i)) {
			failed++
		}
	}
	return failed
}

// Fence (a client event) asks the Peer via to unicast tag back to this
// one (see Echo).
func (p *Peer) Fence(via, tag string) bool { return p.Unicast(via, "echo", p.ID(), tag) }

// Echo unicasts "rx tag" to the connection to.
func (p *Peer) Echo(to, tag string) { p.Unicast(to, "rx", tag) }

// OnUnicastFailed reports the failure to the client.
func (p *Peer) OnUnicastFailed(id, event string) { _ = p.Emit("ufail", id, event) }

// Other is a second controller type: Multicast reaches it (forwarded to
// its client as JSON), Broadcast to Peer and publishes do not.
type Other struct{ dispatch.Socket }

func (o *Other) OnOpen() { _ = o.Emit("hello", o.ID()) }
