package streams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Message is one stream entry delivered to a Worker's handler.
type Message struct {
	Stream string
	ID     string
	Values map[string]any
}

// Handler processes one message. A nil error acknowledges it (XACK); an
// error leaves it pending with this consumer, which delivers it again when
// it restarts (Run reads its own pending entries first).
type Handler func(ctx context.Context, m Message) error

// WorkerOptions configure a Worker. Group is required.
type WorkerOptions struct {
	// Group is the consumer group; Run creates it (with the stream) if
	// missing, starting at StartID.
	Group string
	// Consumer is this worker's name in the group; empty means
	// DefaultConsumerName(). It must be stable across restarts: a worker
	// that restarts under its name first finishes what it held.
	Consumer string
	// StartID is where a group Run creates starts: "$" (the default) for
	// entries added from now on, "0" for the whole stream.
	StartID string
	// Concurrency is how many handlers run at once (default 1).
	Concurrency int
	// Block is how long one XREADGROUP waits for new entries (default
	// 2s). go-redis does not interrupt a blocked read when its context is
	// cancelled, so it also bounds how long Run takes to notice shutdown;
	// entries delivered meanwhile are handled, not stranded.
	Block time.Duration
	// ShutdownTimeout bounds how long Run waits, once its context is done,
	// for the handlers in flight (default 30s); their context is cancelled
	// when it expires.
	ShutdownTimeout time.Duration
	// Logger receives handler failures and read errors; nil discards them.
	Logger *slog.Logger
}

// DefaultConsumerName is worker-{host}-{pid}, the article's convention: it
// tells in XINFO CONSUMERS which process holds what.
func DefaultConsumerName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return fmt.Sprintf("worker-%s-%d", host, os.Getpid())
}

// Worker consumes a stream as one consumer of a group: it reads with
// XREADGROUP BLOCK (no polling), runs up to Concurrency handlers at once,
// and acknowledges each message its handler succeeded on.
type Worker struct {
	rdb    redis.UniversalClient
	stream string
	h      Handler
	opts   WorkerOptions
	lg     *slog.Logger
}

// NewWorker returns a Worker of stream that runs h for each message.
func NewWorker(rdb redis.UniversalClient, stream string, h Handler, opts WorkerOptions) (*Worker, error) {
	switch {
	case opts.Group == "":
		return nil, errors.New("streams: a Worker needs WorkerOptions.Group")
	case h == nil:
		return nil, errors.New("streams: a Worker needs a Handler")
	}
	if opts.Consumer == "" {
		opts.Consumer = DefaultConsumerName()
	}
	if opts.StartID == "" {
		opts.StartID = "$"
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	if opts.Block <= 0 {
		opts.Block = 2 * time.Second
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 30 * time.Second
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Worker{rdb: rdb, stream: stream, h: h, opts: opts, lg: lg}, nil
}

// Consumer is the worker's consumer name.
func (w *Worker) Consumer() string { return w.opts.Consumer }

// Run creates the group if it is missing (BUSYGROUP is fine), delivers
// again what this consumer held when it last stopped, then consumes new
// entries until ctx is done. It then stops reading, lets the handlers in
// flight finish and acknowledges their messages (within ShutdownTimeout),
// and returns nil. It returns an error if the group cannot be created.
func (w *Worker) Run(ctx context.Context) error {
	err := w.rdb.XGroupCreateMkStream(ctx, w.stream, w.opts.Group, w.opts.StartID).Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("streams: XGROUP CREATE %s %s: %w", w.stream, w.opts.Group, err)
	}
	// Handlers run under a context that outlives ctx by ShutdownTimeout.
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hcancel()
	slots := make(chan struct{}, w.opts.Concurrency)
	var wg sync.WaitGroup
	// First this consumer's own pending entries (ID 0: what it was given
	// and did not acknowledge before a crash or a failed handler), then
	// new ones (">").
	start := "0"
	for ctx.Err() == nil {
		free := w.acquire(ctx, slots)
		if free == 0 {
			break
		}
		block := w.opts.Block
		if start != ">" {
			block = -1 // no BLOCK: history reads answer at once
		}
		res, err := w.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: w.opts.Group, Consumer: w.opts.Consumer,
			Streams: []string{w.stream, start}, Count: int64(free), Block: block,
		}).Result()
		var msgs []redis.XMessage
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			if ctx.Err() == nil {
				w.lg.Warn("streams: XREADGROUP failed", "stream", w.stream, "group", w.opts.Group, "err", err)
				sleepCtx(ctx, time.Second)
			}
		case len(res) > 0:
			msgs = res[0].Messages
		}
		if start != ">" {
			if len(msgs) == 0 {
				start = ">"
			} else {
				start = msgs[len(msgs)-1].ID // the history after it
			}
		}
		// Return the slots not used, then give one to each message.
		for range free - len(msgs) {
			<-slots
		}
		for _, m := range msgs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				w.handle(hctx, m)
			}()
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.opts.ShutdownTimeout):
		w.lg.Warn("streams: handlers still running at the shutdown deadline; their messages stay pending", "stream", w.stream, "group", w.opts.Group)
		hcancel()
		<-done
	}
	return nil
}

// acquire takes every free handler slot, waiting for one if none is free;
// it returns how many it took, 0 when ctx is done first.
func (w *Worker) acquire(ctx context.Context, slots chan struct{}) int {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	n := 1
	for n < cap(slots) {
		select {
		case slots <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}

// handle runs the handler on m and acknowledges it on success. A history
// entry whose data is gone (trimmed or deleted while pending) comes with
// no fields: it is acknowledged without running the handler.
func (w *Worker) handle(ctx context.Context, m redis.XMessage) {
	if m.Values != nil {
		if err := w.h(ctx, Message{Stream: w.stream, ID: m.ID, Values: m.Values}); err != nil {
			w.lg.Warn("streams: handler failed; the message stays pending", "stream", w.stream, "group", w.opts.Group, "id", m.ID, "err", err)
			return
		}
	}
	if err := w.rdb.XAck(ctx, w.stream, w.opts.Group, m.ID).Err(); err != nil {
		w.lg.Warn("streams: XACK failed; the message stays pending", "stream", w.stream, "group", w.opts.Group, "id", m.ID, "err", err)
	}
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
