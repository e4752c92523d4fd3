package dispatch

// The cluster envelope's wire format: kinds, one envelope, batches.

import (
	"encoding/binary"
)

// Envelope kinds. The wire format is versioned and never executable:
//
//	version(1) kind(1) uvarint-prefixed: origin, target, sender, name;
//	uvarint num; data (the rest)
const envVersion = 1

// batchVersion opens a batch of envelopes (see appendBatch).
const batchVersion = 2

type envKind uint8

const (
	envMulticast envKind = iota + 1
	envBroadcast
	envUnicast
	envPublishText
	envPublishBinary
	envNote
	envClose
	envUnicastFailed
	envMax
)

// targetsConn reports whether envelopes of kind k name a connection id
// as their target.
func (k envKind) targetsConn() bool {
	return k == envUnicast || k == envNote || k == envClose || k == envUnicastFailed
}

type envelope struct {
	kind   envKind
	origin string
	target string // controller name, conn id, channel
	sender string // sending conn id; identity for notes
	name   string // event
	num    uint64 // note id, close code
	data   []byte // args JSON, payload, note data, close reason
}

// appendEnvelope encodes e after dst.
func appendEnvelope(dst []byte, e *envelope) []byte {
	dst = append(dst, envVersion, byte(e.kind))
	for _, s := range [...]string{e.origin, e.target, e.sender, e.name} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	dst = binary.AppendUvarint(dst, e.num)
	return append(dst, e.data...)
}

// parseEnvelope decodes b; e's strings are copies, e.data aliases b.
func parseEnvelope(b []byte, e *envelope) error {
	if len(b) < 2 || b[0] != envVersion || b[1] == 0 || envKind(b[1]) >= envMax {
		return ErrBadEnvelope
	}
	e.kind = envKind(b[1])
	b = b[2:]
	for _, s := range [...]*string{&e.origin, &e.target, &e.sender, &e.name} {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return ErrBadEnvelope
		}
		*s = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return ErrBadEnvelope
	}
	e.num = n
	e.data = b[k:]
	return nil
}

// appendBatch starts a batch message after dst with first as its first
// envelope. A batch is
//
//	batchVersion(1) { uvarint length; envelope }...
//
// and carries, in order, envelopes published to one topic in one round.
func appendBatch(dst, first []byte) []byte {
	dst = append(dst, batchVersion)
	dst = binary.AppendUvarint(dst, uint64(len(first)))
	return append(dst, first...)
}

// eachEnvelope calls fn with every envelope of a published message: the
// message itself, or each envelope of a batch. A malformed batch is
// rejected whole before fn runs.
func eachEnvelope(b []byte, fn func(env []byte)) error {
	if len(b) == 0 || b[0] != batchVersion {
		fn(b)
		return nil
	}
	rest := b[1:]
	if len(rest) == 0 {
		return ErrBadEnvelope
	}
	for len(rest) > 0 {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n == 0 || n > uint64(len(rest)-k) {
			return ErrBadEnvelope
		}
		rest = rest[k+int(n):]
	}
	rest = b[1:]
	for len(rest) > 0 {
		n, k := binary.Uvarint(rest)
		fn(rest[k : k+int(n)])
		rest = rest[k+int(n):]
	}
	return nil
}
