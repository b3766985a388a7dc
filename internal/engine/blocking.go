package engine

// Registry of clients blocked on keys (XREAD/XREADGROUP BLOCK), Redis's
// db->blocking_keys and server.ready_keys.
//
// Waiters live in the shard of the key they wait on, like WATCH
// registrations, so a command that finds nothing to serve registers under
// the shard lock it already holds (no write can slip in between its check
// and its registration), and every write to the key, which holds the same
// lock, sees the waiters. A write to a key that has waiters records the key
// as ready in the writer's Tx; the command layer takes the ready keys after
// the command (or the whole EXEC) has unlocked and serves the waiters then.
// Waiters are opaque to the engine.

// ReadyKey is a key that was modified while clients were blocked on it.
type ReadyKey struct {
	DB  int
	Key string
}

// waitList is the FIFO of waiters on one key.
type waitList struct {
	key     watchKey
	waiters []any
	// noKey counts the waiters that must also be woken when the key is
	// deleted (Redis's blocking_keys_unblock_on_nokey).
	noKey int
}

// AddWaiter appends w to the waiters of key in db. onNoKey marks a waiter
// that must also be woken when the key is deleted or changes type (it counts
// in total_blocking_keys_on_nokey). The key's shard must be locked; w must
// not be registered on the key already.
func (tx *Tx) AddWaiter(db int, key []byte, w any, onNoKey bool) {
	s, _ := tx.shardFor(key)
	if s.blocked == nil {
		s.blocked = make(map[watchKey]*waitList)
	}
	wk := watchKey{db, string(key)}
	l := s.blocked[wk]
	if l == nil {
		l = &waitList{key: wk}
		s.blocked[wk] = l
		tx.ks.blockingKeys.Add(1)
	}
	l.waiters = append(l.waiters, w)
	if onNoKey {
		if l.noKey == 0 {
			tx.ks.blockingKeysNoKey.Add(1)
		}
		l.noKey++
	}
}

// RemoveWaiter forgets w's registration on key in db. It locks the shard
// itself, so the caller must hold no keyspace lock.
func (ks *Keyspace) RemoveWaiter(db int, key string, w any, onNoKey bool) {
	s := &ks.shards[shardOf(hashString(key))]
	ks.barrier.RLock()
	s.mu.Lock()
	wk := watchKey{db, key}
	if l := s.blocked[wk]; l != nil {
		for i, x := range l.waiters {
			if x == w {
				l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
				if onNoKey {
					l.noKey--
					if l.noKey == 0 {
						ks.blockingKeysNoKey.Add(-1)
					}
				}
				break
			}
		}
		if len(l.waiters) == 0 {
			delete(s.blocked, wk)
			ks.blockingKeys.Add(-1)
		}
	}
	s.mu.Unlock()
	ks.barrier.RUnlock()
}

// Waiters appends the waiters on key in db to dst, first blocked first: a
// snapshot, taken under the key's shard lock, which it takes itself (the
// caller must hold no keyspace lock).
func (ks *Keyspace) Waiters(db int, key string, dst []any) []any {
	s := &ks.shards[shardOf(hashString(key))]
	ks.barrier.RLock()
	s.mu.Lock()
	if l := s.blocked[watchKey{db, key}]; l != nil {
		dst = append(dst, l.waiters...)
	}
	s.mu.Unlock()
	ks.barrier.RUnlock()
	return dst
}

// BlockingKeys reports how many keys have blocked clients (INFO
// total_blocking_keys) and how many of those have a client that is woken
// when the key is deleted (total_blocking_keys_on_nokey).
func (ks *Keyspace) BlockingKeys() (keys, onNoKey int64) {
	return ks.blockingKeys.Load(), ks.blockingKeysNoKey.Load()
}

// SignalReady records key as ready for the clients blocked on it without
// touching WATCH (Redis's signalKeyAsReady alone, e.g. XGROUP DESTROY,
// which wakes XREADGROUP but is no change for WATCH). Writes through Set,
// Delete, SetExpire and Touched already signal. The key's shard must be
// locked.
func (tx *Tx) SignalReady(db int, key []byte) {
	s, _ := tx.shardFor(key)
	signalReady(s, db, key, &tx.ready)
}

// TakeReady appends the keys signalled by the Tx's commands since the last
// call to dst and forgets them. Call it after Unlock.
func (tx *Tx) TakeReady(dst []ReadyKey) []ReadyKey {
	dst = append(dst, tx.ready...)
	clear(tx.ready) // drop the key strings
	tx.ready = tx.ready[:0]
	return dst
}

// HasReady reports whether the Tx signalled keys that TakeReady would return.
func (tx *Tx) HasReady() bool { return len(tx.ready) > 0 }

// OnReady sets the function that serves the keys made ready outside any
// command (active expiry). It is called with no keyspace lock held, on the
// expiring goroutine. Set it before serving clients.
func (ks *Keyspace) OnReady(fn func([]ReadyKey)) { ks.onReady = fn }

// signalReady records key in *ready if it has waiters. The shard must be
// locked. It costs a length check when the shard has no waiters.
func signalReady(s *shard, db int, key []byte, ready *[]ReadyKey) {
	if len(s.blocked) == 0 || ready == nil {
		return
	}
	l := s.blocked[watchKey{db, string(key)}]
	if l == nil {
		return
	}
	addReady(ready, l.key)
}

// addReady appends wk unless it is already among the last few ready keys (a
// transaction that writes a key many times signals it once).
func addReady(ready *[]ReadyKey, wk watchKey) {
	r := *ready
	for i := len(r) - 1; i >= 0 && i >= len(r)-8; i-- {
		if r[i].DB == wk.db && r[i].Key == wk.key {
			return
		}
	}
	*ready = append(r, ReadyKey{DB: wk.db, Key: wk.key})
}

// signalAllBlocked records as ready every key of db with waiters (FLUSHDB,
// FLUSHALL, SWAPDB: the command then decides, by re-executing, whether the
// new contents serve it). Requires the global lock.
func (ks *Keyspace) signalAllBlocked(db int, ready *[]ReadyKey) {
	for i := range ks.shards {
		for wk := range ks.shards[i].blocked {
			if wk.db == db {
				addReady(ready, wk)
			}
		}
	}
}
