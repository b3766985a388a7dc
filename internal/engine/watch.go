package engine

import "sync/atomic"

type watchKey struct {
	db  int
	key string
}

// WatchSet is one client's WATCHed keys. Dirty is set by any change to a
// watched key; EXEC then fails.
//
// The list of keys belongs to the client's goroutine. What other goroutines
// touch (the registration and its expired flag) lives in the watched key's
// shard, under that shard's lock.
type WatchSet struct {
	Dirty atomic.Bool
	keys  []watchKey
}

// watcher is one WatchSet's registration on one key, kept in the key's
// shard.
type watcher struct {
	set *WatchSet
	// expired records that the key was already logically expired at WATCH
	// time, so its later deletion is not a change (Redis's wk->expired).
	expired bool
}

// Len is the number of watched keys.
func (w *WatchSet) Len() int { return len(w.keys) }

// Keys appends the watched key names to dst (for locking at EXEC).
func (w *WatchSet) Keys(dst [][]byte) [][]byte {
	for _, k := range w.keys {
		dst = append(dst, []byte(k.key))
	}
	return dst
}

// Watch adds key to w. The key's shard must be locked.
func (tx *Tx) Watch(w *WatchSet, db int, key []byte) {
	for _, k := range w.keys {
		if k.db == db && k.key == string(key) {
			return
		}
	}
	s, h := tx.shardFor(key)
	e := s.dbs[db].keys.find(key, h)
	wk := watchKey{db, string(key)}
	if s.watched == nil {
		s.watched = make(map[watchKey][]*watcher)
	}
	s.watched[wk] = append(s.watched[wk], &watcher{set: w, expired: e != nil && e.expired(tx.Now)})
	w.keys = append(w.keys, wk)
}

// Unwatch forgets every key of w and clears Dirty. It locks the shards
// itself, so the caller must hold no keyspace lock.
func (ks *Keyspace) Unwatch(w *WatchSet) {
	for _, k := range w.keys {
		s := &ks.shards[shardOf(hashString(k.key))]
		s.mu.Lock()
		s.unwatch(w, k)
		s.mu.Unlock()
	}
	w.keys = w.keys[:0]
	w.Dirty.Store(false)
}

// UnwatchLocked is Unwatch for a caller whose Tx holds every watched key's
// shard (EXEC).
func (tx *Tx) UnwatchLocked(w *WatchSet) {
	for _, k := range w.keys {
		s, _ := tx.shardFor([]byte(k.key))
		s.unwatch(w, k)
	}
	w.keys = w.keys[:0]
	w.Dirty.Store(false)
}

func (s *shard) unwatch(w *WatchSet, wk watchKey) {
	list := s.watched[wk]
	for i, x := range list {
		if x.set == w {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(s.watched, wk)
	} else {
		s.watched[wk] = list
	}
}

// WatchedKeyExpired reports whether a key that was live at WATCH time has
// since expired (Redis's isWatchedKeyExpired). The watched keys' shards must
// be locked.
func (tx *Tx) WatchedKeyExpired(w *WatchSet) bool {
	for _, k := range w.keys {
		key := []byte(k.key)
		s, h := tx.shardFor(key)
		for _, x := range s.watched[k] {
			if x.set != w || x.expired {
				continue
			}
			if e := s.dbs[k.db].keys.find(key, h); e != nil && e.expired(tx.Now) {
				return true
			}
		}
	}
	return false
}

// touch is Redis's signalModifiedKey plus signalKeyAsReady: it marks the
// key's watchers dirty and, if clients are blocked on it, records it as
// ready. The shard must be locked.
func (tx *Tx) touch(s *shard, db int, key []byte) {
	touchShard(s, db, key)
	signalReady(s, db, key, &tx.ready)
}

// touchShard marks the watchers of key dirty (Redis's touchWatchedKey). The
// shard must be locked.
func touchShard(s *shard, db int, key []byte) {
	if len(s.watched) == 0 {
		return
	}
	list := s.watched[watchKey{db, string(key)}]
	if len(list) == 0 {
		return
	}
	exists := s.dbs[db].keys.find(key, hashKey(key)) != nil
	for _, x := range list {
		if x.expired && !exists {
			// The key was already expired when watched and is now gone:
			// logically no change. Clear the flag, as Redis does.
			x.expired = false
			continue
		}
		x.set.Dirty.Store(true)
	}
}

// touchAllWatched marks dirty the watchers of keys that exist in db, or in
// other when other >= 0 (Redis's touchAllWatchedKeysInDb, called before db
// is emptied or swapped with other). A key that was already expired when
// watched and is now simply deleted is no logical change; a missing key
// replaced by an expired one is not either. Requires the global lock.
func (ks *Keyspace) touchAllWatched(db, other int, now int64) {
	for i := range ks.shards {
		s := &ks.shards[i]
		for wk, list := range s.watched {
			if wk.db != db {
				continue
			}
			key := []byte(wk.key)
			h := hashKey(key)
			existsHere := s.dbs[db].keys.find(key, h) != nil
			var replacement *entry
			if other >= 0 {
				replacement = s.dbs[other].keys.find(key, h)
			}
			if !existsHere && replacement == nil {
				continue
			}
			for _, x := range list {
				switch {
				case x.expired && replacement == nil:
					x.expired = false
					continue
				case x.expired && replacement.expired(now):
					continue
				case !x.expired && !existsHere && replacement.expired(now):
					x.expired = true
					continue
				}
				x.set.Dirty.Store(true)
			}
		}
	}
}
