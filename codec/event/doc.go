// Package event is the JSON event protocol of Plezi websockets and the
// event tables of controllers: it parses client messages, binds event
// names to controller methods, decodes arguments into their parameters,
// and encodes the messages the server sends.
//
// # Wire format
//
// Every message is one JSON object in a text frame.
//
//	client → server  {"event":"said","_EID_":7,"args":["bob","hi"]}
//	event push       {"event":"said","args":["bob","hi"]}
//	notification     {"event":"said","_NID_":12,"_identity":"bob","args":[...]}
//	ack              {"event":"_ack_","_EID_":7,"data":<returned value>}
//	error            {"event":"_err_","_EID_":7,"status":404,"error":"..."}
//	internal error   {"event":"_err_","_EID_":7,"status":500,"error":"internal error","ref":"..."}
//
// "_EID_" is optional and is echoed raw, whatever its JSON type; a null
// "_EID_" counts as absent. The ack carries "data" only when the method
// returned a value. Error statuses: 404 no such event, 400 arguments that
// do not decode, 500 the method returned an error or panicked.
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
//   - A lone parameter of type Raw or json.RawMessage gets the raw "args"
//     array if there is one, else the raw object, undecoded. A Raw
//     parameter aliases the message buffer and is valid only until the
//     method returns; a json.RawMessage is a copy.
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
