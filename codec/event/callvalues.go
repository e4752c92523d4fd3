package event

import "reflect"

// CallValues calls the method on recv with Go values given locally (a
// Broadcast from this process), with the same results as Call. Each
// argument is used as it is when assignable to its parameter, converted
// when the conversion keeps its value (same kind, or an integer that fits
// the integer or float parameter), and otherwise goes through JSON, so
// the method sees what a remote node's method would. A nil argument
// leaves the zero value; fewer arguments than parameters leave zero
// values; more is ErrTooManyArgs. A lone Raw or json.RawMessage parameter
// gets the arguments as the JSON array a remote node's would (a copy).
//
// Assigned arguments are shared, not copied: maps, slices and pointers
// given to several calls must be treated as read-only by the methods.
// Same goroutine rule as Call.
func (m *Method) CallValues(recv reflect.Value, args []any) (result any, hasResult bool, callErr error, decodeErr error) {
	var st reflect.Value
	if m.argsType != nil {
		st = reflect.New(m.argsType).Elem()
	}
	if m.single == singleRaw && len(m.params) == 1 {
		if err := fillRawValues(st.Field(0), args); err != nil {
			return nil, false, nil, err
		}
		return m.invoke(recv, st)
	}
	if len(args) > len(m.params) {
		return nil, false, nil, ErrTooManyArgs
	}
	for i, a := range args {
		if err := assignArg(st.Field(i), a, m.kinds[i]); err != nil {
			return nil, false, nil, &ArgError{Index: i, Type: m.params[i], Err: err}
		}
	}
	return m.invoke(recv, st)
}

// fillRawValues stores args, encoded as a JSON array, into the Raw or
// json.RawMessage v.
func fillRawValues(v reflect.Value, args []any) error {
	raw, err := appendArgs(nil, args)
	if err != nil {
		return &ArgError{Index: 0, Type: v.Type(), Err: err}
	}
	v.SetBytes(raw)
	return nil
}

// assignArg stores the Go value a into the settable v.
func assignArg(v reflect.Value, a any, k argKind) error {
	if a == nil {
		return nil
	}
	av := reflect.ValueOf(a)
	if av.Type().AssignableTo(v.Type()) {
		v.Set(av)
		return nil
	}
	if convertArg(v, av) {
		return nil
	}
	raw, err := appendValue(nil, a)
	if err != nil {
		return err
	}
	return decodeArg(raw, v, kCopy(k))
}

// kCopy makes a Raw parameter get a json.RawMessage-style copy.
func kCopy(k argKind) argKind {
	if k == argRaw {
		return argRawMessage
	}
	return k
}

// convertArg converts av into v when that keeps the value, and reports
// whether it did.
func convertArg(v, av reflect.Value) bool {
	vt := v.Type()
	switch {
	case av.Kind() == vt.Kind() && av.Type().ConvertibleTo(vt):
		v.Set(av.Convert(vt))
	case av.CanInt() && v.CanInt() && !v.OverflowInt(av.Int()):
		v.SetInt(av.Int())
	case av.CanUint() && v.CanUint() && !v.OverflowUint(av.Uint()):
		v.SetUint(av.Uint())
	case av.CanInt() && v.CanUint() && av.Int() >= 0 && !v.OverflowUint(uint64(av.Int())):
		v.SetUint(uint64(av.Int()))
	case av.CanUint() && v.CanInt() && av.Uint() <= 1<<63-1 && !v.OverflowInt(int64(av.Uint())):
		v.SetInt(int64(av.Uint()))
	case (av.CanInt() || av.CanUint()) && v.CanFloat():
		v.SetFloat(intAsFloat(av))
	default:
		return false
	}
	return true
}

func intAsFloat(av reflect.Value) float64 {
	if av.CanInt() {
		return float64(av.Int())
	}
	return float64(av.Uint())
}
