package main

// Tests of the demo chat's identity through gorilla/websocket: a nickname
// is settled in PreConnect and held by one connection until it closes.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// chatPath is the chat route for room and nick, query-escaped.
func chatPath(room, nick string) string {
	return "/chat/" + url.PathEscape(room) + "?nick=" + url.QueryEscape(nick)
}

// chatStatus dials the chat as nick and returns the upgrade's status (101
// on success, the connection then closed by the test's cleanup).
func chatStatus(t *testing.T, addr, room, nick string) (int, *websocket.Conn) {
	t.Helper()
	d := &websocket.Dialer{HandshakeTimeout: echoWait}
	c, resp, err := d.Dial(wsURL(addr, chatPath(room, nick)), nil)
	if err == nil {
		t.Cleanup(func() { c.Close() })
		return http.StatusSwitchingProtocols, c
	}
	if resp == nil {
		t.Fatalf("dial %s as %q: %v", room, nick, err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// readEvent reads one JSON event from c and returns its name and args.
func readEvent(t *testing.T, c *websocket.Conn) (string, []any) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(echoWait))
	_, p, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read event: %v", err)
	}
	var m struct {
		Event string `json:"event"`
		Args  []any  `json:"args"`
	}
	if err := json.Unmarshal(p, &m); err != nil {
		t.Fatalf("event %q: %v", p, err)
	}
	return m.Event, m.Args
}

// TestChatNickHeld: a second connection with a nickname already connected
// is refused with 409 before the upgrade, in any room; the holder keeps it
// and its room; once the holder closes, the nickname is free again.
func TestChatNickHeld(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t).addr
	code, ann := chatStatus(t, addr, "r1", "ann")
	if code != http.StatusSwitchingProtocols {
		t.Fatalf("first ann: status %d", code)
	}
	if ev, args := readEvent(t, ann); ev != "welcome" || len(args) < 2 || args[1] != "ann" {
		t.Fatalf("first event %s %v, want welcome as ann", ev, args)
	}
	for _, room := range []string{"r1", "r2"} {
		if code, _ := chatStatus(t, addr, room, "ann"); code != http.StatusConflict {
			t.Fatalf("second ann in %s: status %d, want 409", room, code)
		}
	}
	// ann still speaks as herself, to her room.
	if err := ann.WriteMessage(websocket.TextMessage, []byte(`{"event":"say","args":["still me"]}`)); err != nil {
		t.Fatal(err)
	}
	ev, args := readEvent(t, ann)
	for ev == "joined" { // her own arrival may reach her
		ev, args = readEvent(t, ann)
	}
	if ev != "said" || len(args) != 2 || args[0] != "ann" || args[1] != "still me" {
		t.Fatalf("after the refusals ann got %s %v", ev, args)
	}
	if err := ann.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "")); err != nil {
		t.Fatal(err)
	}
	eventually(t, echoWait, "ann to be free again", func() bool {
		code, c := chatStatus(t, addr, "r2", "ann")
		if c != nil {
			c.Close()
		}
		return code == http.StatusSwitchingProtocols
	})
}

// TestChatNickRefused: a missing or malformed nickname is refused with 400
// before the upgrade.
func TestChatNickRefused(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t).addr
	for _, nick := range []string{"", "a b", "<b>", "ann\x00", "\xff", strings.Repeat("n", maxNick+1)} {
		if code, _ := chatStatus(t, addr, "r", nick); code != http.StatusBadRequest {
			t.Errorf("nick %q: status %d, want 400", nick, code)
		}
	}
	for _, nick := range []string{"n", "Zoë", "ann_b-2.0", strings.Repeat("ж", maxNick)} {
		if code, _ := chatStatus(t, addr, "r", nick); code != http.StatusSwitchingProtocols {
			t.Errorf("nick %q: status %d, want 101", nick, code)
		}
	}
}

// TestNickHoldLapses: a hold that PreConnect took but OnOpen never
// confirmed (the server refused the upgrade after PreConnect) lets another
// connection take the nickname after holdTTL, and the late one cannot
// confirm it any more; an open hold never lapses.
func TestNickHoldLapses(t *testing.T) {
	t.Parallel()
	s, a, b, c := newNickSet(), new(Chat), new(Chat), new(Chat)
	t0 := time.Unix(1000, 0)
	if !s.hold("ann", a, t0) || s.hold("ann", b, t0.Add(holdTTL-time.Millisecond)) {
		t.Fatal("a fresh hold must keep others out")
	}
	if !s.hold("ann", b, t0.Add(holdTTL)) || s.confirm("ann", a) || !s.confirm("ann", b) {
		t.Fatal("a lapsed hold must go to the next connection, and only it may confirm")
	}
	if s.hold("ann", c, t0.Add(time.Hour)) || s.release("ann", a) || !s.release("ann", b) {
		t.Fatal("an open hold is kept until its holder releases it")
	}
	if !s.hold("ann", c, t0.Add(time.Hour)) {
		t.Fatal("a released nickname is free")
	}
}
