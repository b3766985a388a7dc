package engine

import (
	"slices"
	"testing"
)

func TestMallocSize(t *testing.T) {
	// jemalloc 5 size classes, as Redis 7.0's MEMORY USAGE shows them.
	cases := []struct{ n, want int64 }{
		{0, 8}, {1, 8}, {8, 8}, {9, 16}, {16, 16}, {17, 32}, {33, 48}, {128, 128},
		{129, 160}, {160, 160}, {161, 192}, {256, 256}, {257, 320}, {1006, 1024},
		{5006, 5120}, {14336, 14336}, {14337, 16384}, {16006, 16384}, {20006, 20480},
		{30006, 32768}, {32776, 40960}, {70010, 81920},
	}
	for _, c := range cases {
		if got := MallocSize(c.n); got != c.want {
			t.Errorf("MallocSize(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

func TestSdsMallocSize(t *testing.T) {
	cases := []struct{ n, want int64 }{
		{0, 8}, {1, 8}, {6, 8}, {7, 16}, {14, 16}, {15, 32}, {30, 32}, {31, 48},
		{32, 48}, {44, 48}, {45, 64}, {252, 256}, {253, 320}, {255, 320}, {256, 320},
		{65530, 65536}, {65531, 81920}, {70000, 81920},
	}
	for _, c := range cases {
		if got := SdsMallocSize(c.n); got != c.want {
			t.Errorf("SdsMallocSize(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

func TestStringObjectSize(t *testing.T) {
	mk := func(b string) *String { return NewString([]byte(b)) }
	long := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'a'
		}
		return string(b)
	}
	// MEMORY USAGE k minus the 32 bytes of key "k" (8) and its dictEntry (24),
	// as reported by redis-server 7.0.15.
	cases := []struct {
		v    string
		want int64
	}{
		{"5", 16}, {"123456", 16}, {"", 32}, {long(12), 32}, {long(13), 48}, {long(28), 48},
		{long(29), 64}, {long(44), 64}, {long(45), 80}, {long(60), 80}, {long(61), 96},
		{long(252), 272}, {long(253), 336}, {long(1000), 1040}, {long(30000), 32784},
	}
	for _, c := range cases {
		if got := mk(c.v).ObjectSize(5); got != c.want {
			t.Errorf("ObjectSize(len %d) = %d, want %d", len(c.v), got, c.want)
		}
	}
	if got := KeyOverhead([]byte("k")); got != 32 {
		t.Errorf("KeyOverhead(k) = %d, want 32", got)
	}
}

func TestStringRefCount(t *testing.T) {
	cases := []struct {
		v    string
		want int64
	}{
		{"0", SharedRefcount}, {"5", SharedRefcount}, {"9999", SharedRefcount},
		{"10000", 1}, {"-1", 1}, {"abc", 1}, {"01", 1},
	}
	for _, c := range cases {
		if got := NewString([]byte(c.v)).RefCount(); got != c.want {
			t.Errorf("RefCount(%q) = %d, want %d", c.v, got, c.want)
		}
	}
	d := NewString([]byte("5")).Dup().(*String)
	if d.RefCount() != 1 || d.Encoding() != "int" {
		t.Errorf("Dup of 5: refcount %d encoding %s, want 1 int", d.RefCount(), d.Encoding())
	}
}

type recNotifier struct{ events []string }

func (r *recNotifier) Notify(class Event, event string, db int, key []byte) {
	r.events = append(r.events, event+":"+string(key))
}

func lockAll(ks *Keyspace, now int64) *Tx {
	tx := &Tx{}
	ks.Lock(tx, nil, true, now)
	return tx
}

func TestSetRaisesNewAndReclaimsExpired(t *testing.T) {
	n := &recNotifier{}
	ks := New(2, n)
	tx := lockAll(ks, 1000)
	tx.Set(0, []byte("k"), NewString([]byte("v")), 0, false)
	tx.Set(0, []byte("k"), NewString([]byte("w")), 1500, false) // overwrite: not new
	tx.Unlock()
	tx = lockAll(ks, 2000)
	tx.Set(0, []byte("k"), NewString([]byte("x")), 0, true) // expired: reclaimed, then new, no TTL kept
	e, ok := tx.Lookup(0, []byte("k"), LookupNoStats)
	tx.Unlock()
	if !ok || e.ExpireAt() != 0 {
		t.Fatalf("after Set on an expired key: ok=%v expireAt=%d", ok, e.ExpireAt())
	}
	want := []string{"new:k", "expired:k", "new:k"}
	if !slices.Equal(n.events, want) {
		t.Errorf("events %q, want %q", n.events, want)
	}
	if ks.DBSize(0) != 1 || ks.ExpiresCount(0) != 0 || ks.Expired.Load() != 1 {
		t.Errorf("dbsize %d expires %d expired %d", ks.DBSize(0), ks.ExpiresCount(0), ks.Expired.Load())
	}
}

func TestExpireIfNeededAndPeek(t *testing.T) {
	n := &recNotifier{}
	ks := New(1, n)
	tx := lockAll(ks, 1000)
	tx.Set(0, []byte("live"), NewString([]byte("v")), 5000, false)
	tx.Set(0, []byte("dead"), NewString([]byte("v")), 1000, false)
	if tx.ExpireIfNeeded(0, []byte("live")) || tx.ExpireIfNeeded(0, []byte("missing")) {
		t.Error("ExpireIfNeeded deleted a live or missing key")
	}
	if _, ok := tx.Peek(0, []byte("dead")); !ok {
		t.Error("Peek does not see an expired key")
	}
	if !tx.ExpireIfNeeded(0, []byte("dead")) || tx.ExpireIfNeeded(0, []byte("dead")) {
		t.Error("ExpireIfNeeded did not delete the expired key exactly once")
	}
	tx.Unlock()
	if ks.Hits.Load()+ks.Misses.Load() != 0 {
		t.Error("Peek or ExpireIfNeeded counted statistics")
	}
}

func TestScanSmallDatabaseEndsInOneCall(t *testing.T) {
	ks := New(2, nil)
	tx := lockAll(ks, 1000)
	defer tx.Unlock()
	if c := tx.Scan(0, 0, 10, func(Entry) {}); c != 0 {
		t.Errorf("empty db: cursor %d, want 0", c)
	}
	for i := range 9 {
		tx.Set(0, []byte{'k', byte('0' + i)}, NewString([]byte("v")), 0, false)
	}
	seen := 0
	if c := tx.Scan(0, 0, 10, func(Entry) { seen++ }); c != 0 || seen != 9 {
		t.Errorf("9 keys, COUNT 10: cursor %d after %d keys, want 0 after 9", c, seen)
	}
	// a full iteration with COUNT 1 sees every key
	got := map[string]bool{}
	c := uint64(0)
	for {
		c = tx.Scan(0, c, 1, func(e Entry) { got[e.Key()] = true })
		if c == 0 {
			break
		}
	}
	if len(got) != 9 {
		t.Errorf("COUNT 1 iteration saw %d keys, want 9", len(got))
	}
}

func TestRandomKeyAllExpired(t *testing.T) {
	ks := New(1, nil)
	tx := lockAll(ks, 1001)
	for i := range 300 {
		tx.Set(0, []byte{'k', byte(i), byte(i >> 8)}, NewString([]byte("v")), 1000, false)
	}
	tx.Set(0, []byte("live"), NewString([]byte("v")), 0, false)
	k, ok := tx.RandomKey(0)
	tx.Unlock()
	if !ok || k != "live" {
		t.Errorf("RandomKey = %q, %v; want the only live key", k, ok)
	}
	tx = lockAll(ks, 1001)
	tx.Delete(0, []byte("live"))
	tx.Set(0, []byte("x"), NewString([]byte("v")), 1000, false)
	if k, ok := tx.RandomKey(0); ok {
		t.Errorf("RandomKey over expired keys = %q, want none", k)
	}
	tx.Unlock()
}
