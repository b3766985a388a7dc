package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/streams"
)

// prepare makes the server ready for a run: with reset it deletes the
// example's streams and keys; without, it refuses to run if any exists,
// as their contents would be counted with this run's.
func prepare(ctx context.Context, rdb *redis.Client, reset bool) error {
	keys := []string{ordersStream, paymentsStream, deadLetters}
	iter := rdb.Scan(ctx, 0, keyPrefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("SCAN %s*: %w", keyPrefix, err)
	}
	if reset {
		if err := rdb.Del(ctx, keys...).Err(); err != nil {
			return fmt.Errorf("reset: %w", err)
		}
		return nil
	}
	n, err := rdb.Exists(ctx, keys...).Result()
	switch {
	case err != nil:
		return err
	case n > 0:
		return fmt.Errorf("the server already holds the example's keys (%s, ...): rerun with --reset to delete them", strings.Join(keys[:3], ", "))
	}
	return nil
}

// summary is the run's outcome, printed as one line.
type summary struct {
	orders, processed, deadLettered, duplicates int
	retries                                     int // payments
	notified, email, sms, analytics             int
	revenue                                     int64 // cents
	elapsed                                     time.Duration
}

func (s summary) String() string {
	return fmt.Sprintf("orders=%d processed=%d dead-lettered=%d duplicate-effects=%d retries=%d notified=%d email=%d sms=%d analytics=%d revenue=%s elapsed=%v",
		s.orders, s.processed, s.deadLettered, s.duplicates, s.retries, s.notified, s.email, s.sms, s.analytics, formatCents(s.revenue), s.elapsed.Round(time.Millisecond))
}

// ledgers are the effects the services record in-process; payments and
// dead letters are counted from their streams instead.
type ledgers struct {
	payments  streams.Counters // the payment workers' events
	notified  *ledger
	analytics *analytics
}

func newLedgers() *ledgers { return &ledgers{notified: newLedger(), analytics: newAnalytics()} }

// check compares what the services did, after they stopped, with what
// cfg asked for: each good order paid once and notified once, each order
// that fails every delivery (see doomed) dead-lettered once after
// cfg.maxDeliveries deliveries with its last error, each order
// counted once by analytics, nothing left pending. It returns the summary
// and an error listing every disagreement.
func check(ctx context.Context, rdb *redis.Client, cfg config, led *ledgers) (summary, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	nDoomed, retries := 0, 0
	var revenue int64
	for n := 1; n <= cfg.orders; n++ {
		if doomed(cfg, n) != nil {
			nDoomed++
		}
		retries += retriesOf(cfg, n)
		revenue += orderCents(n)
	}

	paid := map[string]int{}
	err := readStream(ctx, rdb, paymentsStream, func(m redis.XMessage) {
		id, _ := m.Values["order_id"].(string)
		paid[id]++
		if n := orderNumber(id); n == 0 || n > cfg.orders || doomed(cfg, n) != nil || m.Values["status"] != "paid" {
			bad("payment %s for order %q should not exist", m.ID, id)
		}
	})
	if err != nil {
		return summary{}, err
	}
	// Dead letters are read through the library, which parses their
	// metadata, a page of 1000 at a time.
	dead := map[string]int{}
	for q := (streams.DeadLetterQuery{Count: 1000}); ; {
		page, err := streams.ListDeadLetters(ctx, rdb, deadLetters, q)
		if err != nil {
			return summary{}, err
		}
		for _, d := range page {
			id := fieldValue(d.Fields, "order_id")
			dead[id]++
			n := orderNumber(id)
			if n == 0 || n > cfg.orders || doomed(cfg, n) == nil {
				bad("dead letter %s for order %q should not exist", d.ID, id)
			} else if d.Error != doomed(cfg, n).Error() {
				bad("dead letter %s failed with %q, want %q", d.ID, d.Error, doomed(cfg, n))
			}
			if d.Stream != ordersStream || d.Group != paymentGroup {
				bad("dead letter %s is from %s, group %s", d.ID, d.Stream, d.Group)
			}
			if d.Deliveries != cfg.maxDeliveries {
				bad("dead letter %s was delivered %d times, not --max-deliveries %d", d.ID, d.Deliveries, cfg.maxDeliveries)
			}
		}
		if len(page) < q.Count {
			break
		}
		q.Start = "(" + page[len(page)-1].ID
	}

	s := summary{
		orders:       cfg.orders,
		processed:    len(paid),
		deadLettered: len(dead),
		retries:      int(led.payments.Failed.Load()),
		notified:     led.notified.distinct(),
		email:        led.notified.bySource("email"),
		sms:          led.notified.bySource("sms"),
		analytics:    led.analytics.orders.distinct(),
		revenue:      led.analytics.revenue.Load(),
		duplicates: duplicates(paid) + duplicates(dead) +
			led.notified.duplicates() + led.analytics.orders.duplicates(),
	}
	if s.processed != cfg.orders-nDoomed || s.deadLettered != nDoomed {
		bad("%d orders paid and %d dead-lettered, want %d and %d", s.processed, s.deadLettered, cfg.orders-nDoomed, nDoomed)
	}
	if s.retries != retries {
		bad("payments retried %d times, want %d", s.retries, retries)
	}
	if n := led.payments.DeadLettered.Load(); n != int64(nDoomed) {
		bad("the payment workers dead-lettered %d orders, want %d", n, nDoomed)
	}
	if s.duplicates != 0 {
		bad("%d duplicate effects", s.duplicates)
	}
	if s.notified != s.processed {
		bad("%d payments notified of %d", s.notified, s.processed)
	}
	for id := range paid {
		if !led.notified.has(id) {
			bad("the payment of %s was not notified", id)
			break
		}
	}
	if s.analytics != cfg.orders || s.revenue != revenue {
		bad("analytics counted %d orders and %s, want %d and %s", s.analytics, formatCents(s.revenue), cfg.orders, formatCents(revenue))
	}
	if n, err := rdb.XLen(ctx, ordersStream).Result(); err != nil || n != int64(cfg.orders) {
		bad("orders-stream holds %d orders, want %d (%v)", n, cfg.orders, err)
	}
	for _, g := range [...][2]string{{ordersStream, paymentGroup}, {paymentsStream, notifyGroup}, {ordersStream, analyticsGroup}} {
		switch p, err := rdb.XPending(ctx, g[0], g[1]).Result(); {
		case err != nil:
			bad("XPENDING %s %s: %v", g[0], g[1], err)
		case p.Count != 0:
			bad("group %s of %s: %d entries still pending", g[1], g[0], p.Count)
		}
	}
	if len(problems) > 10 {
		problems = append(problems[:10], fmt.Sprintf("and %d more", len(problems)-10))
	}
	if len(problems) > 0 {
		return s, errors.New(strings.Join(problems, "; "))
	}
	return s, nil
}

// fieldValue is the value of the field name in fields (name, value, ...).
func fieldValue(fields []string, name string) string {
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i] == name {
			return fields[i+1]
		}
	}
	return ""
}

// readStream calls fn on each entry of stream, a page at a time.
func readStream(ctx context.Context, rdb *redis.Client, stream string, fn func(redis.XMessage)) error {
	start := "-"
	for {
		page, err := rdb.XRangeN(ctx, stream, start, "+", 1000).Result()
		if err != nil {
			return fmt.Errorf("XRANGE %s: %w", stream, err)
		}
		for _, m := range page {
			fn(m)
		}
		if len(page) < 1000 {
			return nil
		}
		start = "(" + page[len(page)-1].ID
	}
}
