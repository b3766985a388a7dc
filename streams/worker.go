package streams

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Handler processes one message. A nil error acknowledges it (XACK). An
// error has it delivered again after WorkerOptions.Backoff, up to
// MaxDeliveries deliveries in all; then it goes to the dead-letter stream.
// Permanent(err) dead-letters it at once; ErrInProgress (from Idempotent)
// has it wait its backoff without counting a delivery.
type Handler func(ctx context.Context, m Message) error

// TxHandler is a Handler for a stream-to-stream step: the messages it
// publishes through tx are added in the same MULTI/EXEC as the XACK of m,
// so they exist if and only if m is acknowledged (see NewTxWorker).
type TxHandler func(ctx context.Context, m Message, tx *Tx) error

// WorkerOptions configure a Worker. Group is required.
type WorkerOptions struct {
	// Group is the consumer group; Run creates it (with the stream) if
	// missing, starting at StartID.
	Group string
	// Consumer is this worker's name in the group; empty means
	// DefaultConsumerName(). A worker that restarts under the same name
	// first finishes what it held; under a new name (a new pid), what
	// the old one held is reclaimed after ClaimIdle.
	Consumer string
	// StartID is where a group Run creates starts: "$" (the default) for
	// entries added from now on, "0" for the whole stream.
	StartID string
	// Concurrency is how many handlers run at once (default 1).
	Concurrency int
	// Block is how long one XREADGROUP waits for new entries (default
	// 2s). Run interrupts it (CLIENT UNBLOCK) when a retry falls due or
	// at shutdown; with a client that has no dedicated connections (a
	// cluster client) it is how late those can be.
	Block time.Duration
	// ShutdownTimeout bounds how long Run waits, once its context is done,
	// for the handlers in flight (default 30s). Then their context is
	// cancelled; Run returns when they do, or a second later if they
	// ignore it (their messages stay pending, and the Worker's next Run
	// first waits for them).
	ShutdownTimeout time.Duration
	// MaxDeliveries is how many times a message is delivered before it is
	// dead-lettered (default 5): a handler runs at most that many times
	// for it. A negative value never dead-letters.
	MaxDeliveries int
	// DeadLetterStream receives dead-lettered messages (default
	// DefaultDeadLetterStream). With Redis Cluster it must hash to the
	// same slot as the stream (a hash tag), as MULTI needs.
	DeadLetterStream string
	// Backoff is how long to wait before delivering again a message whose
	// n-th delivery failed (default ExponentialBackoff(time.Second,
	// 30*time.Second)). The wait is capped at ClaimIdle/2, so that no
	// other worker takes a message over while it waits for its retry.
	Backoff func(deliveries int) time.Duration
	// ClaimIdle is how long a message may stay pending with a consumer
	// before another takes it over (default 60s): a consumer that died
	// or stalled loses its messages after that long. While a handler
	// runs, its worker claims the message again every ClaimIdle/3 (a
	// heartbeat), so a slow handler on a live worker keeps it.
	ClaimIdle time.Duration
	// ForgetConsumersAfter: when Run starts, it deletes the group's
	// consumers that hold nothing and have not been seen for this long
	// (default 24h; negative keeps them all), so that restarts under
	// worker-{host}-{pid} names do not pile up in XINFO CONSUMERS. A
	// live consumer is seen at every read, each Block at most.
	ForgetConsumersAfter time.Duration
	// Events, if set, is called (synchronously, from the worker's
	// goroutines) for each thing that happens to a message: the hook for
	// metrics.
	Events func(Event)
	// Logger receives failures, dead-letters, reclaims and command
	// errors; nil discards them.
	Logger *slog.Logger
}

// EventKind says what an Event reports.
type EventKind int

const (
	// EventHandled: the handler succeeded and the message was
	// acknowledged (with its outputs, for a TxHandler). Duration is the
	// handler's run time.
	EventHandled EventKind = iota
	// EventFailed: the handler failed (Err); the message is delivered
	// again after its backoff.
	EventFailed
	// EventDeadLettered: the message was moved to the dead-letter stream
	// (Err is the last failure).
	EventDeadLettered
	// EventReclaimed: the worker took over a message another consumer
	// held for longer than ClaimIdle.
	EventReclaimed
	// EventError: a command failed (Err): a read, an acknowledgement, a
	// commit, a claim or a dead-letter write. The message involved, if
	// any, stays pending and comes back.
	EventError
)

func (k EventKind) String() string {
	switch k {
	case EventHandled:
		return "handled"
	case EventFailed:
		return "failed"
	case EventDeadLettered:
		return "dead-lettered"
	case EventReclaimed:
		return "reclaimed"
	case EventError:
		return "error"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is what a Worker reports to WorkerOptions.Events.
type Event struct {
	Kind                    EventKind
	Stream, Group, Consumer string
	ID                      string // the message's ID; empty for a read error
	Deliveries              int
	Duration                time.Duration // EventHandled and EventFailed: the handler's run time
	Err                     error
}

// permanentError marks a failure that retrying cannot mend.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that a handler returning it has its message
// dead-lettered at once, without retries: for input that can never be
// processed (it does not parse, it names what does not exist).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// ExponentialBackoff waits initial after the first failed delivery, then
// twice as long after each next one, up to max, each wait spread by ±25%
// at random so that messages failed together are not retried together.
func ExponentialBackoff(initial, max time.Duration) func(deliveries int) time.Duration {
	return func(n int) time.Duration {
		d := initial
		for i := 1; i < n && d < max; i++ {
			d *= 2
		}
		d = min(d, max)
		return time.Duration(float64(d) * (0.75 + rand.Float64()/2))
	}
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

// How a worker finds messages other consumers left behind.
const (
	claimUnknown = iota // not yet tried
	claimRead           // XREADGROUP CLAIM (Redis 8.4+, Runnel): in the blocking read
	claimAuto           // XAUTOCLAIM every ClaimIdle/4 (Redis 7.0 to 8.2)
)

// Worker consumes a stream as one consumer of a group. It reads with
// XREADGROUP BLOCK (no polling), runs up to Concurrency handlers at once,
// acknowledges what succeeded, retries what failed after a backoff
// without holding up other messages, takes over messages other consumers
// left pending longer than ClaimIdle, and dead-letters a message after
// MaxDeliveries deliveries.
type Worker struct {
	rdb    redis.UniversalClient
	stream string
	h      TxHandler
	tx     bool // a TxHandler: outputs commit with the XACK
	opts   WorkerOptions
	lg     *slog.Logger

	mu        sync.Mutex
	held      map[string]time.Time // in a handler (since when) or waiting for a retry (zero)
	retries   retryHeap            // waiting for their backoff
	inUse     int                  // handlers running
	freed     chan struct{}        // a handler ended, or a retry was scheduled
	reading   bool                 // a read is in flight...
	readUntil time.Time            // ...and returns on its own by then
	readGen   uint64               // counts reads, so that a wake-up is for one
	readerID  int64                // CLIENT ID of the read connection; 0: none
	// The loop goroutine's own: what it reads through, and the dedicated
	// connection behind it (nil for a cluster client).
	reader   reader
	readConn *redis.Conn
	// streamKeys are keys seen to be streams (or missing) before a
	// MULTI/EXEC XADDed to them: see checkStreams.
	streamKeys sync.Map
	claimMode  int
	idmp       bool // tx outputs carry XADD IDMP
	wakes      sync.WaitGroup
	// lastRunDone is closed once the handlers of the last Run returned
	// (Run's own field: Runs do not overlap).
	lastRunDone chan struct{}
}

// retry is a failed message waiting for its next delivery.
type retry struct {
	id         string
	due        time.Time
	minIdle    time.Duration // XCLAIM's: less idle means another consumer took it
	deliveries int           // so far
	// deferred is set for a message that waits for its key (ErrInProgress)
	// rather than failed: it is claimed back with JUSTID, which keeps its
	// delivery count, and handled again as it was.
	deferred *Message
}

// NewWorker returns a Worker of stream that runs h for each message.
func NewWorker(rdb redis.UniversalClient, stream string, h Handler, opts WorkerOptions) (*Worker, error) {
	if h == nil {
		return nil, errors.New("streams: a Worker needs a Handler")
	}
	return newWorker(rdb, stream, func(ctx context.Context, m Message, _ *Tx) error { return h(ctx, m) }, false, opts)
}

// NewTxWorker returns a Worker for a stream-to-stream step: what h
// publishes through its Tx is added to the output streams in one
// MULTI/EXEC with the XACK of the input message. A crash, a failed
// handler or a lost connection leaves both undone and the message
// pending, to be run again; a success does both. So each input's outputs
// are published once, however often it is delivered. Where the server
// has XADD IDMP (Redis 8.6+, Runnel) the outputs also carry an IDMP key
// derived from the input, which drops them should two consumers both
// commit the same input (one took it over from the other while it was
// still running, longer than ClaimIdle). With Redis Cluster, the input
// and output streams must hash to one slot.
func NewTxWorker(rdb redis.UniversalClient, stream string, h TxHandler, opts WorkerOptions) (*Worker, error) {
	if h == nil {
		return nil, errors.New("streams: a Worker needs a Handler")
	}
	return newWorker(rdb, stream, h, true, opts)
}

func newWorker(rdb redis.UniversalClient, stream string, h TxHandler, tx bool, opts WorkerOptions) (*Worker, error) {
	if opts.Group == "" {
		return nil, errors.New("streams: a Worker needs WorkerOptions.Group")
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
	if opts.MaxDeliveries == 0 {
		opts.MaxDeliveries = 5
	}
	if opts.DeadLetterStream == "" {
		opts.DeadLetterStream = DefaultDeadLetterStream
	}
	if opts.Backoff == nil {
		opts.Backoff = ExponentialBackoff(time.Second, 30*time.Second)
	}
	if opts.ClaimIdle <= 0 {
		opts.ClaimIdle = 60 * time.Second
	}
	if opts.ForgetConsumersAfter == 0 {
		opts.ForgetConsumersAfter = 24 * time.Hour
	}
	if opts.ClaimIdle < 10*time.Millisecond {
		return nil, errors.New("streams: WorkerOptions.ClaimIdle must be at least 10ms")
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Worker{rdb: rdb, stream: stream, h: h, tx: tx, opts: opts, lg: lg.With("stream", stream, "group", opts.Group, "consumer", opts.Consumer)}, nil
}

// Consumer is the worker's consumer name.
func (w *Worker) Consumer() string { return w.opts.Consumer }

// reader is what the worker reads new entries through.
type reader interface {
	XReadGroup(ctx context.Context, a *redis.XReadGroupArgs) *redis.XStreamSliceCmd
}

// Run creates the group if it is missing (BUSYGROUP is fine), delivers
// again what this consumer held when it last stopped, then consumes until
// ctx is done. It then stops reading, lets the handlers in flight finish
// (within ShutdownTimeout, see there) and acknowledges what they finish,
// and returns nil. Messages waiting for a retry stay pending with this
// consumer. Before ctx is done, it returns an error only if the group
// cannot be created or (NewTxWorker) the server cannot be asked whether it
// has XADD IDMP. Run must not be called again before it returns.
func (w *Worker) Run(ctx context.Context) error {
	// Handlers a previous Run left running past its deadline finish first:
	// they settle their messages through this Worker's state.
	if w.lastRunDone != nil {
		<-w.lastRunDone
	}
	if err := w.createGroup(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if w.tx {
		idmp, err := w.probeIDMP(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		w.idmp = idmp
	}
	if w.opts.ForgetConsumersAfter > 0 {
		w.forgetConsumers(ctx)
	}
	w.mu.Lock()
	w.held = map[string]time.Time{}
	w.retries = w.retries[:0]
	w.inUse = 0
	w.freed = make(chan struct{}, 1)
	w.mu.Unlock()

	w.openReader(ctx)
	defer w.closeReader()
	defer w.wakes.Wait()
	// Shutdown interrupts the blocked read rather than waiting out Block.
	defer context.AfterFunc(ctx, w.wake)()

	// Handlers run under a context that outlives ctx by ShutdownTimeout.
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hcancel()
	var handlers sync.WaitGroup
	var running atomic.Int64
	dispatch := func(m Message) {
		w.mu.Lock()
		w.held[m.ID] = time.Now()
		w.inUse++
		w.mu.Unlock()
		handlers.Add(1)
		running.Add(1)
		go func() {
			defer handlers.Done()
			defer running.Add(-1)
			w.handle(hctx, m)
		}()
	}

	// Messages in long handlers keep being claimed by this consumer, so
	// that no other takes them over while they run.
	hbctx, hbcancel := context.WithCancel(hctx)
	defer hbcancel()
	go w.heartbeat(hbctx)

	w.recoverOwn(ctx, dispatch)
	nextAutoClaim, cursor := time.Time{}, "0-0"
	for ctx.Err() == nil {
		free := w.waitFree(ctx)
		if free == 0 {
			break
		}
		if due := w.dueRetries(free); len(due) > 0 {
			w.claimRetries(ctx, due, dispatch)
			continue
		}
		// XAUTOCLAIM takes over idle messages where XREADGROUP has no
		// CLAIM; where it has, it still sweeps now and then, for pending
		// entries whose data was trimmed or deleted, which only
		// XAUTOCLAIM (and XCLAIM) remove.
		if w.claimMode != claimUnknown && !time.Now().Before(nextAutoClaim) {
			var more bool
			cursor, more = w.autoClaim(ctx, cursor, free, dispatch)
			if !more {
				every := w.opts.ClaimIdle / 4
				if w.claimMode == claimRead {
					every = w.opts.ClaimIdle
				}
				nextAutoClaim = time.Now().Add(every)
			}
			continue
		}
		w.read(ctx, free, nextAutoClaim, dispatch)
	}

	done := make(chan struct{})
	go func() { handlers.Wait(); close(done) }()
	w.lastRunDone = done
	select {
	case <-done:
		return nil
	case <-time.After(w.opts.ShutdownTimeout):
	}
	w.lg.Warn("streams: handlers still running at the shutdown deadline: their contexts are cancelled", "running", running.Load())
	hcancel()
	select {
	case <-done:
	case <-time.After(abandonAfter):
		// A handler that ignores its context cannot hold Run past the
		// deadline; its message stays pending (or is settled when it
		// returns), and the next Run waits for it.
		w.lg.Error("streams: handlers ignored the cancellation; Run returns without them", "running", running.Load())
	}
	return nil
}

// abandonAfter is how long Run waits, after cancelling the handlers at the
// shutdown deadline, for them to return before it returns without them.
const abandonAfter = time.Second

func (w *Worker) createGroup(ctx context.Context) error {
	err := w.rdb.XGroupCreateMkStream(ctx, w.stream, w.opts.Group, w.opts.StartID).Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("streams: XGROUP CREATE %s %s: %w", w.stream, w.opts.Group, err)
	}
	return nil
}

// forgetConsumers deletes the group's consumers that hold no message and
// were last seen longer than ForgetConsumersAfter ago. XGROUP DELCONSUMER
// would drop a consumer's pending entries, so only empty ones go; one
// seen since XINFO (alive after all) cannot have gained entries without
// being seen, and ForgetConsumersAfter is far longer than Block.
func (w *Worker) forgetConsumers(ctx context.Context) {
	cs, err := w.rdb.XInfoConsumers(ctx, w.stream, w.opts.Group).Result()
	if err != nil {
		w.report(Event{Kind: EventError, Err: fmt.Errorf("XINFO CONSUMERS: %w", err)})
		return
	}
	for _, c := range cs {
		if c.Pending == 0 && c.Idle > w.opts.ForgetConsumersAfter && c.Name != w.opts.Consumer {
			if err := w.rdb.XGroupDelConsumer(ctx, w.stream, w.opts.Group, c.Name).Err(); err != nil {
				w.report(Event{Kind: EventError, Err: fmt.Errorf("XGROUP DELCONSUMER: %w", err)})
				return
			}
			w.lg.Info("streams: forgot a consumer not seen for long", "forgotten", c.Name, "idle", c.Idle)
		}
	}
}

// probeIDMP tells whether the server has XADD IDMP, with an XADD that
// fails either way (MAXLEN -1) and so changes nothing: a server without
// IDMP reads "IDMP" as the entry ID and says so. Only the server's reply
// tells: a failure to get one is an error (a guess either way would have
// every commit fail, or go without IDMP on a server that has it).
func (w *Worker) probeIDMP(ctx context.Context) (bool, error) {
	err := w.rdb.Do(ctx, "XADD", w.stream, "IDMP", "p", "k", "MAXLEN", "-1", "*", "f", "v").Err()
	var reply redis.Error
	if !errors.As(err, &reply) {
		return false, fmt.Errorf("streams: probing XADD IDMP on %s: %w", w.stream, err)
	}
	return !strings.HasPrefix(err.Error(), "ERR Invalid stream ID"), nil
}

// openReader gives the worker a connection of its own for the blocking
// read, whose CLIENT ID lets wake interrupt it. A client without
// dedicated connections (a cluster client) reads through the pool.
func (w *Worker) openReader(ctx context.Context) {
	w.reader, w.readConn = w.rdb, nil
	c, ok := w.rdb.(*redis.Client)
	if !ok {
		return
	}
	w.readConn = c.Conn()
	w.reader = w.readConn
	id, err := w.readConn.ClientID(ctx).Result()
	if err != nil {
		id = 0 // reads cannot be interrupted until the next reopen
	}
	w.mu.Lock()
	w.readerID = id
	w.mu.Unlock()
}

// closeReader closes the read connection, if the worker has one.
func (w *Worker) closeReader() {
	if w.readConn != nil {
		_ = w.readConn.Close()
	}
	w.mu.Lock()
	w.readerID = 0
	w.mu.Unlock()
}

// wake interrupts the read in flight, if any, so that the loop sees a
// retry that fell due or the end of Run. CLIENT UNBLOCK finds nothing to
// unblock if the server has not yet parked the read, so it tries again
// for a few milliseconds while that read is still the one in flight.
func (w *Worker) wake() {
	w.mu.Lock()
	gen, id, reading := w.readGen, w.readerID, w.reading
	if reading && id != 0 {
		w.wakes.Add(1)
	}
	w.mu.Unlock()
	if !reading || id == 0 {
		return
	}
	go func() {
		defer w.wakes.Done()
		for range 50 {
			n, err := w.rdb.ClientUnblock(context.Background(), id).Result()
			if err != nil || n == 1 {
				return
			}
			time.Sleep(time.Millisecond)
			w.mu.Lock()
			same := w.reading && w.readGen == gen
			w.mu.Unlock()
			if !same {
				return
			}
		}
	}()
}

// waitFree waits until a handler slot is free and returns how many are;
// 0 when ctx is done first.
func (w *Worker) waitFree(ctx context.Context) int {
	for {
		w.mu.Lock()
		free := w.opts.Concurrency - w.inUse
		w.mu.Unlock()
		if free > 0 {
			return free
		}
		select {
		case <-w.freed:
		case <-ctx.Done():
			return 0
		}
	}
}

// signal tells the loop a slot was freed or a retry scheduled.
func (w *Worker) signal() {
	select {
	case w.freed <- struct{}{}:
	default:
	}
}

// recoverOwn delivers again the messages this consumer held when it last
// stopped (a crash, a shutdown with retries waiting): XPENDING gives their
// IDs and delivery counts, XCLAIM (by this consumer, to itself) their data
// and counts the delivery.
func (w *Worker) recoverOwn(ctx context.Context, dispatch func(Message)) {
	start := "-"
	for ctx.Err() == nil {
		free := w.waitFree(ctx)
		if free == 0 {
			return
		}
		pend, err := w.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{
			Stream: w.stream, Group: w.opts.Group, Start: start, End: "+", Count: int64(free), Consumer: w.opts.Consumer,
		}).Result()
		if err != nil {
			// What is left stays pending with this consumer; taking over
			// idle messages brings it back after ClaimIdle.
			w.report(Event{Kind: EventError, Err: fmt.Errorf("XPENDING: %w", err)})
			if strings.HasPrefix(err.Error(), "NOGROUP") {
				_ = w.createGroup(ctx)
			}
			return
		}
		if len(pend) == 0 {
			return
		}
		start = "(" + pend[len(pend)-1].ID
		ids := make([]string, len(pend))
		counts := make(map[string]int, len(pend))
		for i, p := range pend {
			ids[i] = p.ID
			counts[p.ID] = int(p.RetryCount)
		}
		msgs, err := w.rdb.XClaim(ctx, &redis.XClaimArgs{
			Stream: w.stream, Group: w.opts.Group, Consumer: w.opts.Consumer, Messages: ids,
		}).Result()
		if err != nil {
			w.report(Event{Kind: EventError, Err: fmt.Errorf("XCLAIM: %w", err)})
			continue // they stay pending: ClaimIdle brings them back
		}
		for _, xm := range msgs {
			dispatch(w.message(xm, counts[xm.ID]+1))
		}
	}
}

// dueRetries takes up to n retries that are due.
func (w *Worker) dueRetries(n int) []retry {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	var due []retry
	for len(due) < n && len(w.retries) > 0 && !w.retries[0].due.After(now) {
		due = append(due, heap.Pop(&w.retries).(retry))
	}
	return due
}

// claimRetries delivers due retries again: XCLAIM to this consumer counts
// the delivery on the server, so a crash does not forget it. A message
// less idle than its wait was taken over by another consumer meanwhile
// (or is gone) and is left to it.
func (w *Worker) claimRetries(ctx context.Context, due []retry, dispatch func(Message)) {
	// One XCLAIM per retry, in one round trip: each has its own min-idle
	// and its own outcome.
	full := make([]*redis.XMessageSliceCmd, len(due))
	justID := make([]*redis.StringSliceCmd, len(due))
	_, _ = w.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range due {
			args := &redis.XClaimArgs{Stream: w.stream, Group: w.opts.Group, Consumer: w.opts.Consumer,
				MinIdle: r.minIdle, Messages: []string{r.id}}
			if r.deferred != nil {
				justID[i] = p.XClaimJustID(ctx, args)
			} else {
				full[i] = p.XClaim(ctx, args)
			}
		}
		return nil
	})
	var ready []Message
	var failed error
	w.mu.Lock()
	for i, r := range due {
		var err error
		if r.deferred != nil {
			var ids []string
			if ids, err = justID[i].Result(); err == nil && len(ids) == 1 {
				ready = append(ready, *r.deferred)
			}
		} else {
			var msgs []redis.XMessage
			if msgs, err = full[i].Result(); err == nil && len(msgs) == 1 {
				ready = append(ready, w.message(msgs[0], r.deliveries+1))
			}
		}
		switch {
		case err != nil:
			// Try again in a second; ClaimIdle is the backstop.
			failed = err
			r.due = time.Now().Add(time.Second)
			heap.Push(&w.retries, r)
		default:
			// Claimed, or not ours any more (taken over, acknowledged,
			// or gone): dispatch holds the claimed ones again.
			delete(w.held, r.id)
		}
	}
	w.mu.Unlock()
	if failed != nil {
		w.report(Event{Kind: EventError, Err: fmt.Errorf("XCLAIM: %w", failed)})
		sleepCtx(ctx, 10*time.Millisecond)
	}
	for _, m := range ready {
		dispatch(m)
	}
}

// autoClaim takes over, with XAUTOCLAIM, messages idle longer than
// ClaimIdle, scanning the group's pending list from cursor; it returns the
// next cursor and whether the scan goes on. XAUTOCLAIM does not give
// delivery counts: XPENDING over the claimed range does.
func (w *Worker) autoClaim(ctx context.Context, cursor string, free int, dispatch func(Message)) (string, bool) {
	msgs, next, err := w.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: w.stream, Group: w.opts.Group, Consumer: w.opts.Consumer, MinIdle: w.opts.ClaimIdle, Start: cursor, Count: int64(free),
	}).Result()
	if err != nil {
		w.report(Event{Kind: EventError, Err: fmt.Errorf("XAUTOCLAIM: %w", err)})
		if strings.HasPrefix(err.Error(), "NOGROUP") {
			_ = w.createGroup(ctx)
		}
		return "0-0", false
	}
	more := next != "0-0"
	msgs = w.unheld(msgs)
	if len(msgs) == 0 {
		return next, more
	}
	// Their counts, one XPENDING per ID in one round trip: a range
	// could hold other entries of this consumer and miss some.
	pend := make([]*redis.XPendingExtCmd, len(msgs))
	_, _ = w.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, xm := range msgs {
			pend[i] = p.XPendingExt(ctx, &redis.XPendingExtArgs{
				Stream: w.stream, Group: w.opts.Group, Start: xm.ID, End: xm.ID, Count: 1, Consumer: w.opts.Consumer,
			})
		}
		return nil
	})
	counts := make(map[string]int, len(msgs))
	for _, c := range pend {
		ps, err := c.Result()
		if err != nil {
			w.report(Event{Kind: EventError, Err: fmt.Errorf("XPENDING: %w", err)})
			continue
		}
		for _, p := range ps {
			counts[p.ID] = int(p.RetryCount)
		}
	}
	for _, xm := range msgs {
		n, ok := counts[xm.ID]
		if !ok {
			continue // taken over again, or acknowledged, meanwhile
		}
		m := w.message(xm, n)
		w.report(Event{Kind: EventReclaimed, ID: m.ID, Deliveries: m.Deliveries})
		dispatch(m)
	}
	return next, more
}

// heartbeat, every ClaimIdle/3, claims again (XCLAIM JUSTID: the delivery
// count stays) the messages whose handlers have run that long, which
// resets their idle time: a handler slower than ClaimIdle is not taken
// over while its worker is alive. A message another consumer took over
// meanwhile (this worker stalled for ClaimIdle) is left to it unless it
// too has been idle that long.
func (w *Worker) heartbeat(ctx context.Context) {
	every := w.opts.ClaimIdle / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var ids []string
		w.mu.Lock()
		for id, since := range w.held {
			if !since.IsZero() && time.Since(since) >= every {
				ids = append(ids, id)
			}
		}
		w.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		err := w.rdb.XClaimJustID(ctx, &redis.XClaimArgs{Stream: w.stream, Group: w.opts.Group, Consumer: w.opts.Consumer,
			MinIdle: every, Messages: ids}).Err()
		if err != nil && ctx.Err() == nil {
			w.report(Event{Kind: EventError, Err: fmt.Errorf("XCLAIM JUSTID (heartbeat): %w", err)})
		}
	}
}

// unheld drops the messages this worker holds already: its own slow
// handler's, or a retry's, taken over from itself. Dispatching them again
// would run them twice at once; the claim only refreshed their idle time.
func (w *Worker) unheld(msgs []redis.XMessage) []redis.XMessage {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := msgs[:0]
	for _, xm := range msgs {
		if _, ok := w.held[xm.ID]; !ok {
			out = append(out, xm)
		}
	}
	return out
}

// read waits for new entries (and, with XREADGROUP CLAIM, for messages
// idle longer than ClaimIdle) with one XREADGROUP BLOCK, no longer than
// the next retry or auto-claim falls due.
func (w *Worker) read(ctx context.Context, free int, nextAutoClaim time.Time, dispatch func(Message)) {
	args := &redis.XReadGroupArgs{
		Group: w.opts.Group, Consumer: w.opts.Consumer,
		Streams: []string{w.stream, ">"}, Count: int64(free),
	}
	if w.claimMode != claimAuto {
		args.Claim = w.opts.ClaimIdle
	}
	now := time.Now()
	until := now.Add(w.opts.Block)
	if w.claimMode != claimUnknown && nextAutoClaim.Before(until) {
		until = nextAutoClaim
	}
	w.mu.Lock()
	if len(w.retries) > 0 && w.retries[0].due.Before(until) {
		until = w.retries[0].due
	}
	// BLOCK 0 is forever: a read due now is at least 1 ms.
	args.Block = max(until.Sub(now), time.Millisecond)
	w.reading, w.readUntil = true, until
	w.readGen++
	w.mu.Unlock()
	res, err := w.reader.XReadGroup(ctx, args).Result()
	w.mu.Lock()
	w.reading = false
	w.mu.Unlock()

	if err != nil && !errors.Is(err, redis.Nil) {
		if ctx.Err() != nil {
			return
		}
		switch msg := err.Error(); {
		case w.claimMode == claimUnknown && strings.HasPrefix(msg, "ERR syntax error"):
			// No XREADGROUP CLAIM (before Redis 8.4): XAUTOCLAIM instead.
			w.claimMode = claimAuto
			return
		case strings.HasPrefix(msg, "NOGROUP"):
			// The stream or the group was deleted: start again.
			w.lg.Warn("streams: the group is gone; creating it again", "err", err)
			if err := w.createGroup(ctx); err != nil {
				w.report(Event{Kind: EventError, Err: err})
				sleepCtx(ctx, time.Second)
			}
			return
		}
		w.report(Event{Kind: EventError, Err: fmt.Errorf("XREADGROUP: %w", err)})
		sleepCtx(ctx, time.Second)
		var reply redis.Error
		if !errors.As(err, &reply) {
			// The connection broke (a restart, a network blip): a
			// new one, with a new CLIENT ID.
			w.closeReader()
			w.openReader(ctx)
		}
		return
	}
	if err == nil && w.claimMode == claimUnknown {
		w.claimMode = claimRead
	}
	if len(res) == 0 {
		return
	}
	msgs := res[0].Messages
	if w.claimMode == claimRead {
		msgs = w.unheld(msgs)
	}
	for _, xm := range msgs {
		// CLAIM gives the count before this delivery, 0 for new entries.
		m := w.message(xm, int(xm.DeliveredCount)+1)
		if xm.DeliveredCount > 0 {
			w.report(Event{Kind: EventReclaimed, ID: m.ID, Deliveries: m.Deliveries})
		}
		dispatch(m)
	}
}

// message is the Message of xm, delivered the n-th time.
func (w *Worker) message(xm redis.XMessage, n int) Message {
	m := Message{Stream: w.stream, Group: w.opts.Group, Consumer: w.opts.Consumer, ID: xm.ID, Deliveries: n}
	if xm.Values != nil {
		m.Values = make(map[string]string, len(xm.Values))
		for k, v := range xm.Values {
			s, ok := v.(string)
			if !ok {
				s = fmt.Sprint(v)
			}
			m.Values[k] = s
		}
	}
	return m
}

// handle runs the handler on m and settles it: acknowledged (with its
// outputs), scheduled for a retry, or dead-lettered. A message whose data
// is gone (trimmed or deleted while pending) comes with no Values and is
// acknowledged without running the handler.
func (w *Worker) handle(ctx context.Context, m Message) {
	if m.Values == nil {
		w.ack(ctx, m, &Tx{})
		w.release(m.ID)
		return
	}
	max := w.opts.MaxDeliveries
	if max > 0 && m.Deliveries > max {
		// Its holder died, or a dead-letter write failed, on its last try.
		w.deadLetter(ctx, m, fmt.Errorf("delivered %d times without an acknowledgement", m.Deliveries-1))
		w.release(m.ID)
		return
	}
	tx := &Tx{}
	start := time.Now()
	err := w.run(ctx, m, tx)
	took := time.Since(start)
	// What the handler did is settled even if its context was cancelled
	// at the shutdown deadline as it returned: a success is acknowledged.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	if err == nil {
		if w.ack(sctx, m, tx) {
			w.report(Event{Kind: EventHandled, ID: m.ID, Deliveries: m.Deliveries, Duration: took})
			w.release(m.ID)
		} else {
			w.scheduleRetry(m, false) // the commit's outcome is unknown: XCLAIM tells
		}
		return
	}
	if ctx.Err() != nil {
		// Cancelled at the shutdown deadline: it stays pending as it is.
		w.release(m.ID)
		return
	}
	if errors.Is(err, ErrInProgress) {
		// Not a failure: another delivery runs its effect. It waits
		// without using up a delivery.
		w.report(Event{Kind: EventFailed, ID: m.ID, Deliveries: m.Deliveries, Duration: took, Err: err})
		w.scheduleRetry(m, true)
		return
	}
	var perm *permanentError
	if errors.As(err, &perm) || max > 0 && m.Deliveries >= max {
		w.deadLetter(sctx, m, err)
		w.release(m.ID)
		return
	}
	w.report(Event{Kind: EventFailed, ID: m.ID, Deliveries: m.Deliveries, Duration: took, Err: err})
	w.lg.Warn("streams: handler failed; it will be retried", "id", m.ID, "deliveries", m.Deliveries, "err", err)
	w.scheduleRetry(m, false)
}

// settleTimeout bounds the commands that settle a message once its
// handler returned (XACK, the commit, dead-lettering), which run even
// when the handler's context is cancelled.
const settleTimeout = 10 * time.Second

// run runs the handler; a panic is its failure (with the stack logged),
// not the process's end.
func (w *Worker) run(ctx context.Context, m Message, tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			w.lg.Error("streams: handler panicked", "id", m.ID, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return w.h(ctx, m, tx)
}

// release frees m's handler slot; m is no longer held.
func (w *Worker) release(id string) {
	w.mu.Lock()
	w.inUse--
	delete(w.held, id)
	w.mu.Unlock()
	w.signal()
}

// scheduleRetry frees m's handler slot and keeps m held until its
// backoff has passed; it wakes the read if that ends sooner. A deferred
// message keeps its delivery count.
func (w *Worker) scheduleRetry(m Message, deferred bool) {
	wait := min(w.opts.Backoff(m.Deliveries), w.opts.ClaimIdle/2)
	r := retry{id: m.ID, due: time.Now().Add(wait), minIdle: wait * 9 / 10, deliveries: m.Deliveries}
	if deferred {
		r.deferred = &m
	}
	w.mu.Lock()
	w.inUse--
	w.held[m.ID] = time.Time{}
	heap.Push(&w.retries, r)
	early := w.reading && r.due.Before(w.readUntil)
	w.mu.Unlock()
	w.signal()
	if early {
		w.wake()
	}
}

// ack acknowledges m, in one MULTI/EXEC with tx's outputs if it has any;
// it reports whether that is known to have happened.
func (w *Worker) ack(ctx context.Context, m Message, tx *Tx) bool {
	if len(tx.outs) == 0 {
		if err := w.rdb.XAck(ctx, w.stream, w.opts.Group, m.ID).Err(); err != nil {
			w.report(Event{Kind: EventError, ID: m.ID, Deliveries: m.Deliveries, Err: fmt.Errorf("XACK: %w", err)})
			return false
		}
		return true
	}
	adds := make([][]any, len(tx.outs))
	for i, o := range tx.outs {
		args := make([]any, 0, 8+len(o.fields))
		args = append(args, "XADD", o.stream)
		if w.idmp {
			args = append(args, "IDMP", "streams:"+w.opts.Group, fmt.Sprintf("%s/%s/%d", w.stream, m.ID, i))
		}
		args = append(args, "*")
		adds[i] = append(args, o.fields...)
	}
	if err := w.commit(ctx, m, adds); err != nil {
		w.report(Event{Kind: EventError, ID: m.ID, Deliveries: m.Deliveries, Err: fmt.Errorf("MULTI XADD .. XACK: %w", err)})
		return false
	}
	return true
}

// commit runs the XADDs adds and the XACK of m in one MULTI/EXEC.
//
// MULTI/EXEC does not roll back: an XADD that fails inside EXEC (the key
// holds another type) leaves the XACK done. So the keys are first checked
// to be streams (once per key: TYPE), and should an XADD fail anyway while
// the XACK went through, m is made pending again with its delivery count
// (XCLAIM FORCE): it comes back rather than being lost.
func (w *Worker) commit(ctx context.Context, m Message, adds [][]any) error {
	keys := make([]string, len(adds))
	for i, a := range adds {
		keys[i] = a[1].(string)
	}
	if err := w.checkStreams(ctx, keys); err != nil {
		return err
	}
	var xack *redis.IntCmd
	xadds := make([]*redis.Cmd, len(adds))
	cmds, err := w.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i, a := range adds {
			xadds[i] = p.Do(ctx, a...)
		}
		xack = p.XAck(ctx, w.stream, w.opts.Group, m.ID)
		return nil
	})
	if err = firstErr(cmds, err); err != nil {
		// Only an XADD the server refused inside EXEC, beside an XACK it
		// did, needs mending; a lost reply leaves the outcome to the
		// retry's XCLAIM, which finds nothing if the commit happened.
		refused := slices.ContainsFunc(xadds, func(c *redis.Cmd) bool {
			var reply redis.Error
			return c != nil && errors.As(c.Err(), &reply)
		})
		if refused && xack != nil && xack.Err() == nil && xack.Val() > 0 {
			for _, k := range keys {
				w.streamKeys.Delete(k)
			}
			perr := w.rdb.Do(ctx, "XCLAIM", w.stream, w.opts.Group, w.opts.Consumer, 0, m.ID,
				"RETRYCOUNT", m.Deliveries, "FORCE", "JUSTID").Err()
			if perr != nil {
				w.lg.Error("streams: a write failed inside MULTI/EXEC after the XACK took effect, and the message could not be made pending again: it is lost",
					"id", m.ID, "err", err, "restore_err", perr)
			}
		}
		return err
	}
	if xack.Val() == 0 {
		w.lg.Warn("streams: the message was acknowledged by another consumer meanwhile (it held it longer than ClaimIdle)", "id", m.ID)
	}
	return nil
}

// checkStreams returns an error if one of keys holds something other
// than a stream. A key seen as a stream, or missing, is not asked about
// again (commit forgets it when a write to it fails).
func (w *Worker) checkStreams(ctx context.Context, keys []string) error {
	var ask []string
	for _, k := range keys {
		if _, ok := w.streamKeys.Load(k); !ok && !slices.Contains(ask, k) {
			ask = append(ask, k)
		}
	}
	if len(ask) == 0 {
		return nil
	}
	types := make([]*redis.StatusCmd, len(ask))
	_, err := w.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range ask {
			types[i] = p.Type(ctx, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, k := range ask {
		if t := types[i].Val(); t != "stream" && t != "none" {
			return fmt.Errorf("streams: %s holds a %s, not a stream", k, t)
		}
		w.streamKeys.Store(k, struct{}{})
	}
	return nil
}

// deadLetter moves m to the dead-letter stream: the XADD there and the
// XACK here commit in one MULTI/EXEC, so a crash neither loses nor
// duplicates it. The entry is read again for its fields in their stored
// order (m.Values is a map), so a redrive restores it exactly.
func (w *Worker) deadLetter(ctx context.Context, m Message, cause error) {
	fail := func(err error) {
		w.report(Event{Kind: EventError, ID: m.ID, Deliveries: m.Deliveries, Err: fmt.Errorf("dead-lettering: %w", err)})
	}
	e, ok, err := readEntry(ctx, w.rdb, w.stream, m.ID)
	if err != nil {
		fail(err)
		return
	}
	if !ok {
		w.ack(ctx, m, &Tx{}) // gone meanwhile: nothing to keep
		return
	}
	add := append([]any{"XADD", w.opts.DeadLetterStream, "*"}, deadLetterFields(m, e.fields, cause)...)
	if err := w.commit(ctx, m, [][]any{add}); err != nil {
		fail(err)
		return
	}
	w.report(Event{Kind: EventDeadLettered, ID: m.ID, Deliveries: m.Deliveries, Err: cause})
	w.lg.Warn("streams: message dead-lettered", "id", m.ID, "deliveries", m.Deliveries, "dead_letter_stream", w.opts.DeadLetterStream, "err", cause)
}

// firstErr is the error of a MULTI/EXEC: err, else the first command's
// (a command can fail inside EXEC while the others take effect).
func firstErr(cmds []redis.Cmder, err error) error {
	if err != nil {
		return err
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			return err
		}
	}
	return nil
}

// report sends ev to the Events hook, with the worker's names filled in,
// and logs errors.
func (w *Worker) report(ev Event) {
	ev.Stream, ev.Group, ev.Consumer = w.stream, w.opts.Group, w.opts.Consumer
	if ev.Kind == EventError {
		w.lg.Warn("streams: command failed", "id", ev.ID, "err", ev.Err)
	}
	if ev.Kind == EventReclaimed {
		w.lg.Info("streams: message taken over from another consumer", "id", ev.ID, "deliveries", ev.Deliveries)
	}
	if w.opts.Events != nil {
		w.opts.Events(ev)
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

// retryHeap orders retries by due time (container/heap).
type retryHeap []retry

func (h retryHeap) Len() int           { return len(h) }
func (h retryHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h retryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *retryHeap) Push(x any)        { *h = append(*h, x.(retry)) }
func (h *retryHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}
