package dispatch

// Message is one websocket message given to OnMessage. Data is valid only
// until OnMessage returns; copy it to keep it.
type Message struct {
	Data   []byte
	Binary bool
}

// Text returns the data as a string (a copy). Concurrency-safe.
func (m Message) Text() string { return string(m.Data) }

// RawArgs is the raw JSON of an event's arguments (an array, or the whole
// event object when the message had no "args"), valid until the callback
// returns.
type RawArgs []byte
