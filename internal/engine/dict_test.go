package engine

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func newEntry(key string) *entry { return &entry{key: key, hash: hashString(key)} }

func TestDictInsertFindRemove(t *testing.T) {
	var d dict
	for i := 0; i < 10000; i++ {
		d.insert(newEntry(fmt.Sprint(i)))
	}
	if d.len() != 10000 {
		t.Fatalf("len = %d", d.len())
	}
	for i := 0; i < 10000; i++ {
		k := []byte(fmt.Sprint(i))
		if d.find(k, hashKey(k)) == nil {
			t.Fatalf("key %d missing", i)
		}
	}
	for i := 0; i < 10000; i += 2 {
		k := []byte(fmt.Sprint(i))
		if d.remove(k, hashKey(k)) == nil {
			t.Fatalf("remove %d failed", i)
		}
	}
	if d.len() != 5000 || len(d.table) > 16384 {
		t.Fatalf("len = %d, table = %d after removals", d.len(), len(d.table))
	}
	for i := 0; i < 10000; i++ {
		k := []byte(fmt.Sprint(i))
		if found := d.find(k, hashKey(k)) != nil; found != (i%2 == 1) {
			t.Fatalf("key %d found=%v", i, found)
		}
	}
	// Emptying the table shrinks it.
	for i := 1; i < 9990; i += 2 {
		k := []byte(fmt.Sprint(i))
		d.remove(k, hashKey(k))
	}
	if d.len() != 5 || len(d.table) > 64 {
		t.Fatalf("len = %d, table = %d after emptying", d.len(), len(d.table))
	}
}

// TestDictScanGuarantee checks SCAN's promise: every key present for the
// whole iteration is returned, even though the table grows and shrinks
// between calls.
func TestDictScanGuarantee(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 50; round++ {
		var d dict
		stable := map[string]bool{}
		for i := 0; i < 200+r.IntN(500); i++ {
			k := fmt.Sprintf("stable-%d", i)
			stable[k] = true
			d.insert(newEntry(k))
		}
		seen := map[string]bool{}
		var cursor uint64
		var live []string // churn keys currently present
		next := 0
		for {
			cursor = d.scan(cursor, func(e *entry) { seen[e.key] = true })
			// Grow or shrink the table between calls (crossing several
			// power-of-two sizes), keeping the churn bounded.
			if r.IntN(2) == 0 && len(live) < 2000 {
				for i := 0; i < r.IntN(400); i++ {
					k := fmt.Sprintf("churn-%d", next)
					next++
					live = append(live, k)
					d.insert(newEntry(k))
				}
			} else {
				for i := 0; i < r.IntN(400) && len(live) > 0; i++ {
					j := r.IntN(len(live))
					k := []byte(live[j])
					live[j] = live[len(live)-1]
					live = live[:len(live)-1]
					d.remove(k, hashKey(k))
				}
			}
			if cursor == 0 {
				break
			}
		}
		for k := range stable {
			if !seen[k] {
				t.Fatalf("round %d: SCAN missed %s", round, k)
			}
		}
	}
}

func TestKeyspaceScanAcrossShards(t *testing.T) {
	ks := New(2, nil)
	var tx Tx
	ks.Lock(&tx, nil, true, 1000)
	for i := 0; i < 5000; i++ {
		tx.Set(1, []byte(fmt.Sprint(i)), NewString([]byte("v")), 0, false)
	}
	seen := map[string]int{}
	var cursor uint64
	for calls := 0; ; calls++ {
		cursor = tx.Scan(1, cursor, 10, func(e Entry) { seen[e.Key()]++ })
		if cursor == 0 {
			break
		}
		if calls > 100000 {
			t.Fatal("scan does not terminate")
		}
	}
	tx.Unlock()
	if len(seen) != 5000 {
		t.Fatalf("scan saw %d keys, want 5000", len(seen))
	}
	if ks.DBSize(1) != 5000 || ks.DBSize(0) != 0 {
		t.Fatalf("DBSize = %d/%d", ks.DBSize(0), ks.DBSize(1))
	}
}

func TestLazyAndActiveExpiry(t *testing.T) {
	ks := New(1, nil)
	var tx Tx
	ks.Lock(&tx, nil, true, 1000)
	for i := 0; i < 100; i++ {
		tx.Set(0, []byte(fmt.Sprint(i)), NewString([]byte("v")), 2000, false)
	}
	tx.Set(0, []byte("keep"), NewString([]byte("v")), 0, false)
	tx.Unlock()
	if ks.ExpiresCount(0) != 100 {
		t.Fatalf("expires = %d", ks.ExpiresCount(0))
	}
	// Lazy: a read after the deadline deletes the key.
	ks.Lock(&tx, [][]byte{[]byte("7")}, false, 2000)
	if _, ok := tx.Lookup(0, []byte("7"), 0); !ok {
		t.Fatal("a key must still exist at its deadline (Redis: expired when now > when)")
	}
	tx.Unlock()
	ks.Lock(&tx, [][]byte{[]byte("7")}, false, 2001)
	if _, ok := tx.Lookup(0, []byte("7"), 0); ok {
		t.Fatal("expired key returned")
	}
	tx.Unlock()
	// Active: the cycle reclaims the rest without any access.
	ks.ExpireCycle(2001, time.Second)
	if ks.DBSize(0) != 1 || ks.ExpiresCount(0) != 0 {
		t.Fatalf("after the expiry cycle: %d keys, %d volatile", ks.DBSize(0), ks.ExpiresCount(0))
	}
	if ks.Expired.Load() != 100 {
		t.Fatalf("expired_keys = %d", ks.Expired.Load())
	}
}

// TestConcurrentDisjointKeys runs writers on different keys and on the
// same key at once; -race and the final counts check the locking.
func TestConcurrentDisjointKeys(t *testing.T) {
	ks := New(1, nil)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var tx Tx
			for i := 0; i < 2000; i++ {
				k := []byte(fmt.Sprintf("w%d-%d", w, i%50))
				shared := []byte("shared")
				ks.Lock(&tx, [][]byte{k, shared}, false, 1)
				tx.Set(0, k, NewString([]byte("x")), 0, false)
				n := 0
				if e, ok := tx.Lookup(0, shared, LookupWrite); ok {
					fmt.Sscan(string(e.Value().(*String).B), &n)
				}
				tx.Set(0, shared, NewString([]byte(fmt.Sprint(n+1))), 0, false)
				tx.Unlock()
			}
		}()
	}
	wg.Wait()
	var tx Tx
	ks.Lock(&tx, [][]byte{[]byte("shared")}, false, 1)
	defer tx.Unlock()
	e, _ := tx.Lookup(0, []byte("shared"), 0)
	if got := string(e.Value().(*String).B); got != "16000" {
		t.Fatalf("shared counter = %s, want 16000 (lost updates)", got)
	}
	if ks.DBSize(0) != 8*50+1 {
		t.Fatalf("DBSize = %d", ks.DBSize(0))
	}
}

func TestWatchDirty(t *testing.T) {
	ks := New(1, nil)
	var w WatchSet
	var tx Tx
	k := []byte("k")
	ks.Lock(&tx, [][]byte{k}, false, 1)
	tx.Watch(&w, 0, k)
	tx.Unlock()
	if w.Dirty.Load() {
		t.Fatal("dirty before any write")
	}
	ks.Lock(&tx, [][]byte{k}, false, 1)
	tx.Set(0, k, NewString([]byte("v")), 0, false)
	tx.Unlock()
	if !w.Dirty.Load() {
		t.Fatal("write to a watched key did not mark it dirty")
	}
	ks.Unwatch(&w)
	if w.Dirty.Load() || w.Len() != 0 {
		t.Fatal("Unwatch did not reset")
	}
	// FLUSHALL touches watched keys that exist.
	ks.Lock(&tx, [][]byte{k}, false, 1)
	tx.Watch(&w, 0, k)
	tx.Unlock()
	ks.Lock(&tx, nil, true, 1)
	tx.Flush(-1)
	tx.Unlock()
	if !w.Dirty.Load() {
		t.Fatal("FLUSHALL did not mark a watched existing key dirty")
	}
}

func TestStringEncoding(t *testing.T) {
	for _, tc := range []struct{ in, enc string }{
		{"123", "int"}, {"-5", "int"}, {"0", "int"}, {"007", "embstr"}, {"-0", "embstr"},
		{"9223372036854775807", "int"}, {"9223372036854775808", "embstr"}, {"-9223372036854775808", "int"},
		{"abc", "embstr"}, {string(make([]byte, 44)), "embstr"}, {string(make([]byte, 45)), "raw"},
	} {
		if got := NewString([]byte(tc.in)).Encoding(); got != tc.enc {
			t.Errorf("encoding of %q = %s, want %s", tc.in, got, tc.enc)
		}
	}
}

// TestWatchExpiredKeyFlush: flushing a key that had already expired when it
// was watched is no logical change (Redis's touchAllWatchedKeysInDb).
func TestWatchExpiredKeyFlush(t *testing.T) {
	ks := New(2, nil)
	var w WatchSet
	var tx Tx
	k := []byte("k")
	ks.Lock(&tx, nil, true, 1000)
	tx.Set(0, k, NewString([]byte("v")), 1500, false)
	tx.Unlock()
	ks.Lock(&tx, [][]byte{k}, false, 2000) // expired, not yet reclaimed
	tx.Watch(&w, 0, k)
	tx.Unlock()
	ks.Lock(&tx, nil, true, 2000)
	tx.Flush(0)
	tx.Unlock()
	if w.Dirty.Load() {
		t.Fatal("FLUSHDB of an already-expired watched key made EXEC fail")
	}
	// A live key swapped in over it is a change.
	ks.Lock(&tx, nil, true, 2000)
	tx.Set(1, k, NewString([]byte("v")), 0, false)
	tx.SwapDB(0, 1)
	tx.Unlock()
	if !w.Dirty.Load() {
		t.Fatal("SWAPDB bringing a live key over a watched missing key is a change")
	}
}
