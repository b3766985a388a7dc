// Package stream owns the Redis stream data type: entries stored in compact
// nodes (Redis's listpack macro-nodes), the stream's counters (last ID,
// entries added, max deleted ID), consumer groups with their pending entries
// lists and consumers, and the IDMP producer tables.
//
// The package is a pure data structure: it does no I/O, reads no clock and
// starts no goroutines. Every operation takes the concrete values it needs
// (IDs already resolved from "*", the current time in unix milliseconds,
// node limits), so applying the same operations to the same state always
// gives the same state: after a crash from the durable log, or on a replica.
//
// Concurrency: a Stream is not safe for concurrent use. The keyspace shard
// lock of its key serializes every access (internal/engine).
package stream
