package engine

import "math/bits"

// Operations used by the generic keyspace commands (DEL, COPY, OBJECT,
// MEMORY USAGE, ...). They describe the stored data; the commands decide
// what to do with it.

// notifyNew raises the "new" event (class n) for a key just created, as
// Redis 7.0's dbAdd does. Loading a dataset must not go through it (Redis
// loads with dbAddRDBLoad, which raises nothing).
func (ks *Keyspace) notifyNew(db int, key []byte) {
	if ks.notifier != nil {
		ks.notifier.Notify(EventNew, "new", db, key)
	}
}

// ExpireIfNeeded deletes key if it has expired, raising "expired", and
// reports whether it did (Redis's expireIfNeeded). A missing key is not
// expired.
func (tx *Tx) ExpireIfNeeded(db int, key []byte) bool {
	s, h := tx.shardFor(key)
	e := s.dbs[db].keys.find(key, h)
	if e == nil || e.expireAt == 0 || e.expireAt > tx.Now {
		return false
	}
	tx.ks.expireEntry(s, db, e, &tx.ready)
	return true
}

// Peek returns key's entry without deleting it if expired, touching it or
// counting statistics (Redis's plain dictFind, as MEMORY USAGE uses).
func (tx *Tx) Peek(db int, key []byte) (Entry, bool) {
	s, h := tx.shardFor(key)
	e := s.dbs[db].keys.find(key, h)
	if e == nil {
		return Entry{}, false
	}
	return Entry{e}, true
}

// Duplicator is implemented by values that COPY can duplicate. The copy
// must share nothing mutable with the original.
type Duplicator interface {
	Dup() Value
}

// Dup implements Duplicator as Redis's dupStringObject: the encoding is
// kept, and an int-encoded copy is a private object, never a shared integer.
func (s *String) Dup() Value {
	return &String{B: append([]byte(nil), s.B...), Enc: s.Enc, Unshared: s.Enc == EncInt}
}

// sharedIntegers is OBJ_SHARED_INTEGERS: int-encoded strings in
// [0, sharedIntegers) are shared objects in Redis.
const (
	sharedIntegers  = 10000
	sharedIntDigits = 4 // digits of sharedIntegers-1
)

// SharedRefcount is OBJ_SHARED_REFCOUNT, the refcount Redis reports for
// its shared objects.
const SharedRefcount = 1<<31 - 1

// RefCounter is implemented by values whose Redis refcount is not 1.
type RefCounter interface {
	RefCount() int64
}

// RefCount implements RefCounter: small int-encoded strings are Redis's
// shared integers (when no maxmemory policy forbids them, and Runnel has
// none), other strings have one reference.
func (s *String) RefCount() int64 {
	// A canonical int of at most 4 digits without sign is in
	// [0, sharedIntegers).
	if s.Enc != EncInt || s.Unshared || len(s.B) == 0 || len(s.B) > sharedIntDigits {
		return 1
	}
	for _, c := range s.B {
		if c < '0' || c > '9' {
			return 1
		}
	}
	return SharedRefcount
}

// MemorySizer is implemented by values that report their memory as Redis's
// objectComputeSize does (MEMORY USAGE); samples bounds how many elements
// of an aggregate are looked at (0: all).
type MemorySizer interface {
	ObjectSize(samples int64) int64
}

// Sizes of Redis's structures on 64-bit builds.
const (
	robjSize      = 16 // sizeof(robj)
	dictEntrySize = 24 // sizeof(dictEntry)
)

// ObjectSize implements MemorySizer as objectComputeSize does for strings.
// It assumes raw strings are allocated at their exact length, which holds
// for values stored by SET and friends; a value grown in place (APPEND,
// SETRANGE) has, in Redis, the greedy allocation of sdsMakeRoomFor, which
// Runnel does not track, so its size is an estimate.
func (s *String) ObjectSize(int64) int64 {
	switch s.Enc {
	case EncInt:
		return robjSize
	case EncEmbstr:
		// robj, sdshdr8 and the bytes with their NUL, in one allocation.
		return MallocSize(robjSize + 3 + int64(len(s.B)) + 1)
	}
	return robjSize + SdsMallocSize(int64(len(s.B)))
}

// KeyOverhead is what MEMORY USAGE adds to the value's size for the key:
// the key's sds (copied at its exact size by dbAdd) and its dictEntry.
func KeyOverhead(key []byte) int64 {
	return SdsMallocSize(int64(len(key))) + dictEntrySize
}

// SdsMallocSize is the allocation of an sds string of n bytes created at its
// exact size by sdsnewlen: header (by sdsReqType), bytes and NUL, rounded
// to the allocator's size class.
func SdsMallocSize(n int64) int64 {
	var hdr int64
	switch {
	case n == 0:
		hdr = 3 // sdsnewlen turns an empty SDS_TYPE_5 into SDS_TYPE_8
	case n < 1<<5:
		hdr = 1
	case n < 1<<8:
		hdr = 3
	case n < 1<<16:
		hdr = 5
	case n < 1<<32:
		hdr = 9
	default:
		hdr = 17
	}
	return MallocSize(hdr + n + 1)
}

// MallocSize is the usable size jemalloc 5 (Redis's default allocator)
// gives an n-byte request: its size class. Classes are 8, then multiples
// of 16 up to 128, then four evenly spaced classes per doubling.
func MallocSize(n int64) int64 {
	if n <= 8 {
		return 8
	}
	if n <= 128 {
		return (n + 15) &^ 15
	}
	lg := bits.Len64(uint64(n-1)) - 1 // floor(log2(n-1))
	spacing := int64(1) << (lg - 2)
	return (n + spacing - 1) &^ (spacing - 1)
}
