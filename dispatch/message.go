package dispatch

import "github.com/plezigo/plezi/codec/event"

// Message is one websocket message given to OnMessage. Data is valid only
// until OnMessage returns; copy it to keep it.
type Message struct {
	Data   []byte
	Binary bool
}

// Text returns the data as a string (a copy). Concurrency-safe.
func (m Message) Text() string { return string(m.Data) }

// RawArgs is the raw JSON of an event's arguments: the "args" array, or
// the whole event object when the message had none. It is event.Raw
// (package codec/event), so an event method whose lone parameter is a
// RawArgs gets the arguments undecoded, as Unknown does. From a client
// message it aliases the read buffer and is valid until the callback
// returns: copy it to keep it. Server-side deliveries give it the JSON
// array of their arguments, as every node sees it.
type RawArgs = event.Raw
