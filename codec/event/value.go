package event

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/bytedance/sonic/encoder"
)

// encodeOpts are the options of the JSON encoder for values without a
// fast path: encoding/json's output (sorted map keys, validated
// json.Marshaler output) without its HTML escaping, like appendString.
const encodeOpts = encoder.SortMapKeys

// appendValue appends the JSON form of v. Strings, booleans, numbers,
// []byte (base64, as encoding/json), Raw and json.RawMessage (verbatim)
// take fast paths that do not allocate; the rest goes to sonic. On error
// dst is returned unchanged in length.
func appendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendString(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case float64:
		return appendFloat(dst, x, 64)
	case float32:
		return appendFloat(dst, float64(x), 32)
	case []byte:
		return appendBytes(dst, x), nil
	case Raw:
		return appendRaw(dst, x)
	case json.RawMessage:
		return appendRaw(dst, x)
	}
	return appendSonic(dst, v)
}

// appendBytes appends b as a base64 string, or null for a nil slice.
func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// appendRaw appends the raw JSON value r after checking it; empty is null.
func appendRaw(dst, r []byte) ([]byte, error) {
	if len(r) == 0 {
		return append(dst, "null"...), nil
	}
	if !validValue(r) {
		return dst, ErrInvalidRaw
	}
	return append(dst, r...), nil
}

// appendFloat appends f as encoding/json does: the shortest form that
// round-trips, with an exponent only for very small or large magnitudes.
func appendFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, ErrUnsupportedValue
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' { // 1e-07 → 1e-7
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

// appendSonic appends v encoded by sonic, with bytes that are not UTF-8
// replaced by \ufffd as encoding/json does.
func appendSonic(dst []byte, v any) ([]byte, error) {
	start := len(dst)
	if err := encoder.EncodeInto(&dst, v, encodeOpts); err != nil {
		return dst[:start], errorFromSonic(err)
	}
	if !utf8.Valid(dst[start:]) {
		fixed := fixUTF8(nil, dst[start:])
		dst = append(dst[:start], fixed...)
	}
	return dst, nil
}

// errorFromSonic marks sonic's errors for values without a JSON form.
func errorFromSonic(err error) error {
	var unsupported *json.UnsupportedValueError
	var typ *json.UnsupportedTypeError
	if errors.As(err, &unsupported) || errors.As(err, &typ) {
		return errors.Join(ErrUnsupportedValue, err)
	}
	return err
}

// fixUTF8 appends s with every byte that is not part of a UTF-8 sequence
// replaced by the escape \ufffd. Such bytes only occur inside strings.
func fixUTF8(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst
}
