// Package event is the JSON event protocol of Plezi websockets and the
// event tables of controllers: it parses client messages, binds event
// names to controller methods, decodes arguments into their parameters,
// and encodes the messages the server sends. Bytes ↔ messages, no I/O.
// This page is the protocol's reference; package dispatch runs it and the
// browser client (/plezi.js) speaks it.
//
// # Wire format
//
// Every message is one JSON object in a text frame, on a route with
// auto-dispatch on (the default for controllers with event methods).
//
//	client → server  {"event":"said","_EID_":7,"args":["bob","hi"]}
//	event push       {"event":"said","args":["bob","hi"]}
//	notification     {"event":"said","_NID_":12,"_identity":"bob","args":[...]}
//	  after drops    {"event":"said","_NID_":12,"_identity":"bob","args":[...],"_gap_":3}
//	ack              {"event":"_ack_","_EID_":7,"data":<returned value>}
//	error            {"event":"_err_","_EID_":7,"status":404,"error":"..."}
//	internal error   {"event":"_err_","_EID_":7,"status":500,"error":"internal error","ref":"..."}
//
// Client messages: "event" names the event (a string; required). "_EID_"
// is optional and is echoed raw, whatever its JSON type; a null "_EID_"
// counts as absent. A message without "_EID_" that parses is never
// answered, not even with an error. "args" holds the positional
// arguments; without it the object's other members are the payload (see
// Arguments below). Members are matched after unescaping; when a key
// repeats, the last one wins.
//
// Answers to a message with "_EID_": an ack when the method ran, carrying
// "data" only when the method returned a value; else an error. Error
// statuses: 400 arguments that do not decode; 404 no such event (or one
// the route does not let clients call; a controller with an Unknown
// method takes those instead, and the ack follows); the status of a
// dispatch.StatusError the method returned, with its text; 500 "internal
// error" with a "ref" for any other error or a result that does not
// encode (the server logs the same ref with the real error). A text frame
// that is not a JSON object with a string "event" gets
// {"event":"_err_","status":400,"error":"message is not a JSON event"}
// and the connection is closed with 1007.
//
// Server pushes (Emit, Multicast, Broadcast, Unicast, PublishEvent to a
// client whose controller has no method of that name) carry "args" when
// there are arguments. Notifications (Notify, and the mailbox backlog a
// RegisterAs delivers) add "_NID_", the note's id, increasing per
// identity, and "_identity". "_gap_":n, on the first note delivered after
// notes the mailbox dropped to stay within its bounds, says how many ids
// above the client's resume point were dropped; it is the last member.
//
// Resume: a client that reconnects puts _resume=<JSON {identity: id}>
// (URL-encoded) in the websocket URL's query, where id is the _NID_ up to
// which it saw every note (not the highest seen: notes of two notifiers
// may arrive out of order); RegisterAs then delivers the notes above it.
// Clients drop a note whose _NID_ they have already seen (a note may
// arrive live and in the backlog), and deliver a late one.
//
// All strings are written as encoding/json writes them, minus HTML
// escaping: invalid UTF-8 becomes U+FFFD and U+2028/U+2029 are escaped, so
// every frame is valid UTF-8 and valid JavaScript. Member order is as
// shown; clients must not depend on it.
//
// # Binding rules
//
// NewTable reads a controller's pointer type once. An event method is an
// exported method of that type that
//   - is not named in the exclude set (lifecycle callbacks such as
//     OnOpen, and the methods promoted from the embedded socket);
//   - is not variadic;
//   - has only parameters JSON can decode into: no channel, function,
//     unsafe.Pointer, complex number or non-empty interface;
//   - returns nothing, T, error, or (T, error), where T has a JSON form.
//
// Table.Err names every other exported method and why it cannot be an
// event (package dispatch refuses a route whose controller has one).
// Table.Only selects a subset by name: the events a route's clients may
// call.
//
// Event names: a method ChatMessage answers to "ChatMessage",
// "chat_message" and "chatMessage"; Said to "Said" and "said".
//
// Arguments:
//   - When the message has "args" (a JSON array), args[i] is decoded into
//     parameter i. Fewer arguments leave zero values; more is an error
//     (400), and so is "args" that is not an array.
//   - Otherwise, a method with one parameter gets the whole object when
//     the parameter is a struct, a pointer to a struct or a map (a pointer
//     parameter is never nil then), and the "data" field for any other
//     type (its zero value when there is no "data"). A map does not get
//     the protocol members "event" and "_EID_".
//   - Otherwise (no "args", two or more parameters), zero values.
//   - A lone parameter of type Raw (dispatch.RawArgs is Raw) or
//     json.RawMessage gets the raw "args" array if there is one, else the
//     raw object, undecoded, however many arguments there are. A Raw
//     parameter aliases the message buffer and is valid only until the
//     method returns; a json.RawMessage is a copy. CallValues gives it the
//     arguments as the JSON array a remote node's method gets.
//
// Decoding follows encoding/json: JSON null leaves the zero value, numbers
// must fit the parameter's type without losing a fraction, invalid UTF-8
// becomes U+FFFD, and types that implement json.Unmarshaler or
// encoding.TextUnmarshaler decode themselves. Strings, booleans and
// numbers are decoded here directly; every other type by
// github.com/bytedance/sonic, configured to copy strings out of the
// message buffer. Decoded values never alias the message (Raw excepted).
//
// Results: Call returns the method's error as it is; package dispatch
// answers it (a 500 "internal error" with a "ref" that is also in its log,
// unless the error carries its own status and text); a value becomes the
// ack's "data". Call does not recover panics: the
// caller does, and answers 500.
//
// # Encoding
//
// The Append functions write server messages into a caller's buffer.
// Strings, booleans, numbers, []byte (base64), Raw and json.RawMessage
// (written verbatim after a validity check) are encoded here without
// allocating; other values go to sonic with encoding/json's conventions
// (sorted map keys) minus HTML escaping.
//
// # Use
//
//	tb := event.NewTable(reflect.TypeFor[*Chat](), exclude)
//	msg, err := event.Parse(frame) // ErrNotJSON, ErrNoEvent
//	m := tb.Lookup(msg.Name)       // nil → 404
//	res, ok, callErr, decErr := m.Call(reflect.ValueOf(chat), msg)
//	if msg.EID != nil && decErr == nil && callErr == nil {
//		out, err = event.AppendAck(out[:0], msg.EID, res, ok)
//	}
//
// Everything here is safe for concurrent use; a Table is immutable.
package event
