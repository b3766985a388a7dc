package streams_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/streams"
)

// BenchmarkWorker measures the library end to end, against in-process
// Runnel (in memory) and redis-server (no persistence) side by side: b.N
// entries are published (pipelined, before the clock starts), then one
// Worker with 8 handlers consumes and acknowledges them all; a TxWorker
// also publishes one output per input in its MULTI/EXEC. Compare the two
// servers' ns/op (per message) with benchstat, or read msgs/s.
func BenchmarkWorker(b *testing.B) {
	for _, kind := range []string{"ack", "tx"} {
		for _, srv := range servers {
			b.Run(fmt.Sprintf("%s/%s", kind, srv.name), func(b *testing.B) {
				rdb := redis.NewClient(&redis.Options{Addr: srv.addr(b), PoolSize: 16})
				defer rdb.Close()
				ctx := context.Background()
				const batch = 1000
				for i := 0; i < b.N; i += batch {
					_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
						for j := i; j < min(i+batch, b.N); j++ {
							p.XAdd(ctx, &redis.XAddArgs{Stream: "bench", Values: []string{"order_id", fmt.Sprint(j), "amount", "42.50"}})
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				var done atomic.Int64
				all := make(chan struct{})
				count := func() {
					if done.Add(1) == int64(b.N) {
						close(all)
					}
				}
				opts := streams.WorkerOptions{Group: "g", Consumer: "c", StartID: "0", Concurrency: 8, Block: time.Second}
				var w *streams.Worker
				if kind == "ack" {
					w, _ = streams.NewWorker(rdb, "bench", func(context.Context, streams.Message) error { count(); return nil }, opts)
				} else {
					w, _ = streams.NewTxWorker(rdb, "bench", func(_ context.Context, m streams.Message, tx *streams.Tx) error {
						count()
						return tx.Publish("bench-out", map[string]string{"order_id": m.Values["order_id"], "status": "paid"})
					}, opts)
				}
				runCtx, cancel := context.WithCancel(ctx)
				errc := make(chan error, 1)
				b.ResetTimer()
				go func() { errc <- w.Run(runCtx) }()
				select {
				case <-all:
				case <-time.After(5 * time.Minute):
					b.Fatalf("%d of %d handled", done.Load(), b.N)
				}
				for {
					p, err := rdb.XPending(ctx, "bench", "g").Result()
					if err != nil {
						b.Fatal(err)
					}
					if p.Count == 0 {
						break
					}
					time.Sleep(100 * time.Microsecond)
				}
				b.StopTimer()
				cancel()
				if err := <-errc; err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}
