package main

import (
	"bytes"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// mountUnicast adds /unicast (Direct) to srv, before Run. It is off unless
// -unicast asks for it: a benchmark route lets any client send raw text to
// any connection id.
func mountUnicast(srv *server.Server) {
	must(srv.Route("/unicast", func() dispatch.Controller { return new(Direct) }, dispatch.Inline(), dispatch.AutoDispatch(false)))
}

// Direct is the /unicast route, the cross-node unicast benchmark (S4): a
// connection learns its id from its first message, and a text message
// "<target-id> <payload>" reaches that connection, on whichever node holds
// it, as the raw text "<payload>". Not a JSON event route: Deliver is only
// reached through Unicast.
type Direct struct{ dispatch.Socket }

// OnOpen writes the connection's id, raw, as its first message.
func (d *Direct) OnOpen() { _ = d.Write(d.ID()) }

// OnMessage unicasts the payload after the first space to the id before it.
// A binary message closes with 1003, a text without a space with 1007. m is
// valid until OnMessage returns: the id and payload are copied.
func (d *Direct) OnMessage(m dispatch.Message) {
	if m.Binary {
		d.CloseWith(1003, "text only: <target-id> <payload>")
		return
	}
	i := bytes.IndexByte(m.Data, ' ')
	if i < 0 {
		d.CloseWith(1007, "want <target-id> <payload>")
		return
	}
	// A target already gone locally answers false; one gone on another node
	// calls OnUnicastFailed later. Neither is reported: the bench counts
	// what arrives.
	d.Unicast(string(m.Data[:i]), "deliver", string(m.Data[i+1:]))
}

// Deliver writes payload, raw, to this connection's client.
func (d *Direct) Deliver(payload string) { _ = d.Write(payload) }

// OnUnicastFailed ignores a unicast whose target was gone.
func (d *Direct) OnUnicastFailed(id, event string) {}
