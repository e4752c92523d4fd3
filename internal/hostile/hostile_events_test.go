package hostile

// JSON event probes on the demo chat (/chat/:room, a JSON event route).

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/plezigo/plezi/internal/wstest"
)

// chat joins the demo chat as nick and reads its welcome.
func chat(t testing.TB, p *proc, room, nick string) *wstest.Client {
	t.Helper()
	c := dial(t, p, "/chat/"+room+"?nick="+nick, wstest.Options{})
	if ev, _ := readEvent(t, c); ev != "welcome" {
		t.Fatalf("first event %q, want welcome", ev)
	}
	return c
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
