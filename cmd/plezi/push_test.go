package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestDemoOffByDefault: without -demo the command serves the push server
// only: /push and /api answer, the demo routes and page are 404.
func TestDemoOffByDefault(t *testing.T) {
	t.Parallel()
	const key = "cmd-test-key-0123456789"
	addr := bootPlezi(t, "-demo=false", "-api-key", key).addr
	for _, path := range []string{"/echo", "/demo/push", "/chat/lobby?nick=ann", "/unicast"} {
		_, resp, err := websocket.DefaultDialer.Dial(wsURL(addr, path), nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
			t.Fatalf("upgrade to %s without -demo: %v (%v), want 404", path, err, resp)
		}
		resp.Body.Close()
	}
	resp, err := http.Get("http://" + addr + "/index.html")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("demo page without -demo: %d, want 404", resp.StatusCode)
	}
	c := gorillaDial(t, nil, addr, "/push", nil)
	_, b, err := c.ReadMessage()
	if err != nil || !strings.HasPrefix(string(b), `{"event":"welcome","id":"`) {
		t.Fatalf("first /push frame %q, %v; want the welcome", b, err)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"event":"subscribe","channel":"news","_EID_":1}`)); err != nil {
		t.Fatal(err)
	}
	if _, b, err = c.ReadMessage(); err != nil || string(b) != `{"event":"_ack_","_EID_":1}` {
		t.Fatalf("subscribe answered %q, %v", b, err)
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/publish", strings.NewReader(`{"channel":"news","data":"hi"}`))
	req.Header.Set("X-API-Key", key)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var m map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(body, &m) != nil || m["ok"] != true {
		t.Fatalf("publish: %d %s", resp.StatusCode, body)
	}
	if _, b, err = c.ReadMessage(); err != nil || string(b) != `{"event":"message","channel":"news","data":"hi"}` {
		t.Fatalf("publish arrived as %q, %v", b, err)
	}
}
