package dispatch

// Cluster output: the bounded queue and the publisher goroutine that
// batches envelopes and hands them to the broker.

import (
	"encoding/binary"
)

// sendRemote queues an envelope for the cluster; it never blocks the
// caller (a full queue drops and counts).
func (h *Hub) sendRemote(topic string, e envelope) { h.sendRemoteTo(topic, e, "", nil) }

// sendRemoteTo is sendRemote for an envelope to one node: when the broker
// knows node liveness and node is dead, onDead runs instead.
func (h *Hub) sendRemoteTo(topic string, e envelope, node string, onDead func()) {
	if h.broker == nil || !h.started.Load() {
		return
	}
	e.origin = h.node
	data := appendEnvelope(nil, &e)
	select {
	case h.out <- outEnvelope{topic: topic, data: data, node: node, onDead: onDead}:
	default:
		h.stats.PublishErrors.Add(1)
	}
}

// Publisher batching: the publisher takes what is queued when it wakes (at
// most maxBatchEnvelopes or about maxBatchBytes), joins consecutive
// envelopes for the same topic into one batch message, and hands all the
// messages to the broker at once (one pipelined round trip on Redis). It
// never waits for more: at a low rate every envelope goes out alone and at
// once; under load the batches grow with the queue.
const (
	maxBatchEnvelopes = 1024
	maxBatchBytes     = 512 << 10
)

// publisher sends queued envelopes to the broker until the hub stops.
func (h *Hub) publisher() {
	defer h.wg.Done()
	p := publisher{h: h, alive: newAliveCache(h.broker)}
	p.batcher, _ = h.broker.(BatchPublisher)
	for {
		select {
		case o := <-h.out:
			p.add(o)
			for n := 1; n < maxBatchEnvelopes && p.size < maxBatchBytes; n++ {
				select {
				case o = <-h.out:
					p.add(o)
					continue
				default:
				}
				break
			}
			p.flush()
		case <-h.stop:
			return
		}
	}
}

// publisher is the state of the publisher goroutine.
type publisher struct {
	h       *Hub
	alive   *aliveCache
	batcher BatchPublisher
	down    bool // the last publish failed (logged once per outage)

	msgs  []Publication // messages of this round
	count []int         // envelopes in each message
	size  int
}

// add queues o for this round, joining it to the previous message when
// both go to the same topic (order across topics is kept: only neighbours
// join).
func (p *publisher) add(o outEnvelope) {
	if o.node != "" && !p.alive.check(o.node) {
		if o.onDead != nil {
			o.onDead() // counts
		} else {
			p.h.stats.UnicastFailed.Add(1)
		}
		return
	}
	p.size += len(o.data)
	if n := len(p.msgs); n > 0 && p.msgs[n-1].Topic == o.topic {
		last := &p.msgs[n-1]
		if p.count[n-1] == 1 {
			last.Data = appendBatch(nil, last.Data)
		}
		last.Data = binary.AppendUvarint(last.Data, uint64(len(o.data)))
		last.Data = append(last.Data, o.data...)
		p.count[n-1]++
		return
	}
	p.msgs = append(p.msgs, Publication{Topic: o.topic, Data: o.data})
	p.count = append(p.count, 1)
}

// flush signs and sends this round's messages, then resets.
func (p *publisher) flush() {
	h := p.h
	if len(p.msgs) == 0 {
		return
	}
	envelopes := 0
	for i := range p.msgs {
		envelopes += p.count[i]
		if h.cfg.Secret != nil {
			p.msgs[i].Data = appendMAC(p.msgs[i].Data, h.cfg.Secret)
		}
	}
	var err error
	if p.batcher != nil {
		err = p.batcher.PublishBatch(p.msgs)
		h.stats.ClusterRoundTrips.Add(1)
	} else {
		for _, m := range p.msgs {
			if e := h.broker.Publish(m.Topic, m.Data); e != nil {
				err = e
			}
			h.stats.ClusterRoundTrips.Add(1)
		}
	}
	h.stats.ClusterEnvelopes.Add(int64(envelopes))
	h.stats.ClusterMessages.Add(int64(len(p.msgs)))
	switch {
	case err != nil && !p.down:
		p.down = true
		h.stats.PublishErrors.Add(int64(envelopes))
		h.log.Warn("dispatch: cluster publish failing", "err", err)
	case err != nil:
		h.stats.PublishErrors.Add(int64(envelopes))
	case p.down:
		p.down = false
		h.log.Info("dispatch: cluster publish recovered")
	}
	clear(p.msgs)
	p.msgs, p.count, p.size = p.msgs[:0], p.count[:0], 0
}
