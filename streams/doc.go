// Package streams is Runnel's client library for the Redis Streams
// patterns of the article Runnel is built from: producers that publish
// with retention, consumer-group workers that retry, take over and
// dead-letter, idempotent and exactly-once steps, and dead-letter tools.
// It speaks only standard commands over go-redis v9's
// redis.UniversalClient, so it works against Runnel and against any Redis
// 7.0 or newer, and it imports nothing of Runnel's internals.
//
// Files: producer.go publishes (MAXLEN ~, MINID ~ by age, XADD IDMP);
// fields.go encodes values as stream fields; worker.go is the
// consumer-group Worker (XREADGROUP BLOCK, bounded concurrent handlers,
// XACK on success, retries with backoff through XCLAIM, taking over idle
// messages with XREADGROUP CLAIM or XAUTOCLAIM, dead-lettering with
// XADD+XACK in one MULTI/EXEC, graceful shutdown, events for metrics and
// slog logging, a heartbeat for slow handlers); tx.go is the output of an exactly-once stream-to-stream
// step (NewTxWorker); middleware.go holds Idempotent (SET NX); metrics.go
// holds Counters, an Events hook that counts; message.go reads raw
// entries (fields in stored order); deadletter.go is the dead-letter
// entry format and dlq.go lists, shows and redrives dead letters (a
// redrive is one WATCHed MULTI/EXEC).
//
// Concurrency: Producers and the dead-letter functions are safe for
// concurrent use by many goroutines, as the redis.UniversalClient they
// wrap is. A Worker's Run is called once at a time; its handlers run on
// goroutines of their own, up to Concurrency at once, and its Events hook
// is called from them.
package streams
