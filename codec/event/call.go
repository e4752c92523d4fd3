package event

import "reflect"

// inline is the number of call arguments (receiver included) kept on the
// stack.
const inline = 8

// Call decodes the arguments of msg for the method and calls it on recv,
// which must be a value of the table's controller type (a mismatch panics).
// The binding rules are in the package documentation.
//
// It returns the method's value (hasResult false when it returns none or
// returned an error), the error it returned (callErr), or, when the
// arguments did not decode, decodeErr (ErrArgsNotArray, ErrNotJSON,
// ErrTooManyArgs or an *ArgError) without calling the method. A panic in
// the method is not recovered.
//
// Call runs the method on the calling goroutine and is safe for
// concurrent use as far as the method is. Decoded arguments do not alias
// msg, except Raw parameters, which are valid until the method returns.
func (m *Method) Call(recv reflect.Value, msg Message) (result any, hasResult bool, callErr error, decodeErr error) {
	var st reflect.Value
	if m.argsType != nil {
		st = reflect.New(m.argsType).Elem()
	}
	if m.argsType != nil || msg.Args != nil { // no parameters: args must be empty
		if err := m.fill(st, msg); err != nil {
			return nil, false, nil, err
		}
	}
	return m.invoke(recv, st)
}

// fill decodes msg into the argument struct st.
func (m *Method) fill(st reflect.Value, msg Message) error {
	if len(m.params) == 1 && m.single == singleRaw {
		return m.fillRaw(st.Field(0), msg)
	}
	if msg.Args != nil {
		return m.fillArgs(st, msg.Args)
	}
	if len(m.params) != 1 {
		return nil
	}
	return m.fillSingle(st.Field(0), msg.Object)
}

// fillRaw gives a lone Raw or json.RawMessage parameter the raw args, or
// else the raw object.
func (m *Method) fillRaw(v reflect.Value, msg Message) error {
	raw := msg.Args
	if raw == nil {
		raw = msg.Object
	}
	if raw == nil {
		return nil
	}
	if msg.Object == nil && !validValue(raw) { // from ParseArgs: not checked yet
		return ErrNotJSON
	}
	return decodeArg(raw, v, m.kinds[0])
}

// fillSingle fills the lone parameter v from the message object.
func (m *Method) fillSingle(v reflect.Value, obj []byte) error {
	raw := obj
	switch {
	case m.single == singleData:
		raw = lookupKey(obj, "data")
	case obj != nil && v.Kind() == reflect.Map:
		raw = withoutProtocolKeys(obj)
	}
	if raw == nil {
		if m.single == singleObject && v.Kind() == reflect.Pointer {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return nil
	}
	if err := decodeArg(raw, v, m.kinds[0]); err != nil {
		return &ArgError{Index: 0, Type: m.params[0], Err: err}
	}
	return nil
}

// withoutProtocolKeys copies the object obj without its "event" and
// "_EID_" members, so that a map parameter gets only the payload.
func withoutProtocolKeys(obj []byte) []byte {
	out := make([]byte, 1, len(obj))
	out[0] = '{'
	scanObject(obj, 0, func(key []byte, escaped bool, val []byte) {
		if bodyEquals(key, escaped, "event") || bodyEquals(key, escaped, "_EID_") {
			return
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, key...)
		out = append(out, '"', ':')
		out = append(out, val...)
	})
	return append(out, '}')
}

// fillArgs decodes the JSON array raw into the fields of st, one element
// per parameter.
func (m *Method) fillArgs(st reflect.Value, raw []byte) error {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		if validValue(raw) {
			return ErrArgsNotArray
		}
		return ErrNotJSON
	}
	if i = skipWS(raw, i+1); i < len(raw) && raw[i] == ']' {
		return trailing(raw, i+1)
	}
	for n := 0; ; n++ {
		end := skipValue(raw, i, 1)
		if end < 0 {
			return ErrNotJSON
		}
		if n >= len(m.params) {
			return ErrTooManyArgs
		}
		if err := decodeArg(raw[i:end], st.Field(n), m.kinds[n]); err != nil {
			return &ArgError{Index: n, Type: m.params[n], Err: err}
		}
		if i = skipWS(raw, end); i >= len(raw) {
			return ErrNotJSON
		}
		switch raw[i] {
		case ',':
			i = skipWS(raw, i+1)
		case ']':
			return trailing(raw, i+1)
		default:
			return ErrNotJSON
		}
	}
}

// trailing checks that only whitespace follows raw[i].
func trailing(raw []byte, i int) error {
	if skipWS(raw, i) != len(raw) {
		return ErrNotJSON
	}
	return nil
}

// invoke calls the method with recv and the fields of st (when valid).
func (m *Method) invoke(recv reflect.Value, st reflect.Value) (any, bool, error, error) {
	var buf [inline]reflect.Value
	in := buf[:0]
	if len(m.params)+1 > inline {
		in = make([]reflect.Value, 0, len(m.params)+1)
	}
	in = append(in, recv)
	for i := range m.params {
		in = append(in, st.Field(i))
	}
	out := m.fn.Call(in)
	return m.results(out)
}

// results converts the method's results.
func (m *Method) results(out []reflect.Value) (any, bool, error, error) {
	switch m.ret {
	case retValue:
		return out[0].Interface(), true, nil, nil
	case retError:
		return nil, false, asError(out[0]), nil
	case retValueError:
		if err := asError(out[1]); err != nil {
			return nil, false, err, nil
		}
		return out[0].Interface(), true, nil, nil
	}
	return nil, false, nil, nil
}

// asError returns the error held by v, a value of type error.
func asError(v reflect.Value) error {
	if v.IsNil() {
		return nil
	}
	return v.Interface().(error)
}
