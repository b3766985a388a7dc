package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/streams"
)

// analytics is what the analytics service has counted: orders (per
// order, so a duplicate shows) and revenue in cents.
type analytics struct {
	orders  *ledger
	revenue atomic.Int64
}

func newAnalytics() *analytics { return &analytics{orders: newLedger()} }

// analyticsService is group analytics on orders-stream: it reads every
// order on its own, independently of the payment service's group.
func analyticsService(rdb redis.UniversalClient, a *analytics, logger *slog.Logger) ([]*streams.Worker, error) {
	count := func(ctx context.Context, m streams.Message) error {
		cents, err := toCents(m.Values["amount"])
		if err != nil {
			// Counted by no retry: dead-letter it for a human.
			return streams.Permanent(fmt.Errorf("order %s: amount: %w", m.Values["order_id"], err))
		}
		a.orders.add(m.Values["order_id"], "")
		a.revenue.Add(cents)
		return nil
	}
	w, err := streams.NewWorker(rdb, ordersStream, count, streams.WorkerOptions{
		Group:       analyticsGroup,
		Consumer:    fmt.Sprintf("analytics-%d", os.Getpid()),
		StartID:     "0",
		Concurrency: 4,
		Logger:      logger,
	})
	if err != nil {
		return nil, err
	}
	return []*streams.Worker{w}, nil
}

// toCents reads an amount such as "12.5" as 1250 cents.
func toCents(amount string) (int64, error) {
	f, err := strconv.ParseFloat(amount, 64)
	if err != nil {
		return 0, err
	}
	if f < 0 || f > 1e12 || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is out of range", amount)
	}
	return int64(math.Round(f * 100)), nil
}

// formatCents writes cents as units with two decimals.
func formatCents(c int64) string {
	return fmt.Sprintf("%d.%02d", c/100, c%100)
}
