package push

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// answer is one API result: its HTTP status and JSON body.
type answer struct {
	status int
	body   any
}

func ok(fields ...any) answer {
	m := map[string]any{"ok": true}
	for i := 0; i+1 < len(fields); i += 2 {
		m[fields[i].(string)] = fields[i+1]
	}
	return answer{http.StatusOK, m}
}

// refuse is a 4xx/5xx answer; field names the request field at fault.
func refuse(status int, field, msg string) answer {
	m := map[string]any{"ok": false, "error": msg}
	if field != "" {
		m["field"] = field
	}
	return answer{status, m}
}

func badRequest(err error) answer {
	var fe *fieldErr
	if errors.As(err, &fe) {
		return refuse(http.StatusBadRequest, fe.Field, fe.Error())
	}
	return refuse(http.StatusBadRequest, "", err.Error())
}

// op is one API endpoint: POST <prefix>/<name> with a JSON body, or GET
// for stats.
type op struct {
	method string
	run    func(s *Service, body []byte) answer
}

// ops are the endpoints by name; batch takes every POST one but itself.
var ops map[string]op

func init() {
	ops = map[string]op{
		"publish":    {http.MethodPost, (*Service).apiPublish},
		"multicast":  {http.MethodPost, (*Service).apiMulticast},
		"broadcast":  {http.MethodPost, (*Service).apiBroadcast},
		"unicast":    {http.MethodPost, (*Service).apiUnicast},
		"notify":     {http.MethodPost, (*Service).apiNotify},
		"disconnect": {http.MethodPost, (*Service).apiDisconnect},
		"batch":      {http.MethodPost, (*Service).apiBatch},
		"stats":      {http.MethodGet, func(s *Service, _ []byte) answer { return answer{http.StatusOK, s.clusterStats()} }},
	}
}

// mountAPI adds one handler per endpoint and a JSON 404 for the rest of
// the prefix.
func (s *Service) mountAPI() error {
	var errs []error
	for name, o := range ops {
		errs = append(errs, s.srv.Handle(s.cfg.APIPrefix+"/"+name, s.handler(o)))
	}
	errs = append(errs, s.srv.Handle(s.cfg.APIPrefix+"/*", s.handler(op{run: func(*Service, []byte) answer {
		return refuse(http.StatusNotFound, "", "no such endpoint")
	}})))
	return errors.Join(errs...)
}

// handler checks the API key, the method and the body size, runs o and
// writes its answer as JSON. It runs on a server worker.
func (s *Service) handler(o op) server.Handler {
	return func(r *dispatch.Request, body []byte) server.Response {
		a := s.serve(o, r, body)
		s.count(a.status)
		resp := jsonResponse(a)
		if a.status == http.StatusMethodNotAllowed {
			allow := o.method
			if allow == http.MethodGet {
				allow += ", HEAD"
			}
			resp.Header = []string{"Allow: " + allow}
		}
		return resp
	}
}

func (s *Service) serve(o op, r *dispatch.Request, body []byte) answer {
	if !s.key.Allows(r) {
		return refuse(http.StatusUnauthorized, "", "missing or wrong API key (X-API-Key: <key> or Authorization: apikey <key>)")
	}
	m := string(r.Raw().Method())
	if o.method != "" && m != o.method && !(o.method == http.MethodGet && m == http.MethodHead) {
		return refuse(http.StatusMethodNotAllowed, "", m+" not allowed; use "+o.method)
	}
	if int64(len(body)) > s.cfg.MaxBody {
		return refuse(http.StatusRequestEntityTooLarge, "", "body over "+itoa(int(s.cfg.MaxBody))+" bytes")
	}
	return o.run(s, body)
}

func (s *Service) count(status int) {
	switch {
	case status < 300:
		s.stats.APICalls.Add(1)
	case status == http.StatusUnauthorized:
		s.stats.APIUnauthorized.Add(1)
	case status == http.StatusServiceUnavailable:
		s.stats.APIFailed.Add(1)
	default:
		s.stats.APIRefused.Add(1)
	}
}

// jsonResponse writes a's body as JSON (no HTML escaping) and a newline.
func jsonResponse(a answer) server.Response {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a.body); err != nil {
		a.status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(`{"ok":false,"error":"internal error"}` + "\n")
	}
	return server.Response{Status: a.status, ContentType: "application/json", Body: b.Bytes()}
}

// decode reads body into v strictly: one JSON object, no unknown fields,
// nothing after it. The error names the field at fault.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &fieldErr{Msg: "empty body; want a JSON object"}
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fieldError(err)
	}
	if d.More() {
		return &fieldErr{Msg: "more than one JSON value"}
	}
	return nil
}

// name checks a required name field: 1 to MaxName bytes.
func (s *Service) name(field, v string) error {
	if v == "" {
		return &fieldErr{Field: field, Msg: "required"}
	}
	if len(v) > s.cfg.MaxName {
		return &fieldErr{Field: field, Msg: "over " + itoa(s.cfg.MaxName) + " bytes"}
	}
	return nil
}

// eventName checks an event name: a name, not one of the protocol's
// ("_ack_", anything starting with "_") and not the push server's own
// disconnect event in any spelling.
func (s *Service) eventName(v string) error {
	if err := s.name("event", v); err != nil {
		return err
	}
	if strings.HasPrefix(v, "_") || strings.EqualFold(strings.ReplaceAll(v, "_", ""), strings.ReplaceAll(disconnectEvent, "_", "")) {
		return &fieldErr{Field: "event", Msg: "reserved name " + v}
	}
	return nil
}

// args decodes an "args" array into values the hub writes verbatim.
func args(raw json.RawMessage) ([]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, &fieldErr{Field: "args", Msg: "want an array"}
	}
	out := make([]any, len(list))
	for i, a := range list {
		out[i] = a
	}
	return out, nil
}
