package cluster_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// startOn runs a node whose broker is on url with prefix.
func startOn(t *testing.T, url, prefix string) (*server.Server, *cluster.Redis) {
	t.Helper()
	b, err := cluster.NewRedis(cluster.RedisConfig{URL: url, Prefix: prefix})
	if err != nil {
		t.Fatalf("redis: %v", err)
	}
	srv, stop := runNode(t, server.Config{Broker: b})
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("run: %v", err)
		}
		_ = b.Close()
	})
	return srv, b
}

// TestClusterNodesInOrder: across two nodes on a Redis Cluster, 1,000
// unicasts and 1,000 notes from one sender to one connection all arrive,
// once each and in order.
func TestClusterNodesInOrder(t *testing.T) {
	url := cluster.SharedClusterURL(t)
	prefix := "plezitest-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	a, _ := startOn(t, url, prefix)
	z, _ := startOn(t, url, prefix)
	cz, idz := dialPeer(t, z, "?user=zoe")
	retryUntil(t, cz, `{"event":"ping"}`, "a unicast across nodes", func() { a.Unicast(idz, "ping") })
	const n = 1000
	for i := range n {
		if !a.Unicast(idz, "n", i) {
			t.Fatalf("unicast %d refused", i)
		}
	}
	for i := range n {
		if m, want := readPast(t, cz, `{"event":"ping"}`), fmt.Sprintf(`{"event":"n","args":[%d]}`, i); m != want {
			t.Fatalf("unicast %d: got %s, want %s", i, m, want)
		}
	}
	for i := range n {
		if !a.Notify("zoe", "note", i) {
			t.Fatalf("notify %d returned false", i)
		}
	}
	for i := range n {
		var m struct {
			NID  uint64 `json:"_NID_"`
			Args []int  `json:"args"`
		}
		raw := readMsg(t, cz)
		if err := json.Unmarshal([]byte(raw), &m); err != nil || m.NID != uint64(i+1) || len(m.Args) != 1 || m.Args[0] != i {
			t.Fatalf("note %d: got %s, want _NID_ %d", i, raw, i+1)
		}
	}
	if s, ok := cz.next(100 * time.Millisecond); ok {
		t.Fatalf("after the notes: %s", s)
	}
}

// Solo sends its id, then joins the identity named in ?user= with at most
// one connection.
type Solo struct{ dispatch.Socket }

func (s *Solo) OnOpen() {
	_ = s.Emit("id", s.ID())
	if err := s.RegisterAs(s.Request().Query("user"), dispatch.MaxConnections(1)); err != nil {
		_ = s.Emit("regerr", err.Error())
	}
}

// watched is a client connection whose frames and close code are read
// by a goroutine.
type watched struct {
	id     string
	msgs   chan string
	closed chan int // the close code, once
}

func watchSolo(srv *server.Server, user string) (*watched, error) {
	c, _, err := websocket.DefaultDialer.Dial("ws://"+srv.Addr()+"/solo?user="+user, nil)
	if err != nil {
		return nil, err
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var first struct{ Args []string }
	if _, m, err := c.ReadMessage(); err != nil || json.Unmarshal(m, &first) != nil || len(first.Args) != 1 {
		c.Close()
		return nil, fmt.Errorf("first message: %s %v", m, err)
	}
	_ = c.SetReadDeadline(time.Time{})
	w := &watched{id: first.Args[0], msgs: make(chan string, 16), closed: make(chan int, 1)}
	go func() {
		defer c.Close()
		for {
			_, m, err := c.ReadMessage()
			if ce, ok := err.(*websocket.CloseError); ok {
				w.closed <- ce.Code
				return
			}
			if err != nil {
				w.closed <- -1
				return
			}
			select {
			case w.msgs <- string(m):
			default:
			}
		}
	}()
	return w, nil
}

// TestRegisterAsRace: two connections of one identity (max 1) register
// at once on two nodes, round after round, on one Redis and on a Redis
// Cluster: every round exactly one stays open and registered, the other
// is closed with 4009.
func TestRegisterAsRace(t *testing.T) {
	for name, url := range map[string]string{"redis": "redis://127.0.0.1:6379/0", "cluster": cluster.SharedClusterURL(t)} {
		t.Run(name, func(t *testing.T) {
			prefix := "plezitest-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			a, ba := startOn(t, url, prefix)
			z, _ := startOn(t, url, prefix)
			for round := range 20 {
				raceRound(t, ba, a, z, "solo-"+strconv.Itoa(round))
			}
		})
	}
}

func raceRound(t *testing.T, b *cluster.Redis, a, z *server.Server, user string) {
	t.Helper()
	var w [2]*watched
	var errs [2]error
	var wg sync.WaitGroup
	for i, srv := range []*server.Server{a, z} {
		wg.Add(1)
		go func() { defer wg.Done(); w[i], errs[i] = watchSolo(srv, user) }()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("%s: dial: %v %v", user, errs[0], errs[1])
	}
	var open *watched
	select {
	case code := <-w[0].closed:
		open = w[1]
		if code != 4009 {
			t.Fatalf("%s: closed with %d, want 4009", user, code)
		}
	case code := <-w[1].closed:
		open = w[0]
		if code != 4009 {
			t.Fatalf("%s: closed with %d, want 4009", user, code)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: both connections still open: one is not registered", user)
	}
	res, err := b.Notify(user, func(id uint64) []byte {
		return []byte(`{"event":"hi","_NID_":` + strconv.FormatUint(id, 10) + `,"_identity":"` + user + `"}`)
	})
	if conns := res.Conns; err != nil || len(conns) != 1 || conns[0] != open.id {
		t.Fatalf("%s: registered %v (%v), want only %s", user, conns, err, open.id)
	}
	select {
	case code := <-open.closed:
		t.Fatalf("%s: the remaining connection closed too (%d)", user, code)
	case <-time.After(20 * time.Millisecond):
	}
}
