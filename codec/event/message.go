package event

import "bytes"

// Raw is a raw JSON value. As a method parameter it aliases the message
// buffer and is valid only until the method returns (copy it to keep it);
// json.RawMessage parameters get a copy instead. As an argument to the
// Append functions it is written verbatim after validation. Nested in other
// types it behaves like json.RawMessage.
type Raw []byte

// MarshalJSON returns r itself (not a copy), or null when r is empty.
func (r Raw) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}

// UnmarshalJSON stores a copy of b, which it does not keep.
func (r *Raw) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// Message is one parsed client message. Its fields alias the buffer given
// to Parse (Name may be a fresh copy when the name holds escapes) and are
// valid as long as that buffer is neither modified nor reused.
type Message struct {
	// Name is the decoded "event" string.
	Name []byte
	// EID is the raw JSON value of "_EID_", nil when absent or null.
	EID []byte
	// Args is the raw JSON value of "args" (an array when well formed),
	// nil when absent or null.
	Args []byte
	// Object is the whole JSON object, without surrounding whitespace;
	// nil for a Message built by ParseArgs.
	Object []byte
}

// Parse parses one client message: a JSON object with a string "event"
// field. It scans only the top-level keys and validates the rest without
// decoding it, so it does not allocate unless the event name holds
// escapes. When a key repeats, the last one wins (as encoding/json does).
//
// Errors: ErrNotJSON when b is not exactly one valid JSON object,
// ErrNoEvent when "event" is missing or not a string.
//
// Parse is safe for concurrent use. The Message aliases b; see Message.
func Parse(b []byte) (Message, error) {
	var m Message
	start := skipWS(b, 0)
	if start >= len(b) || b[start] != '{' {
		return m, ErrNotJSON
	}
	var name []byte
	end := scanObject(b, start, func(key []byte, escaped bool, val []byte) {
		switch {
		case bodyEquals(key, escaped, "event"):
			name = val
		case bodyEquals(key, escaped, "_EID_"):
			m.EID = nonNull(val)
		case bodyEquals(key, escaped, "args"):
			m.Args = nonNull(val)
		}
	})
	if end < 0 || skipWS(b, end) != len(b) {
		return Message{}, ErrNotJSON
	}
	m.Object = b[start:end]
	if len(name) == 0 || name[0] != '"' {
		return Message{}, ErrNoEvent
	}
	m.Name = decodeName(name)
	return m, nil
}

// ParseArgs wraps a raw JSON array of arguments (as written by AppendArgs)
// as a Message for Method.Call. The Message aliases raw and has no Name,
// EID or Object. An empty raw or a JSON null means no arguments; raw is
// validated by Call, not here. Safe for concurrent use.
func ParseArgs(raw []byte) Message {
	if len(raw) == 0 || string(bytes.Trim(raw, " \t\r\n")) == "null" {
		return Message{}
	}
	return Message{Args: raw}
}

// decodeName returns the body of the JSON string s, decoded; a copy only
// when decoding changes it.
func decodeName(s []byte) []byte {
	body := s[1 : len(s)-1]
	if plainString(body, bytes.IndexByte(body, '\\') >= 0) {
		return body
	}
	return appendUnquoted(make([]byte, 0, len(body)), body)
}

// nonNull returns v, or nil when v is the JSON null.
func nonNull(v []byte) []byte {
	if string(v) == "null" {
		return nil
	}
	return v
}

// lookupKey returns the raw value of the last top-level key of the JSON
// object obj that decodes to key, or nil. obj must be valid JSON.
func lookupKey(obj []byte, key string) []byte {
	var v []byte
	if len(obj) == 0 || obj[0] != '{' {
		return nil
	}
	scanObject(obj, 0, func(k []byte, escaped bool, val []byte) {
		if bodyEquals(k, escaped, key) {
			v = val
		}
	})
	return v
}
