// Package wal is the group-commit front of a seglog.Log: the write-ahead
// log that Runnel's writers share. A seglog.Log is owned by one goroutine
// and has no locks; a WAL makes it safe for many goroutines, decides when
// to fsync (the appendfsync policy: always, everysec, no, as in Redis) and
// lets many writers share one fsync.
//
// # What it owns
//
// The WAL owns its seglog.Log and one committer goroutine. Every use of the
// Log (moving staged records into it, Sync, Iterate, Close) happens with
// logMu held, so the Log still has exactly one user at a time. Append never
// touches the Log: it copies the record into a staging buffer under mu, a
// short lock that is never held across I/O, so writers are not stalled by an
// fsync in progress.
//
// # Concurrency contract
//
// Append, WaitDurable, Sync, SetPolicy, Stats, LastSyncError and Close are
// safe for concurrent use. Sequence numbers are assigned by Append in the
// order appends take mu, and they are the seglog sequences the records get
// on disk. Iterate is meant for replay at startup; its callback must not
// call the WAL.
//
// # The committer
//
// A dedicated goroutine (not leader/follower: it keeps the fsync off the
// request goroutines and gives the everysec tick a home) runs one loop:
// take everything appended so far (swap the staging buffer, note the last
// sequence and the round of waiters that sequence belongs to), append it to
// the Log, Sync once, then publish the new durable sequence and close the
// round's channel, which wakes every waiter whose sequence the round
// covered, with the round's error. Waiters that arrive during an fsync join
// the next round, and the committer starts it as soon as the current one
// ends, so under load each fsync covers everything that arrived during the
// previous one. A waiter whose record is already in the round being synced
// waits for that round, not the next.
//
// A round either syncs (policy always, a tick, Sync, Close) or only writes:
// under everysec and no, a waiter asks for a write round, which moves the
// staged records into the Log and writes them to the file without fsync
// (seglog.Log.Flush), so that a crash of the process cannot lose a record
// whose reply was sent; many connections share one write the way they
// share an fsync. A waiter that needs a sync never settles for a write
// round.
//
// The committer wakes up when a waiter asks and every
// CheckInterval (default SyncInterval/10). On a tick it syncs if records
// are pending and the last successful sync is SyncInterval old by
// Options.Clock (everysec, and always as a safety net), if the last sync
// failed (retry), or if the unsynced bytes exceed MaxUnsynced (any policy:
// a seglog.Log keeps unsynced records in memory, so this bound stands in
// for the kernel's writeback under "no"). A write round past MaxUnsynced
// syncs as well, so the bound holds between ticks.
//
// Under everysec and no nobody waits for those syncs, so they run in the
// background (seglog.Log.StartSync): the committer writes the records,
// lets the round's waiters go as a write round does, and a goroutine runs
// the fdatasync while the committer keeps serving write rounds; the
// committer publishes the result (durable sequence, statistics, error)
// when it ends. That is Redis's everysec fsync in a background thread: a
// second's worth of data being synced (milliseconds) would otherwise
// stall every writer. A round that must sync in the foreground (always,
// Sync, TruncateFront, Close, a new segment file) first waits for the
// background one; one is in flight at a time.
//
// Under everysec and no, a waiter that finds no round in flight and the
// log free runs the write round itself (a leader, by TryLock on logMu)
// instead of waking the committer and being woken by it; while it writes,
// other waiters go to the committer as before.
//
// # How an always writer's reply waits
//
// A command handler appends its record and goes on; the reply is not held
// per command. The server's BeforeFlush hook, called before a connection's
// batch of replies is written, calls WaitDurable with the highest sequence
// that batch produced. A pipeline of N writes thus costs one wait, and N
// connections waiting at once share the fsyncs of the committer. Under
// everysec and no, WaitDurable waits for the write round instead (a
// write(2), no fsync).
//
// # Errors
//
// A failed fsync (or write) is returned to every waiter of the round it
// covered and kept as LastSyncError. Nothing is dropped: seglog keeps the
// unsynced records and the next Sync writes the whole unsynced region again,
// so once the disk recovers (ENOSPC cleared) a later sync makes them
// durable. The committer retries on its tick while the last attempt failed
// (under no only if the memory bound is exceeded: there nothing syncs for time);
// LastSyncError is nil again once a sync succeeds. What a failed sync means
// for clients (refuse writes, as Redis does) is the server's decision.
package wal
