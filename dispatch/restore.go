package dispatch

import "time"

// Restoring a node's state after the cluster's store lost it or its
// subscription missed messages (see Restorer). The broker calls
// requestRestore; one goroutine of the hub (restorer) then announces the
// node again and asks every open connection, in its own context, for the
// identities it registered, and registers each again off the loops
// (IdentityRestorer.Restore), delivering the mailbox notes above the last
// one it delivered: the connection's seen ids drop what it had. Requests
// that come while a restoration runs make one more after it.

// requestRestore asks the restorer for a restoration. Never blocks.
func (h *Hub) requestRestore() {
	select {
	case h.restoreReq <- struct{}{}:
	default:
	}
}

// restorer runs restorations until the hub stops.
func (h *Hub) restorer() {
	defer h.wg.Done()
	for {
		select {
		case <-h.restoreReq:
		case <-h.stop:
			return
		}
		h.restoreNode()
	}
}

// restoreNode announces the node and restores every connection's
// identities.
func (h *Hub) restoreNode() {
	h.stats.Restores.Add(1)
	if nr, ok := h.broker.(NodeRegistry); ok {
		_ = nr.Announce(h.node, NodeTTL) // the announcer logs failures
	}
	for i, t := range h.tables {
		h.loops.Submit(i, func() {
			for _, c := range t.slots {
				if c != nil && c.x.Load() != nil {
					c.schedule(job{kind: jobFunc, fn: c.restoreIDs}, false)
				}
			}
		})
	}
}

// restoreReg is one identity registration of a connection, as restored.
type restoreReg struct {
	name        string
	life        time.Duration
	max         int
	after, seen uint64
}

// restoreIDs takes the connection's registrations (in its context) and
// registers them again on a worker.
func (c *conn) restoreIDs() {
	x := c.x.Load()
	if x == nil || !c.t.Open() {
		return
	}
	var regs []restoreReg
	for i := range x.ids {
		if st := &x.ids[i]; st.life > 0 {
			regs = append(regs, restoreReg{st.name, st.life, st.max, st.seen.floor, st.seen.top()})
		}
	}
	if len(regs) == 0 {
		return
	}
	h, id := c.hub(), c.ID()
	h.goWork(uint64(c.slot), func() {
		for _, g := range regs {
			if !c.t.Open() {
				return
			}
			h.restoreReg(c, id, g)
		}
	})
}

// restoreReg registers id again as g says and delivers the backlog.
func (h *Hub) restoreReg(c *conn, id string, g restoreReg) {
	var evict []string
	var backlog []Note
	var err error
	if ir, ok := h.ids.(IdentityRestorer); ok {
		evict, backlog, err = ir.Restore(g.name, id, g.life, g.max, g.after, g.seen)
	} else {
		evict, backlog, err = h.ids.Register(g.name, id, g.life, g.max, g.after)
	}
	if err != nil {
		h.stats.RestoreErrors.Add(1)
		return
	}
	h.stats.Restored.Add(1)
	for _, e := range evict {
		h.closeID(e, 4009, "replaced")
	}
	for _, n := range backlog {
		c.noteAsync(g.name, n)
	}
}
