package streams

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Middleware wraps a Handler with behaviour of its own.
type Middleware func(Handler) Handler

// Chain wraps h in mw, the first outermost.
func Chain(h Handler, mw ...Middleware) Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// ErrInProgress is returned by an Idempotent handler for a message whose
// key another delivery is running right now; the Worker retries it after
// its backoff, and then finds the effect done.
var ErrInProgress = errors.New("streams: a message with the same idempotency key is being processed")

// IdempotencyOptions configure Idempotent.
type IdempotencyOptions struct {
	// Prefix starts every key (default "streams:idem:").
	Prefix string
	// Key derives the key from a message (default: group, stream and
	// entry ID, so each group's effect runs once per entry). A business
	// key (an order ID) also folds messages published twice into one
	// effect.
	Key func(Message) string
	// TTL is how long a finished effect is remembered (default 24h):
	// longer than a message can take to come back.
	TTL time.Duration
	// Lease is how long a delivery that started the effect keeps others
	// away (default 30s). If its worker dies, the effect may run again
	// once the lease lapses. It must exceed the slowest handler run and
	// be shorter than WorkerOptions.ClaimIdle.
	Lease time.Duration
}

// Idempotent makes a handler's effect run once per key, however often the
// message is delivered: before running, it claims the key (SET NX PX
// Lease); after success it marks it done (SET PX TTL). A delivery that
// finds the key done is acknowledged without running; one that finds it
// claimed returns ErrInProgress, to be retried. A failed run releases its
// claim (if still its own, under WATCH) so that the retry runs.
//
// This makes effects run once when a message is redelivered after its
// handler finished: the common case, a worker that died or timed out
// between the effect and the XACK. A worker that dies in the middle of the
// effect leaves it half done, and it runs again after the lease; an effect
// that must not run twice even then needs a transaction of its own, as
// NewTxWorker does for stream outputs.
func Idempotent(rdb redis.UniversalClient, opts IdempotencyOptions) Middleware {
	if opts.Prefix == "" {
		opts.Prefix = "streams:idem:"
	}
	if opts.Key == nil {
		opts.Key = func(m Message) string { return m.Group + ":" + m.Stream + ":" + m.ID }
	}
	if opts.TTL <= 0 {
		opts.TTL = 24 * time.Hour
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	return func(next Handler) Handler {
		return func(ctx context.Context, m Message) error {
			key := opts.Prefix + opts.Key(m)
			token := "running " + m.Consumer + " " + m.ID + " " + strconv.Itoa(m.Deliveries)
			ok, err := rdb.SetNX(ctx, key, token, opts.Lease).Result()
			if err != nil {
				return err
			}
			if !ok {
				v, err := rdb.Get(ctx, key).Result()
				switch {
				case err == nil && v == "done":
					return nil
				case err != nil && !errors.Is(err, redis.Nil):
					return err
				}
				return ErrInProgress // or its lease lapsed just now: retried
			}
			if err := next(ctx, m); err != nil {
				releaseClaim(context.WithoutCancel(ctx), rdb, key, token)
				return err
			}
			// The effect happened: it is marked even if ctx was cancelled
			// meanwhile (the shutdown deadline), and a failure to mark it
			// is not reported, as a retry would run it again.
			_ = rdb.Set(context.WithoutCancel(ctx), key, "done", opts.TTL).Err()
			return nil
		}
	}
}

// releaseClaim deletes key if it still holds token: WATCH makes the check
// and the delete one step, so a claim that lapsed and was taken by another
// delivery is not deleted.
func releaseClaim(ctx context.Context, rdb redis.UniversalClient, key, token string) {
	_ = rdb.Watch(ctx, func(tx *redis.Tx) error {
		v, err := tx.Get(ctx, key).Result()
		if err != nil || v != token {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, key)
			return nil
		})
		return err
	}, key)
}
