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

// lookup finds a local connection by id. local is true when no other node
// can hold id: it names this node, or it is malformed (c is nil then, as
// for a connection that is gone). Concurrency-safe; does not allocate.
func (h *Hub) lookup(id string) (c *Conn, local bool) {
	p, err := parseID(id)
	if err != nil {
		return nil, true
	}
	if p.node != h.node {
		return nil, false
	}
	if p.loop >= len(h.sets) {
		return nil, true
	}
	ls := h.sets[p.loop]
	ls.mu.RLock()
	defer ls.mu.RUnlock()
	if int(p.slot) >= len(ls.slots) || ls.gens[p.slot]&genMask != p.gen {
		return nil, true
	}
	c = ls.slots[p.slot]
	if c != nil && c.closed.Load() {
		c = nil
	}
	return c, true
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
