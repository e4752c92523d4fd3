package event

import (
	"errors"
	"reflect"
	"strconv"
)

// Errors returned by this package. Compare with errors.Is.
var (
	// ErrNotJSON reports a message that is not one valid JSON object, or
	// an "args" value that is not valid JSON.
	ErrNotJSON = errors.New("event: not a JSON object")
	// ErrNoEvent reports a JSON object without a string "event" field.
	ErrNoEvent = errors.New("event: no event name")
	// ErrArgsNotArray reports an "args" field that is not a JSON array.
	ErrArgsNotArray = errors.New("event: args is not an array")
	// ErrTooManyArgs reports more arguments than the method has parameters.
	ErrTooManyArgs = errors.New("event: too many arguments")
	// ErrArgType reports an argument whose JSON value does not fit its
	// parameter's type. It is wrapped in an *ArgError.
	ErrArgType = errors.New("event: argument type mismatch")
	// ErrUnsupportedValue reports a value that has no JSON form (NaN,
	// ±Inf, a channel, a function).
	ErrUnsupportedValue = errors.New("event: value cannot be encoded as JSON")
	// ErrInvalidRaw reports a Raw or json.RawMessage value that is not
	// valid JSON.
	ErrInvalidRaw = errors.New("event: raw value is not valid JSON")
	// ErrNotEventMethod reports an exported method that cannot be an
	// event method. It is wrapped in a *MethodError.
	ErrNotEventMethod = errors.New("event: method cannot be an event")
	// ErrNoSuchEvent reports a name (Table.Only) that selects no method.
	ErrNoSuchEvent = errors.New("event: no such event method")
)

// MethodError names an exported method that cannot be an event method,
// and why ("parameter 1 (chan int) cannot be decoded from JSON").
type MethodError struct {
	Method string // the Go method name
	Reason string
}

// Error describes the method and the reason.
func (e *MethodError) Error() string {
	return "event: method " + e.Method + " cannot be an event: " + e.Reason
}

// Unwrap returns ErrNotEventMethod.
func (e *MethodError) Unwrap() error { return ErrNotEventMethod }

// ArgError reports the argument that did not decode. Err is ErrArgType or
// the JSON decoder's error.
type ArgError struct {
	Index int          // position of the argument, from 0
	Type  reflect.Type // the parameter's type
	Err   error
}

// Error describes the argument and its parameter type. It is built on
// demand, so creating an ArgError costs one small allocation.
func (e *ArgError) Error() string {
	return "event: argument " + strconv.Itoa(e.Index) + " (" + e.Type.String() + "): " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ArgError) Unwrap() error { return e.Err }
