// Package engine owns the keyspace: the databases, their keys and values,
// expiry (lazy on access and active in the background), WATCH state, and the
// locks that make commands atomic.
//
// Concurrency contract. Every access goes through a Tx obtained from
// Keyspace.Lock with the command's keys. Commands on keys in different
// shards run in parallel; commands on the same key are serialized by its
// shard mutex; a multi-key command or a MULTI/EXEC locks all of its keys'
// shards (ascending order) for its whole duration, so it is atomic.
// Database-wide commands take the barrier exclusively. Lock order:
//
//	barrier (shared or exclusive) -> shard mutexes in ascending index
//	  -> (inside a value: stream and group state, owned by their package)
//	  -> pubsub registry -> a client's output mutex
//
// No keyspace lock is ever held across network or disk I/O or while a
// client is blocked.
//
// Blocked clients (blocking.go) are registered, like WATCH, in the shard of
// the key they wait on, under the lock of the command that decided to block;
// a write to such a key records it in the writer's Tx (TakeReady), and the
// command layer serves the waiters once the writer has unlocked.
//
// The engine reads the wall clock only for active expiry; a command's time
// is the snapshot in Tx.Now, taken once per command (or once per EXEC), so a
// write's effects are decided before it changes state.
package engine
