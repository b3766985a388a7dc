package engine

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

const (
	shardBits = 8
	numShards = 1 << shardBits
	// maxShardLocks is the most shards a command locks one by one; a command
	// with keys in more shards takes the barrier exclusively instead.
	maxShardLocks = 16
)

// Notifier receives keyspace events raised by the engine itself (expiry);
// the command layer raises the others. It is called with shard locks held and
// must not call back into the Keyspace.
type Notifier interface {
	Notify(class Event, event string, db int, key []byte)
}

// Event is a keyspace-notification class (the letters of
// notify-keyspace-events).
type Event uint16

// Notification classes, with the bit values of Redis's server.h.
const (
	EventKeyspace Event = 1 << iota // K
	EventKeyevent                   // E
	EventGeneric                    // g
	EventString                     // $
	EventList                       // l
	EventSet                        // s
	EventHash                       // h
	EventZSet                       // z
	EventExpired                    // x
	EventEvicted                    // e
	EventStream                     // t
	EventKeyMiss                    // m
	EventLoaded                     // (modules only)
	EventModule                     // d
	EventNew                        // n
)

// Keyspace holds every database. It is safe for concurrent use through Tx.
//
// Locking: the barrier is taken shared by every command that names its keys
// and exclusively by commands that touch a whole database (FLUSHALL, KEYS,
// SWAPDB, ...). Under the shared barrier a command locks the shards of its
// keys in ascending order. A key lives in the shard chosen by its hash,
// whatever its database, so commands that move a key between databases
// (MOVE, COPY ... DB) lock one shard per key name.
type Keyspace struct {
	barrier sync.RWMutex
	shards  [numShards]shard
	ndb     int

	keys    []atomic.Int64 // per db
	expires []atomic.Int64 // per db

	notifier Notifier

	// Clients blocked on keys (blocking.go): keys with waiters, keys with
	// a waiter woken on deletion, and who serves keys made ready by
	// active expiry.
	blockingKeys, blockingKeysNoKey atomic.Int64
	onReady                         func([]ReadyKey)

	// Journal state (durability.go): the log sequence of the last logged
	// write that held the whole keyspace, and who logs active expiry.
	globalLogSeq uint64
	onExpire     func(db int, key string, now int64) uint64

	// Counters reported by INFO stats.
	Hits, Misses, Expired, ExpiredStalePerc atomic.Int64
	dirty                                   atomic.Int64
}

type shard struct {
	mu      sync.Mutex
	dbs     []shardDB
	watched map[watchKey][]*watcher
	blocked map[watchKey]*waitList
	rng     *rand.Rand
	// logSeq is the log sequence of the last logged write to a key of
	// this shard (durability.go).
	logSeq uint64
	_      [24]byte // keeps hot shard mutexes on separate cache lines
}

type shardDB struct {
	keys    dict
	expires map[*entry]struct{}
}

// New returns a Keyspace with n databases.
func New(n int, notifier Notifier) *Keyspace {
	ks := &Keyspace{ndb: n, notifier: notifier}
	ks.keys = make([]atomic.Int64, n)
	ks.expires = make([]atomic.Int64, n)
	for i := range ks.shards {
		s := &ks.shards[i]
		s.dbs = make([]shardDB, n)
		for j := range s.dbs {
			s.dbs[j].expires = make(map[*entry]struct{})
		}
		s.rng = rand.New(rand.NewPCG(rand.Uint64(), uint64(i)))
	}
	return ks
}

// Databases is the number of databases.
func (ks *Keyspace) Databases() int { return ks.ndb }

// Dirty is the number of changes since start (rdb_changes_since_last_save).
func (ks *Keyspace) Dirty() int64 { return ks.dirty.Load() }

// ResetDirty sets the change counter to zero (after loading).
func (ks *Keyspace) ResetDirty() { ks.dirty.Store(0) }

// SubDirty removes the n changes a checkpoint saved from the counter; the
// changes made while it was written stay counted.
func (ks *Keyspace) SubDirty(n int64) { ks.dirty.Add(-n) }

// DBSize returns the number of keys in db, counting keys that have expired
// but were not yet reclaimed, as Redis does.
func (ks *Keyspace) DBSize(db int) int64 { return ks.keys[db].Load() }

// ExpiresCount returns the number of keys with a TTL in db.
func (ks *Keyspace) ExpiresCount(db int) int64 { return ks.expires[db].Load() }

func shardOf(h uint64) int { return int(h >> (64 - shardBits)) }

// Tx is the lock scope of one command, or of a whole MULTI/EXEC. It is
// reused by its owner and must not be shared between goroutines.
type Tx struct {
	ks     *Keyspace
	Now    int64 // the command's time snapshot, unix milliseconds
	global bool
	shared bool
	held   [maxShardLocks]uint16
	n      int
	// NoTouch leaves access times alone (CLIENT NO-TOUCH).
	NoTouch bool
	// ready lists the keys with blocked clients that this Tx modified
	// (TakeReady).
	ready []ReadyKey
	// changes counts the changes (AddDirty) made since Lock: the command
	// layer logs a command that made any.
	changes int64
}

// Lock acquires the locks for a command over keys, or the whole keyspace
// when global is set or the keys span too many shards.
func (ks *Keyspace) Lock(tx *Tx, keys [][]byte, global bool, now int64) {
	tx.ks, tx.Now, tx.n, tx.global, tx.shared, tx.changes = ks, now, 0, false, false, 0
	if !global {
		for _, k := range keys {
			s := uint16(shardOf(hashKey(k)))
			// insertion into the sorted, deduplicated held list
			i := 0
			for i < tx.n && tx.held[i] < s {
				i++
			}
			if i < tx.n && tx.held[i] == s {
				continue
			}
			if tx.n == maxShardLocks {
				global = true
				break
			}
			copy(tx.held[i+1:tx.n+1], tx.held[i:tx.n])
			tx.held[i] = s
			tx.n++
		}
	}
	if global {
		tx.n = 0
		tx.global = true
		ks.barrier.Lock()
		return
	}
	tx.shared = true
	ks.barrier.RLock()
	for i := 0; i < tx.n; i++ {
		ks.shards[tx.held[i]].mu.Lock()
	}
}

// Unlock releases what Lock acquired.
func (tx *Tx) Unlock() {
	ks := tx.ks
	if tx.global {
		tx.global = false
		ks.barrier.Unlock()
		return
	}
	for i := tx.n - 1; i >= 0; i-- {
		ks.shards[tx.held[i]].mu.Unlock()
	}
	tx.n = 0
	if tx.shared {
		tx.shared = false
		ks.barrier.RUnlock()
	}
}

// Held reports whether the Tx holds locks (between Lock and Unlock).
func (tx *Tx) Held() bool { return tx.global || tx.shared }

// Global reports whether the Tx holds the whole keyspace.
func (tx *Tx) Global() bool { return tx.global }

// Keyspace returns the keyspace the Tx locks.
func (tx *Tx) Keyspace() *Keyspace { return tx.ks }

func (tx *Tx) shardFor(key []byte) (*shard, uint64) {
	h := hashKey(key)
	s := &tx.ks.shards[shardOf(h)]
	if invariantsEnabled && !tx.global {
		tx.assertHeld(shardOf(h), key)
	}
	return s, h
}

func (tx *Tx) assertHeld(s int, key []byte) {
	for i := 0; i < tx.n; i++ {
		if int(tx.held[i]) == s {
			return
		}
	}
	panic("engine: key " + string(key) + " accessed without its shard lock")
}

// AddDirty adds n to the change counter, as each Redis command does for the
// changes it makes.
func (tx *Tx) AddDirty(n int64) {
	tx.ks.dirty.Add(n)
	tx.changes += n
}

// Lookup flags.
const (
	// LookupWrite skips hit/miss statistics, as lookupKeyWrite does.
	LookupWrite = 1 << iota
	// LookupNoTouch keeps the access time.
	LookupNoTouch
	// LookupNoStats skips hit/miss statistics.
	LookupNoStats
	// LookupNoExpire returns expired keys without deleting them.
	LookupNoExpire
)

// Entry is a key's value and expiry, valid while its shard is locked.
type Entry struct{ e *entry }

// Value is the stored value.
func (e Entry) Value() Value { return e.e.val }

// ExpireAt is the expiry time in unix ms, or 0.
func (e Entry) ExpireAt() int64 { return e.e.expireAt }

// Key is the key name.
func (e Entry) Key() string { return e.e.key }

// IdleSeconds is the time since the key was last accessed.
func (e Entry) IdleSeconds(now int64) int64 {
	return lruIdle(e.e.access, now)
}

// Lookup finds key in db, deleting it first if it has expired.
func (tx *Tx) Lookup(db int, key []byte, flags int) (Entry, bool) {
	s, h := tx.shardFor(key)
	e := s.dbs[db].keys.find(key, h)
	if e != nil && e.expired(tx.Now) && flags&LookupNoExpire == 0 {
		tx.ks.expireEntry(s, db, e, &tx.ready)
		e = nil
	}
	if flags&(LookupWrite|LookupNoStats) == 0 {
		if e == nil {
			tx.ks.Misses.Add(1)
		} else {
			tx.ks.Hits.Add(1)
		}
	}
	if e == nil {
		return Entry{}, false
	}
	if flags&LookupNoTouch == 0 && !tx.NoTouch {
		e.access = lruClock(tx.Now)
	}
	return Entry{e}, true
}

// Get returns the value of key, or nil, counting a hit or a miss.
func (tx *Tx) Get(db int, key []byte) Value {
	e, ok := tx.Lookup(db, key, 0)
	if !ok {
		return nil
	}
	return e.e.val
}

// Set stores val at key. With keepTTL an existing expiry stays; otherwise the
// key gets expireAt (0 for none). Creating a key raises the "new" event, as
// Redis's dbAdd does; a key that had expired is deleted ("expired") first.
func (tx *Tx) Set(db int, key []byte, val Value, expireAt int64, keepTTL bool) {
	s, h := tx.shardFor(key)
	d := &s.dbs[db]
	e := d.keys.find(key, h)
	if e != nil && e.expired(tx.Now) {
		// A logically expired key is deleted first, as the lookupKeyWrite
		// that precedes every Redis write does; the key is then new.
		tx.ks.expireEntry(s, db, e, &tx.ready)
		e = nil
	}
	if e == nil {
		e = &entry{key: string(key), hash: h, val: val, access: lruClock(tx.Now)}
		d.keys.insert(e)
		tx.ks.keys[db].Add(1)
		tx.ks.notifyNew(db, key)
	} else {
		if e.val != val {
			freeValue(e.val)
		}
		e.val = val
		e.access = lruClock(tx.Now)
		if keepTTL {
			expireAt = e.expireAt
		}
	}
	tx.ks.setExpire(d, db, e, expireAt)
	tx.touch(s, db, key)
}

// Delete removes key; it reports whether it existed.
func (tx *Tx) Delete(db int, key []byte) bool {
	s, h := tx.shardFor(key)
	if !tx.ks.removeEntry(s, db, key, h, true) {
		return false
	}
	tx.touch(s, db, key)
	return true
}

// Detach removes key like Delete, but its value lives on under another
// key (RENAME): it is not freed.
func (tx *Tx) Detach(db int, key []byte) bool {
	s, h := tx.shardFor(key)
	if !tx.ks.removeEntry(s, db, key, h, false) {
		return false
	}
	tx.touch(s, db, key)
	return true
}

// SetExpire sets or clears (0) the expiry of an existing key. It reports
// whether the key exists.
func (tx *Tx) SetExpire(db int, key []byte, at int64) bool {
	s, h := tx.shardFor(key)
	d := &s.dbs[db]
	e := d.keys.find(key, h)
	if e == nil {
		return false
	}
	tx.ks.setExpire(d, db, e, at)
	tx.touch(s, db, key)
	return true
}

// Touched marks key as modified for WATCH after an in-place change of its
// value (APPEND, INCR, ...).
func (tx *Tx) Touched(db int, key []byte) {
	s, _ := tx.shardFor(key)
	tx.touch(s, db, key)
}

func (ks *Keyspace) setExpire(d *shardDB, db int, e *entry, at int64) {
	if at == 0 {
		if e.expireAt != 0 {
			delete(d.expires, e)
			ks.expires[db].Add(-1)
		}
	} else if e.expireAt == 0 {
		d.expires[e] = struct{}{}
		ks.expires[db].Add(1)
	}
	e.expireAt = at
}

func (ks *Keyspace) removeEntry(s *shard, db int, key []byte, h uint64, free bool) bool {
	d := &s.dbs[db]
	e := d.keys.remove(key, h)
	if e == nil {
		return false
	}
	if free {
		freeValue(e.val)
	}
	if e.expireAt != 0 {
		delete(d.expires, e)
		ks.expires[db].Add(-1)
	}
	ks.keys[db].Add(-1)
	return true
}

// expireEntry deletes an expired key and raises the "expired" event; if
// clients are blocked on the key it is recorded in *ready.
func (ks *Keyspace) expireEntry(s *shard, db int, e *entry, ready *[]ReadyKey) {
	key := []byte(e.key)
	ks.removeEntry(s, db, key, e.hash, true)
	ks.Expired.Add(1)
	if ks.notifier != nil {
		ks.notifier.Notify(EventExpired, "expired", db, key)
	}
	touchShard(s, db, key)
	signalReady(s, db, key, ready)
}

// lruClock is the access clock in seconds, as Redis's LRU clock with its
// one-second resolution.
func lruClock(nowMs int64) uint32 { return uint32(nowMs / 1000) }

func lruIdle(access uint32, nowMs int64) int64 {
	idle := int64(lruClock(nowMs)) - int64(access)
	if idle < 0 {
		return 0
	}
	return idle
}

// NowMs is the wall clock in unix milliseconds; the command layer snapshots
// it once per command.
func NowMs() int64 { return time.Now().UnixMilli() }
