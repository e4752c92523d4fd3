package cluster

import "github.com/plezigo/plezi/dispatch"

// Default mailbox and identity bounds of Memory (its embedded
// dispatch.MemoryIdentities) and RedisConfig.
const (
	DefaultMaxMail          = dispatch.DefaultMaxMail          // notes per mailbox
	DefaultMaxMailBytes     = dispatch.DefaultMaxMailBytes     // note bytes per mailbox
	DefaultMaxNodeMailBytes = dispatch.DefaultMaxNodeMailBytes // note bytes in all of a Memory's mailboxes
	DefaultMaxIdentities    = dispatch.DefaultMaxIdentities    // identities a Memory holds
)

// orDefault returns v, or def when v is not positive.
func orDefault[T int | int64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// noteLimit is the largest note a mailbox of mail bytes takes: note, or
// mail when note is 0 or larger.
func noteLimit(note, mail int) int {
	if note <= 0 || note > mail {
		return mail
	}
	return note
}

// markGap sets the first backlog note's Gap when the mailbox dropped notes
// above after: floor is the highest id it dropped.
func markGap(backlog []dispatch.Note, floor, after uint64) {
	if len(backlog) > 0 && floor > after {
		backlog[0].Gap = floor - after
	}
}
