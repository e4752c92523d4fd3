package push

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/plezigo/plezi/dispatch"
)

// Request bodies. Op is the endpoint's name inside /api/batch (ignored
// elsewhere).
type (
	publishReq struct {
		Op      string          `json:"op"`
		Channel string          `json:"channel"`
		Data    json.RawMessage `json:"data"`
	}
	eventReq struct { // multicast, broadcast, unicast
		Op         string          `json:"op"`
		Controller string          `json:"controller"`
		ID         string          `json:"id"`
		Event      string          `json:"event"`
		Args       json.RawMessage `json:"args"`
	}
	notifyReq struct {
		Op       string          `json:"op"`
		Identity string          `json:"identity"`
		Event    string          `json:"event"`
		Data     json.RawMessage `json:"data"`
	}
	disconnectReq struct {
		Op       string `json:"op"`
		ID       string `json:"id"`
		Identity string `json:"identity"`
	}
)

// apiPublish: {"channel","data"} → every subscriber reads
// {"event":"message","channel":...,"data":...}, encoded once.
func (s *Service) apiPublish(body []byte) answer {
	var q publishReq
	if err := decode(body, &q); err != nil {
		return badRequest(err)
	}
	if err := s.name("channel", q.Channel); err != nil {
		return badRequest(err)
	}
	s.hub.Publish(q.Channel, messageFrame(q.Channel, q.Data))
	return ok()
}

// event decodes an event request and checks the fields want lists.
func (s *Service) event(body []byte, want ...string) (eventReq, []any, error) {
	var q eventReq
	if err := decode(body, &q); err != nil {
		return q, nil, err
	}
	for _, f := range want {
		v := q.ID
		if f == "controller" {
			v = q.Controller
		}
		if err := s.name(f, v); err != nil {
			return q, nil, err
		}
	}
	if err := s.eventName(q.Event); err != nil {
		return q, nil, err
	}
	a, err := args(q.Args)
	return q, a, err
}

// apiMulticast: {"event","args"} → every connection of every node.
func (s *Service) apiMulticast(body []byte) answer {
	q, a, err := s.event(body)
	if err != nil {
		return badRequest(err)
	}
	s.hub.Multicast(q.Event, a...)
	return ok()
}

// apiBroadcast: {"controller","event","args"} → every connection of one
// controller type ("push" for /push; the type's name, first letter in
// either case).
func (s *Service) apiBroadcast(body []byte) answer {
	q, a, err := s.event(body, "controller")
	if err != nil {
		return badRequest(err)
	}
	s.hub.BroadcastTo(strings.ToUpper(q.Controller[:1])+q.Controller[1:], q.Event, a...)
	return ok()
}

// apiUnicast: {"id","event","args"} → one connection; "delivered":false
// when it is known to be gone.
func (s *Service) apiUnicast(body []byte) answer {
	q, a, err := s.event(body, "id")
	if err != nil {
		return badRequest(err)
	}
	return ok("delivered", s.hub.Unicast(q.ID, q.Event, a...))
}

// apiNotify: {"identity","event","data"} → the identity's mailbox and live
// connections. "registered":false when the identity is unknown or expired;
// a failing identity store is a 503, never false.
func (s *Service) apiNotify(body []byte) answer {
	var q notifyReq
	if err := decode(body, &q); err != nil {
		return badRequest(err)
	}
	if err := s.name("identity", q.Identity); err != nil {
		return badRequest(err)
	}
	if q.Event == "" {
		q.Event = notifyEvent
	} else if err := s.eventName(q.Event); err != nil {
		return badRequest(err)
	}
	res, err := s.hub.NotifyErr(q.Identity, q.Event, rawOrNull(q.Data))
	switch {
	case err == nil:
		return ok("registered", true, "id", strconv.FormatUint(res.ID, 10), "dropped", res.Dropped)
	case errors.Is(err, dispatch.ErrNotRegistered):
		return ok("registered", false)
	case errors.Is(err, dispatch.ErrNoteTooLarge):
		return refuse(http.StatusRequestEntityTooLarge, "data", "note larger than a mailbox takes")
	case errors.Is(err, dispatch.ErrMailFull):
		return refuse(http.StatusServiceUnavailable, "", "mailboxes full")
	}
	s.cfg.Logger.Warn("push: notify failed", "identity", q.Identity, "err", err)
	return refuse(http.StatusServiceUnavailable, "", "identity store unavailable")
}

// apiDisconnect: {"id"} or {"identity"} → closes the /push connection(s)
// with CloseDisconnected, which plezi.js does not reconnect after.
func (s *Service) apiDisconnect(body []byte) answer {
	var q disconnectReq
	if err := decode(body, &q); err != nil {
		return badRequest(err)
	}
	switch {
	case q.ID != "" && q.Identity != "":
		return refuse(http.StatusBadRequest, "id", "give id or identity, not both")
	case q.ID != "":
		if err := s.name("id", q.ID); err != nil {
			return badRequest(err)
		}
		return ok("delivered", s.hub.Unicast(q.ID, disconnectEvent, ""))
	case q.Identity != "":
		if err := s.name("identity", q.Identity); err != nil {
			return badRequest(err)
		}
		// This node closes the connections in its index; the others are
		// told over the broker, one message each (the identity store
		// knows an identity's connections but has no call that lists
		// them without storing a note).
		s.holders.close(q.Identity)
		if b := s.srv.Broker(); b != nil {
			msg, _ := json.Marshal(disconnectMsg{Node: s.hub.Node(), Identity: q.Identity})
			if err := b.Publish(disconnectTopic, msg); err != nil {
				return refuse(http.StatusServiceUnavailable, "", "broker unavailable: other nodes not reached")
			}
		}
		return ok()
	}
	return refuse(http.StatusBadRequest, "id", "required: id or identity")
}

// apiBatch: an array of requests, each with "op" naming its endpoint,
// answered in order: {"ok":true,"results":[{"status":200,...},...]}.
func (s *Service) apiBatch(body []byte) answer {
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return refuse(http.StatusBadRequest, "", "want a JSON array of requests")
	}
	if len(items) > s.cfg.MaxBatch {
		return refuse(http.StatusRequestEntityTooLarge, "", "at most "+itoa(s.cfg.MaxBatch)+" items in a batch")
	}
	results := make([]any, len(items))
	for i, it := range items {
		a := s.batchItem(it)
		m, _ := a.body.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		m["status"] = a.status
		results[i] = m
	}
	return ok("results", results)
}

func (s *Service) batchItem(item json.RawMessage) answer {
	var head struct {
		Op string `json:"op"`
	}
	if json.Unmarshal(item, &head) != nil {
		return refuse(http.StatusBadRequest, "", "want a JSON object")
	}
	o, found := ops[head.Op]
	if !found || head.Op == "batch" || o.method != http.MethodPost {
		return refuse(http.StatusBadRequest, "op", "want publish, multicast, broadcast, unicast, notify or disconnect")
	}
	return o.run(s, item)
}

func rawOrNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}
