package event

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
)

// Table maps event names to the event methods of one controller type. It
// is built once per type by NewTable, never changes, and is safe for
// concurrent use.
type Table struct {
	byName   map[string]*Method // every accepted spelling of every event
	methods  []*Method          // sorted by event name
	rejected []error            // *MethodError for each exported method left out
}

// NewTable finds the event methods of t, normally a pointer-to-struct
// controller type: its exported methods, minus those named in exclude
// (lifecycle callbacks, methods promoted from the embedded socket) and
// those that cannot be event methods (see the package documentation;
// Err lists them).
// Each method answers to its Go name, its snake_case name and its lower
// camel name; when two methods claim one name, a Go name beats a
// snake_case name, which beats a lower camel name. exclude is only read
// during the call. NewTable is safe for concurrent use; call it once per
// type, when the route is added (it builds types with reflect.StructOf).
func NewTable(t reflect.Type, exclude map[string]bool) *Table {
	tb := &Table{byName: make(map[string]*Method)}
	for i := range t.NumMethod() {
		rm := t.Method(i)
		if exclude[rm.Name] || !rm.IsExported() {
			continue
		}
		m, why := newMethod(rm)
		if why != "" {
			tb.rejected = append(tb.rejected, &MethodError{Method: rm.Name, Reason: why})
			continue
		}
		tb.methods = append(tb.methods, m)
	}
	for _, spell := range []func(*Method) string{
		(*Method).Name, (*Method).Event, func(m *Method) string { return lowerCamel(m.name) },
	} {
		for _, m := range tb.methods {
			if k := spell(m); tb.byName[k] == nil {
				tb.byName[k] = m
			}
		}
	}
	slices.SortFunc(tb.methods, func(a, b *Method) int { return cmp.Compare(a.event, b.event) })
	return tb
}

// Lookup returns the method for the event name, or nil. It does not
// allocate and does not keep name. Safe for concurrent use.
func (tb *Table) Lookup(name []byte) *Method {
	return tb.byName[string(name)]
}

// Has reports whether the event name has a method. Safe for concurrent
// use.
func (tb *Table) Has(name string) bool {
	return tb.byName[name] != nil
}

// Len returns the number of event methods. Safe for concurrent use.
func (tb *Table) Len() int { return len(tb.methods) }

// Names returns the snake_case event names, sorted, in a new slice the
// caller owns. Safe for concurrent use.
func (tb *Table) Names() []string {
	names := make([]string, len(tb.methods))
	for i, m := range tb.methods {
		names[i] = m.event
	}
	return names
}

// Err reports the exported methods NewTable left out because they cannot
// be event methods: nil when there are none, else one *MethodError per
// method, joined (errors.Is ErrNotEventMethod). Safe for concurrent use.
func (tb *Table) Err() error { return errors.Join(tb.rejected...) }

// Only returns a table of the methods that names select, each name in any
// spelling Lookup accepts; every spelling of a selected method resolves as
// it does in tb, the spellings of other methods not at all. A name that
// selects no method is an error (ErrNoSuchEvent, naming it). The new table
// shares tb's methods; it is immutable and safe for concurrent use.
func (tb *Table) Only(names []string) (*Table, error) {
	keep := make(map[*Method]bool, len(names))
	var errs []error
	for _, name := range names {
		m := tb.byName[name]
		if m == nil {
			errs = append(errs, fmt.Errorf("%w: %q", ErrNoSuchEvent, name))
			continue
		}
		keep[m] = true
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sub := &Table{byName: make(map[string]*Method)}
	for k, m := range tb.byName {
		if keep[m] {
			sub.byName[k] = m
		}
	}
	for _, m := range tb.methods {
		if keep[m] {
			sub.methods = append(sub.methods, m)
		}
	}
	return sub, nil
}
