package engine

import (
	"slices"
	"testing"
	"time"
)

func lockKeys(ks *Keyspace, tx *Tx, global bool, keys ...string) {
	var bs [][]byte
	for _, k := range keys {
		bs = append(bs, []byte(k))
	}
	ks.Lock(tx, bs, global, NowMs())
}

func addWaiter(ks *Keyspace, db int, key string, w any, noKey bool) {
	var tx Tx
	lockKeys(ks, &tx, false, key)
	tx.AddWaiter(db, []byte(key), w, noKey)
	tx.Unlock()
}

func TestWaitersFIFOAndCounts(t *testing.T) {
	ks := New(16, nil)
	a, b, c := new(int), new(int), new(int)
	addWaiter(ks, 0, "k", a, false)
	addWaiter(ks, 0, "k", b, true)
	addWaiter(ks, 0, "k", c, false)
	addWaiter(ks, 1, "k", a, false) // another database: another key
	if got := ks.Waiters(0, "k", nil); !slices.Equal(got, []any{a, b, c}) {
		t.Fatalf("waiters %v, want a b c in order", got)
	}
	if keys, noKey := ks.BlockingKeys(); keys != 2 || noKey != 1 {
		t.Fatalf("BlockingKeys %d %d, want 2 1", keys, noKey)
	}
	ks.RemoveWaiter(0, "k", b, true)
	if got := ks.Waiters(0, "k", nil); !slices.Equal(got, []any{a, c}) {
		t.Fatalf("waiters %v, want a c", got)
	}
	if keys, noKey := ks.BlockingKeys(); keys != 2 || noKey != 0 {
		t.Fatalf("BlockingKeys %d %d, want 2 0", keys, noKey)
	}
	ks.RemoveWaiter(0, "k", a, false)
	ks.RemoveWaiter(0, "k", c, false)
	ks.RemoveWaiter(1, "k", a, false)
	ks.RemoveWaiter(1, "k", a, false) // already gone: nothing happens
	if keys, noKey := ks.BlockingKeys(); keys != 0 || noKey != 0 {
		t.Fatalf("BlockingKeys %d %d, want 0 0", keys, noKey)
	}
	if got := ks.Waiters(0, "k", nil); len(got) != 0 {
		t.Fatalf("waiters %v after removal", got)
	}
}

func TestReadyKeys(t *testing.T) {
	ks := New(16, nil)
	w := new(int)
	addWaiter(ks, 0, "k", w, false)
	addWaiter(ks, 0, "e", w, false)
	addWaiter(ks, 1, "s", w, false)
	now := NowMs()
	var tx Tx
	run := func(global bool, keys []string, fn func(tx *Tx)) []ReadyKey {
		t.Helper()
		lockKeys(ks, &tx, global, keys...)
		fn(&tx)
		tx.Unlock()
		return tx.TakeReady(nil)
	}
	one := []ReadyKey{{0, "k"}}
	for _, tc := range []struct {
		name   string
		global bool
		keys   []string
		fn     func(tx *Tx)
		want   []ReadyKey
	}{
		{"set", false, []string{"k"}, func(tx *Tx) { tx.Set(0, []byte("k"), NewString([]byte("v")), 0, false) }, one},
		{"touched", false, []string{"k"}, func(tx *Tx) { tx.Touched(0, []byte("k")) }, one},
		{"signal", false, []string{"k"}, func(tx *Tx) { tx.SignalReady(0, []byte("k")) }, one},
		{"expire", false, []string{"k"}, func(tx *Tx) { tx.SetExpire(0, []byte("k"), now+60000) }, one},
		{"delete", false, []string{"k"}, func(tx *Tx) { tx.Delete(0, []byte("k")) }, one},
		{"delete missing", false, []string{"k"}, func(tx *Tx) { tx.Delete(0, []byte("k")) }, nil},
		{"no waiters", false, []string{"x"}, func(tx *Tx) { tx.Set(0, []byte("x"), NewString([]byte("v")), 0, false) }, nil},
		{"other db", false, []string{"k"}, func(tx *Tx) { tx.Set(2, []byte("k"), NewString([]byte("v")), 0, false) }, nil},
		{"many writes, one signal", false, []string{"k"}, func(tx *Tx) {
			for i := 0; i < 10; i++ {
				tx.Set(0, []byte("k"), NewString([]byte("v")), 0, false)
			}
		}, one},
		{"lazy expiry", false, []string{"e"}, func(tx *Tx) {
			tx.Set(0, []byte("e"), NewString([]byte("v")), now-1, false)
			tx.TakeReady(nil)
			tx.Lookup(0, []byte("e"), 0)
		}, []ReadyKey{{0, "e"}}},
		{"flushdb", true, nil, func(tx *Tx) { tx.Flush(1) }, []ReadyKey{{1, "s"}}},
		{"swapdb", true, nil, func(tx *Tx) { tx.SwapDB(0, 3) }, []ReadyKey{{0, "e"}, {0, "k"}}},
	} {
		got := run(tc.global, tc.keys, tc.fn)
		slices.SortFunc(got, func(a, b ReadyKey) int {
			if a.Key < b.Key {
				return -1
			}
			return 1
		})
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: ready %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSignalReadyLeavesWatch(t *testing.T) {
	ks := New(16, nil)
	addWaiter(ks, 0, "k", new(int), true)
	var w WatchSet
	var tx Tx
	lockKeys(ks, &tx, false, "k")
	tx.Watch(&w, 0, []byte("k"))
	tx.SignalReady(0, []byte("k"))
	tx.Unlock()
	if w.Dirty.Load() {
		t.Fatal("SignalReady touched a WATCHed key")
	}
	if got := tx.TakeReady(nil); len(got) != 1 {
		t.Fatalf("ready %v", got)
	}
}

func TestActiveExpirySignals(t *testing.T) {
	ks := New(16, nil)
	var got []ReadyKey
	ks.OnReady(func(keys []ReadyKey) { got = append(got, keys...) })
	addWaiter(ks, 0, "e", new(int), true)
	var tx Tx
	lockKeys(ks, &tx, false, "e", "f")
	tx.Set(0, []byte("e"), NewString([]byte("v")), NowMs()-1, false)
	tx.Set(0, []byte("f"), NewString([]byte("v")), NowMs()-1, false)
	tx.Unlock()
	tx.TakeReady(nil)
	ks.ExpireCycle(NowMs(), time.Second)
	if !slices.Equal(got, []ReadyKey{{0, "e"}}) {
		t.Fatalf("active expiry signalled %v, want e", got)
	}
}

// TestWriteWithoutWaitersAllocatesNothing guards the hot path: recording
// ready keys costs nothing for a key nobody waits on, whether or not other
// keys of its shard have waiters.
func TestWriteWithoutWaitersAllocatesNothing(t *testing.T) {
	ks := New(16, nil)
	key := []byte("key")
	val := NewString([]byte("v"))
	var tx Tx
	write := func() {
		ks.Lock(&tx, [][]byte{key}, false, 1)
		tx.Set(0, key, val, 0, false)
		tx.Touched(0, key)
		tx.Delete(0, key)
		tx.Set(0, key, val, 0, false)
		tx.Unlock()
	}
	write()
	if n := testing.AllocsPerRun(100, func() {
		ks.Lock(&tx, [][]byte{key}, false, 1)
		tx.Set(0, key, val, 0, false)
		tx.Touched(0, key)
		tx.Unlock()
	}); n != 0 {
		t.Fatalf("a write with no waiters allocates %v times", n)
	}
	// A waiter on another key of the same shard.
	other := ""
	for i := 0; other == ""; i++ {
		k := "other" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		if shardOf(hashString(k)) == shardOf(hashKey(key)) {
			other = k
		}
	}
	addWaiter(ks, 0, other, new(int), false)
	if n := testing.AllocsPerRun(100, func() {
		ks.Lock(&tx, [][]byte{key}, false, 1)
		tx.Set(0, key, val, 0, false)
		tx.Touched(0, key)
		tx.Unlock()
	}); n != 0 {
		t.Fatalf("a write next to a waiter allocates %v times", n)
	}
	if tx.HasReady() {
		t.Fatal("a key nobody waits on was signalled")
	}
}
