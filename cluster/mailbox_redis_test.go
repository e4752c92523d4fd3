package cluster

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plezigo/plezi/dispatch"
)

// redisNotify stores a note of size bytes (its id, then padding: notes
// are set members, real ones carry their id too).
func redisNotify(r *Redis, identity string, size int) (dispatch.Notified, error) {
	return r.Notify(identity, func(id uint64) []byte {
		s := strconv.FormatUint(id, 10)
		return []byte(s + strings.Repeat("x", size-len(s)))
	})
}

// hashInt reads a field of the identity's hash.
func hashInt(t *testing.T, r *Redis, identity, field string) int64 {
	t.Helper()
	ctx, cancel := r.cmdCtx()
	defer cancel()
	v, err := r.c.HGet(ctx, r.idKeys(identity)[0], field).Int64()
	if err != nil {
		t.Fatalf("HGET %s: %v", field, err)
	}
	return v
}

// TestRedisMailboxOverflow: 300 notes to an offline identity, bound 256:
// the newest 256 stay, the 44 dropped are reported by Notify, kept in the
// hash and marked on the first backlog note.
func TestRedisMailboxOverflow(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t, testRedisURL, testPrefix(t))
	if _, _, err := r.Register("a", "c1", time.Hour, 1, 0); err != nil {
		t.Fatal(err)
	}
	_ = r.Unregister("a", "c1")
	dropped := 0
	for i := 1; i <= 300; i++ {
		res, err := redisNotify(r, "a", 10)
		if err != nil || res.Note.ID != uint64(i) {
			t.Fatalf("Notify %d: %+v %v", i, res, err)
		}
		dropped += res.Dropped
	}
	if dropped != 44 || hashInt(t, r, "a", "dropped") != 44 || hashInt(t, r, "a", "floor") != 44 {
		t.Fatalf("dropped %d, want 44", dropped)
	}
	if b := hashInt(t, r, "a", "bytes"); b != 256*10 {
		t.Fatalf("bytes %d, want %d", b, 256*10)
	}
	for _, tt := range []struct{ after, first, gap uint64 }{{0, 45, 44}, {30, 45, 14}, {44, 45, 0}, {100, 101, 0}} {
		_, box, err := r.Register("a", "c1", time.Hour, 1, tt.after)
		if err != nil || len(box) != int(300-tt.first+1) || box[0].ID != tt.first || box[0].Gap != tt.gap || box[1].Gap != 0 {
			t.Fatalf("after %d: %d notes from %d gap %d (%v), want from %d gap %d",
				tt.after, len(box), box[0].ID, box[0].Gap, err, tt.first, tt.gap)
		}
	}
}

// TestRedisMailboxBytes: 500 KiB notes in a 1 MiB mailbox: two stay; a
// note over the per-note bound is refused and not stored.
func TestRedisMailboxBytes(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t, testRedisURL, testPrefix(t))
	if _, _, err := r.Register("a", "c1", time.Hour, 1, 0); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		res, err := redisNotify(r, "a", 500<<10)
		if err != nil || (i > 2 && res.Dropped != 1) {
			t.Fatalf("Notify %d: dropped %d, %v", i, res.Dropped, err)
		}
	}
	if b := hashInt(t, r, "a", "bytes"); b != 2*500<<10 {
		t.Fatalf("bytes %d, want %d", b, 2*500<<10)
	}
	if _, err := redisNotify(r, "a", 1<<20+1); !errors.Is(err, dispatch.ErrNoteTooLarge) {
		t.Fatalf("1 MiB + 1: %v, want ErrNoteTooLarge", err)
	}
	r.cfg.MaxNoteBytes = 1000
	if _, err := redisNotify(r, "a", 1001); !errors.Is(err, dispatch.ErrNoteTooLarge) {
		t.Fatalf("1001 bytes: %v, want ErrNoteTooLarge", err)
	}
	_, box, err := r.Register("a", "c1", time.Hour, 1, 0)
	if err != nil || len(box) != 2 || box[0].ID != 4 || box[0].Gap != 3 || box[1].ID != 5 {
		t.Fatalf("backlog: %d notes, %v", len(box), err)
	}
	if b := hashInt(t, r, "a", "bytes"); b != 2*500<<10 {
		t.Fatalf("bytes %d after refusals, want %d", b, 2*500<<10)
	}
}
