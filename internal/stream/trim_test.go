package stream

import (
	"math/rand"
	"testing"
)

// Trimming numbers from the Redis test suite (spec §6) under the node model.

func xaddTrim(tb testing.TB, s *Stream, id ID, lim Limits, t Trim) int64 {
	tb.Helper()
	addL(tb, s, id, lim, "xitem", "v")
	n := s.Trim(t)
	check(tb, s)
	return n
}

// approxLimit is the default LIMIT for "~" (100 * node entries).
func approxLimit(per int64) int64 { return 100 * per }

func TestTrimMaxLenApprox555(t *testing.T) {
	// test "XADD with MAXLEN option and the '~' argument": 600.
	s := New()
	r := rand.New(rand.NewSource(1))
	for j := 0; j < 1000; j++ {
		f := "xitem"
		if r.Float64() >= 0.9 {
			f = "yitem"
		}
		addL(t, s, id(uint64(j+1)), defLimits, f, itoa(j))
		s.Trim(Trim{MaxLen: 555, Approx: true, Limit: approxLimit(100)})
	}
	check(t, s)
	if s.Len() != 600 {
		t.Fatalf("len %d, want 600", s.Len())
	}
}

func TestTrimMaxLenSequence(t *testing.T) {
	// test "XTRIM with MAXLEN option basic test": 666, 555, ~444 -> 500, ~400 -> 400.
	s := seqStream(t, 1000, 100)
	for _, c := range []struct {
		max    int64
		approx bool
		want   int64
	}{{666, false, 666}, {555, false, 555}, {444, true, 500}, {400, true, 400}} {
		tr := Trim{MaxLen: c.max, Approx: c.approx}
		if c.approx {
			tr.Limit = approxLimit(100)
		}
		s.Trim(tr)
		check(t, s)
		if s.Len() != c.want {
			t.Fatalf("MAXLEN %v %d: len %d, want %d", c.approx, c.max, s.Len(), c.want)
		}
	}
}

func TestTrimLimitConsecutive(t *testing.T) {
	// test "XADD with LIMIT consecutive calls": node size 10 -> 71, 62.
	lim := Limits{MaxEntries: 10, MaxBytes: 4096}
	s := seqStream(t, 100, 10)
	tr := Trim{MaxLen: 55, Approx: true, Limit: 30}
	xaddTrim(t, s, id(101), lim, tr)
	if s.Len() != 71 {
		t.Fatalf("len %d, want 71", s.Len())
	}
	xaddTrim(t, s, id(102), lim, tr)
	if s.Len() != 62 {
		t.Fatalf("len %d, want 62", s.Len())
	}
}

func TestTrimApproxLimited(t *testing.T) {
	// tests "XTRIM with ~ is limited" (2), "without ~ is not limited" (1).
	s := seqStream(t, 102, 1)
	s.Trim(Trim{MaxLen: 1, Approx: true, Limit: approxLimit(1)})
	check(t, s)
	if s.Len() != 2 {
		t.Fatalf("~: len %d, want 2", s.Len())
	}
	s = seqStream(t, 102, 1)
	s.Trim(Trim{MaxLen: 1})
	check(t, s)
	if s.Len() != 1 || s.Nodes() != 1 {
		t.Fatalf("=: len %d nodes %d, want 1 1", s.Len(), s.Nodes())
	}
}

func TestTrimLimitBeforeDecision(t *testing.T) {
	// test "XTRIM with LIMIT delete entries no more than limit": node size
	// 2, 3 entries: LIMIT 1 deletes 0, LIMIT 2 deletes 2.
	s := seqStream(t, 3, 2)
	if n := s.Trim(Trim{MaxLen: 0, Approx: true, Limit: 1}); n != 0 {
		t.Fatalf("LIMIT 1 deleted %d", n)
	}
	if n := s.Trim(Trim{MaxLen: 0, Approx: true, Limit: 2}); n != 2 {
		t.Fatalf("LIMIT 2 deleted %d", n)
	}
	check(t, s)
	// test "XADD with LIMIT delete entries no more than limit": 4.
	s = seqStream(t, 3, 100)
	xaddTrim(t, s, id(4), defLimits, Trim{MaxLen: 0, Approx: true, Limit: 1})
	if s.Len() != 4 {
		t.Fatalf("len %d, want 4", s.Len())
	}
}

func TestTrimPropagationCases(t *testing.T) {
	// "XTRIM with ~ MAXLEN can propagate correctly": node size 10, ~85 -> 90.
	s := seqStream(t, 100, 10)
	s.Trim(Trim{MaxLen: 85, Approx: true, Limit: approxLimit(10)})
	if s.Len() != 90 {
		t.Fatalf("~85: %d, want 90", s.Len())
	}
	// "XADD with ~ MINID and LIMIT can propagate correctly": MINID ~ 55 LIMIT 30 -> 71.
	s = seqStream(t, 100, 10)
	xaddTrim(t, s, id(101), Limits{MaxEntries: 10, MaxBytes: 4096}, Trim{MinID: true, Min: id(55), Approx: true, Limit: 30})
	if s.Len() != 71 {
		t.Fatalf("MINID ~55 LIMIT 30: %d, want 71", s.Len())
	}
	// "XADD with ~ MINID can propagate correctly": node 100, MINID ~ 100 keeps all.
	s = seqStream(t, 100, 100)
	xaddTrim(t, s, id(101), defLimits, Trim{MinID: true, Min: id(100), Approx: true, Limit: approxLimit(100)})
	if s.Len() != 101 {
		t.Fatalf("MINID ~100: %d, want 101", s.Len())
	}
}

func TestTrimMinID(t *testing.T) {
	// "XTRIM with MINID option".
	s := seqStream(t, 5, 100)
	s.Trim(Trim{MinID: true, Min: id(3)})
	if got := ids(s); len(got) != 3 || got[0] != "3-0" {
		t.Fatalf("MINID = 3-0: %v", got)
	}
	if s.FirstID() != id(3) || !s.MaxDeletedID().IsZero() {
		t.Fatalf("first %v maxdel %v", s.FirstID(), s.MaxDeletedID())
	}
	// "XTRIM with MINID option, big delta from master record".
	s = New()
	add(t, s, id(1))
	add(t, s, ID{1641544570597, 0})
	add(t, s, ID{1641544570597, 1})
	s.Trim(Trim{MinID: true, Min: ID{1641544570597, 0}})
	check(t, s)
	if got := ids(s); len(got) != 2 || got[0] != "1641544570597-0" {
		t.Fatalf("big delta: %v", got)
	}
	// "XADD with MINID option": MINID j-5 on every add keeps 6.
	s = New()
	for j := uint64(1); j < 1001; j++ {
		minid := uint64(1000)
		if j >= 5 {
			minid = j - 5
		}
		xaddTrim(t, s, id(j), defLimits, Trim{MinID: true, Min: id(minid)})
	}
	if s.Len() != 6 {
		t.Fatalf("MINID sliding: %d, want 6", s.Len())
	}
}

func TestTrimTombstoneNodeRemoved(t *testing.T) {
	// #15815: MINID = 2-0 after XDEL 2-0 empties the node of live entries;
	// the node goes (Redis 7.0.15 kept it: radix-tree-keys 1, length 0).
	s := New()
	add(t, s, id(1))
	add(t, s, id(2))
	s.Delete(id(2))
	if n := s.Trim(Trim{MinID: true, Min: id(2)}); n != 1 {
		t.Fatalf("deleted %d", n)
	}
	check(t, s)
	if s.Len() != 0 || s.Nodes() != 0 || !s.FirstID().IsZero() {
		t.Fatalf("len %d nodes %d first %v", s.Len(), s.Nodes(), s.FirstID())
	}
}

func TestTrimAcked(t *testing.T) {
	// "XADD with MAXLEN option and ACKED option".
	s := seqStream(t, 5, 100)
	g := mustGroup(t, s, "mygroup", MinID)
	c := consumer(g, "consumer1", 1)
	xaddTrim(t, s, id(6), defLimits, Trim{MaxLen: 1, Ref: Acked})
	if s.Len() != 6 {
		t.Fatalf("nothing acked: len %d, want 6", s.Len())
	}
	got := readAll(s, g, c, 1, 2)
	g.Ack(ID{1, 0})
	if len(got) != 1 || g.PendingCount() != 0 {
		t.Fatalf("read %v pending %d", got, g.PendingCount())
	}
	xaddTrim(t, s, id(7), defLimits, Trim{MaxLen: 1, Ref: Acked})
	if s.Len() != 6 {
		t.Fatalf("one acked: len %d, want 6", s.Len())
	}
	for _, x := range readAll(s, g, c, 0, 3) {
		i, _ := ParseID([]byte(x), 0, true)
		g.Ack(i)
	}
	xaddTrim(t, s, id(8), defLimits, Trim{MaxLen: 1, Ref: Acked})
	if s.Len() != 1 {
		t.Fatalf("all acked: len %d, want 1", s.Len())
	}
	check(t, s)
	// "ACKED ... without cgroup references": 1-0 acked, 2-0 not delivered.
	s = seqStream(t, 1, 100)
	g = mustGroup(t, s, "g", MinID)
	c = consumer(g, "c", 1)
	readAll(s, g, c, 1, 1)
	g.Ack(id(1))
	add(t, s, id(2))
	xaddTrim(t, s, id(3), defLimits, Trim{MaxLen: 1, Ref: Acked})
	if s.Len() != 2 {
		t.Fatalf("len %d, want 2", s.Len())
	}
	// No groups: ACKED deletes (8.6 behaviour, #14769).
	s = seqStream(t, 4, 100)
	if n := s.Trim(Trim{MinID: true, Min: id(5), Approx: true, Limit: 4, Ref: Acked}); n != 4 {
		t.Fatalf("no groups: deleted %d, want 4", n)
	}
}

func TestTrimApproxAckedDelRef(t *testing.T) {
	// "XTRIM with approx and ACKED deletes entries correctly" (8.2 #14623):
	// nodes [1,2][3,4][5]; 1, 2, 4 acked; MINID ~ 6-0 ACKED deletes 3.
	s := seqStream(t, 5, 2)
	g := mustGroup(t, s, "mygroup", MinID)
	c := consumer(g, "consumer1", 1)
	readAll(s, g, c, 0, 1)
	for _, x := range []uint64{1, 2, 4} {
		g.Ack(id(x))
	}
	if n := s.Trim(Trim{MinID: true, Min: id(6), Approx: true, Limit: approxLimit(2), Ref: Acked}); n != 3 {
		t.Fatalf("deleted %d, want 3", n)
	}
	check(t, s)
	if got := ids(s); len(got) != 2 || got[0] != "3-0" || got[1] != "5-0" {
		t.Fatalf("left %v", got)
	}
	// The PR's own test: [1,2][3,4], 1 and 2 acked, MINID ~ 5-0 ACKED -> 2.
	s = seqStream(t, 4, 2)
	g = mustGroup(t, s, "mygroup", MinID)
	c = consumer(g, "consumer1", 1)
	readAll(s, g, c, 0, 1)
	g.Ack(id(1))
	g.Ack(id(2))
	if n := s.Trim(Trim{MinID: true, Min: id(5), Approx: true, Limit: approxLimit(2), Ref: Acked}); n != 2 {
		t.Fatalf("deleted %d, want 2", n)
	}
	// "XTRIM with approx and DELREF deletes entries correctly": 4, PEL empty.
	s = seqStream(t, 4, 2)
	g = mustGroup(t, s, "mygroup", MinID)
	c = consumer(g, "consumer1", 1)
	readAll(s, g, c, 0, 1)
	if n := s.Trim(Trim{MinID: true, Min: id(5), Approx: true, Limit: approxLimit(2), Ref: DelRef}); n != 4 {
		t.Fatalf("DELREF deleted %d, want 4", n)
	}
	check(t, s)
	if g.PendingCount() != 0 || c.PendingCount() != 0 || s.Len() != 0 {
		t.Fatalf("pending %d len %d", g.PendingCount(), s.Len())
	}
	// "XADD with MAXLEN option and DELREF option".
	s = seqStream(t, 5, 100)
	g = mustGroup(t, s, "mygroup", MinID)
	c = consumer(g, "consumer1", 1)
	readAll(s, g, c, 1, 1)
	xaddTrim(t, s, id(6), defLimits, Trim{MaxLen: 1, Ref: DelRef})
	if s.Len() != 1 || g.PendingCount() != 0 {
		t.Fatalf("len %d pending %d", s.Len(), g.PendingCount())
	}
	// KEEPREF leaves dangling references, NACKed ones too.
	s = seqStream(t, 3, 100)
	g = mustGroup(t, s, "g", MinID)
	c = consumer(g, "c", 1)
	readAll(s, g, c, 0, 1)
	g.Nack(s, id(1), NackFail, -1, false)
	s.Trim(Trim{MaxLen: 1})
	check(t, s)
	if g.PendingCount() != 3 || g.NackedCount() != 1 {
		t.Fatalf("pending %d nacked %d", g.PendingCount(), g.NackedCount())
	}
}

func TestTrimFirstAndMaxDeleted(t *testing.T) {
	// "XDEL/TRIM are reflected by recorded first entry".
	s := seqStream(t, 5, 100)
	s.Delete(id(2))
	if s.FirstID() != id(1) {
		t.Fatalf("first %v", s.FirstID())
	}
	s.Delete(id(1))
	if s.FirstID() != id(3) {
		t.Fatalf("first %v", s.FirstID())
	}
	s.Trim(Trim{MaxLen: 2})
	if s.FirstID() != id(4) || s.MaxDeletedID() != id(2) {
		t.Fatalf("first %v maxdel %v", s.FirstID(), s.MaxDeletedID())
	}
	s.Trim(Trim{MaxLen: 0})
	if s.Len() != 0 || !s.FirstID().IsZero() || s.LastID() != id(5) {
		t.Fatalf("empty: len %d first %v last %v", s.Len(), s.FirstID(), s.LastID())
	}
}
