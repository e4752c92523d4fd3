package event

import (
	"encoding/json"
	"reflect"
	"testing"
)

// benchCtl's methods do not allocate, so benchmarks measure the package.
type benchCtl struct{ n int }

func (c *benchCtl) Said(from, text string) { c.n += len(from) + len(text) }

var benchTable = NewTable(reflect.TypeFor[*benchCtl](), nil)

var benchMsg = []byte(`{"event":"said","_EID_":12,"args":["bob","hello there"]}`)

// stdMessage is the encoding/json baseline's view of a message.
type stdMessage struct {
	Event string            `json:"event"`
	EID   json.RawMessage   `json:"_EID_"`
	Args  []json.RawMessage `json:"args"`
}

func BenchmarkParse(b *testing.B) {
	b.Run("plezi", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchMsg)))
		for b.Loop() {
			if _, err := Parse(benchMsg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchMsg)))
		for b.Loop() {
			var m stdMessage
			if err := json.Unmarshal(benchMsg, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCall(b *testing.B) {
	recv := reflect.ValueOf(&benchCtl{})
	b.Run("plezi", func(b *testing.B) {
		msg, _ := Parse(benchMsg)
		m := benchTable.Lookup(msg.Name)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, err := m.Call(recv, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plezi_parse_lookup_call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			msg, _ := Parse(benchMsg)
			if _, _, _, err := benchTable.Lookup(msg.Name).Call(recv, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json_parse_lookup_call", func(b *testing.B) {
		method, _ := recv.Type().MethodByName("Said")
		b.ReportAllocs()
		for b.Loop() {
			var m stdMessage
			if err := json.Unmarshal(benchMsg, &m); err != nil {
				b.Fatal(err)
			}
			in := []reflect.Value{recv}
			for i, raw := range m.Args {
				v := reflect.New(method.Type.In(i + 1))
				if err := json.Unmarshal(raw, v.Interface()); err != nil {
					b.Fatal(err)
				}
				in = append(in, v.Elem())
			}
			method.Func.Call(in)
		}
	})
}

func BenchmarkAppendPush(b *testing.B) {
	args := []any{"bob", "hello there"}
	b.Run("plezi", func(b *testing.B) {
		buf := make([]byte, 0, 256)
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = AppendPush(buf[:0], "said", args...)
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		type event struct {
			Event string `json:"event"`
			Args  []any  `json:"args,omitempty"`
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(event{"said", args}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAppendAck(b *testing.B) {
	eid := []byte(`12`)
	type profile struct {
		Name string `json:"name"`
		Age  int    `json:"age"`
	}
	for _, tt := range []struct {
		name string
		data any
	}{{"string", "ok"}, {"struct_sonic", profile{"Ann", 30}}} {
		b.Run(tt.name, func(b *testing.B) {
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = AppendAck(buf[:0], eid, tt.data, true)
			}
		})
	}
}
