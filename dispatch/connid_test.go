package dispatch

import (
	"io"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/gobwas/ws"

	"github.com/plezigo/plezi/codec"
	"github.com/plezigo/plezi/internal/bridge"
)

// countT is a Transport that counts what a connection would write, like a
// socket into io.Discard; callbacks run at once (the test hub's loops are
// the caller's goroutine).
type countT struct{ frames, closes int }

func (t *countT) Send(ws.OpCode, []byte)       { t.frames++ }
func (t *countT) SendPrepared(*codec.Prepared) { t.frames++ }
func (t *countT) SendOnLoop(*codec.Prepared)   { t.frames++ }
func (t *countT) Close(ws.StatusCode, string)  { t.closes++ }
func (t *countT) Open() bool                   { return true }
func (t *countT) Callback(fn func())           { fn() }
func (t *countT) QueueCallback(fn func())      { fn() }
func (t *countT) Backlogged() bool             { return false }
func (t *countT) Hold()                        {}

// inlineLoops runs every loop task at once: the test's goroutine is every
// loop of the hub.
var inlineLoops = bridge.LoopsFunc(func(_ int, fn func()) { fn() })

// openTest opens a connection of r with ctrl on loop over t, as the server
// does on an upgrade.
func openTest(tb testing.TB, t bridge.Transport, r *Route, ctrl Controller, loop int) *conn {
	tb.Helper()
	s, err := serverSide{}.Open(ctrl, t, r, nil, loop)
	if err != nil {
		tb.Fatal(err)
	}
	return &s.c
}

// targetCtl is a controller with an event method and an Unknown handler, so
// remote events reach both.
type targetCtl struct{ Socket }

func (*targetCtl) Hear(s string, n int)        {}
func (*targetCtl) Unknown(string, RawArgs)     {}
func (*targetCtl) OnUnicastFailed(_, _ string) {}

// testHub is a hub of node "n-1" on two loops that runs loop tasks at once,
// with three inline connections on each loop.
func testHub(tb testing.TB) (*Hub, []*conn) {
	tb.Helper()
	h := newHub(hubConfig{HubConfig: bridge.HubConfig{Node: "n-1", Loops: 2, Workers: 1,
		Runner: inlineLoops, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}})
	r, err := h.Route("/t", func() Controller { return new(targetCtl) }, Inline())
	if err != nil {
		tb.Fatal(err)
	}
	var cs []*conn
	for i := range 6 {
		cs = append(cs, openTest(tb, new(countT), r, new(targetCtl), i%2))
	}
	return h, cs
}

func TestParseID(t *testing.T) {
	t.Parallel()
	good := map[string]connID{
		"n-0":                  {node: "n"},
		"n-1000001":            {node: "n", slot: 1, gen: 1},
		"eu-west-1-1000001":    {node: "eu-west-1", slot: 1, gen: 1},
		"n--1":                 {node: "n-", gen: 1},
		"a-ff7fffffffffffff":   {node: "a", loop: 255, slot: math.MaxInt32, gen: genMask},
		"é-7fffffff000000":     {node: "é", slot: math.MaxInt32},
		"x y-ff00000000000000": {node: "x y", loop: 255},
	}
	for id, want := range good {
		got, err := parseID(id)
		if err != nil || got != want {
			t.Errorf("parseID(%q) = %+v, %v; want %+v", id, got, err, want)
		}
		if again := string(formatID(nil, got.node, got.loop, got.slot, got.gen)); again != id {
			t.Errorf("formatID(parseID(%q)) = %q", id, again)
		}
	}
	for _, id := range []string{
		"", "-", "-1", "n", "n-", "n-g", "n-F", "n-01", "n-00", "n-+1", "n-0x1", "n- 1", "n-1 ",
		"n-80000000000000", "n-ffffffffffffff", "n-ffffffff000000", "n-10000000000000000",
		"n-fffffffffffffffff", "n-1_0",
	} {
		if p, err := parseID(id); err != ErrBadID {
			t.Errorf("parseID(%q) = %+v, %v; want ErrBadID", id, p, err)
		}
	}
}

// TestLookupCraftedIDs: locate answers every crafted id of this node as a
// gone local connection, and finds live ones by their own id, on their
// loop.
func TestLookupCraftedIDs(t *testing.T) {
	t.Parallel()
	h, cs := testHub(t)
	for _, id := range []string{"n-1-80000000000000", "n-1-ffffffffffffff", "n-1-ff00000000000000", "n-1-6000000", "n-1-zz", "n-1-"} {
		if _, w := h.locate(id); w != gone {
			t.Errorf("locate(%q) = %v", id, w)
		}
	}
	if _, w := h.locate("n-2-1"); w != elsewhere {
		t.Errorf("another node's id: %v", w)
	}
	for _, c := range cs {
		p, w := h.locate(c.ID())
		var got *conn
		if w == here {
			h.onConn(p, func(found *conn) { got = found }, nil)
		}
		if got != c || nodeOf(c.ID()) != "n-1" {
			t.Errorf("locate(%q) = %v, found %p, want %p", c.ID(), w, got, c)
		}
	}
}

// FuzzParseID: parseID never panics, on any input or either half of any
// split of it; what it accepts formats back to the same string; formatID
// output parses back to its parts; lookup of anything never panics.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"n-1-1000001", "n-1-80000000000000", "eu-west-1-ff7fffffffffffff", "-", "", "n--0"} {
		f.Add(s, 0, int32(0), uint32(0))
	}
	f.Add("node", 255, int32(math.MaxInt32), uint32(math.MaxUint32))
	h, _ := testHub(f)
	f.Fuzz(func(t *testing.T, s string, loop int, slot int32, gen uint32) {
		for i := 0; i <= len(s); i++ {
			for _, part := range []string{s, s[:i], s[i:]} {
				h.locate(part)
				p, err := parseID(part)
				if err != nil {
					continue
				}
				if again := string(formatID(nil, p.node, p.loop, p.slot, p.gen)); again != part {
					t.Fatalf("%q parsed as %+v, formats as %q", part, p, again)
				}
				if p.node == "" || p.loop < 0 || p.loop > 255 || p.slot < 0 || p.gen > genMask {
					t.Fatalf("%q parsed out of range: %+v", part, p)
				}
			}
		}
		if s == "" {
			return
		}
		want := connID{node: s, loop: loop & 0xff, slot: slot & math.MaxInt32, gen: gen & genMask}
		id := string(formatID(nil, want.node, want.loop, want.slot, want.gen))
		if got, err := parseID(id); err != nil || got != want {
			t.Fatalf("%q: parsed %+v, %v; want %+v", id, got, err, want)
		}
	})
}

// FuzzHandleEnvelope feeds a live hub (two loops, six connections) raw
// cluster messages, their halves, and envelopes and batches built from the
// fuzzed fields, connection ids included: nothing may panic (not even
// recovered) and every connection stays registered.
func FuzzHandleEnvelope(f *testing.F) {
	for _, e := range envelopeTests {
		f.Add(appendEnvelope(nil, &e), byte(e.kind), e.target, e.sender, e.name, e.num)
	}
	f.Add(batchOf(appendEnvelope(nil, &envelopeTests[2]), appendEnvelope(nil, &envelopeTests[5])), byte(envUnicast), "n-1-80000000000000", "n-1-0", "hear", uint64(0))
	f.Add([]byte{batchVersion, 1, 1}, byte(envNote), "n-1-1000000", "who", "", uint64(7))
	f.Add([]byte(`["x",1]`), byte(envUnicast), "n-1-1000000", "", "hear", uint64(0))
	f.Add([]byte(`[]`), byte(envClose), "n-1-ffffffffffffff", "", "", uint64(4009))
	h, cs := testHub(f)
	f.Fuzz(func(t *testing.T, b []byte, kind byte, target, sender, name string, num uint64) {
		i := len(b) / 2
		for _, msg := range [][]byte{b, b[:i], b[i:]} {
			h.onEnvelope(msg)
			h.onPublish(msg, target)
		}
		e := envelope{kind: envKind(kind), origin: "other", target: target, sender: sender, name: name, num: num, data: b}
		one := appendEnvelope(nil, &e)
		h.onEnvelope(one)
		h.onEnvelope(batchOf(one, one))
		e.target = "n-1-" + target // this node's prefix, any number
		h.onEnvelope(appendEnvelope(nil, &e))
		if p := h.stats.Panics.Load(); p != 0 {
			t.Fatalf("%d panics recovered", p)
		}
		if h.Count() != len(cs) {
			t.Fatalf("Count = %d, want %d", h.Count(), len(cs))
		}
	})
}

// TestEnvelopePanicRecovered: a panic while handling one envelope (here a
// loop runner that fails) drops that envelope only: counted in Panics and
// BadEnvelopes, logged once with its stack, and the next envelope of the
// batch is handled.
func TestEnvelopePanicRecovered(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	h := newHub(hubConfig{HubConfig: bridge.HubConfig{Node: "n", Loops: 1, Workers: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))}})
	boom := true
	h.loops = bridge.LoopsFunc(func(_ int, fn func()) {
		if boom {
			boom = false
			panic("runner failed")
		}
		fn()
	})
	r, err := h.Route("/t", func() Controller { return new(targetCtl) }, Inline())
	if err != nil {
		t.Fatal(err)
	}
	openTest(t, new(countT), r, new(targetCtl), 0)
	mc := appendEnvelope(nil, &envelope{kind: envMulticast, origin: "other", name: "news", data: []byte(`[1]`)})
	h.onEnvelope(batchOf(mc, mc))
	if p, b := h.stats.Panics.Load(), h.stats.BadEnvelopes.Load(); p != 1 || b != 1 {
		t.Fatalf("Panics %d, BadEnvelopes %d; want 1, 1", p, b)
	}
	if h.stats.Delivered.Load() != 1 {
		t.Fatalf("Delivered = %d: the second envelope of the batch was lost", h.stats.Delivered.Load())
	}
	for range 3 {
		boom = true
		h.onEnvelope(mc)
	}
	if n := strings.Count(logs.String(), "stack="); n != 1 {
		t.Errorf("%d stacks logged for 4 panics, want 1:\n%s", n, logs.String())
	}
}
