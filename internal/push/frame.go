package push

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/plezigo/plezi/codec/event"
)

// frame is one client frame of /push:
//
//	{"event":"subscribe","channel":"news","_EID_":1}
//	{"event":"unsubscribe","channel":"news"}
//	{"event":"publish","channel":"chat:1","data":{...}}
//	{"event":"register","token":"<JWT>","after":"41"}
//	{"event":"refresh","token":"<JWT>"}
type frame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel"`
	Token   string          `json:"token"`
	After   json.RawMessage `json:"after"`
	Data    json.RawMessage `json:"data"`
	eid     []byte          // raw "_EID_", nil when absent or null
}

// errFrame is a frame that is not a JSON object with a string "event".
var errFrame = errors.New("push: frame is not a JSON object with an \"event\" string")

// parseFrame parses one client text frame. It is total: every input gives
// a frame or an error. f aliases b (eid).
func parseFrame(b []byte) (f frame, err error) {
	m, err := event.Parse(b)
	if err != nil {
		return f, errFrame
	}
	err = json.Unmarshal(m.Object, &f)
	f.eid = m.EID
	if err != nil {
		return f, fieldError(err)
	}
	return f, nil
}

// parseNoteID reads a mailbox note id: a decimal string ("41", what the
// server sends), a whole number, or null / absent (0).
func parseNoteID(field string, raw []byte) (uint64, error) {
	s := string(raw)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if s == "null" || s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, &fieldErr{Field: field, Msg: "want a note id: a decimal string or a whole number"}
	}
	return v, nil
}

// appendString appends s as a JSON string (invalid UTF-8 as U+FFFD).
func appendString(dst []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, `\ufffd`...)
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexd[r>>4], hexd[r&15])
		default:
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}

// appendData appends raw JSON compacted, or null when raw is empty. raw
// must be valid JSON (decoded by encoding/json before).
func appendData(dst []byte, raw []byte) []byte {
	if len(raw) == 0 {
		return append(dst, "null"...)
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return append(dst, "null"...)
	}
	return append(dst, b.Bytes()...)
}

// messageFrame is what a subscriber of channel reads for one publish:
// {"event":"message","channel":"news","data":<data>}. Built once per
// publish; the hub writes the same bytes to every subscriber.
func messageFrame(channel string, data []byte) string {
	b := make([]byte, 0, 48+len(channel)+len(data))
	b = append(b, `{"event":"message","channel":`...)
	b = appendString(b, channel)
	b = append(b, `,"data":`...)
	b = appendData(b, data)
	return string(append(b, '}'))
}

// welcomeFrame is the first frame of every /push connection, with
// "ttl_ms" when ttl (the milliseconds until its token expires) is not 0.
func welcomeFrame(id string, ttl int64) []byte {
	b := append([]byte(`{"event":"welcome","id":`), appendString(nil, id)...)
	if ttl > 0 {
		b = append(b, `,"ttl_ms":`...)
		b = strconv.AppendInt(b, ttl, 10)
	}
	return append(b, '}')
}

// notifyFrame is one identity notification as a /push client reads it:
// {"event":"notify","id":"12","identity":"bob","data":<data>}, with
// "name" when the note's event is not "notify" and "gap" when the mailbox
// dropped notes before it.
func notifyFrame(dst []byte, identity string, id, gap uint64, name string, data []byte) []byte {
	dst = append(dst, `{"event":"notify","id":"`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `","identity":`...)
	dst = appendString(dst, identity)
	if name != notifyEvent {
		dst = append(dst, `,"name":`...)
		dst = appendString(dst, name)
	}
	if gap > 0 {
		dst = append(dst, `,"gap":`...)
		dst = strconv.AppendUint(dst, gap, 10)
	}
	dst = append(dst, `,"data":`...)
	dst = appendData(dst, data)
	return append(dst, '}')
}

// notifyEvent is the note event the API uses when the call names none.
const notifyEvent = "notify"

// noteData splits a mailbox note (dispatch's encoding, {"event":name,
// "_NID_":..,"_identity":..,"args":[...]}) into its event name and data:
// the only argument, or the argument array when there are several (a note
// from another controller), or nil when there are none.
func noteData(note []byte) (name string, data []byte, ok bool) {
	m, err := event.Parse(note)
	if err != nil {
		return "", nil, false
	}
	var args []json.RawMessage
	if len(m.Args) > 0 && json.Unmarshal(m.Args, &args) != nil {
		return "", nil, false
	}
	switch len(args) {
	case 0:
		return string(m.Name), nil, true
	case 1:
		return string(m.Name), args[0], true
	}
	return string(m.Name), m.Args, true
}

// fieldError turns an encoding/json error into one naming the field.
func fieldError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return &fieldErr{Field: te.Field, Msg: "want " + te.Type.String()}
	}
	var fe *fieldErr
	if errors.As(err, &fe) {
		return fe
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f, _ = strconv.Unquote(f)
		return &fieldErr{Field: f, Msg: "unknown field"}
	}
	return &fieldErr{Msg: "not valid JSON"}
}

// fieldErr is a request or frame refused for one field (Field "" when
// the body as a whole is wrong).
type fieldErr struct{ Field, Msg string }

func (e *fieldErr) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}
