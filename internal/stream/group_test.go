package stream

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"
)

// describe renders everything XINFO STREAM FULL shows, and the claim
// order, so that two streams can be compared (COPY).
func describe(s *Stream) string {
	var b strings.Builder
	fmt.Fprintf(&b, "len=%d nodes=%d last=%v maxdel=%v added=%d first=%v\n",
		s.Len(), s.Nodes(), s.LastID(), s.MaxDeletedID(), s.EntriesAdded(), s.FirstID())
	it := s.Range(MinID, MaxID, false)
	for it.Next() {
		fmt.Fprintf(&b, "%v %q\n", it.Entry().ID, it.Entry().Fields)
	}
	s.Groups(func(g *Group) bool {
		lag, ok := s.Lag(g)
		fmt.Fprintf(&b, "group %s last=%v read=%d lag=%d/%v pel=%d nacked=%d\n",
			g.Name(), g.LastID(), g.EntriesRead(), lag, ok, g.PendingCount(), g.NackedCount())
		fmt.Fprintf(&b, "  pending %s\n", pendingFull(g))
		g.Consumers(func(c *Consumer) bool {
			fmt.Fprintf(&b, "  consumer %s seen=%d active=%d pel=%d:", c.Name(), c.SeenTime(), c.ActiveTime(), c.PendingCount())
			g.ConsumerPendingRange(c, MinID, func(p Pending) bool {
				fmt.Fprintf(&b, " %v", p.ID)
				return true
			})
			b.WriteByte('\n')
			return true
		})
		fmt.Fprintf(&b, "  claim order %v\n", claimOrderOf(g))
		return true
	})
	pids, iids, added, dups := s.IDMPStats()
	cfg, set := s.IDMP()
	fmt.Fprintf(&b, "idmp %d %d %d %d %v %v\n", pids, iids, added, dups, cfg, set)
	return b.String()
}

func pendingFull(g *Group) string {
	var b strings.Builder
	g.PendingRange(MinID, MaxID, nil, func(p Pending) bool {
		owner := ""
		if p.Consumer != nil {
			owner = string(p.Consumer.Name())
		}
		fmt.Fprintf(&b, "[%v %s %d %d]", p.ID, owner, p.DeliveryTime, p.DeliveryCount)
		return true
	})
	return b.String()
}

func claimOrderOf(g *Group) []ID {
	var out []ID
	g.pel.claimOrder(nil, func(ordKey) bool { return true }, func(id ID) bool {
		out = append(out, id)
		return true
	})
	return out
}

func lagOf(s *Stream, g *Group) string {
	if lag, ok := s.Lag(g); ok {
		return fmt.Sprint(lag)
	}
	return "nil"
}

func wantLag(tb testing.TB, s *Stream, g *Group, read int64, lag string) {
	tb.Helper()
	if g.EntriesRead() != read || lagOf(s, g) != lag {
		tb.Fatalf("entries-read %d lag %s, want %d %s", g.EntriesRead(), lagOf(s, g), read, lag)
	}
}

// The lag scenarios of spec §5, from stream-cgroups.tcl.

func TestLagEmptyStream(t *testing.T) {
	// "Consumer group read counter and lag in empty streams".
	s := New()
	g := mustGroup(t, s, "g1", MinID)
	wantLag(t, s, g, -1, "0")
	add(t, s, id(1))
	s.Delete(id(1))
	wantLag(t, s, g, -1, "0")
}

func TestLagSanity(t *testing.T) {
	// "Consumer group read counter and lag sanity".
	s := seqStream(t, 5, 100)
	g := mustGroup(t, s, "g1", MinID)
	wantLag(t, s, g, -1, "5")
	readAll(s, g, consumer(g, "c11", 1), 1, 1)
	wantLag(t, s, g, 1, "4")
	readAll(s, g, consumer(g, "c12", 1), 10, 1)
	wantLag(t, s, g, 5, "0")
	add(t, s, id(6))
	wantLag(t, s, g, 5, "1")
}

func TestLagWithXDel(t *testing.T) {
	// "Consumer group lag with XDELs".
	s := seqStream(t, 5, 100)
	s.Delete(id(3))
	g1 := mustGroup(t, s, "g1", MinID)
	g2 := mustGroup(t, s, "g2", MinID)
	wantLag(t, s, g1, -1, "nil")
	c := consumer(g1, "c11", 1)
	for i := 0; i < 3; i++ {
		readAll(s, g1, c, 1, 1)
		wantLag(t, s, g1, -1, "nil")
	}
	readAll(s, g1, c, 1, 1)
	wantLag(t, s, g1, 5, "0")
	add(t, s, id(6))
	wantLag(t, s, g1, 5, "1")
	s.Trim(Trim{MinID: true, Min: id(3)})
	wantLag(t, s, g1, 5, "1")
	wantLag(t, s, g2, -1, "3")
	s.Trim(Trim{MinID: true, Min: id(5)})
	wantLag(t, s, g1, 5, "1")
	wantLag(t, s, g2, -1, "2")
}

func TestLagTombstoneAfterLastID(t *testing.T) {
	// "Consumer Group Lag with XDELs and tombstone after the last_id of
	// consume group" (7.4 #13338).
	s := New()
	g := mustGroup(t, s, "g1", MinID)
	add(t, s, id(1))
	c := consumer(g, "alice", 1)
	readAll(s, g, c, 0, 1)
	add(t, s, id(2))
	add(t, s, id(3))
	s.Delete(id(2))
	wantLag(t, s, g, 1, "nil")
	s.Delete(id(1))
	wantLag(t, s, g, 1, "1")
	readAll(s, g, c, 0, 1)
	wantLag(t, s, g, 3, "0")
}

func TestLagWithXTrim(t *testing.T) {
	// "Consumer group lag with XTRIM" (#13473, and #13958 for the read
	// after the trim).
	s := New()
	g := mustGroup(t, s, "mygroup", MinID)
	for i := uint64(1); i <= 5; i++ {
		add(t, s, id(i))
	}
	c := consumer(g, "alice", 1)
	readAll(s, g, c, 1, 1)
	wantLag(t, s, g, 1, "4")
	s.Trim(Trim{MaxLen: 1})
	if !s.MaxDeletedID().IsZero() {
		t.Fatalf("trim changed max deleted")
	}
	wantLag(t, s, g, 1, "1")
	readAll(s, g, c, 0, 1)
	wantLag(t, s, g, 5, "0")
	add(t, s, id(6))
	wantLag(t, s, g, 5, "1")
	s.Trim(Trim{MaxLen: 0})
	wantLag(t, s, g, 5, "0")
}

func TestLagIssue13957(t *testing.T) {
	// #13957: after trimming past the group, the next read re-estimates.
	s := seqStream(t, 5, 100)
	g := mustGroup(t, s, "g1", MinID)
	c := consumer(g, "c11", 1)
	readAll(s, g, c, 1, 1)
	s.Trim(Trim{MaxLen: 1})
	wantLag(t, s, g, 1, "1")
	readAll(s, g, c, 1, 1)
	wantLag(t, s, g, 5, "0")
}

func TestEntriesReadCapped(t *testing.T) {
	// 8.2 #14259: ENTRIESREAD above entries-added is capped.
	s := seqStream(t, 1, 100)
	g, _ := s.CreateGroup([]byte("g"), s.LastID(), 9999)
	wantLag(t, s, g, 1, "0")
	s.SetGroupID(g, s.LastID(), 9999)
	wantLag(t, s, g, 1, "0")
	s.SetGroupID(g, MinID, -1)
	wantLag(t, s, g, -1, "1")
	if _, ok := s.CreateGroup([]byte("g"), MinID, -1); ok {
		t.Fatalf("duplicate group created")
	}
}

func TestGroupsAndConsumersOrder(t *testing.T) {
	s := New()
	for _, n := range []string{"b", "a", "B", "ab", "\xff", ""} {
		mustGroup(t, s, n, MinID)
	}
	var names []string
	s.Groups(func(g *Group) bool { names = append(names, string(g.Name())); return true })
	if strings.Join(names, ",") != ",B,a,ab,b,\xff" {
		t.Fatalf("group order %q", names)
	}
	if !s.DestroyGroup([]byte("a")) || s.DestroyGroup([]byte("a")) || s.Group([]byte("a")) != nil || s.GroupCount() != 5 {
		t.Fatalf("DestroyGroup")
	}
	g := s.Group([]byte("b"))
	for _, n := range []string{"zed", "Alice", "bob"} {
		if _, created := g.CreateConsumer([]byte(n), 7); !created {
			t.Fatalf("consumer %s not created", n)
		}
	}
	c, created := g.CreateConsumer([]byte("bob"), 9)
	if created || c.SeenTime() != 7 || c.ActiveTime() != -1 {
		t.Fatalf("existing consumer: %v %d %d", created, c.SeenTime(), c.ActiveTime())
	}
	names = nil
	g.Consumers(func(c *Consumer) bool { names = append(names, string(c.Name())); return true })
	if strings.Join(names, ",") != "Alice,bob,zed" || g.ConsumerCount() != 3 {
		t.Fatalf("consumer order %q", names)
	}
	check(t, s)
}

func TestReadNewAndHistory(t *testing.T) {
	s := New()
	g := mustGroup(t, s, "mygroup", MinID)
	add(t, s, id(1), "a", "1")
	add(t, s, id(2), "b", "2")
	c1 := consumer(g, "consumer-1", 10)
	if got := readAll(s, g, c1, 0, 100); strings.Join(got, " ") != "1-0 2-0" {
		t.Fatalf("read %v", got)
	}
	if c1.ActiveTime() != 100 || g.LastID() != id(2) || c1.PendingCount() != 2 {
		t.Fatalf("active %d last %v pending %d", c1.ActiveTime(), g.LastID(), c1.PendingCount())
	}
	add(t, s, id(3), "c", "3")
	add(t, s, id(4), "d", "4")
	c2 := consumer(g, "consumer-2", 10)
	readAll(s, g, c2, 0, 101)
	// History: only c1's entries, delivery count +1 and time now.
	var hist []string
	s.ReadHistory(g, c1, MinID, 10, 200, func(e Entry, ok bool) {
		hist = append(hist, fmt.Sprintf("%v %v %q", e.ID, ok, e.Fields))
	})
	if strings.Join(hist, "|") != `1-0 true ["a" "1"]|2-0 true ["b" "2"]` {
		t.Fatalf("history %v", hist)
	}
	if p, _ := g.PendingOf(id(1)); p.DeliveryCount != 2 || p.DeliveryTime != 200 {
		t.Fatalf("after history: %+v", p)
	}
	// "after" is exclusive; count limits.
	hist = nil
	s.ReadHistory(g, c2, id(3), 0, 300, func(e Entry, ok bool) { hist = append(hist, e.ID.String()) })
	if strings.Join(hist, " ") != "4-0" {
		t.Fatalf("history after 3-0: %v", hist)
	}
	// A deleted entry comes back with ok false and keeps its counters
	// (bug #5570's test: [1-0 {}] then [2-0 {field1 B}]).
	s.Delete(id(1))
	hist = nil
	s.ReadHistory(g, c1, MinID, 0, 400, func(e Entry, ok bool) { hist = append(hist, fmt.Sprintf("%v %v", e.ID, ok)) })
	if strings.Join(hist, "|") != "1-0 false|2-0 true" {
		t.Fatalf("history with deleted: %v", hist)
	}
	if p, _ := g.PendingOf(id(1)); p.DeliveryCount != 2 || p.DeliveryTime != 200 {
		t.Fatalf("deleted entry touched: %+v", p)
	}
	// NOACK: delivered, not pending, active time unchanged.
	add(t, s, id(5))
	c3 := consumer(g, "c3", 500)
	s.ReadNew(g, c3, 0, true, 500, func(Entry) {})
	if c3.PendingCount() != 0 || c3.ActiveTime() != -1 || g.LastID() != id(5) {
		t.Fatalf("NOACK: pending %d active %d", c3.PendingCount(), c3.ActiveTime())
	}
	// Nothing new.
	if n := s.ReadNew(g, c3, 0, false, 600, func(Entry) {}); n != 0 || c3.ActiveTime() != -1 {
		t.Fatalf("empty read %d", n)
	}
	check(t, s)
}

func TestReadNewReassignAfterSetID(t *testing.T) {
	// "PEL NACK reassignment after XGROUP SETID event".
	s := seqStream(t, 4, 100)
	g := mustGroup(t, s, "g1", s.LastID())
	add(t, s, id(5))
	c1 := consumer(g, "c1", 1)
	if n := len(readAll(s, g, c1, 0, 1)); n != 1 {
		t.Fatalf("read %d", n)
	}
	s.SetGroupID(g, MinID, -1)
	c2 := consumer(g, "c2", 2)
	if n := len(readAll(s, g, c2, 0, 2)); n != 5 {
		t.Fatalf("read %d", n)
	}
	if c1.PendingCount() != 0 || c2.PendingCount() != 5 {
		t.Fatalf("c1 %d c2 %d", c1.PendingCount(), c2.PendingCount())
	}
	if p, _ := g.PendingOf(id(5)); p.DeliveryCount != 1 || p.Consumer != c2 || p.DeliveryTime != 2 {
		t.Fatalf("reassigned: %+v", p)
	}
	check(t, s)
}

func TestAckAndDeleteConsumer(t *testing.T) {
	s := seqStream(t, 4, 100)
	g := mustGroup(t, s, "g", MinID)
	c1 := consumer(g, "c1", 1)
	c2 := consumer(g, "c2", 1)
	readAll(s, g, c1, 2, 1)
	readAll(s, g, c2, 2, 1)
	if !g.Ack(id(1)) || g.Ack(id(1)) || g.PendingCount() != 3 || c1.PendingCount() != 1 {
		t.Fatalf("Ack")
	}
	first, last, ok := g.PendingFirstLast()
	if !ok || first != id(2) || last != id(4) {
		t.Fatalf("first/last %v %v", first, last)
	}
	g.Nack(s, id(3), NackFail, -1, false)
	// DELCONSUMER: its own entries go, the NACKed one stays.
	if n, ok := g.DeleteConsumer([]byte("c2")); !ok || n != 1 {
		t.Fatalf("DeleteConsumer %d %v", n, ok)
	}
	if _, ok := g.DeleteConsumer([]byte("c2")); ok {
		t.Fatalf("deleted twice")
	}
	if pendingList(g) != "2-0:c1:1 3-0::1 " {
		t.Fatalf("pending %s", pendingList(g))
	}
	check(t, s)
	// The freed consumer index is reused.
	c3 := consumer(g, "c3", 1)
	readAll(s, g, c3, 0, 1)
	s.SetGroupID(g, MinID, -1)
	readAll(s, g, c3, 0, 2)
	check(t, s)
	if c3.PendingCount() != 4 || g.NackedCount() != 0 {
		t.Fatalf("c3 %d nacked %d", c3.PendingCount(), g.NackedCount())
	}
}

func TestClaim(t *testing.T) {
	// "XCLAIM can claim PEL items from another consumer" and friends.
	s := seqStream(t, 3, 100)
	g := mustGroup(t, s, "mygroup", MinID)
	c1 := consumer(g, "consumer1", 0)
	c2 := consumer(g, "consumer2", 0)
	readAll(s, g, c1, 1, 1000)
	opts := ClaimOpts{NowMs: 1100, MinIdle: 200, DeliveryTime: 1100, RetryCount: -1}
	if _, claimed, _ := s.Claim(g, c2, id(1), opts, nil); claimed {
		t.Fatalf("claimed while not idle")
	}
	opts.NowMs, opts.DeliveryTime = 1200, 1200
	e, claimed, deleted := s.Claim(g, c2, id(1), opts, nil)
	if !claimed || deleted || e.ID != id(1) || len(e.Fields) != 2 || c2.ActiveTime() != 1200 {
		t.Fatalf("claim: %v %v %v", e, claimed, deleted)
	}
	if p, _ := g.PendingOf(id(1)); p.Consumer != c2 || p.DeliveryCount != 2 || p.DeliveryTime != 1200 {
		t.Fatalf("claimed entry %+v", p)
	}
	// JUSTID does not increment; RETRYCOUNT sets.
	opts = ClaimOpts{NowMs: 1500, DeliveryTime: 1500, RetryCount: -1, JustID: true}
	e, claimed, _ = s.Claim(g, c1, id(1), opts, nil)
	if p, _ := g.PendingOf(id(1)); !claimed || e.Fields != nil || p.DeliveryCount != 2 {
		t.Fatalf("JUSTID: %+v", p)
	}
	opts.RetryCount = 7
	s.Claim(g, c1, id(1), opts, nil)
	if p, _ := g.PendingOf(id(1)); p.DeliveryCount != 7 {
		t.Fatalf("RETRYCOUNT: %+v", p)
	}
	// FORCE creates the entry (count 1, then +1 unless JUSTID), only for a live entry.
	opts = ClaimOpts{NowMs: 1600, DeliveryTime: 1600, RetryCount: -1}
	if _, claimed, _ := s.Claim(g, c2, id(2), opts, nil); claimed {
		t.Fatalf("claimed an entry not pending without FORCE")
	}
	opts.Force = true
	s.Claim(g, c2, id(2), opts, nil)
	opts.JustID = true
	s.Claim(g, c2, id(3), opts, nil)
	if pendingList(g) != "1-0:consumer1:7 2-0:consumer2:2 3-0:consumer2:1 " {
		t.Fatalf("FORCE: %s", pendingList(g))
	}
	// A deleted stream entry: the PEL entry is dropped and reported.
	s.Delete(id(2))
	if _, claimed, deleted := s.Claim(g, c1, id(2), ClaimOpts{NowMs: 1700, RetryCount: -1}, nil); claimed || !deleted {
		t.Fatalf("deleted entry: %v %v", claimed, deleted)
	}
	if _, _, deleted := s.Claim(g, c1, id(9), ClaimOpts{NowMs: 1700, RetryCount: -1, Force: true}, nil); deleted {
		t.Fatalf("missing entry reported deleted")
	}
	if _, ok := g.PendingOf(id(2)); ok || c2.PendingCount() != 1 {
		t.Fatalf("deleted entry still pending")
	}
	// A delivery time in the future (a caller that did not clamp) makes
	// the entry fail any min idle.
	check(t, s)
}

func TestAutoClaim(t *testing.T) {
	// "XAUTOCLAIM can claim PEL items from another consumer".
	s := seqStream(t, 4, 100)
	g := mustGroup(t, s, "mygroup", MinID)
	c1 := consumer(g, "consumer1", 0)
	c2 := consumer(g, "consumer2", 0)
	readAll(s, g, c1, 1, 1000)
	var claimed, dels []string
	fn := func(e Entry) { claimed = append(claimed, e.ID.String()) }
	dfn := func(id ID) { dels = append(dels, id.String()) }
	next := s.AutoClaim(g, c2, MinID, 10, 1, false, 1200, fn, dfn)
	if next != (ID{}) || strings.Join(claimed, " ") != "1-0" {
		t.Fatalf("first: %v %v", next, claimed)
	}
	readAll(s, g, c1, 3, 1300)
	s.Delete(id(2))
	claimed, dels = nil, nil
	next = s.AutoClaim(g, c2, MinID, 10, 3, false, 1500, fn, dfn)
	// 1-0 and 3-0 claimed, 2-0 dropped (counted): the cursor is 4-0.
	if next != id(4) || strings.Join(claimed, " ") != "1-0 3-0" || strings.Join(dels, " ") != "2-0" {
		t.Fatalf("second: %v %v %v", next, claimed, dels)
	}
	s.Delete(id(4))
	claimed, dels = nil, nil
	next = s.AutoClaim(g, c2, MinID, 10, 100, true, 1700, fn, dfn)
	if next != (ID{}) || strings.Join(claimed, " ") != "1-0 3-0" || strings.Join(dels, " ") != "4-0" {
		t.Fatalf("JUSTID: %v %v %v", next, claimed, dels)
	}
	if p, _ := g.PendingOf(id(3)); p.DeliveryCount != 2 {
		t.Fatalf("JUSTID incremented: %+v", p)
	}
	check(t, s)

	// "XAUTOCLAIM as an iterator".
	s = seqStream(t, 5, 100)
	g = mustGroup(t, s, "mygroup", MinID)
	c1 = consumer(g, "consumer1", 0)
	c2 = consumer(g, "consumer2", 0)
	readAll(s, g, c1, 90, 1000)
	var cursors []string
	cur := MinID
	for _, count := range []int64{2, 2, 1} {
		cur = s.AutoClaim(g, c2, cur, 10, count, false, 1200, func(Entry) {}, dfn)
		cursors = append(cursors, cur.String())
	}
	if strings.Join(cursors, " ") != "3-0 5-0 0-0" {
		t.Fatalf("cursors %v", cursors)
	}

	// "XAUTOCLAIM with XDEL and count": deleted entries count toward COUNT.
	s = seqStream(t, 3, 100)
	g = mustGroup(t, s, "grp", MinID)
	readAll(s, g, consumer(g, "Alice", 0), 0, 0)
	bob := consumer(g, "Bob", 0)
	s.Delete(id(1))
	s.Delete(id(2))
	var steps []string
	cur = MinID
	for i := 0; i < 3; i++ {
		claimed, dels = nil, nil
		cur = s.AutoClaim(g, bob, cur, 0, 1, false, 10, fn, dfn)
		steps = append(steps, fmt.Sprintf("%v %v %v", cur, claimed, dels))
	}
	if strings.Join(steps, "|") != "2-0 [] [1-0]|3-0 [] [2-0]|0-0 [3-0] []" {
		t.Fatalf("steps %v", steps)
	}
	check(t, s)

	// At most count*10 entries are visited.
	s = seqStream(t, 30, 100)
	g = mustGroup(t, s, "g", MinID)
	readAll(s, g, consumer(g, "a", 0), 0, 1000)
	next = s.AutoClaim(g, bob, MinID, 500, 1, false, 1100, fn, dfn)
	if next != id(11) {
		t.Fatalf("attempts: cursor %v", next)
	}
}

func TestClaimIdleOrder(t *testing.T) {
	// "XREADGROUP CLAIM verify claiming order": oldest delivery first.
	s := seqStream(t, 6, 100)
	g := mustGroup(t, s, "group1", MinID)
	c1 := consumer(g, "consumer1", 0)
	c2 := consumer(g, "consumer2", 0)
	readAll(s, g, c1, 10, 100000)
	now := int64(100000)
	for i, ago := range []int64{50000, 40000, 30000, 20000, 2000, 1000} {
		s.Claim(g, c1, id(uint64(i+1)), ClaimOpts{NowMs: now, DeliveryTime: now - ago, RetryCount: -1, JustID: true}, nil)
	}
	claim := func(minIdle int64) string {
		var got []string
		s.ClaimIdle(g, c2, minIdle, 10, now, func(e Entry, idle, n int64) {
			got = append(got, fmt.Sprintf("%v/%d/%d", e.ID, idle, n))
		})
		return strings.Join(got, " ")
	}
	if got := claim(10000); got != "1-0/50000/1 2-0/40000/1 3-0/30000/1 4-0/20000/1" {
		t.Fatalf("10000: %s", got)
	}
	if got := claim(1500); got != "5-0/2000/1" {
		t.Fatalf("1500: %s", got)
	}
	if got := claim(500); got != "6-0/1000/1" {
		t.Fatalf("500: %s", got)
	}
	if p, _ := g.PendingOf(id(1)); p.Consumer != c2 || p.DeliveryCount != 2 || p.DeliveryTime != now {
		t.Fatalf("claimed: %+v", p)
	}
	if got := claim(math.MaxInt64); got != "" {
		t.Fatalf("large min idle: %s", got)
	}
	check(t, s)
}

func TestClaimIdleEqualTimesFIFO(t *testing.T) {
	// Ties keep the order the delivery times were set (Redis's time list
	// appends at the tail): 3-0 then 1-0 when claimed in that order.
	s := seqStream(t, 3, 100)
	g := mustGroup(t, s, "g", MinID)
	c := consumer(g, "c", 0)
	readAll(s, g, c, 0, 10)
	for _, x := range []uint64{3, 1, 2} {
		s.Claim(g, c, id(x), ClaimOpts{NowMs: 20, DeliveryTime: 20, RetryCount: -1, JustID: true}, nil)
	}
	if got := fmt.Sprint(claimOrderOf(g)); got != "[3-0 1-0 2-0]" {
		t.Fatalf("order %s", got)
	}
	var got []string
	s.ClaimIdle(g, c, 0, 2, 20, func(e Entry, _, _ int64) { got = append(got, e.ID.String()) })
	if strings.Join(got, " ") != "3-0 1-0" {
		t.Fatalf("claimed %v", got)
	}
	// Those two moved to the end, after 2-0.
	if got := fmt.Sprint(claimOrderOf(g)); got != "[2-0 3-0 1-0]" {
		t.Fatalf("order after %s", got)
	}
}

func TestClaimIdleSkipsDeleted(t *testing.T) {
	// "XREADGROUP CLAIM when pending messages get trimmed": nothing
	// returned; the PEL entries are left as they are.
	s := seqStream(t, 3, 100)
	g := mustGroup(t, s, "group1", MinID)
	readAll(s, g, consumer(g, "consumer1", 0), 0, 0)
	s.Trim(Trim{MaxLen: 0})
	if n := s.ClaimIdle(g, consumer(g, "consumer2", 0), 50, 0, 100, func(Entry, int64, int64) {}); n != 0 {
		t.Fatalf("claimed %d", n)
	}
	if g.PendingCount() != 3 {
		t.Fatalf("pending %d", g.PendingCount())
	}
	// Mixed: the deleted one is skipped and does not count toward COUNT.
	s = seqStream(t, 3, 100)
	g = mustGroup(t, s, "g", MinID)
	readAll(s, g, consumer(g, "c1", 0), 0, 0)
	s.Delete(id(1))
	var got []string
	s.ClaimIdle(g, consumer(g, "c2", 0), 0, 1, 100, func(e Entry, _, _ int64) { got = append(got, e.ID.String()) })
	if strings.Join(got, " ") != "2-0" {
		t.Fatalf("claimed %v", got)
	}
	check(t, s)
}

func TestNack(t *testing.T) {
	s := seqStream(t, 4, 100)
	g := mustGroup(t, s, "grp", MinID)
	c1 := consumer(g, "c1", 0)
	readAll(s, g, c1, 0, 10)
	// SILENT -1 (clamped), FAIL keeps, FATAL max, RETRYCOUNT overrides.
	g.Nack(s, id(1), NackSilent, -1, false)
	g.Nack(s, id(1), NackSilent, -1, false)
	g.Nack(s, id(2), NackFail, -1, false)
	g.Nack(s, id(3), NackFatal, -1, false)
	if pendingFull(g) != "[1-0  0 0][2-0  0 1][3-0  0 9223372036854775807][4-0 c1 10 1]" || g.NackedCount() != 3 || c1.PendingCount() != 1 {
		t.Fatalf("pending %s nacked %d", pendingFull(g), g.NackedCount())
	}
	g.Nack(s, id(3), NackFatal, 42, false)
	if p, _ := g.PendingOf(id(3)); p.DeliveryCount != 42 {
		t.Fatalf("RETRYCOUNT: %+v", p)
	}
	// Not pending: skipped; FORCE creates for a live entry only.
	if g.Nack(s, id(9), NackFail, -1, true) {
		t.Fatalf("FORCE on a missing entry")
	}
	g.Ack(id(4))
	if !g.Nack(s, id(4), NackFatal, -1, true) {
		t.Fatalf("FORCE")
	}
	if p, _ := g.PendingOf(id(4)); p.Consumer != nil || p.DeliveryCount != math.MaxInt64 || p.DeliveryTime != 0 {
		t.Fatalf("FORCE entry %+v", p)
	}
	// The NACK zone is FIFO and a re-NACK moves to its tail: order 1,2,3,4
	// then re-NACK 1 -> 2,3,4,1. Claiming takes it first, infinitely idle.
	g.Nack(s, id(1), NackFail, -1, false)
	if got := fmt.Sprint(claimOrderOf(g)); got != "[2-0 3-0 4-0 1-0]" {
		t.Fatalf("NACK zone %s", got)
	}
	c2 := consumer(g, "c2", 0)
	var got []string
	s.ClaimIdle(g, c2, math.MaxInt64-1, 1, 1000, func(e Entry, idle, n int64) { got = append(got, fmt.Sprintf("%v/%d/%d", e.ID, idle, n)) })
	if strings.Join(got, " ") != "2-0/1000/1" || g.NackedCount() != 3 {
		t.Fatalf("claimed %v nacked %d", got, g.NackedCount())
	}
	// NACKed entries are infinitely idle for XCLAIM and XAUTOCLAIM too.
	if _, claimed, _ := s.Claim(g, c2, id(3), ClaimOpts{NowMs: 1001, MinIdle: 99999, DeliveryTime: 1001, RetryCount: -1}, nil); !claimed {
		t.Fatalf("XCLAIM of a NACKed entry")
	}
	got = nil
	s.AutoClaim(g, c2, MinID, 99999, 10, true, 1002, func(e Entry) { got = append(got, e.ID.String()) }, func(ID) {})
	if strings.Join(got, " ") != "1-0 4-0" || g.NackedCount() != 0 {
		t.Fatalf("XAUTOCLAIM %v nacked %d", got, g.NackedCount())
	}
	// History reads exclude NACKed entries.
	g.Nack(s, id(2), NackFail, -1, false)
	got = nil
	s.ReadHistory(g, c2, MinID, 0, 1003, func(e Entry, ok bool) { got = append(got, e.ID.String()) })
	if strings.Join(got, " ") != "1-0 3-0 4-0" {
		t.Fatalf("history %v", got)
	}
	check(t, s)
}

func TestDeleteExAndAckDelete(t *testing.T) {
	two := func() (*Stream, *Group, *Group) {
		s := seqStream(t, 2, 100)
		g1 := mustGroup(t, s, "group1", MinID)
		g2 := mustGroup(t, s, "group2", MinID)
		readAll(s, g1, consumer(g1, "consumer1", 0), 0, 0)
		readAll(s, g2, consumer(g2, "consumer2", 0), 0, 0)
		return s, g1, g2
	}
	// XDELEX DELREF: deleted and gone from every PEL.
	s, g1, g2 := two()
	if s.DeleteEx(id(1), DelRef) != 1 || s.DeleteEx(id(2), DelRef) != 1 || g1.PendingCount()+g2.PendingCount() != 0 {
		t.Fatalf("DELREF")
	}
	if s.MaxDeletedID() != id(2) || s.DeleteEx(id(1), DelRef) != -1 {
		t.Fatalf("DELREF maxdel %v", s.MaxDeletedID())
	}
	// XDELEX KEEPREF: like XDEL.
	s, g1, _ = two()
	if s.DeleteEx(id(1), KeepRef) != 1 || g1.PendingCount() != 2 || s.DeleteEx(id(7), KeepRef) != -1 {
		t.Fatalf("KEEPREF")
	}
	// XDELEX ACKED: only when every group was delivered and acked it.
	s, g1, g2 = two()
	g3 := mustGroup(t, s, "group3", MinID)
	g1.Ack(id(1))
	g1.Ack(id(2))
	if s.DeleteEx(id(1), Acked) != 2 || s.DeleteEx(id(2), Acked) != 2 {
		t.Fatalf("ACKED with group2 pending")
	}
	g2.Ack(id(1))
	g2.Ack(id(2))
	if s.DeleteEx(id(1), Acked) != 2 {
		t.Fatalf("ACKED with group3 not delivered")
	}
	c3 := consumer(g3, "c3", 0)
	readAll(s, g3, c3, 0, 0)
	if s.DeleteEx(id(1), Acked) != 2 {
		t.Fatalf("ACKED with group3 pending")
	}
	g3.Ack(id(1))
	g3.Ack(id(2))
	if s.DeleteEx(id(1), Acked) != 1 || s.DeleteEx(id(2), Acked) != 1 || s.Len() != 0 || s.DeleteEx(id(2), Acked) != -1 {
		t.Fatalf("ACKED all acked")
	}
	// A destroyed group references nothing (#14552).
	s = seqStream(t, 2, 100)
	g := mustGroup(t, s, "g", MinID)
	readAll(s, g, consumer(g, "c", 0), 0, 0)
	if s.DeleteEx(id(1), Acked) != 2 {
		t.Fatalf("pending")
	}
	s.DestroyGroup([]byte("g"))
	if s.DeleteEx(id(1), Acked) != 1 {
		t.Fatalf("after destroy")
	}

	// XACKDEL.
	if s.AckDelete(nil, id(2), KeepRef) != -1 {
		t.Fatalf("missing group")
	}
	s, g1, g2 = two()
	if s.AckDelete(g1, id(1), Acked) != 2 || s.AckDelete(g1, id(2), Acked) != 2 || g1.PendingCount() != 0 || g2.PendingCount() != 2 {
		t.Fatalf("XACKDEL ACKED referenced")
	}
	if s.AckDelete(g2, id(1), Acked) != 1 || s.AckDelete(g2, id(2), Acked) != 1 || s.Len() != 0 {
		t.Fatalf("XACKDEL ACKED")
	}
	s, g1, g2 = two()
	if s.AckDelete(g1, id(1), KeepRef) != 1 || s.AckDelete(g1, id(2), KeepRef) != 1 || s.Len() != 0 || g2.PendingCount() != 2 {
		t.Fatalf("XACKDEL KEEPREF")
	}
	// Already gone from the stream but pending in group2: still 1.
	if s.AckDelete(g2, id(1), KeepRef) != 1 || s.AckDelete(g2, id(2), KeepRef) != 1 || g2.PendingCount() != 0 {
		t.Fatalf("XACKDEL KEEPREF second group")
	}
	s, g1, g2 = two()
	if s.AckDelete(g1, id(1), DelRef) != 1 || s.AckDelete(g1, id(2), DelRef) != 1 || g2.PendingCount() != 0 {
		t.Fatalf("XACKDEL DELREF")
	}
	if s.AckDelete(g2, id(1), DelRef) != -1 {
		t.Fatalf("XACKDEL DELREF repeat")
	}
	check(t, s)
}

func TestDupEqual(t *testing.T) {
	s := New()
	r := rand.New(rand.NewSource(3))
	for i := 3; i < 700; i++ {
		addL(t, s, ID{uint64(i / 3), uint64(i % 3)}, Limits{MaxEntries: 50, MaxBytes: 4096}, randFields(r)...)
	}
	g := mustGroup(t, s, "g", MinID)
	h := mustGroup(t, s, "h", ID{100, 0})
	c := consumer(g, "alice", 5)
	d := consumer(g, "bob", 6)
	readAll(s, g, c, 300, 10)
	readAll(s, g, d, 100, 11)
	readAll(s, h, consumer(h, "x", 1), 0, 12)
	g.Nack(s, ID{10, 1}, NackFail, -1, false)
	g.Nack(s, ID{5, 0}, NackFatal, -1, false)
	s.ClaimIdle(g, d, 0, 5, 20, func(Entry, int64, int64) {})
	s.Delete(ID{7, 0})
	s.IDMPRecord([]byte("p1"), []byte("i1"), ID{1, 0}, 100)
	s.IDMPDuplicate()
	s.SetIDMP(IDMPConfig{Duration: 50, MaxSize: 7})
	s.IDMPRecord([]byte("p2"), []byte("i1"), ID{2, 0}, 100)
	dup := s.Dup().(*Stream)
	check(t, dup)
	if a, b := describe(s), describe(dup); a != b {
		t.Fatalf("copy differs:\n%s\n---\n%s", a, b)
	}
	// Independent: changing the copy leaves the original alone.
	before := describe(s)
	dg := dup.Group([]byte("g"))
	dup.ClaimIdle(dg, dg.Consumer([]byte("alice")), 0, 0, 30, func(Entry, int64, int64) {})
	dup.Trim(Trim{MaxLen: 10, Ref: DelRef})
	dup.IDMPRecord([]byte("p3"), []byte("x"), ID{3, 0}, 100)
	addL(t, dup, ID{1000, 0}, defLimits)
	if describe(s) != before {
		t.Fatalf("original changed by its copy")
	}
	check(t, s)
	check(t, dup)
}

// TestPELRandom drives one group with random deliveries, history reads,
// acks, claims, NACKs, consumer deletions and stream deletions, checking
// the group against a map model and the invariants after each step.
func TestPELRandom(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewSource(seed))
	s := New()
	g := mustGroup(t, s, "g", MinID)
	names := []string{"a", "b", "c", "d"}
	type pend struct {
		owner string
		count int64
		time  int64
	}
	model := map[ID]pend{}
	now := int64(1000)
	next := uint64(1)
	cons := func() *Consumer {
		c, _ := g.CreateConsumer([]byte(names[r.Intn(len(names))]), now)
		return c
	}
	anyID := func() ID { return ID{uint64(r.Intn(int(next) + 2)), 0} }
	for op := 0; op < 8000; op++ {
		now += int64(r.Intn(3))
		switch k := r.Intn(100); {
		case k < 25:
			for i := r.Intn(5); i >= 0; i-- {
				addL(t, s, ID{next, 0}, Limits{MaxEntries: 10}, "f", "v")
				next++
			}
			c := cons()
			s.ReadNew(g, c, int64(r.Intn(20)), r.Intn(5) == 0, now, func(e Entry) {})
			g.PendingRange(MinID, MaxID, nil, func(p Pending) bool {
				if p.Consumer != nil && p.DeliveryTime == now && p.DeliveryCount == 1 {
					model[p.ID] = pend{string(p.Consumer.Name()), 1, now}
				}
				return true
			})
		case k < 40:
			id := anyID()
			if _, ok := model[id]; g.Ack(id) != ok {
				t.Fatalf("Ack(%v) disagrees", id)
			}
			delete(model, id)
		case k < 50:
			c := cons()
			id := anyID()
			o := ClaimOpts{NowMs: now, MinIdle: int64(r.Intn(4)), DeliveryTime: now - int64(r.Intn(3)), RetryCount: -1, Force: r.Intn(3) == 0, JustID: r.Intn(2) == 0}
			p, pending := model[id]
			_, claimed, deleted := s.Claim(g, c, id, o, nil)
			switch {
			case !s.Exists(id):
				if deleted != pending || claimed {
					t.Fatalf("Claim of deleted %v", id)
				}
				delete(model, id)
			case claimed:
				n := p.count
				if !pending {
					n = 1
				}
				if !o.JustID {
					n++
				}
				model[id] = pend{string(c.Name()), n, o.DeliveryTime}
			}
		case k < 60:
			c := cons()
			got := 0
			s.ClaimIdle(g, c, int64(r.Intn(5)), int64(r.Intn(4)), now, func(e Entry, idle, n int64) {
				p := model[e.ID]
				if n != p.count {
					t.Fatalf("ClaimIdle %v count %d, model %d", e.ID, n, p.count)
				}
				model[e.ID] = pend{string(c.Name()), n + 1, now}
				got++
			})
		case k < 68:
			c := cons()
			s.AutoClaim(g, c, anyID(), int64(r.Intn(4)), int64(r.Intn(5)+1), r.Intn(2) == 0, now, func(e Entry) {
				p := model[e.ID]
				model[e.ID] = pend{string(c.Name()), p.count, now} // counts rechecked below
			}, func(id ID) { delete(model, id) })
		case k < 76:
			id := anyID()
			mode := NackMode(r.Intn(3))
			force := r.Intn(3) == 0
			if g.Nack(s, id, mode, -1, force) {
				pp, _ := g.PendingOf(id)
				model[id] = pend{"", pp.DeliveryCount, 0}
			}
		case k < 80:
			c := cons()
			s.ReadHistory(g, c, anyID(), int64(r.Intn(4)), now, func(e Entry, ok bool) {
				if ok {
					p := model[e.ID]
					model[e.ID] = pend{p.owner, p.count + 1, now}
				}
			})
		case k < 83:
			name := names[r.Intn(len(names))]
			g.DeleteConsumer([]byte(name))
			for id, p := range model {
				if p.owner == name {
					delete(model, id)
				}
			}
		case k < 90:
			s.Delete(anyID())
		case k < 92:
			s.SetGroupID(g, ID{uint64(r.Intn(int(next) + 1)), 0}, -1)
		default:
			s.Trim(Trim{MaxLen: min(s.Len(), 300) - int64(r.Intn(3)), Ref: RefMode(r.Intn(3))})
			g.PendingRange(MinID, MaxID, nil, func(p Pending) bool { return true })
			for id := range model {
				if _, ok := g.PendingOf(id); !ok {
					delete(model, id)
				}
			}
		}
		check(t, s)
		if int64(len(model)) != g.PendingCount() {
			t.Fatalf("op %d: PEL %d, model %d", op, g.PendingCount(), len(model))
		}
		for id, p := range model {
			pp, ok := g.PendingOf(id)
			owner := ""
			if ok && pp.Consumer != nil {
				owner = string(pp.Consumer.Name())
			}
			if !ok || owner != p.owner || pp.DeliveryTime != p.time {
				t.Fatalf("op %d: %v is %+v (%s), model %+v", op, id, pp, owner, p)
			}
			model[id] = pend{owner, pp.DeliveryCount, pp.DeliveryTime}
		}
	}
	t.Logf("final PEL %d, nacked %d, consumers %d", g.PendingCount(), g.NackedCount(), g.ConsumerCount())
}

func TestRenumber(t *testing.T) {
	s := seqStream(t, 20, 100)
	g := mustGroup(t, s, "g", MinID)
	c := consumer(g, "c", 0)
	readAll(s, g, c, 0, 5)
	g.Nack(s, id(7), NackFail, -1, false)
	g.Nack(s, id(3), NackFail, -1, false)
	s.Claim(g, c, id(12), ClaimOpts{NowMs: 6, DeliveryTime: 1, RetryCount: -1}, nil)
	before := claimOrderOf(g)
	g.seq = math.MaxUint32 - 1
	s.Claim(g, c, id(13), ClaimOpts{NowMs: 9, DeliveryTime: 9, RetryCount: -1}, nil) // uses the last number
	s.Claim(g, c, id(14), ClaimOpts{NowMs: 9, DeliveryTime: 9, RetryCount: -1}, nil) // renumbers
	check(t, s)
	after := claimOrderOf(g)
	var filtered []ID
	for _, x := range before {
		if x != id(13) && x != id(14) {
			filtered = append(filtered, x)
		}
	}
	filtered = append(filtered, id(13), id(14))
	if fmt.Sprint(after) != fmt.Sprint(filtered) || g.seq >= 1000 {
		t.Fatalf("order %v, want %v (seq %d)", after, filtered, g.seq)
	}
}

// TestPELStructureRandom exercises chunk splits, merges and bound updates
// of the group PEL and the consumer sets at scale: random inserts (in
// order, reversed and scattered), removals, owner and time changes,
// checked against a map after every step.
func TestPELStructureRandom(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewSource(seed))
	s := New()
	g := mustGroup(t, s, "g", MinID)
	cs := []*Consumer{consumer(g, "a", 0), consumer(g, "b", 0), consumer(g, "c", 0)}
	type ent struct {
		owner int // -1 unowned
		t     int64
	}
	model := map[ID]ent{}
	for op := 0; op < 40000; op++ {
		switch k := r.Intn(100); {
		case k < 45:
			var x ID
			switch r.Intn(3) {
			case 0:
				x = ID{uint64(op), 0}
			case 1:
				x = ID{uint64(1 << 20), uint64(1<<20 - op)}
			default:
				x = ID{uint64(r.Intn(3000)), uint64(r.Intn(3))}
			}
			if _, ok := model[x]; ok {
				continue
			}
			o := r.Intn(4) - 1
			var to *Consumer
			if o >= 0 {
				to = cs[o]
			}
			tm := int64(r.Intn(100))
			g.add(x, to, tm, 1)
			model[x] = ent{o, tm}
		case k < 80:
			var x ID
			for x = range model {
				break
			}
			if r.Intn(3) == 0 {
				// the smallest, as acks in delivery order do
				for y := range model {
					if y.Less(x) {
						x = y
					}
				}
			}
			if g.Ack(x) != (model[x] != ent{} || hasKey(model, x)) {
				t.Fatalf("Ack %v", x)
			}
			delete(model, x)
		default:
			for x := range model {
				pc, i, ok := g.pel.get(x)
				if !ok {
					t.Fatalf("%v missing", x)
				}
				o := r.Intn(4) - 1
				var to *Consumer
				if o >= 0 {
					to = cs[o]
				}
				tm := int64(r.Intn(100))
				g.moveTo(pc, i, to, tm)
				if o < 0 {
					tm = 0
					g.pel.setOrder(pc, i, 0, 0, pc.seq(i))
				}
				model[x] = ent{o, tm}
				break
			}
		}
		if op%50 == 0 || g.pel.n < 300 {
			check(t, s)
			if g.PendingCount() != int64(len(model)) {
				t.Fatalf("op %d: %d pending, model %d", op, g.PendingCount(), len(model))
			}
		}
	}
	check(t, s)
	for x, e := range model {
		p, ok := g.PendingOf(x)
		owner := -1
		for i, c := range cs {
			if p.Consumer == c {
				owner = i
			}
		}
		if !ok || owner != e.owner || owner >= 0 && p.DeliveryTime != e.t {
			t.Fatalf("%v: %+v, model %+v", x, p, e)
		}
	}
	t.Logf("PEL %d in %d chunks", g.PendingCount(), len(g.pel.heap))
}

func hasKey[K comparable, V any](m map[K]V, k K) bool { _, ok := m[k]; return ok }
