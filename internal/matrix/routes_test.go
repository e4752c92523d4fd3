package matrix

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// addRoutes adds the matrix's websocket routes and HTTP handlers: /send
// and /done drive the hub's bursts, /stats answers its counters.
func addRoutes(srv *server.Server) error {
	peer := func() dispatch.Controller { return new(Peer) }
	events := dispatch.ClientEvents("burst", "ucast", "fence")
	j := &jobs{hub: srv.Hub(), done: map[string]chan error{}}
	return errors.Join(
		srv.Route("/w", peer, events),
		srv.Route("/i", peer, events, dispatch.Inline()),
		srv.Route("/o", func() dispatch.Controller { return new(Other) }, dispatch.AutoDispatch(true)),
		srv.Handle("/send", j.send),
		srv.Handle("/done", j.check),
		srv.Handle("/stats", statsHandler(srv)),
	)
}

// jobs runs hub bursts for /send on goroutines of their own and answers
// /done?id= for them: an HTTP handler's connection is timed by
// HandshakeTimeout, and a burst may take longer.
type jobs struct {
	hub  *dispatch.Hub
	mu   sync.Mutex
	next int
	done map[string]chan error // guarded by mu
}

// send starts the bursts of a JSON list, in order, and answers the job id.
func (j *jobs) send(_ *dispatch.Request, body []byte) server.Response {
	var bs []burst
	if err := json.Unmarshal(body, &bs); err != nil {
		return server.Response{Status: 400, Body: []byte(err.Error())}
	}
	ch := make(chan error, 1)
	j.mu.Lock()
	j.next++
	id := strconv.Itoa(j.next)
	j.done[id] = ch
	j.mu.Unlock()
	go func() {
		var err error
		for _, b := range bs {
			if err = b.run(hubSender{j.hub}); err != nil {
				break
			}
		}
		ch <- err
	}()
	return server.Response{Body: []byte(id)}
}

// check answers 202 while job ?id= runs, then 200 or 500 with its error.
func (j *jobs) check(r *dispatch.Request, _ []byte) server.Response {
	id := r.Query("id")
	j.mu.Lock()
	ch := j.done[id]
	j.mu.Unlock()
	if ch == nil {
		return server.Response{Status: 404, Body: []byte("no job " + id)}
	}
	select {
	case err := <-ch:
		j.mu.Lock()
		delete(j.done, id)
		j.mu.Unlock()
		if err != nil {
			return server.Response{Status: 500, Body: []byte(err.Error())}
		}
		return server.Response{Body: []byte("ok")}
	default:
		return server.Response{Status: http.StatusAccepted, Body: []byte("running")}
	}
}

// statsHandler answers server.DebugStats plus the hub's note counters
// and open connections.
func statsHandler(srv *server.Server) server.Handler {
	return func(r *dispatch.Request, body []byte) server.Response {
		resp := srv.DebugStats(r, body)
		var m map[string]int64
		if err := json.Unmarshal(resp.Body, &m); err != nil {
			return server.Response{Status: 500, Body: []byte(err.Error())}
		}
		st := srv.Hub().Stats()
		m["notes_skipped"], m["notes_dropped"] = st.NotesSkipped.Load(), st.NotesDropped.Load()
		m["connections"] = int64(srv.Hub().Count())
		resp.Body, _ = json.Marshal(m)
		return resp
	}
}
