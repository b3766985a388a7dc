package streams_test

import (
	"context"
	"log"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/streams"
)

// The article's producer and payment worker (README, "Go library").
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})

	orders := streams.NewProducer(rdb, "orders-stream", streams.ProducerOptions{MaxLen: 100_000})
	if _, err := orders.Publish(ctx, map[string]any{"order_id": 17, "amount": 42.5}); err != nil {
		log.Fatal(err)
	}

	var stats streams.Counters
	w, err := streams.NewWorker(rdb, "orders-stream", func(ctx context.Context, m streams.Message) error {
		log.Printf("charging order %s (delivery %d)", m.Values["order_id"], m.Deliveries)
		return nil // acknowledged; an error retries it, after 5 deliveries it is dead-lettered
	}, streams.WorkerOptions{Group: "payment-processors", Concurrency: 8, Events: stats.Observe})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Run(ctx); err != nil { // until SIGINT/SIGTERM, then a graceful stop
		log.Fatal(err)
	}
}
