// Package store owns Runnel's data directory: the LOCK that keeps a second
// server out, the write-ahead log of operations (wal/, internal/wal over
// internal/seglog), the checkpoints (checkpoint-<seq>.rnl) and the node log
// of stream nodes paged out of memory (nodes/, internal/nodestore).
//
// It defines the two on-disk formats of its own: the operation record
// (op.go: the canonical commands of one client command or EXEC, with their
// database, time snapshot and stream parameters) and the checkpoint
// (checkpoint.go: a keyspace snapshot as seglog records, streams as their
// encoded parts, nodes already in the node log by reference). Recovery
// (Store.Recover) loads the newest checkpoint, adopts the node references it
// holds, and hands every later operation to the caller to replay. Check and
// Repair (check.go) serve `runnel check`.
//
// Concurrency: Append, WaitDurable, WriteErr, SetPolicy, Stats and the
// Pager are safe for concurrent use. Recover runs once, before any Append.
// A Snapshot is built by one goroutine while the caller holds the whole
// keyspace locked (so that it is exactly the state after its sequence),
// streaming its records into the checkpoint's temporary file without
// syncing; WriteCheckpoint (fsync, rename) then runs without keyspace
// locks, one at a time
// (TryBeginCheckpoint/EndCheckpoint reserve the right). The crash-safety
// argument of each step is in ARCHITECTURE.md, "Durability".
package store
