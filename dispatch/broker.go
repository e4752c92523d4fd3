package dispatch

import "time"

// Broker carries envelopes between the nodes of a cluster. Topics are
// "all", "ctl:<controller>", "node:<id>" and "pub:<channel>". A broker
// delivers every publish to every subscriber of the topic, the publishing node
// included; the hub ignores its own envelopes.
//
// Implementations must be safe for concurrent use and must not block the
// caller on the network for long: Publish from an event loop is not allowed,
// the hub publishes from its own goroutines.
type Broker interface {
	// Publish sends data to every subscriber of topic. data is not retained
	// after Publish returns.
	Publish(topic string, data []byte) error
	// Subscribe calls fn for every message on topic until cancel is called.
	// data passed to fn is valid until fn returns.
	Subscribe(topic string, fn func(data []byte)) (cancel func(), err error)
}

// Publication is one message of a batch publish.
type Publication struct {
	Topic string
	Data  []byte
}

// BatchPublisher is an optional Broker capability: publish several
// messages in one round trip (a pipeline), in order. Data is not retained
// after PublishBatch returns. The error, if any, is the first failure.
type BatchPublisher interface {
	PublishBatch(msgs []Publication) error
}

// PatternSubscriber is an optional Broker capability: glob subscriptions.
type PatternSubscriber interface {
	PSubscribe(pattern string, fn func(topic string, data []byte)) (cancel func(), err error)
}

// NodeRegistry is an optional Broker capability: node liveness. A hub
// announces itself every NodeTTL/5; a Unicast to a node that is not alive
// fails at once (OnUnicastFailed) instead of vanishing.
type NodeRegistry interface {
	// Announce marks node alive for ttl; ttl 0 retires it.
	Announce(node string, ttl time.Duration) error
	// Alive reports whether node announced itself within its ttl.
	Alive(node string) (bool, error)
}

// NodeTTL is how long a node's announcement lasts. A node renews it every
// NodeTTL/5 (500 ms), and the publisher keeps a liveness answer for
// aliveFor (250 ms), so a node that dies is known dead within NodeTTL +
// aliveFor (2.75 s), and a node survives four missed renewals.
const NodeTTL = 2500 * time.Millisecond

// Restorer is an optional Broker capability for a broker whose shared
// state can be lost (Redis restarted without its data, or froze past the
// liveness TTLs) or whose subscription can miss messages (reconnected,
// renewed): fn runs after such an event, once the broker is back, on a
// broker goroutine, and must not block. The hub then restores what its
// node owns: it announces itself again and registers each open
// connection's identities again (IdentityRestorer), which replays the
// mailbox notes above the last one the connection delivered.
type Restorer interface {
	OnRestore(fn func())
}

// IdentityRestorer is an optional Identities capability: Restore is
// Register for a connection that registered before and may have been lost
// by the store. It returns the notes above after, raises the identity's
// note counter to seen (the highest id the connection delivered: a store
// that lost its notes must not hand those ids out again), and never
// evicts another connection: when the identity has no room for connID,
// evict holds connID alone. The hub falls back to Register without it.
type IdentityRestorer interface {
	Restore(identity, connID string, lifetime time.Duration, max int, after, seen uint64) (evict []string, backlog []Note, err error)
}

// Note is one identity mailbox entry.
type Note struct {
	ID   uint64 // increasing per identity
	Data []byte // the encoded event (JSON text frame payload)
	// Gap, on the first note of a Register backlog only: how many notes
	// with ids above the caller's after (and below this one) the mailbox
	// dropped to stay within its bounds. Delivered as "_gap_":Gap.
	Gap uint64
}

// Notified is what Identities.Notify did.
type Notified struct {
	Note    Note     // the stored note
	Conns   []string // the identity's live connection ids
	Dropped int      // oldest notes dropped to keep the mailbox within its bounds
}

// Identities keeps identity registrations and mailboxes, shared by every node
// of a cluster. Implementations are safe for concurrent use.
//
// A mailbox is bounded in notes and in bytes; a note that does not fit
// drops the oldest ones (Notified.Dropped), and the next Register that
// misses them marks its first backlog note (Note.Gap).
type Identities interface {
	// Register joins connection connID to identity, renewing its lifetime.
	// It returns the connection ids to close because the identity now has more
	// than max connections (oldest first), and the mailbox entries with an id
	// larger than after, oldest first. A store bounded in identities fails
	// with ErrTooManyIdentities for a new one.
	Register(identity, connID string, lifetime time.Duration, max int, after uint64) (evict []string, backlog []Note, err error)
	// Unregister removes connID from identity's connections.
	Unregister(identity, connID string) error
	// Notify stores data (built by build from the note's id) in the mailbox
	// and returns the note and the identity's live connection ids. It fails
	// with ErrNotRegistered when the identity never registered or has
	// expired, ErrNoteTooLarge when the note is over the store's per-note
	// bound and ErrMailFull when the store's total is used up; then nothing
	// is stored.
	Notify(identity string, build func(id uint64) []byte) (Notified, error)
	// Registered reports whether identity is registered and not expired.
	Registered(identity string) (bool, error)
}
