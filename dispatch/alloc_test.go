//go:build !race

package dispatch_test

import (
	"testing"

	"github.com/plezigo/plezi/dispatch"
)

// TestBroadcastAllocsPerRecipient: fan-out allocates per Broadcast call
// (the delivery, its frame, the loop task) but nothing per recipient.
func TestBroadcastAllocsPerRecipient(t *testing.T) {
	allocs := func(n int) float64 {
		h, r := inlineHub(t)
		var s sink
		openN(t, r, n, &s)
		return testing.AllocsPerRun(200, func() { dispatch.Broadcast[*Fan](h, "tick", 1) })
	}
	one, many := allocs(1), allocs(1000)
	if perRecipient := (many - one) / 999; perRecipient != 0 {
		t.Fatalf("allocs per Broadcast: %v with 1 recipient, %v with 1000 (%v per recipient), want no growth", one, many, perRecipient)
	}
	t.Logf("allocs per Broadcast call: %v", one)
}

// TestMulticastAllocsPerRecipient is the same contract for Multicast and
// for Publish to a channel.
func TestMulticastAllocsPerRecipient(t *testing.T) {
	allocs := func(n int, fn func(h *dispatch.Hub)) float64 {
		h, r := inlineHub(t)
		var s sink
		for _, c := range openN(t, r, n, &s) {
			c.Subscribe("ch")
		}
		return testing.AllocsPerRun(200, func() { fn(h) })
	}
	for name, fn := range map[string]func(h *dispatch.Hub){
		"multicast": func(h *dispatch.Hub) { h.Multicast("tick", 1) },
		"publish":   func(h *dispatch.Hub) { h.Publish("ch", "text") },
	} {
		if one, many := allocs(1, fn), allocs(1000, fn); one != many {
			t.Errorf("%s: %v allocs with 1 recipient, %v with 1000", name, one, many)
		}
	}
}
