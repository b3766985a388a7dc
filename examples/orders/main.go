// Command orders runs the article's event-driven microservices (its
// Figure 4) as one program against a Runnel or Redis server:
//
//	go run ./examples/orders --addr 127.0.0.1:6379 --orders 3000
//
// What runs, each service in a file of its own:
//
//   - order service (order.go): an HTTP API, POST /orders and GET /healthz,
//     that publishes each order to orders-stream with a streams.Producer
//     (XADD IDMP, so a retried POST adds nothing, where the server has it).
//     The program is its own client: a few goroutines POST --orders orders.
//   - payment service (payment.go): two instances, like two pods, of a
//     transactional Worker in group payment-processors. Each order becomes
//     one payment in payments-stream, published in the same MULTI/EXEC as
//     the order's XACK, so exactly once. Orders numbered a multiple of
//     --fail-every are poison: they fail every time and end in
//     dead-letter-stream after --max-deliveries deliveries. Every 13th
//     order fails once, after publishing its payment, to show that a retry
//     neither loses nor duplicates it.
//   - notification service (notify.go): group notifiers on payments-stream,
//     an email consumer and an SMS consumer sharing the work; each payment
//     is notified once, made idempotent by order ID (streams.Idempotent).
//   - analytics service (analytics.go): group analytics, reading
//     orders-stream on its own, counts orders and revenue.
//
// Effects (payments, dead letters, notifications, analytics counts) are
// counted per order, so a duplicate shows. Once every order is paid or
// dead-lettered, every payment notified and every order counted, the
// services shut down gracefully, check.go checks the streams and the
// counts, and the program prints one line and exits 0:
//
//	orders=3000 processed=2970 dead-lettered=30 duplicate-effects=0 retries=288 notified=2970 email=1458 sms=1512 analytics=3000 revenue=1352085.00 elapsed=401ms
//
// processed counts the orders paid, retries the payment deliveries that
// failed and were delivered again, email and sms how the notifiers shared
// the work.
//
// It exits 1 on a timeout or on any disagreement. By default (--reset) it
// first deletes the keys it uses: orders-stream, payments-stream,
// dead-letter-stream and orders-example:*; with --reset=false it refuses
// to run if any of them exists, rather than miscount.
//
// Concurrency: every service runs on goroutines of its own and shares only
// the go-redis client (safe for concurrent use) and the effect ledgers,
// each guarded by its mutex.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/streams"
)

// The article's stream and group names.
const (
	ordersStream   = "orders-stream"
	paymentsStream = "payments-stream"
	deadLetters    = streams.DefaultDeadLetterStream
	paymentGroup   = "payment-processors"
	notifyGroup    = "notifiers"
	analyticsGroup = "analytics"
	// keyPrefix holds the example's other keys (idempotency marks).
	keyPrefix = "orders-example:"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "orders:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	addr, password string
	orders         int
	http           string
	failEvery      int
	maxDeliveries  int
	timeout        time.Duration
	reset          bool
	verbose        bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("orders", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: go run ./examples/orders [--addr host:port] [--orders N] [flags]\n\n"+
			"Runs the article's order, payment, notification and analytics services\n"+
			"against a Runnel or Redis server, places N orders and checks that each\n"+
			"was processed once. Flags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.addr, "addr", "127.0.0.1:6379", "Runnel or Redis server `host:port`")
	fs.StringVar(&c.password, "password", "", "server password (AUTH)")
	fs.IntVar(&c.orders, "orders", 1000, "how many orders to place")
	fs.StringVar(&c.http, "http", "127.0.0.1:0", "listen `address` of the order service's HTTP API")
	fs.IntVar(&c.failEvery, "fail-every", 97, "orders numbered a multiple of `K` are poison and get dead-lettered (0: none)")
	fs.IntVar(&c.maxDeliveries, "max-deliveries", 3, "deliveries of a failing order before it is dead-lettered")
	fs.DurationVar(&c.timeout, "timeout", 2*time.Minute, "fail if the orders are not all processed by then")
	fs.BoolVar(&c.reset, "reset", true, "first delete the example's streams and keys")
	fs.BoolVar(&c.verbose, "v", false, "log the workers' failures and retries to stderr")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case c.orders < 1:
		return c, errors.New("--orders must be at least 1")
	case c.failEvery < 0:
		return c, errors.New("--fail-every must be 0 (no poison orders) or more")
	case c.maxDeliveries < 1:
		return c, errors.New("--max-deliveries must be at least 1")
	case c.timeout <= 0:
		return c, errors.New("--timeout must be positive")
	}
	return c, nil
}

// run is the whole program; main and the tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.DiscardHandler)
	if cfg.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	rdb := redis.NewClient(&redis.Options{Addr: cfg.addr, Password: cfg.password})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("server %s: %w", cfg.addr, err)
	}
	if err := prepare(ctx, rdb, cfg.reset); err != nil {
		return err
	}

	led := newLedgers()
	orders, err := startOrderService(cfg.http, newOrderService(rdb, max(100_000, int64(cfg.orders))), logger)
	if err != nil {
		return err
	}
	defer orders.close()
	pay, err := paymentService(rdb, cfg, &led.payments, logger)
	if err != nil {
		return err
	}
	notify, err := notificationService(rdb, led.notified, logger)
	if err != nil {
		return err
	}
	count, err := analyticsService(rdb, led.analytics, logger)
	if err != nil {
		return err
	}
	workers := slices.Concat(pay, notify, count)

	// The workers run until wctx is cancelled; a Run returning before
	// that is an error (its group could not be created).
	wctx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	runErrs := make(chan error, len(workers))
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			if err := w.Run(wctx); err != nil {
				runErrs <- fmt.Errorf("worker %s: %w", w.Consumer(), err)
			} else if wctx.Err() == nil {
				runErrs <- fmt.Errorf("worker %s stopped early", w.Consumer())
			}
		})
	}
	// The groups start at "0": the orders posted before a worker's first
	// read (before Run created its group) are its too.
	start := time.Now()
	posted := make(chan error, 1)
	go func() { posted <- postOrders(wctx, orders.url, cfg.orders, 8) }()

	waitErr := waitDone(ctx, rdb, cfg, led, posted, runErrs)
	elapsed := time.Since(start)
	orders.close()
	stopWorkers()
	wg.Wait()
	if waitErr != nil {
		return waitErr
	}
	// The line is printed on a failed check too: it tells what went wrong.
	sum, err := check(context.WithoutCancel(ctx), rdb, cfg, led)
	if sum.orders > 0 {
		sum.elapsed = elapsed
		fmt.Fprintln(stdout, sum)
	}
	return err
}

// waitDone waits until every order is paid or dead-lettered, every
// payment notified and every order counted by analytics, polling the two
// output streams' lengths and the in-process ledgers. It fails at the
// timeout, on a failed POST or a failed worker.
func waitDone(ctx context.Context, rdb *redis.Client, cfg config, led *ledgers, posted <-chan error, runErrs <-chan error) error {
	deadline := time.NewTimer(cfg.timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var paid, dead int64
	for {
		select {
		case err := <-posted:
			if err != nil {
				return fmt.Errorf("placing orders: %w", err)
			}
			posted = nil
		case err := <-runErrs:
			return err
		case <-ctx.Done():
			return fmt.Errorf("interrupted: %w", context.Cause(ctx))
		case <-deadline.C:
			return fmt.Errorf("timed out after %v: %d of %d orders paid or dead-lettered (%d paid, %d dead-lettered), %d notified, %d counted by analytics",
				cfg.timeout, paid+dead, cfg.orders, paid, dead, led.notified.distinct(), led.analytics.orders.distinct())
		case <-tick.C:
			var err error
			if paid, dead, err = outputLengths(ctx, rdb); err != nil {
				return err
			}
			if posted == nil && paid+dead >= int64(cfg.orders) &&
				led.notified.distinct() >= int(paid) && led.analytics.orders.distinct() >= cfg.orders {
				return nil
			}
		}
	}
}

// outputLengths is XLEN of payments-stream and of dead-letter-stream, in
// one round trip.
func outputLengths(ctx context.Context, rdb *redis.Client) (paid, dead int64, err error) {
	var p, d *redis.IntCmd
	_, err = rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		p = pipe.XLen(ctx, paymentsStream)
		d = pipe.XLen(ctx, deadLetters)
		return nil
	})
	return p.Val(), d.Val(), err
}
