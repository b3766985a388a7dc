// Package streams is Runnel's client library for the Redis Streams
// patterns of the article Runnel is built from: producers that publish
// with retention, consumer-group workers, dead-lettering and idempotency.
// It speaks only standard commands over go-redis v9's
// redis.UniversalClient, so it works against Runnel and against any Redis
// 7.0 or newer, and it imports nothing of Runnel's internals.
//
// So far it holds the Producer (producer.go), the encoding of published
// values as stream fields (fields.go) and the consumer-group Worker
// (worker.go): XREADGROUP BLOCK, a bounded number of concurrent handlers,
// XACK on success, its own pending entries first after a restart, and a
// graceful shutdown. Retries with backoff, reclaiming with XAUTOCLAIM,
// dead-lettering and idempotency are to come.
//
// Concurrency: a Producer is safe for concurrent use by many goroutines,
// as the redis.UniversalClient it wraps is. A Worker's Run is called once;
// its handlers run on goroutines of their own, up to Concurrency at once.
package streams
