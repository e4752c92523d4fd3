package hostile

// JSON event probes on the demo chat (/chat/:room, a JSON event route).

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/plezigo/plezi/internal/wstest"
)

// chat joins the demo chat as nick and reads its welcome.
func chat(t testing.TB, p *proc, room, nick string) *wstest.Client {
	t.Helper()
	c, _ := join(t, p, room, nick)
	return c
}

// join is chat that also returns the connection's id, from the welcome
// (its args are the id, the nickname and the room).
func join(t testing.TB, p *proc, room, nick string) (*wstest.Client, string) {
	t.Helper()
	return joinWith(t, p, room, nick, wstest.Options{})
}

// joinWith is join with the client's options (a small ReadBuffer, say).
func joinWith(t testing.TB, p *proc, room, nick string, o wstest.Options) (*wstest.Client, string) {
	t.Helper()
	c := dial(t, p, "/chat/"+room+"?nick="+nick, o)
	ev, m := readEvent(t, c)
	args, _ := m["args"].([]any)
	if ev != "welcome" || len(args) == 0 {
		t.Fatalf("first event %v, want welcome", m)
	}
	id, _ := args[0].(string)
	return c, id
}

// nodeOf is the node part of a connection id: before its last '-'.
func nodeOf(id string) string { return id[:max(strings.LastIndexByte(id, '-'), 0)] }

// call sends event with args and _EID_ eid and returns the reply with
// that _EID_ (_ack_ or _err_), skipping the room's events on the way. A
// close frame instead fails the test with its code.
func call(t testing.TB, c *wstest.Client, eid int, event string, args ...any) map[string]any {
	t.Helper()
	b, err := json.Marshal(map[string]any{"event": event, "_EID_": eid, "args": args})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFrame(wstest.Text(string(b))); err != nil {
		t.Fatalf("send %s: %v", clip(b), err)
	}
	for {
		msg, err := c.ReadMessage(ioWait)
		if err == nil && msg.Op == wstest.OpClose {
			code, reason, _ := wstest.ParseClose(msg.Payload)
			t.Fatalf("after %s: closed %d %q", clip(b), code, reason)
		}
		if err != nil || msg.Op != wstest.OpText {
			t.Fatalf("after %s: %v, %v", clip(b), msg, err)
		}
		var m map[string]any
		if err := json.Unmarshal(msg.Payload, &m); err != nil {
			t.Fatalf("reply %q: %v", clip(msg.Payload), err)
		}
		if ev := m["event"]; (ev == "_ack_" || ev == "_err_") && m["_EID_"] == float64(eid) {
			return m
		}
	}
}

// clip is b for a failure message: at most 120 bytes of it.
func clip(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}

// expectEvent reads c until event arrives and returns its args, skipping
// other events.
func expectEvent(t testing.TB, c *wstest.Client, event string) []any {
	t.Helper()
	for {
		ev, m := readEvent(t, c)
		if ev == event {
			args, _ := m["args"].([]any)
			return args
		}
	}
}

// readEvent reads one text message and decodes it as an event.
func readEvent(t testing.TB, c *wstest.Client) (event string, m map[string]any) {
	t.Helper()
	msg, err := c.ReadMessage(ioWait)
	if err != nil || msg.Op != wstest.OpText {
		t.Fatalf("read event: %v, %v", msg, err)
	}
	if err := json.Unmarshal(msg.Payload, &m); err != nil {
		t.Fatalf("event %q: %v", msg.Payload, err)
	}
	event, _ = m["event"].(string)
	return event, m
}

// TestNotJSON: text that is not a JSON event gets an _err_ reply with
// status 400, then close 1007 and the TCP close.
func TestNotJSON(t *testing.T) {
	t.Parallel()
	p := start(t)
	for i, text := range []string{"this is not json", `{"event":`, "\x00\x01", `["say","hi"]`} {
		t.Run(text, func(t *testing.T) {
			t.Parallel()
			c := chat(t, p, "events"+strconv.Itoa(i), "eve"+strconv.Itoa(i)) // a room each: no other arrivals
			if err := c.WriteFrame(wstest.Text(text)); err != nil {
				t.Fatal(err)
			}
			ev, m := readEvent(t, c)
			for ev == "joined" { // our own arrival may come first
				ev, m = readEvent(t, c)
			}
			if ev != "_err_" || m["status"] != 400.0 {
				t.Fatalf("reply %v, want _err_ with status 400", m)
			}
			if err := c.ExpectClose(1007, ioWait); err != nil {
				t.Fatalf("after %q: %v, want close 1007", text, err)
			}
		})
	}
}

// craftedIDs are connection ids no server formats, naming node (a real
// node's id) or none: a slot past int32, every bit set, a slot at the
// int32 limit, loop 255, a generation no slot 0 has reached; no node, no
// number, bad hex, too long, not ASCII.
func craftedIDs(node string) []string {
	return []string{
		node + "-80000000000000", node + "-ffffffffffffffff", node + "-7fffffff000001",
		node + "-ff00000000000000", node + "-ffffff",
		"-", "x-", node + "-", "-1", "--", node + "--1", "",
		node + "-FF", node + "-01", node + "-1ffffffffffffffff", node + "-xyz", node + "- 1",
		node + "-" + strings.Repeat("f", 64<<10), strings.Repeat("9", 100<<10), strings.Repeat("-", 1000),
		"ñødé-1", node + "-١٢", "💥-ff", node + "-\x00", node + "-\u2028",
	}
}

// TestCraftedIDs: the demo chat's whisper to ids a client made up (see
// craftedIDs) answers each like a connection that is gone (404) or one
// on another node (an ack): the sender is not closed (1011 before the
// fix), the process lives and logs no panic, and a whisper to a real id
// still arrives.
func TestCraftedIDs(t *testing.T) {
	t.Parallel()
	p := start(t)
	ann, _ := join(t, p, "ids", "ann")
	bob, bobID := join(t, p, "ids-b", "bob")
	for i, id := range craftedIDs(nodeOf(bobID)) {
		m := call(t, ann, i+1, "whisper", id, "psst")
		if ev := m["event"]; ev != "_ack_" && (ev != "_err_" || m["status"] != 404.0) {
			t.Fatalf("whisper to %q: %v, want an ack or a 404", clip([]byte(id)), m)
		}
	}
	if m := call(t, ann, 1000, "whisper", bobID, "still here"); m["event"] != "_ack_" || m["data"] != true {
		t.Fatalf("whisper to bob: %v", m)
	}
	if args := expectEvent(t, bob, "private"); len(args) != 3 || args[0] != "ann" || args[2] != "still here" {
		t.Fatalf("bob got private %v", args)
	}
	if !p.Alive() {
		t.Fatal("plezi died")
	}
}

// TestServerOnlyMethods: a client reaches only the chat's client events
// (say, whisper, tell). The demo chat has no other event method, so the
// probe calls the methods every controller has that only the server may
// run: lifecycle callbacks and those of the embedded dispatch.Socket. Each
// answers 404 "unknown event" (counted), and the connection stays open.
func TestServerOnlyMethods(t *testing.T) {
	t.Parallel()
	p := start(t, "-debug")
	ann := chat(t, p, "guarded", "ann")
	names := []string{"pre_connect", "OnOpen", "on_message", "on_close", "on_shutdown", "unknown",
		"close_with", "CloseWith", "subscribe", "register_as", "unicast", "notify", "publish_event", "emit", "id"}
	before := p.Stats()["unknown_events"]
	for i, name := range names {
		m := call(t, ann, i+1, name, 4000, "by client")
		if m["event"] != "_err_" || m["status"] != 404.0 || m["error"] != "unknown event "+name {
			t.Fatalf("%s from a client: %v, want 404 unknown event", name, m)
		}
	}
	if m := call(t, ann, 100, "say", "still open"); m["event"] != "_ack_" || m["data"] != true {
		t.Fatalf("say after the refusals: %v", m)
	}
	if got := p.Stats()["unknown_events"] - before; got != int64(len(names)) {
		t.Fatalf("unknown_events moved by %d, want %d", got, len(names))
	}
}

// TestServerOnlyEvent: the demo chat's announce is an event method the
// server calls (Multicast), not one of the route's client events: a client
// calling it gets 404 unknown event, counted as a denied event (not as an
// unknown one), and its connection stays open.
func TestServerOnlyEvent(t *testing.T) {
	t.Parallel()
	p := start(t, "-debug")
	ann := chat(t, p, "announce", "ann")
	before := p.Stats()
	m := call(t, ann, 1, "announce", "all of you: leave")
	if m["event"] != "_err_" || m["status"] != 404.0 || m["error"] != "unknown event announce" {
		t.Fatalf("announce from a client: %v, want 404 unknown event", m)
	}
	after := p.Stats()
	if d, u := after["denied_events"]-before["denied_events"], after["unknown_events"]-before["unknown_events"]; d != 1 || u != 1 {
		t.Fatalf("denied_events moved by %d, unknown_events by %d; want 1 and 1", d, u)
	}
	if m := call(t, ann, 2, "say", "still open"); m["event"] != "_ack_" || m["data"] != true {
		t.Fatalf("say after announce: %v", m)
	}
}

// TestPlainErrorHidden: the demo chat's tell returns a plain error when
// the broker fails. With the node's Redis killed after two nicknames
// registered, tell answers 500 "internal error" with a ref and nothing of
// the error itself; the log line with the real error carries the same
// ref, and the connection stays open (a whisper on the node still goes).
func TestPlainErrorHidden(t *testing.T) {
	t.Parallel()
	redis := runRedis(t)
	p := startEnv(t, []string{"PL_REDIS_URL=" + redis.URL})
	ann := chat(t, p, "hidden", "ann")
	bob, bobID := join(t, p, "hidden", "bob")
	var m map[string]any
	eid := 0
	eventually(t, ioWait, "bob registered (tell acked)", func() bool { // registering is asynchronous
		eid++
		m = call(t, ann, eid, "tell", "bob", "with redis")
		return m["event"] == "_ack_" && m["data"] == true
	})
	if args := expectEvent(t, bob, "private"); len(args) != 3 || args[2] != "with redis" {
		t.Fatalf("bob got private %v, want the tell", args)
	}
	redis.Kill()
	eventually(t, 2*ioWait, "tell to fail with Redis down", func() bool { // a try takes up to the broker's timeout
		eid++
		m = call(t, ann, eid, "tell", "bob", "without redis")
		return m["event"] != "_ack_" || m["data"] != true
	})
	ref, _ := m["ref"].(string)
	if m["status"] != 500.0 || m["error"] != "internal error" || ref == "" || len(m) != 5 {
		t.Fatalf("tell with Redis down: %v, want _err_ 500 internal error with a ref and nothing more", m)
	}
	eventually(t, ioWait, "the ref "+ref+" in the log", func() bool { return p.Logged("ref="+ref) == 1 })
	if m := call(t, ann, eid+1, "whisper", bobID, "still open"); m["event"] != "_ack_" || m["data"] != true {
		t.Fatalf("whisper after the failed tell: %v", m)
	}
	if args := expectEvent(t, bob, "private"); len(args) != 3 || args[2] != "still open" {
		t.Fatalf("bob got private %v, want the whisper", args)
	}
}
