package push_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestStartupLog: a node logs the websocket endpoint and the API base URL
// once; with no API key it logs a generated one, which then works; a
// configured key is never logged.
func TestStartupLog(t *testing.T) {
	t.Parallel()
	gen := startProc(t, nil)
	eventually(t, "the start-up lines", func() bool { return strings.Contains(gen.log(), "push: client publishing") })
	m := regexp.MustCompile(`api_key=(\S+)`).FindStringSubmatch(gen.log())
	if m == nil {
		t.Fatalf("no generated key in the log:\n%s", gen.log())
	}
	if status, _ := api(t, gen.addr, m[1], "GET", "/api/stats", ""); status != 200 {
		t.Fatalf("the logged key: %d, want 200", status)
	}
	for _, want := range []string{`msg="push: websocket endpoint" url=ws://` + gen.addr + `/push`, `msg="push: HTTP API" url=http://` + gen.addr + `/api`, "anonymous connections allowed"} {
		if n := strings.Count(gen.log(), want); n != 1 {
			t.Fatalf("%q logged %d times, want once:\n%s", want, n, gen.log())
		}
	}
	const key = "configured-key-0123456789"
	conf := startProc(t, []string{"PL_API_KEY=" + key, "PL_JWT_SECRET=" + testSecret})
	eventually(t, "the start-up lines", func() bool { return strings.Contains(conf.log(), "push: client publishing") })
	if strings.Contains(conf.log(), key) || strings.Contains(conf.log(), "api_key") || strings.Contains(conf.log(), testSecret) {
		t.Fatalf("a configured key or secret was logged:\n%s", conf.log())
	}
	if status, _ := api(t, conf.addr, key, "GET", "/api/stats", ""); status != 200 {
		t.Fatalf("configured key: %d, want 200", status)
	}
}

// feed reads one client's frames on its own goroutine.
type feed struct {
	c      *client
	mu     sync.Mutex
	frames []string // guarded by mu; warm-up frames left out
	warm   map[string]bool
	closed chan int // the close code, once
}

func newFeed(c *client) *feed {
	f := &feed{c: c, warm: map[string]bool{}, closed: make(chan int, 1)}
	go f.read()
	return f
}

var warmFrame = regexp.MustCompile(`"(?:args|data)":\["?(warm[^"\]]*)`)

func (f *feed) read() {
	for {
		_, b, err := f.c.ws.ReadMessage()
		if err != nil {
			code := 0
			if ce, ok := err.(*websocket.CloseError); ok {
				code = ce.Code
			}
			f.closed <- code
			return
		}
		s := string(b)
		f.mu.Lock()
		if m := warmFrame.FindStringSubmatch(s); m != nil || strings.Contains(s, `"data":"warm`) {
			if m != nil {
				f.warm[m[1]] = true
			} else {
				f.warm[s] = true
			}
		} else {
			f.frames = append(f.frames, s)
		}
		f.mu.Unlock()
	}
}

func (f *feed) has(warm string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.warm[warm]
}

func (f *feed) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.frames...)
}

// TestThreeNodes: three cmd/plezi processes on one (private) Redis. Each
// API call, made on each node in turn, reaches exactly the clients it
// should, on every node, once; stats count every node; disconnect works
// across nodes.
func TestThreeNodes(t *testing.T) {
	t.Parallel()
	redis, _ := startRedis(t)
	env := []string{"PL_REDIS_URL=redis://" + redis + "/0", "PL_API_KEY=" + testKey, "PL_JWT_SECRET=" + testSecret}
	var nodes []*proc
	for i := 0; i < 3; i++ {
		nodes = append(nodes, startProc(t, env))
	}
	// Per node: sub (subscribed to news, registered as id<i>) and idle.
	var sub, idle []*feed
	for i, n := range nodes {
		s := connect(t, n.addr, tokenQuery(token(t, testSecret, claims(fmt.Sprintf("id%d", i)))), nil)
		s.ok(1, `{"event":"subscribe","channel":"news"}`)
		s.ok(2, `{"event":"register"}`)
		d := connect(t, n.addr, tokenQuery(token(t, testSecret, claims("idle"))), nil)
		sub, idle = append(sub, newFeed(s)), append(idle, newFeed(d))
	}
	all := append(append([]*feed(nil), sub...), idle...)
	warmUp(t, nodes, sub, all)

	want := callEveryNode(t, nodes, sub, idle, all)
	for f, w := range want {
		sort.Strings(w)
		eventually(t, "every delivery", func() bool { return len(f.got()) >= len(w) })
	}
	// Fences: a multicast from each node, after which nothing it sent
	// before can still be on its way (order per sender).
	for j, n := range nodes {
		mustAPI(t, n.addr, "/api/multicast", fmt.Sprintf(`{"event":"fence","args":[%d]}`, j))
	}
	for f, w := range want {
		eventually(t, "fences", func() bool { return len(f.got()) >= len(w)+3 })
		var got []string
		for _, s := range f.got() {
			if !strings.HasPrefix(s, `{"event":"fence"`) {
				got = append(got, s)
			}
		}
		sort.Strings(got)
		if strings.Join(got, "\n") != strings.Join(w, "\n") {
			t.Fatalf("client %s got\n%s\nwant\n%s", f.c.id, strings.Join(got, "\n"), strings.Join(w, "\n"))
		}
	}
	checkStats(t, nodes)
	mustAPI(t, nodes[0].addr, "/api/disconnect", `{"identity":"id2"}`)
	mustAPI(t, nodes[2].addr, "/api/disconnect", fmt.Sprintf(`{"id":%q}`, idle[1].c.id))
	for _, f := range []*feed{sub[2], idle[1]} {
		select {
		case code := <-f.closed:
			if code != 4001 {
				t.Fatalf("disconnect closed %s with %d, want 4001", f.c.id, code)
			}
		case <-time.After(wait):
			t.Fatalf("%s not disconnected", f.c.id)
		}
	}
}

// callEveryNode makes every kind of API call on each node in turn and
// returns the frames each client must get from them (sorted later).
func callEveryNode(t *testing.T, nodes []*proc, sub, idle, all []*feed) map[*feed][]string {
	t.Helper()
	want := map[*feed][]string{}
	expect := func(f *feed, frame string) { want[f] = append(want[f], frame) }
	for j, n := range nodes {
		k := (j + 1) % 3 // a client on another node
		mustAPI(t, n.addr, "/api/publish", fmt.Sprintf(`{"channel":"news","data":"p%d"}`, j))
		mustAPI(t, n.addr, "/api/multicast", fmt.Sprintf(`{"event":"m%d","args":[%d]}`, j, j))
		mustAPI(t, n.addr, "/api/broadcast", fmt.Sprintf(`{"controller":"push","event":"b%d"}`, j))
		if m := mustAPI(t, n.addr, "/api/unicast", fmt.Sprintf(`{"id":%q,"event":"u%d"}`, idle[k].c.id, j)); m["delivered"] != true {
			t.Fatalf("unicast across nodes: %v", m)
		}
		if m := mustAPI(t, n.addr, "/api/notify", fmt.Sprintf(`{"identity":"id%d","data":"n%d"}`, k, j)); m["registered"] != true {
			t.Fatalf("notify across nodes: %v", m)
		}
		mustAPI(t, n.addr, "/api/batch", fmt.Sprintf(`[{"op":"publish","channel":"news","data":"bp%d"},{"op":"unicast","id":%q,"event":"bu%d"}]`, j, sub[k].c.id, j))
		for _, f := range sub {
			expect(f, fmt.Sprintf(`{"event":"message","channel":"news","data":"p%d"}`, j))
			expect(f, fmt.Sprintf(`{"event":"message","channel":"news","data":"bp%d"}`, j))
		}
		for _, f := range all {
			expect(f, fmt.Sprintf(`{"event":"m%d","args":[%d]}`, j, j))
			expect(f, fmt.Sprintf(`{"event":"b%d"}`, j))
		}
		expect(idle[k], fmt.Sprintf(`{"event":"u%d"}`, j))
		expect(sub[k], fmt.Sprintf(`{"event":"bu%d"}`, j))
		expect(sub[k], fmt.Sprintf(`{"event":"notify","id":"1","identity":"id%d","data":"n%d"}`, k, j))
	}
	return want
}

// warmUp repeats each kind of cluster call from every node until every
// client heard it: the nodes' Redis subscriptions are made in the
// background, so the first calls after start-up may find them not there.
func warmUp(t *testing.T, nodes []*proc, sub, all []*feed) {
	t.Helper()
	eventually(t, "cluster subscriptions", func() bool {
		done := true
		for j, n := range nodes {
			tag := fmt.Sprintf("warm%d", j)
			if !everyHas(all, tag+"m") {
				done = false
				mustAPI(t, n.addr, "/api/multicast", `{"event":"w","args":["`+tag+`m"]}`)
				mustAPI(t, n.addr, "/api/broadcast", `{"controller":"push","event":"w","args":["`+tag+`m"]}`)
			}
			if !everyHas(sub, `{"event":"message","channel":"news","data":"`+tag+`p"}`) {
				done = false
				mustAPI(t, n.addr, "/api/publish", `{"channel":"news","data":"`+tag+`p"}`)
			}
			for _, f := range all {
				if !f.has(tag + "u") {
					done = false
					mustAPI(t, n.addr, "/api/unicast", `{"id":"`+f.c.id+`","event":"w","args":["`+tag+`u"]}`)
				}
			}
		}
		if !done {
			time.Sleep(50 * time.Millisecond) // pace the retries; the poll is the synchronisation
		}
		return done
	})
}

func everyHas(fs []*feed, warm string) bool {
	for _, f := range fs {
		if !f.has(warm) {
			return false
		}
	}
	return true
}

// checkStats: /api/stats on any node shows all three nodes and their six
// /push connections.
func checkStats(t *testing.T, nodes []*proc) {
	t.Helper()
	for _, n := range nodes {
		eventually(t, "stats of three nodes", func() bool {
			status, m := api(t, n.addr, testKey, "GET", "/api/stats", "")
			list, _ := m["nodes"].([]any)
			conns, _ := m["connections"].(map[string]any)
			return status == 200 && len(list) == 3 && conns["total"] == 6.0 && conns["push"] == 6.0 && m["channels"] == 3.0
		})
	}
	_, m := api(t, nodes[0].addr, testKey, "GET", "/api/stats", "")
	b, _ := json.Marshal(m)
	t.Logf("stats: %s", b)
}
