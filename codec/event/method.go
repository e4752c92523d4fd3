package event

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
)

// argKind selects how one parameter is decoded.
type argKind uint8

const (
	argJSON       argKind = iota // any other type: the JSON decoder
	argString                    // string kinds
	argBool                      // bool kinds
	argInt                       // signed integer kinds
	argUint                      // unsigned integer kinds
	argFloat                     // float kinds
	argRaw                       // Raw: the raw bytes, aliased
	argRawMessage                // json.RawMessage: the raw bytes, copied
)

// singleMode selects what a lone parameter gets when there is no "args".
type singleMode uint8

const (
	singleData   singleMode = iota // the "data" field
	singleObject                   // the whole object
	singleRaw                      // the raw object, undecoded
)

// retShape is the form of a method's results.
type retShape uint8

const (
	retNone       retShape = iota // func()
	retValue                      // func() T
	retError                      // func() error
	retValueError                 // func() (T, error)
)

var (
	rawType         = reflect.TypeFor[Raw]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	errorType       = reflect.TypeFor[error]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// Method is one event method of a controller type. It is immutable and
// safe for concurrent use.
type Method struct {
	name     string         // Go method name
	event    string         // snake_case event name
	fn       reflect.Value  // method expression: receiver first
	params   []reflect.Type // parameter types, receiver excluded
	kinds    []argKind      // decoding of each parameter
	argsType reflect.Type   // struct with one field per parameter, nil without
	single   singleMode     // for exactly one parameter
	ret      retShape
}

// Name returns the Go method name, such as "ChatMessage". Safe for
// concurrent use.
func (m *Method) Name() string { return m.name }

// Event returns the snake_case event name, such as "chat_message". Safe
// for concurrent use.
func (m *Method) Event() string { return m.event }

// NumIn returns the number of parameters, receiver excluded. Safe for
// concurrent use.
func (m *Method) NumIn() int { return len(m.params) }

// newMethod builds the Method for rm, or says why rm cannot be an event
// method (see the package documentation).
func newMethod(rm reflect.Method) (*Method, string) {
	ft := rm.Type
	if ft.IsVariadic() {
		return nil, "it is variadic"
	}
	ret, why := shapeOf(ft)
	if why != "" {
		return nil, why
	}
	m := &Method{name: rm.Name, event: snakeCase(rm.Name), fn: rm.Func, ret: ret}
	for i := 1; i < ft.NumIn(); i++ {
		p := ft.In(i)
		if !decodable(p) {
			return nil, "parameter " + strconv.Itoa(i) + " (" + p.String() + ") cannot be decoded from JSON"
		}
		m.params = append(m.params, p)
		m.kinds = append(m.kinds, kindOf(p))
	}
	if len(m.params) > 0 {
		m.argsType = argsStruct(m.params)
	}
	if len(m.params) == 1 {
		m.single = singleOf(m.params[0], m.kinds[0])
	}
	return m, ""
}

// shapeOf classifies the results of the method type ft, or says why they
// cannot be an event's.
func shapeOf(ft reflect.Type) (retShape, string) {
	const want = "; want nothing, T, error or (T, error)"
	switch ft.NumOut() {
	case 0:
		return retNone, ""
	case 1:
		if ft.Out(0) == errorType {
			return retError, ""
		}
		return retValue, resultWhy(ft.Out(0))
	case 2:
		if ft.Out(1) != errorType {
			return 0, "its second result is " + ft.Out(1).String() + want
		}
		return retValueError, resultWhy(ft.Out(0))
	}
	return 0, "it has " + strconv.Itoa(ft.NumOut()) + " results" + want
}

// resultWhy says why a result of type t cannot be sent, or "".
func resultWhy(t reflect.Type) string {
	if encodable(t) {
		return ""
	}
	return "its result (" + t.String() + ") has no JSON form"
}

// encodable reports whether values of t can have a JSON form.
func encodable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Pointer:
		return encodable(t.Elem())
	}
	return true
}

// decodable reports whether JSON can be decoded into a t.
func decodable(t reflect.Type) bool {
	if t.Kind() == reflect.Interface {
		return t.NumMethod() == 0
	}
	return encodable(t)
}

// customDecoder reports whether t decodes itself from JSON or text.
func customDecoder(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler)
}

// kindOf picks the decoding of a parameter of type t.
func kindOf(t reflect.Type) argKind {
	switch {
	case t == rawType:
		return argRaw
	case t == rawMessageType:
		return argRawMessage
	case customDecoder(t):
		return argJSON
	}
	switch t.Kind() {
	case reflect.String:
		return argString
	case reflect.Bool:
		return argBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return argInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return argUint
	case reflect.Float32, reflect.Float64:
		return argFloat
	}
	return argJSON
}

// singleOf picks what a lone parameter of type t gets without "args".
func singleOf(t reflect.Type, k argKind) singleMode {
	if k == argRaw || k == argRawMessage {
		return singleRaw
	}
	if customDecoder(t) {
		return singleData
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return singleObject
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Struct && !customDecoder(t.Elem()) {
			return singleObject
		}
	}
	return singleData
}

// argsStruct builds a struct type with one exported field per parameter,
// so one allocation holds every decoded argument of a call.
func argsStruct(params []reflect.Type) reflect.Type {
	fields := make([]reflect.StructField, len(params))
	for i, p := range params {
		fields[i] = reflect.StructField{Name: "A" + strconv.Itoa(i), Type: p}
	}
	return reflect.StructOf(fields)
}
