package stream

import (
	"math"
	"testing"
)

// Reproducers of bugs FuzzStreamOps found, minimized by hand. Each is also
// in testdata/fuzz/FuzzStreamOps as an input of the fuzz target.

// TestSetIDBelowTombstone: XSETID may set the last ID below an entry that
// is deleted but still stored in its node (a tombstone, kept until the
// node's last live entry goes). The next XADD then stores its entry after
// a greater ID in the same node, so the node's IDs no longer increase:
// Check fails, and node.find, which stops at the first greater ID, no
// longer finds the new entry (XDEL answers 0, XCLAIM sees no entry) while
// XRANGE lists it. redis-server 7.0.15 on the first sequence's commands
// (XADD k 1-0 f v; XADD k 5-0 f v; XDEL k 5-0; XSETID k 6-0 MAXDELETEDID
// 0-2; XSETID k 2-0; XADD k 3-0 f v; XDEL k 3-0) answers 1 to the XDEL.
//
// Either way of getting there leaves a tombstone above a live entry that
// SetID's checks (max deleted ID, last live entry) do not see:
//   - XSETID MAXDELETEDID lowers max-deleted-entry-id (Redis takes any
//     non-zero value), then XSETID lowers the last ID below the
//     tombstone of the XDEL;
//   - trimming with ACKED deletes entries after one a group still
//     references, and trimming never raises max-deleted-entry-id.
func TestSetIDBelowTombstone(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(testing.TB) *Stream
	}{
		{"XSETID MAXDELETEDID lowers the max deleted ID", func(tb testing.TB) *Stream {
			s := New()
			add(tb, s, ID{1, 0})
			add(tb, s, ID{5, 0})
			if !s.Delete(ID{5, 0}) {
				tb.Fatal("XDEL 5-0")
			}
			if err := s.SetID(ID{6, 0}, -1, &ID{0, 2}); err != nil {
				tb.Fatalf("XSETID 6-0 MAXDELETEDID 0-2: %v", err)
			}
			check(tb, s)
			return s
		}},
		{"XTRIM ACKED deletes the tail", func(tb testing.TB) *Stream {
			s := New()
			lim := Limits{MaxEntries: 3, MaxBytes: 4096}
			for ms := uint64(1); ms <= 6; ms++ {
				addL(tb, s, ID{ms, 0}, lim)
			}
			g := mustGroup(tb, s, "g", MinID)
			readAll(s, g, consumer(g, "c", 1), 0, 1)
			for ms := uint64(2); ms <= 6; ms++ {
				g.Ack(ID{ms, 0})
			}
			// 1-0 is still pending; 2-0 .. 6-0 go, and 2-0 and 3-0 stay
			// as tombstones in 1-0's node.
			if n := s.Trim(Trim{MaxLen: 0, Ref: Acked}); n != 5 {
				tb.Fatalf("XTRIM MAXLEN 0 ACKED deleted %d", n)
			}
			check(tb, s)
			return s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.setup(t)
			// Above the last live entry (1-0) and the max deleted ID:
			// Redis accepts it.
			err := s.SetID(ID{1, 5}, -1, nil)
			check(t, s)
			if err != nil {
				return // refusing it would also keep the stream sound
			}
			add(t, s, ID{2, 0})
			if !s.Exists(ID{2, 0}) {
				t.Fatalf("2-0 added after XSETID 1-5 is not found; ids %v", ids(s))
			}
			if !s.Delete(ID{2, 0}) {
				t.Fatalf("XDEL 2-0 after XSETID 1-5 deleted nothing")
			}
			check(t, s)
		})
	}
}

// TestNackSilentPastMaxCount: XNACK FATAL sets the delivery count to
// LLONG_MAX and a later delivery takes it one further. Redis keeps the count
// unsigned (2^63, shown as -9223372036854775808 by XPENDING), so XNACK
// SILENT, "-1, not below 0", brings it back to LLONG_MAX, not to 0.
func TestNackSilentPastMaxCount(t *testing.T) {
	s := New()
	add(t, s, ID{1, 0})
	g := mustGroup(t, s, "g", MinID)
	c := consumer(g, "c", 1)
	readAll(s, g, c, 0, 1)
	g.Nack(s, ID{1, 0}, NackFatal, -1, false)
	s.ReadHistory(g, c, MinID, 0, 2, func(Entry, bool) {}) // NACKed: not c's
	n := s.ReadNew(g, c, 0, false, 3, func(Entry) {})      // nothing new
	if n != 0 {
		t.Fatalf("ReadNew delivered %d", n)
	}
	if _, claimed, _ := s.Claim(g, c, ID{1, 0}, ClaimOpts{NowMs: 4, DeliveryTime: 4, RetryCount: -1}, nil); !claimed {
		t.Fatal("XCLAIM of the NACKed entry")
	}
	if p, ok := g.PendingOf(ID{1, 0}); !ok || p.DeliveryCount != math.MinInt64 {
		t.Fatalf("after FATAL and a claim: %+v %v, want count 2^63 (MinInt64)", p, ok)
	}
	g.Nack(s, ID{1, 0}, NackSilent, -1, false)
	if p, _ := g.PendingOf(ID{1, 0}); p.DeliveryCount != math.MaxInt64 {
		t.Fatalf("SILENT after 2^63: count %d, want LLONG_MAX", p.DeliveryCount)
	}
	check(t, s)
}
