package event

import "strconv"

// The Append functions write server messages into dst and return the
// extended slice, like strconv.AppendInt. Each is safe for concurrent use
// (with distinct dst), keeps no reference to its arguments, and, for
// values that are strings, booleans, numbers, []byte, Raw or
// json.RawMessage, does not allocate beyond growing dst. On error the
// returned slice has dst's length; its spare capacity may hold partial
// output.

// AppendPush appends {"event":name,"args":[args...]}, without "args"
// when there are none. See the Append rules above; errors are
// ErrUnsupportedValue, ErrInvalidRaw or the encoder's.
func AppendPush(dst []byte, name string, args ...any) ([]byte, error) {
	start := len(dst)
	dst = append(dst, `{"event":`...)
	dst = appendString(dst, name)
	if len(args) > 0 {
		var err error
		dst = append(dst, `,"args":`...)
		if dst, err = appendArgs(dst, args); err != nil {
			return dst[:start], err
		}
	}
	return append(dst, '}'), nil
}

// AppendPushArgs appends {"event":name,"args":args} with args a JSON array
// as written by AppendArgs, copied as it is; nil, empty or "[]" leaves
// "args" out, so the frame is the one AppendPush writes for the same
// values. Package dispatch builds every fan-out frame with it: encode the
// arguments once, send them to other nodes and to local clients. It cannot
// fail; same rules as AppendPush.
func AppendPushArgs(dst []byte, name string, args []byte) []byte {
	dst = append(dst, `{"event":`...)
	dst = appendString(dst, name)
	if len(args) > 0 && string(args) != "[]" {
		dst = append(dst, `,"args":`...)
		dst = append(dst, args...)
	}
	return append(dst, '}')
}

// AppendArgs appends args as a JSON array: the form that ParseArgs and
// AppendNotification take. Same rules and errors as AppendPush.
func AppendArgs(dst []byte, args ...any) ([]byte, error) {
	start := len(dst)
	dst, err := appendArgs(dst, args)
	if err != nil {
		return dst[:start], err
	}
	return dst, nil
}

func appendArgs(dst []byte, args []any) ([]byte, error) {
	dst = append(dst, '[')
	for i, a := range args {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendValue(dst, a); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

// AppendNotification appends an identity notification:
// {"event":name,"_NID_":nid,"_identity":identity,"args":args}. args is a
// JSON array as written by AppendArgs, copied as it is; nil or empty
// leaves "args" out. It cannot fail; same rules as AppendPush.
func AppendNotification(dst []byte, name, identity string, nid uint64, args []byte) []byte {
	dst = append(dst, `{"event":`...)
	dst = appendString(dst, name)
	dst = append(dst, `,"_NID_":`...)
	dst = strconv.AppendUint(dst, nid, 10)
	dst = append(dst, `,"_identity":`...)
	dst = appendString(dst, identity)
	if len(args) > 0 {
		dst = append(dst, `,"args":`...)
		dst = append(dst, args...)
	}
	return append(dst, '}')
}

// AppendAck appends {"event":"_ack_","_EID_":eid}, plus "data":data when
// hasData. eid is a raw JSON value (Message.EID), copied as it is; nil
// leaves "_EID_" out. Same rules and errors as AppendPush.
func AppendAck(dst []byte, eid []byte, data any, hasData bool) ([]byte, error) {
	start := len(dst)
	dst = append(dst, `{"event":"_ack_"`...)
	dst = appendEID(dst, eid)
	if hasData {
		var err error
		dst = append(dst, `,"data":`...)
		if dst, err = appendValue(dst, data); err != nil {
			return dst[:start], err
		}
	}
	return append(dst, '}'), nil
}

// AppendError appends {"event":"_err_","_EID_":eid,"status":status,
// "error":text}. eid is as for AppendAck. It cannot fail; same rules as
// AppendPush.
func AppendError(dst []byte, eid []byte, status int, text string) []byte {
	dst = append(dst, `{"event":"_err_"`...)
	dst = appendEID(dst, eid)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, `,"error":`...)
	dst = appendString(dst, text)
	return append(dst, '}')
}

// AppendErrorRef is AppendError with a correlation reference:
// {"event":"_err_","_EID_":eid,"status":status,"error":text,"ref":ref}.
// It cannot fail; same rules as AppendPush.
func AppendErrorRef(dst []byte, eid []byte, status int, text, ref string) []byte {
	dst = AppendError(dst, eid, status, text)
	dst = append(dst[:len(dst)-1], `,"ref":`...)
	dst = appendString(dst, ref)
	return append(dst, '}')
}

func appendEID(dst, eid []byte) []byte {
	if eid == nil {
		return dst
	}
	dst = append(dst, `,"_EID_":`...)
	return append(dst, eid...)
}
