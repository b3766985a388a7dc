package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/streams"
)

// payment is what payments-stream holds, one per paid order.
type payment struct {
	OrderID    string `redis:"order_id"`
	CustomerID string `redis:"customer_id"`
	Amount     string `redis:"amount"` // as the order had it
	Status     string `redis:"status"`
}

// Failures the payment service meets on purpose.
var (
	errDeclined = errors.New("card declined")             // poison: every time
	errGateway  = errors.New("payment gateway timed out") // transient: once
)

// isPoison reports whether order n fails every time: every
// --fail-every'th does.
func isPoison(cfg config, n int) bool { return cfg.failEvery > 0 && n%cfg.failEvery == 0 }

// isFlaky reports whether order n fails on its first delivery only:
// every 13th does.
func isFlaky(n int) bool { return n%13 == 0 }

// doomed is the last error of order n if it fails on every delivery and
// so ends in the dead-letter stream: a poison order, or with
// --max-deliveries 1, a flaky one. Otherwise it is nil.
func doomed(cfg config, n int) error {
	switch {
	case isPoison(cfg, n):
		return errDeclined
	case isFlaky(n) && cfg.maxDeliveries == 1:
		return errGateway
	}
	return nil
}

// retriesOf is how many times order n's payment is retried: once for a
// flaky order, --max-deliveries - 1 times for a doomed one.
func retriesOf(cfg config, n int) int {
	switch {
	case doomed(cfg, n) != nil:
		return cfg.maxDeliveries - 1
	case isFlaky(n):
		return 1
	}
	return 0
}

// paymentService is two instances, like two pods, of the payment
// consumer in group payment-processors. Each turns an order into one
// payment in payments-stream, published through the transaction that
// acknowledges the order: exactly once, whatever fails in between.
// The workers report to counters through the metrics hook.
func paymentService(rdb redis.UniversalClient, cfg config, counters *streams.Counters, logger *slog.Logger) ([]*streams.Worker, error) {
	handle := func(ctx context.Context, m streams.Message, tx *streams.Tx) error {
		o := m.Values
		n := orderNumber(o["order_id"])
		if n == 0 {
			// No retry fixes a malformed order.
			return streams.Permanent(fmt.Errorf("bad order ID %q", o["order_id"]))
		}
		if isPoison(cfg, n) {
			return errDeclined
		}
		err := tx.Publish(paymentsStream, payment{
			OrderID: o["order_id"], CustomerID: o["customer_id"], Amount: o["amount"], Status: "paid",
		})
		if err != nil {
			return err
		}
		// Failing after the payment was published discards it with the
		// transaction: the retry publishes it, once.
		if isFlaky(n) && m.Deliveries == 1 {
			return errGateway
		}
		return nil
	}
	var ws []*streams.Worker
	for i := 1; i <= 2; i++ {
		w, err := streams.NewTxWorker(rdb, ordersStream, handle, streams.WorkerOptions{
			Group:         paymentGroup,
			Consumer:      fmt.Sprintf("payment-%d-%d", i, os.Getpid()),
			StartID:       "0",
			Concurrency:   8,
			MaxDeliveries: cfg.maxDeliveries,
			// Short delays and reclaim times, so that the example is fast;
			// the defaults (1s to 30s, 60s) suit production.
			Backoff:   streams.ExponentialBackoff(20*time.Millisecond, 200*time.Millisecond),
			ClaimIdle: 5 * time.Second,
			Events:    counters.Observe,
			Logger:    logger,
		})
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}
