package engine

import "math/rand/v2"

// The operations below work on whole databases and require a Tx that holds
// the global lock.

func (tx *Tx) mustGlobal() {
	if !tx.global {
		panic("engine: database-wide operation without the global lock")
	}
}

// Flush empties db (or every db when db < 0) and returns the keys removed.
func (tx *Tx) Flush(db int) int64 {
	tx.mustGlobal()
	ks := tx.ks
	var removed int64
	for i := 0; i < ks.ndb; i++ {
		if db >= 0 && i != db {
			continue
		}
		ks.touchAllWatched(i, -1, tx.Now)
		ks.signalAllBlocked(i, &tx.ready)
		for s := range ks.shards {
			d := &ks.shards[s].dbs[i]
			d.keys.each(func(e *entry) bool {
				freeValue(e.val)
				return true
			})
			d.keys.clear()
			clear(d.expires)
		}
		removed += ks.keys[i].Swap(0)
		ks.expires[i].Store(0)
	}
	return removed
}

// SwapDB exchanges the contents of databases a and b.
func (tx *Tx) SwapDB(a, b int) {
	tx.mustGlobal()
	ks := tx.ks
	ks.touchAllWatched(a, b, tx.Now)
	ks.touchAllWatched(b, a, tx.Now)
	// Blocked clients stay on their database number, whose contents
	// change: every key they wait on in either database is signalled.
	ks.signalAllBlocked(a, &tx.ready)
	if b != a {
		ks.signalAllBlocked(b, &tx.ready)
	}
	for s := range ks.shards {
		dbs := ks.shards[s].dbs
		dbs[a], dbs[b] = dbs[b], dbs[a]
	}
	x, y := ks.keys[a].Load(), ks.keys[b].Load()
	ks.keys[a].Store(y)
	ks.keys[b].Store(x)
	x, y = ks.expires[a].Load(), ks.expires[b].Load()
	ks.expires[a].Store(y)
	ks.expires[b].Store(x)
}

// Each calls fn for every live key of db until fn returns false. Expired
// keys are skipped (not deleted).
func (tx *Tx) Each(db int, fn func(Entry) bool) {
	tx.mustGlobal()
	for s := range tx.ks.shards {
		cont := true
		tx.ks.shards[s].dbs[db].keys.each(func(e *entry) bool {
			if e.expired(tx.Now) {
				return true
			}
			cont = fn(Entry{e})
			return cont
		})
		if !cont {
			return
		}
	}
}

// Scan continues a SCAN over db from cursor, visiting buckets until at least
// count keys were seen or 10*count buckets were visited. The cursor's low
// shardBits select the shard; the rest is that shard's bucket cursor. fn sees
// expired keys too; the caller filters them as Redis does.
func (tx *Tx) Scan(db int, cursor uint64, count int, fn func(Entry)) uint64 {
	tx.mustGlobal()
	si := int(cursor & (numShards - 1))
	inner := cursor >> shardBits
	seen := 0
	visit := func(e *entry) { seen++; fn(Entry{e}) }
	budget := 10 * count // further bucket visits, as Redis's maxiterations
	for {
		d := &tx.ks.shards[si].dbs[db].keys
		visited := d.len() > 0
		if visited {
			inner = d.scan(inner, visit)
		} else {
			// A shard without keys of db has no buckets to visit: skipping
			// it is free, so a small database is scanned in one call and
			// the cursor comes back 0, as from Redis's single table.
			inner = 0
		}
		if inner == 0 {
			si++
			if si == numShards {
				return 0
			}
		}
		if seen >= count {
			break
		}
		if visited {
			if budget <= 0 {
				break
			}
			budget--
		}
	}
	return inner<<shardBits | uint64(si)
}

// RandomKey returns a random live key of db, deleting expired keys it meets.
func (tx *Tx) RandomKey(db int) (string, bool) {
	tx.mustGlobal()
	ks := tx.ks
	for ks.keys[db].Load() > 0 {
		// Pick a shard weighted by size so every key is equally likely.
		n := ks.keys[db].Load()
		k := rand.Int64N(n)
		var s *shard
		for i := range ks.shards {
			c := int64(ks.shards[i].dbs[db].keys.len())
			if k < c {
				s = &ks.shards[i]
				break
			}
			k -= c
		}
		if s == nil {
			continue
		}
		e := s.dbs[db].keys.random(s.rng)
		if e == nil {
			continue
		}
		if e.expired(tx.Now) {
			// As Redis's dbRandomKey on a master: delete the expired key
			// and try again. Each such round removes a key, so the loop
			// ends; returning an expired key is only done by replicas.
			ks.expireEntry(s, db, e, &tx.ready)
			continue
		}
		return e.key, true
	}
	return "", false
}

// MoveEntry moves key from db src to db dst with its expiry. The key must
// exist in src and not in dst.
func (tx *Tx) MoveEntry(src, dst int, key []byte) {
	s, h := tx.shardFor(key)
	e := s.dbs[src].keys.find(key, h)
	val, exp := e.val, e.expireAt
	tx.ks.removeEntry(s, src, key, h, false) // moved, not freed
	tx.touch(s, src, key)
	tx.Set(dst, key, val, exp, false)
}
