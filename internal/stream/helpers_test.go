package stream

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// defLimits are Redis's default node limits.
var defLimits = Limits{MaxEntries: 100, MaxBytes: 4096}

func fv(kv ...string) [][]byte {
	out := make([][]byte, len(kv))
	for i, s := range kv {
		out[i] = []byte(s)
	}
	return out
}

// add appends id with fields f v (or the given ones) under Redis's
// default limits and checks the stream afterwards.
func add(tb testing.TB, s *Stream, id ID, kv ...string) {
	tb.Helper()
	addL(tb, s, id, defLimits, kv...)
}

func addL(tb testing.TB, s *Stream, id ID, lim Limits, kv ...string) {
	tb.Helper()
	if len(kv) == 0 {
		kv = []string{"f", "v"}
	}
	if err := s.CheckID(id); err != nil {
		tb.Fatalf("CheckID(%v): %v", id, err)
	}
	if err := s.Append(id, fv(kv...), lim); err != nil {
		tb.Fatalf("Append(%v): %v", id, err)
	}
	check(tb, s)
}

func check(tb testing.TB, s *Stream) {
	tb.Helper()
	if err := s.Check(); err != nil {
		tb.Fatalf("invariants: %v", err)
	}
}

// seqStream is a stream of n entries 1-0 .. n-0 with node size per.
func seqStream(tb testing.TB, n int, per int64) *Stream {
	tb.Helper()
	s := New()
	for i := 1; i <= n; i++ {
		addL(tb, s, ID{uint64(i), 0}, Limits{MaxEntries: per, MaxBytes: 4096}, "xitem", "v")
	}
	return s
}

// ids lists the live IDs in order.
func ids(s *Stream) []string {
	var out []string
	it := s.Range(MinID, MaxID, false)
	for it.Next() {
		out = append(out, it.Entry().ID.String())
	}
	return out
}

func id(ms uint64) ID { return ID{ms, 0} }

func mustGroup(tb testing.TB, s *Stream, name string, last ID) *Group {
	tb.Helper()
	g, ok := s.CreateGroup([]byte(name), last, -1)
	if !ok {
		tb.Fatalf("group %s exists", name)
	}
	return g
}

func consumer(g *Group, name string, now int64) *Consumer {
	c, _ := g.CreateConsumer([]byte(name), now)
	return c
}

// readAll delivers every new entry to c and returns their IDs.
func readAll(s *Stream, g *Group, c *Consumer, count int64, now int64) []string {
	var out []string
	s.ReadNew(g, c, count, false, now, func(e Entry) { out = append(out, e.ID.String()) })
	return out
}

func pendingList(g *Group) string {
	out := ""
	g.PendingRange(MinID, MaxID, nil, func(p Pending) bool {
		owner := ""
		if p.Consumer != nil {
			owner = string(p.Consumer.Name())
		}
		out += fmt.Sprintf("%v:%s:%d ", p.ID, owner, p.DeliveryCount)
		return true
	})
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

// testSeed is STREAM_SEED if set, else the time; it is logged so that a
// failing random test can be replayed.
func testSeed(tb testing.TB) int64 {
	seed := time.Now().UnixNano()
	if v := os.Getenv("STREAM_SEED"); v != "" {
		seed, _ = strconv.ParseInt(v, 10, 64)
	}
	tb.Logf("seed %d (STREAM_SEED=%d to replay)", seed, seed)
	return seed
}
