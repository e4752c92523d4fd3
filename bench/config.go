package bench

import (
	"cmp"
	"time"
)

// Scenario names understood by the engine.
const (
	ScenarioIdle  = "idle"
	ScenarioEcho  = "echo"
	ScenarioPush  = "push"
	ScenarioChurn = "churn"
	// ScenarioUnicast sends each message from one connection to another
	// through the server's unicast route (S4, usually across two nodes).
	ScenarioUnicast = "unicast"
	// ScenarioPubSub subscribes every connection to Channel over the push
	// protocol Proto; publishes come through the server's HTTP API
	// (Publisher), not from a connection (S9, see pubsub.go).
	ScenarioPubSub = "pubsub"
)

// Config describes the connections of one Engine (one worker process) and the
// scenario they play. The zero value of each optional field picks the default
// named in its comment.
type Config struct {
	Scenario string   `json:"scenario"`
	Addr     string   `json:"addr"`              // server "ip:port" (IPv4), when Addrs is empty
	Addrs    []string `json:"addrs,omitempty"`   // servers: connection i dials Addrs[i%len(Addrs)]
	Path     string   `json:"path"`              // upgrade path; default "/echo", "/push", "/unicast"
	Raw      bool     `json:"raw,omitempty"`     // no handshake: raw TCP peers (frames as bytes)
	Conns    int      `json:"conns"`             // connections of this engine (not churn)
	Base     int      `json:"base"`              // global index of this engine's first connection
	Sources  []string `json:"sources,omitempty"` // source IPv4 addresses, used round-robin
	Payload  int      `json:"payload"`           // bytes per message; default 64, at least StampSize (TextStampSize for unicast)
	Loops    int      `json:"loops,omitempty"`   // event loops; default 1
	Proto    string   `json:"proto,omitempty"`   // pubsub: ProtoPlezi (default) or ProtoCentrifugo
	Channel  string   `json:"channel,omitempty"` // pubsub: the channel; default DefaultChannel

	// MaxPending bounds connects and handshakes in flight; default 256.
	MaxPending int `json:"max_pending,omitempty"`
	// HandshakeTimeout fails a connection not upgraded in time; default 10s.
	HandshakeTimeout time.Duration `json:"handshake_timeout,omitempty"`
	// Hold leaves the connections unopened until Connect (in a worker
	// process: until CmdConnect), so that a parent can open the
	// connections of several engines at one moment (S8's storm).
	Hold bool `json:"hold,omitempty"`

	// Push: the connection with global index 0 sends Count messages, Rate
	// per second (default 1), each one delivered to every connection.
	// Unicast: the engine sends Count messages, Rate per second, each from
	// the next connection in turn to its partner on the next address (see
	// Engine.Start); the server writes each to the partner alone.
	Sender bool    `json:"sender,omitempty"`
	Rate   float64 `json:"rate,omitempty"`
	Count  int     `json:"count,omitempty"`
	// SlowEvery makes every SlowEvery-th connection (by global index, never
	// the sender) stop reading once open: S5's slow consumers. SlowRcvBuf is
	// their socket receive buffer (default 4096).
	SlowEvery  int `json:"slow_every,omitempty"`
	SlowRcvBuf int `json:"slow_rcvbuf,omitempty"`

	// Churn: ChurnRate connects per second during Duration; every second
	// connection sends half a handshake and is reset after HalfHold
	// (default 1s).
	ChurnRate float64       `json:"churn_rate,omitempty"`
	Duration  time.Duration `json:"duration,omitempty"`
	HalfHold  time.Duration `json:"half_hold,omitempty"`
}

// withDefaults returns c with zero fields set to their defaults, or
// ErrConfig when c cannot run.
func (c Config) withDefaults() (Config, error) {
	if c.Payload == 0 {
		c.Payload = 64
	}
	if c.Path == "" {
		switch c.Scenario {
		case ScenarioPush:
			c.Path = "/push"
		case ScenarioUnicast:
			c.Path = "/unicast"
		case ScenarioPubSub:
			c.Path = pubsubPath(c.Proto)
		default:
			c.Path = "/echo"
		}
	}
	if len(c.Addrs) == 0 {
		c.Addrs = []string{c.Addr}
	}
	if c.Loops <= 0 {
		c.Loops = 1
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 256
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.Rate <= 0 {
		c.Rate = 1
	}
	if c.Scenario == ScenarioPubSub {
		c.Proto, c.Channel = cmp.Or(c.Proto, ProtoPlezi), cmp.Or(c.Channel, DefaultChannel)
	}
	if c.SlowRcvBuf <= 0 {
		c.SlowRcvBuf = 4096
	}
	if c.HalfHold <= 0 {
		c.HalfHold = time.Second
	}
	return c, c.check()
}

func (c Config) check() error {
	switch {
	case c.Payload < StampSize, c.Conns < 0:
		return ErrConfig
	case c.Scenario == ScenarioChurn && (c.ChurnRate <= 0 || c.Duration <= 0):
		return ErrConfig
	case c.Scenario == ScenarioUnicast && (c.Payload < TextStampSize || c.Raw):
		return ErrConfig
	case c.Scenario == ScenarioPubSub && (c.Raw || c.Proto != ProtoPlezi && c.Proto != ProtoCentrifugo || !channelOK(c.Channel)):
		return ErrConfig
	case c.Scenario != ScenarioIdle && c.Scenario != ScenarioEcho && c.Scenario != ScenarioPush &&
		c.Scenario != ScenarioChurn && c.Scenario != ScenarioUnicast && c.Scenario != ScenarioPubSub:
		return ErrConfig
	}
	return nil
}

// churnTotal is the number of connections a churn run opens.
func (c Config) churnTotal() int {
	return int(c.ChurnRate * c.Duration.Seconds())
}
