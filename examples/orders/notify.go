package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/streams"
)

// notificationService is group notifiers on payments-stream: an email
// consumer and an SMS consumer sharing the work, each payment going to
// one of them. Sending is recorded in sent, per order and channel. It is
// made idempotent by order ID: a payment delivered again after its
// notification went out (a lost XACK, a reclaim) is acknowledged without
// notifying twice.
func notificationService(rdb redis.UniversalClient, sent *ledger, logger *slog.Logger) ([]*streams.Worker, error) {
	once := streams.Idempotent(rdb, streams.IdempotencyOptions{
		Prefix: keyPrefix + "notified:",
		TTL:    24 * time.Hour,
		Key:    func(m streams.Message) string { return m.Values["order_id"] },
	})
	var ws []*streams.Worker
	for _, channel := range []string{"email", "sms"} {
		send := func(ctx context.Context, m streams.Message) error {
			// A real service would call its mail or SMS provider here.
			sent.add(m.Values["order_id"], channel)
			return nil
		}
		w, err := streams.NewWorker(rdb, paymentsStream, streams.Chain(send, once), streams.WorkerOptions{
			Group:       notifyGroup,
			Consumer:    fmt.Sprintf("%s-%d", channel, os.Getpid()),
			StartID:     "0",
			Concurrency: 4,
			Logger:      logger,
		})
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}
