package event

import (
	"bytes"
	"reflect"
	"strconv"

	"github.com/bytedance/sonic"
)

// jsonDecoder is the JSON decoder for the types without a fast path. Strings
// are copied out of the input (the message buffer is reused) and control
// characters in strings are rejected, as encoding/json does.
var jsonDecoder = sonic.Config{CopyString: true, ValidateString: true}.Froze()

// decodeArg decodes the valid JSON value raw into the settable v, whose
// decoding is k. JSON null leaves v as it is (its zero value here), as
// encoding/json does for these kinds.
func decodeArg(raw []byte, v reflect.Value, k argKind) error {
	switch k {
	case argRaw:
		v.SetBytes(raw)
		return nil
	case argRawMessage:
		v.SetBytes(append([]byte(nil), raw...))
		return nil
	case argJSON:
		return jsonDecoder.Unmarshal(raw, v.Addr().Interface())
	}
	if string(raw) == "null" {
		return nil
	}
	switch k {
	case argString:
		return decodeString(raw, v)
	case argBool:
		return decodeBool(raw, v)
	}
	return decodeNumber(raw, v, k)
}

func decodeString(raw []byte, v reflect.Value) error {
	if raw[0] != '"' {
		return ErrArgType
	}
	body := raw[1 : len(raw)-1]
	if plainString(body, bytes.IndexByte(body, '\\') >= 0) {
		v.SetString(string(body))
		return nil
	}
	v.SetString(string(appendUnquoted(make([]byte, 0, len(body)), body)))
	return nil
}

func decodeBool(raw []byte, v reflect.Value) error {
	switch string(raw) {
	case "true":
		v.SetBool(true)
	case "false":
		v.SetBool(false)
	default:
		return ErrArgType
	}
	return nil
}

// decodeNumber parses raw with strconv, which accepts every valid JSON
// number and rejects, as encoding/json does, fractions and exponents for
// integers and values out of the type's range.
func decodeNumber(raw []byte, v reflect.Value, k argKind) error {
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return ErrArgType
	}
	bits := v.Type().Bits()
	var err error
	switch k {
	case argInt:
		var n int64
		if n, err = strconv.ParseInt(string(raw), 10, bits); err == nil {
			v.SetInt(n)
		}
	case argUint:
		var n uint64
		if n, err = strconv.ParseUint(string(raw), 10, bits); err == nil {
			v.SetUint(n)
		}
	default:
		var f float64
		if f, err = strconv.ParseFloat(string(raw), bits); err == nil {
			v.SetFloat(f)
		}
	}
	if err != nil {
		return ErrArgType
	}
	return nil
}
