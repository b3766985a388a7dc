package engine

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
)

// hashSeed randomises key hashing per process, as Redis seeds siphash, so
// clients cannot build colliding key sets.
var hashSeed = maphash.MakeSeed()

func hashKey(key []byte) uint64 { return maphash.Bytes(hashSeed, key) }

func hashString(key string) uint64 { return maphash.String(hashSeed, key) }

// entry is one key of one database.
type entry struct {
	key      string
	val      Value
	expireAt int64  // unix ms; 0 means no expiry
	access   uint32 // lruClock() at last access, for OBJECT IDLETIME
	hash     uint64
	next     *entry
}

// dict is a chained hash table whose buckets are scanned with Redis's
// reverse-binary cursor, so SCAN returns every key present for the whole
// iteration exactly once or more even when the table grows or shrinks
// between calls. Resizing is done at once: shards keep tables small.
type dict struct {
	table []*entry // length is a power of two, or zero
	used  int
}

const dictMinSize = 4

func (d *dict) len() int { return d.used }

func (d *dict) find(key []byte, h uint64) *entry {
	if d.used == 0 {
		return nil
	}
	for e := d.table[h&uint64(len(d.table)-1)]; e != nil; e = e.next {
		if e.hash == h && e.key == string(key) {
			return e
		}
	}
	return nil
}

// insert adds e, which must not be present.
func (d *dict) insert(e *entry) {
	if d.used >= len(d.table) {
		d.resize(max(dictMinSize, 2*len(d.table)))
	}
	i := e.hash & uint64(len(d.table)-1)
	e.next = d.table[i]
	d.table[i] = e
	d.used++
}

// remove unlinks the entry with key; it returns nil if absent.
func (d *dict) remove(key []byte, h uint64) *entry {
	if d.used == 0 {
		return nil
	}
	i := h & uint64(len(d.table)-1)
	var prev *entry
	for e := d.table[i]; e != nil; e = e.next {
		if e.hash == h && e.key == string(key) {
			if prev == nil {
				d.table[i] = e.next
			} else {
				prev.next = e.next
			}
			e.next = nil
			d.used--
			if len(d.table) > dictMinSize && d.used*8 < len(d.table) {
				d.resize(max(dictMinSize, 1<<bits.Len(uint(d.used))))
			}
			return e
		}
		prev = e
	}
	return nil
}

func (d *dict) resize(n int) {
	if d.used == 0 {
		d.table = make([]*entry, n)
		return
	}
	nt := make([]*entry, n)
	mask := uint64(n - 1)
	for _, e := range d.table {
		for e != nil {
			next := e.next
			i := e.hash & mask
			e.next = nt[i]
			nt[i] = e
			e = next
		}
	}
	d.table = nt
}

// clear drops every key.
func (d *dict) clear() {
	d.table = nil
	d.used = 0
}

// scan visits one bucket at cursor and returns the next cursor, 0 when the
// iteration is complete (Redis's dictScan for a single table).
func (d *dict) scan(cursor uint64, fn func(*entry)) uint64 {
	if d.used == 0 {
		return 0
	}
	mask := uint64(len(d.table) - 1)
	for e := d.table[cursor&mask]; e != nil; e = e.next {
		fn(e)
	}
	cursor |= ^mask
	cursor = bits.Reverse64(cursor)
	cursor++
	return bits.Reverse64(cursor)
}

// random returns a random entry, or nil if the dict is empty.
func (d *dict) random(r *rand.Rand) *entry {
	if d.used == 0 {
		return nil
	}
	mask := uint64(len(d.table) - 1)
	for {
		b := d.table[r.Uint64()&mask]
		if b == nil {
			continue
		}
		n := 0
		for e := b; e != nil; e = e.next {
			n++
		}
		k := r.IntN(n)
		for e := b; ; e = e.next {
			if k == 0 {
				return e
			}
			k--
		}
	}
}

// each calls fn for every entry; fn must not modify the dict.
func (d *dict) each(fn func(*entry) bool) {
	for _, e := range d.table {
		for ; e != nil; e = e.next {
			if !fn(e) {
				return
			}
		}
	}
}

// expired is Redis's keyIsExpired: a key expires once now passes its
// deadline (at the deadline itself it still exists).
func (e *entry) expired(now int64) bool { return e.expireAt != 0 && now > e.expireAt }
