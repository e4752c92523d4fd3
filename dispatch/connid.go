package dispatch

import (
	"math"
	"strconv"
	"strings"
)

// A connection id is "<node>-<hex>": the node's id, a dash, and one
// 64-bit number in lower-case hex without leading zeros, packing
//
//	loop (8 bits) | slot (32 bits) | generation (24 bits)
//
// The node id may itself hold dashes: the number starts after the last one.

// connID is a parsed connection id.
type connID struct {
	node string // aliases the parsed string
	loop int
	slot int32
	gen  uint32
}

const genMask = 0xFFFFFF

// formatID appends the id of slot (≥ 0) and gen on loop (0–255) of node.
func formatID(dst []byte, node string, loop int, slot int32, gen uint32) []byte {
	v := uint64(loop)<<56 | uint64(uint32(slot))<<24 | uint64(gen&genMask)
	dst = append(dst, node...)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, v, 16)
}

// parseID parses what formatID writes and nothing else: every other input
// (no dash, an empty node, a number that is empty, not lower-case hex, has
// leading zeros, is past 64 bits or has a slot past int32) is ErrBadID.
// It never panics and does not allocate; the node aliases id.
func parseID(id string) (connID, error) {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 || !canonicalHex(id[i+1:]) {
		return connID{}, ErrBadID
	}
	v, err := strconv.ParseUint(id[i+1:], 16, 64)
	if err != nil || v>>24&0xFFFFFFFF > math.MaxInt32 {
		return connID{}, ErrBadID
	}
	return connID{node: id[:i], loop: int(v >> 56), slot: int32(v >> 24 & 0xFFFFFFFF), gen: uint32(v & genMask)}, nil
}

// canonicalHex reports whether s is 1–16 lower-case hex digits with no
// leading zero (but "0").
func canonicalHex(s string) bool {
	if s == "" || len(s) > 16 || s[0] == '0' && len(s) > 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (h *Hub) makeID(loop int, slot int32, gen uint32) string {
	return string(formatID(make([]byte, 0, len(h.node)+17), h.node, loop, slot, gen))
}

// where is what an id says about the connection it names.
type where uint8

const (
	gone      where = iota // malformed, or this node's and no open connection holds it
	here                   // this node's, open when last seen (its loop checks again)
	elsewhere              // another node's
)

// locate parses id and says where its connection is, from the tables'
// published generations (no lock, no task). Concurrency-safe; does not
// allocate.
func (h *Hub) locate(id string) (connID, where) {
	p, err := parseID(id)
	switch {
	case err != nil:
		return p, gone
	case p.node != h.node:
		return p, elsewhere
	case p.loop >= len(h.tables) || !h.tables[p.loop].live(p.slot, p.gen):
		return p, gone
	}
	return p, here
}

// onConn runs fn, on its loop, with the local connection p names (as
// locate found it here); when it has closed by the time the task runs,
// gone runs there instead, if not nil. Concurrency-safe.
func (h *Hub) onConn(p connID, fn func(c *conn), gone func()) {
	t := h.tables[p.loop]
	h.loops.Submit(p.loop, func() {
		if c := t.get(p.slot, p.gen); c != nil {
			fn(c)
		} else if gone != nil {
			gone()
		}
	})
}

// atLocal runs fn, on its loop, with the open local connection id names;
// it reports false when id names another node (nothing runs; a malformed
// or gone local id runs nothing either). Concurrency-safe.
func (h *Hub) atLocal(id string, fn func(c *conn)) (local bool) {
	p, w := h.locate(id)
	if w == here {
		h.onConn(p, fn, nil)
	}
	return w != elsewhere
}

// validID reports whether id parses as a connection id.
func validID(id string) bool {
	_, err := parseID(id)
	return err == nil
}

// nodeOf returns the node of a well-formed id ("" for a malformed one).
func nodeOf(id string) string {
	p, _ := parseID(id)
	return p.node
}
