package ops

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// statusHTML is the status page: plain HTML and script, no build step. It
// carries no data; it polls /status.json with the API key the user gives
// it (in the URL fragment, #key=..., which never reaches the server, or in
// its form), kept in sessionStorage.
//
//go:embed status.html
var statusHTML []byte

// statusPage serves the page to GET and HEAD.
func statusPage(r *dispatch.Request, _ []byte) server.Response {
	if m := string(r.Raw().Method()); m != http.MethodGet && m != http.MethodHead {
		return server.Response{Status: http.StatusMethodNotAllowed, Body: []byte("method not allowed\n"), Header: []string{"Allow: GET, HEAD"}}
	}
	return server.Response{ContentType: "text/html; charset=utf-8", Body: statusHTML, Header: []string{
		"Cache-Control: no-store",
		"Content-Security-Policy: default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'",
		"X-Content-Type-Options: nosniff", "Referrer-Policy: no-referrer",
	}}
}

// Status is the body of /status.json.
type Status struct {
	Node        string  `json:"node"`
	Version     string  `json:"version"`
	Uptime      float64 `json:"uptime_seconds"`
	Ready       bool    `json:"ready"`
	Connections int     `json:"connections"`
	Channels    int     `json:"channels"`
	MessagesIn  int64   `json:"messages_in"`
	MessagesOut int64   `json:"messages_out"`
	BytesIn     int64   `json:"bytes_in"`
	BytesOut    int64   `json:"bytes_out"`
	Broker      Broker  `json:"broker"`
	Time        int64   `json:"time_ms"` // when it was read, unix milliseconds
}

// Broker is the broker's part of Status.
type Broker struct {
	Kind          string `json:"kind"` // "none" (one node), "redis", or the Go type of another broker
	Healthy       bool   `json:"healthy"`
	Deaf          int64  `json:"deaf"`            // Redis: deaf subscriptions found and renewed
	Errors        int64  `json:"errors"`          // failed publishes (and Redis commands)
	Publishes     int64  `json:"publishes"`       // envelopes handed to the broker
	RoundTrips    int64  `json:"round_trips"`     // broker calls that sent them
	FromOtherNode int64  `json:"from_other_node"` // envelopes received
}

// Status reads the node's figures now. Concurrency-safe once the server
// is ready.
func (o *Ops) Status() Status {
	s, h := o.srv, o.srv.Hub()
	return Status{
		Node: h.Node(), Version: o.cfg.Version, Uptime: time.Since(o.start).Seconds(), Ready: s.Healthy(),
		Connections: s.Connections(), Channels: h.Channels(),
		MessagesIn: s.MessagesIn(), MessagesOut: s.MessagesOut(), BytesIn: s.BytesIn(), BytesOut: s.BytesOut(),
		Broker: o.broker(), Time: time.Now().UnixMilli(),
	}
}

func (o *Ops) broker() Broker {
	st := o.srv.Hub().Stats()
	b := Broker{Kind: "none", Healthy: true, Errors: st.PublishErrors.Load(), Publishes: st.ClusterEnvelopes.Load(),
		RoundTrips: st.ClusterRoundTrips.Load(), FromOtherNode: st.RemoteIn.Load()}
	switch br := o.srv.Broker().(type) {
	case nil:
	case *cluster.Redis:
		b.Kind, b.Healthy, b.Deaf, b.Errors = "redis", br.Healthy(), br.Deaf.Load(), br.Errors.Load()
	default:
		b.Kind = typeName(br)
		if hb, ok := br.(interface{ Healthy() bool }); ok {
			b.Healthy = hb.Healthy()
		}
	}
	return b
}

func (o *Ops) statusJSON(*dispatch.Request, []byte) server.Response {
	body, _ := json.Marshal(o.Status()) // plain fields: cannot fail
	return server.Response{ContentType: "application/json", Body: body, Header: []string{"Cache-Control: no-store"}}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }
