package bench

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// The pubsub scenario (S9): every connection subscribes to one channel
// over a push server's own JSON protocol, and publishes come from outside,
// through the server's HTTP API (see Publisher). Two protocols:
//
//	plezi       /push: {"event":"subscribe","channel":C,"_EID_":1} answered
//	            {"event":"_ack_","_EID_":1}; a publish arrives as
//	            {"event":"message","channel":C,"data":<data>}
//	centrifugo  /connection/websocket, JSON protocol v2:
//	            {"id":1,"connect":{}} then {"id":2,"subscribe":{"channel":C}};
//	            a publish arrives as {"push":{"channel":C,"pub":{"data":<data>}}};
//	            one frame may carry several replies, one per line; the server's
//	            ping {} is answered {}
//
// The data of every publish is a JSON string that starts with PubMarker and
// a text stamp (TextStampSize hex digits of CLOCK_MONOTONIC, taken just
// before the publisher sends the request), so a receiver finds each
// delivery in whatever envelope the server wraps it and measures the
// publish-to-delivery latency.

// Push protocols of the pubsub scenario (Config.Proto).
const (
	ProtoPlezi      = "plezi"
	ProtoCentrifugo = "centrifugo"
)

// PubMarker starts the data string of every publish: `"@@` then the stamp.
const PubMarker = `"@@`

// DefaultChannel is the channel the pubsub scenario uses by default.
const DefaultChannel = "news"

// pubDataMin is the smallest data string: marker, stamp, closing quote.
const pubDataMin = len(PubMarker) + TextStampSize + 1

// PublishBody returns the HTTP API body of one publish, the same for
// plezi and Centrifugo: {"channel":C,"data":"@@<stamp>xxx…"} with the data
// string payload bytes long as JSON (quotes included; at least pubDataMin).
// channel must be JSON-safe (see channelOK). Pure: safe from any goroutine;
// the slice is the caller's.
func PublishBody(channel string, payload int, ts int64) []byte {
	payload = max(payload, pubDataMin)
	b := make([]byte, 0, len(channel)+payload+32)
	b = append(b, `{"channel":"`...)
	b = append(b, channel...)
	b = append(b, `","data":`...)
	b = append(b, PubMarker...)
	b = appendTextStamp(b, ts)
	for range payload - pubDataMin {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}

// appendTextStamp appends ts as TextStampSize lowercase hex digits.
func appendTextStamp(b []byte, ts int64) []byte {
	s := strconv.FormatUint(uint64(ts), 16)
	for range TextStampSize - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// channelOK reports whether name can be written into a JSON string as is.
func channelOK(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c > 0x7E || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// scanStamps records now − stamp in h for each publish in p (a message
// payload, unmasked) and returns how many it found: every PubMarker
// followed by a valid text stamp. It never allocates and keeps no
// reference to p.
func scanStamps(p []byte, h *Histogram, now int64) int {
	n := 0
	for {
		i := bytes.Index(p, []byte(PubMarker))
		if i < 0 {
			return n
		}
		p = p[i+len(PubMarker):]
		if ts, ok := TextStampOf(p); ok {
			h.Record(now - ts)
			n++
			p = p[TextStampSize:]
		}
	}
}

// setupEvent is what one server reply means while a connection subscribes.
type setupEvent uint8

const (
	setupNone       setupEvent = iota // nothing for the client to do (plezi's welcome)
	setupConnected                    // centrifugo: connect answered; subscribe next
	setupSubscribed                   // the subscription is acknowledged
	setupFailed                       // an error reply, or a reply this client never asked for
)

// setupReply is a setup-phase reply of either protocol, decoded loosely.
type setupReply struct {
	Event     string          `json:"event"`
	EID       json.RawMessage `json:"_EID_"` // raw: plezi's welcome has a string "id"
	ID        json.RawMessage `json:"id"`
	Connect   json.RawMessage `json:"connect"`
	Subscribe json.RawMessage `json:"subscribe"`
	Error     json.RawMessage `json:"error"`
}

// parseSetup reads one reply (one line, for centrifugo) received before
// the connection is subscribed. Replies that are not JSON objects fail;
// pings and pushes are setupNone. It allocates (a connection's setup is
// not the hot path). Pure: safe from any goroutine.
func parseSetup(proto string, line []byte) setupEvent {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return setupNone
	}
	var r setupReply
	if json.Unmarshal(line, &r) != nil {
		return setupFailed
	}
	if proto == ProtoCentrifugo {
		switch {
		case len(r.Error) > 0:
			return setupFailed
		case string(r.ID) == "1" && len(r.Connect) > 0:
			return setupConnected
		case string(r.ID) == "2" && len(r.Subscribe) > 0:
			return setupSubscribed
		}
		return setupNone
	}
	switch {
	case r.Event == "_err_":
		return setupFailed
	case r.Event == "_ack_" && string(r.EID) == "1":
		return setupSubscribed
	}
	return setupNone
}

// cutReply splits the first reply off p: the whole message for plezi,
// the first line for centrifugo (its frames batch replies, one per line).
func cutReply(proto string, p []byte) (reply, rest []byte) {
	if proto != ProtoCentrifugo {
		return p, nil
	}
	if i := bytes.IndexByte(p, '\n'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return p, nil
}

// hasPing reports whether a centrifugo message holds the server's ping,
// an empty reply "{}" on a line of its own. It never allocates.
func hasPing(p []byte) bool {
	const ping = "{}"
	for len(p) > 0 {
		line := p
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line, p = p[:i], p[i+1:]
		} else {
			p = nil
		}
		if string(bytes.TrimSpace(line)) == ping {
			return true
		}
	}
	return false
}

// setupCommands are the text payloads a connection sends to subscribe:
// first (at open) and, for centrifugo, second (once connect is answered).
func setupCommands(proto, channel string) (first, second []byte) {
	if proto == ProtoCentrifugo {
		return []byte(`{"id":1,"connect":{}}`), []byte(`{"id":2,"subscribe":{"channel":"` + channel + `"}}`)
	}
	return []byte(`{"event":"subscribe","channel":"` + channel + `","_EID_":1}`), nil
}

// pubsubPath is the default websocket path of a push protocol.
func pubsubPath(proto string) string {
	if proto == ProtoCentrifugo {
		return "/connection/websocket"
	}
	return "/push"
}
