package matrix

import (
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/plezigo/plezi/dispatch"
)

// The primitives, in the matrix's order.
var kinds = []string{"mc", "bc", "uc", "nt", "pub", "ppub"}

// burst is one sender's run of one primitive: N messages tagged
// kind|Sender|seq, seq from From on, each sent once to every target for
// uc (connection ids) and nt (identities). It travels as JSON to a controller (the
// "burst" client event) or to a node's /send handler (hub senders).
type burst struct {
	Kind    string   `json:"kind"`
	Sender  string   `json:"sender"`
	Targets []string `json:"targets,omitempty"`
	From    int      `json:"from"`
	N       int      `json:"n"`
}

// sender is what sends a burst: a controller's Socket, or a hub.
type sender interface {
	Multicast(event string, args ...any)
	Broadcast(event string, args ...any)
	Unicast(id, event string, args ...any) bool
	Notify(identity, event string, args ...any) bool
	Publish(channel, text string)
}

// hubSender sends from a hub; Broadcast goes to type Peer.
type hubSender struct{ h *dispatch.Hub }

func (s hubSender) Multicast(e string, a ...any) { s.h.Multicast(e, a...) }
func (s hubSender) Broadcast(e string, a ...any) { dispatch.Broadcast[*Peer](s.h, e, a...) }
func (s hubSender) Publish(ch, text string)      { s.h.Publish(ch, text) }
func (s hubSender) Unicast(id, e string, a ...any) bool {
	return s.h.Unicast(id, e, a...)
}
func (s hubSender) Notify(id, e string, a ...any) bool {
	return s.h.Notify(id, e, a...)
}

func tagOf(kind, sender string, seq int) string {
	return kind + "|" + sender + "|" + strconv.Itoa(seq)
}

func goneEvent(i int) string { return "gone_" + strconv.Itoa(i) }

// rxFrame is a published text: the same JSON a forwarded event has.
func rxFrame(tag string) string { return `{"event":"rx","args":["` + tag + `"]}` }

// run sends the burst, one seq after another. A Notify waits for the
// identity store (a round trip to Redis), so nt sends to each target from
// a goroutine of its own, in seq order per target.
func (b burst) run(s sender) error {
	if b.Kind == "nt" && len(b.Targets) > 1 {
		return b.fanTargets(s)
	}
	for seq := b.From; seq < b.From+b.N; seq++ {
		if err := b.send(s, tagOf(b.Kind, b.Sender, seq)); err != nil {
			return err
		}
	}
	return nil
}

func (b burst) fanTargets(s sender) error {
	errs := make([]error, len(b.Targets))
	var wg sync.WaitGroup
	for i, id := range b.Targets {
		one := b
		one.Targets = []string{id}
		wg.Go(func() { errs[i] = one.run(s) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (b burst) send(s sender, tag string) error {
	switch b.Kind {
	case "mc":
		s.Multicast("rx", tag)
	case "bc":
		s.Broadcast("rx", tag)
	case "pub":
		s.Publish(exactChannel, rxFrame(tag))
	case "ppub":
		s.Publish(patternChannel, rxFrame(tag))
	case "uc":
		for _, id := range b.Targets {
			if !s.Unicast(id, "rx", tag) {
				return fmt.Errorf("unicast %s to %s refused", tag, id)
			}
		}
	case "nt":
		for _, id := range b.Targets {
			if !s.Notify(id, "nt", tag) {
				return fmt.Errorf("notify %s to %s refused", tag, id)
			}
		}
	default:
		return fmt.Errorf("unknown kind %q", b.Kind)
	}
	return nil
}
