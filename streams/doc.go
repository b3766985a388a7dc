// Package streams is Runnel's client library for the Redis Streams
// patterns of the article Runnel is built from: producers that publish
// with retention, consumer-group workers, dead-lettering and idempotency.
// It speaks only standard commands over go-redis v9's
// redis.UniversalClient, so it works against Runnel and against any Redis
// 7.0 or newer, and it imports nothing of Runnel's internals.
//
// This file set so far holds the Producer (producer.go) and the encoding
// of published values as stream fields (fields.go).
//
// Concurrency: a Producer is safe for concurrent use by many goroutines,
// as the redis.UniversalClient it wraps is.
package streams
