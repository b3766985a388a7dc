package engine

// Journal support. The command layer appends every command that changed
// the keyspace to the write-ahead log while it still holds the command's
// locks, and notes the record's sequence here. A command that reads keys
// then learns the sequence of the last logged write it may have seen
// (LoggedSeq) and its reply waits until that record is durable: no client
// is answered with data that a crash could take back.
//
// Per shard, logSeq is guarded by the shard mutex; globalLogSeq is written
// with the barrier held exclusively and read under the barrier, shared or
// exclusive.

// Changes reports how many changes (AddDirty) the Tx made since Lock.
func (tx *Tx) Changes() int64 { return tx.changes }

// NoteChange records a change that Redis propagates without counting it in
// dirty (XREADGROUP re-delivering pending entries): the command is logged
// while rdb_changes_since_last_save stays as in Redis.
func (tx *Tx) NoteChange() { tx.changes++ }

// ResetChanges sets the change count to zero, between the commands of an
// EXEC, which share one lock scope.
func (tx *Tx) ResetChanges() { tx.changes = 0 }

// NoteLogged records that the Tx's write was logged as record seq: later
// readers of the locked shards (of every shard, for a global Tx) wait for
// it to be durable.
func (tx *Tx) NoteLogged(seq uint64) {
	ks := tx.ks
	if tx.global {
		ks.globalLogSeq = seq
		return
	}
	for i := 0; i < tx.n; i++ {
		ks.shards[tx.held[i]].logSeq = seq
	}
}

// LoggedSeq returns the sequence of the last logged write to the locked
// shards (to any shard, for a global Tx): what a reply built under this Tx
// may reflect. It must be called with the locks held.
func (tx *Tx) LoggedSeq() uint64 {
	ks := tx.ks
	seq := ks.globalLogSeq
	if tx.global {
		for i := range ks.shards {
			seq = max(seq, ks.shards[i].logSeq)
		}
		return seq
	}
	for i := 0; i < tx.n; i++ {
		seq = max(seq, ks.shards[tx.held[i]].logSeq)
	}
	return seq
}

// OnExpire installs the function that logs the deletion of a key by active
// expiry; it returns the record's sequence. It is called with the key's
// shard locked (and the barrier shared), like a command's write.
func (ks *Keyspace) OnExpire(fn func(db int, key string, now int64) uint64) { ks.onExpire = fn }

// EachStored calls fn for every key of db, expired or not, until fn returns
// false. A checkpoint stores expired keys too: a command logged after it
// may carry an earlier time snapshot, for which the key was still alive.
// The whole keyspace must be locked.
func (tx *Tx) EachStored(db int, fn func(Entry) bool) {
	tx.mustGlobal()
	for s := range tx.ks.shards {
		cont := true
		tx.ks.shards[s].dbs[db].keys.each(func(e *entry) bool {
			cont = fn(Entry{e})
			return cont
		})
		if !cont {
			return
		}
	}
}

// SweepShards visits the values of every database shard by shard, each
// shard under its own lock (and the barrier shared), calling fn until it
// returns false. Background work that must touch values in place (paging
// out the nodes of streams no command uses) goes through it; commands on
// other shards run meanwhile.
func (ks *Keyspace) SweepShards(fn func(v Value) bool) {
	for i := range ks.shards {
		s := &ks.shards[i]
		ks.barrier.RLock()
		s.mu.Lock()
		cont := true
		for db := range s.dbs {
			s.dbs[db].keys.each(func(e *entry) bool {
				cont = fn(e.val)
				return cont
			})
			if !cont {
				break
			}
		}
		s.mu.Unlock()
		ks.barrier.RUnlock()
		if !cont {
			return
		}
	}
}
