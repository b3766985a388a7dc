package streams_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/internal/app/apptest"
	"github.com/runnel-io/runnel/streams"
)

// readerClientID is the CLIENT ID of the connection blocked in XREADGROUP
// (the worker's dedicated read connection), 0 if none is.
func readerClientID(tb testing.TB, rdb redis.UniversalClient) int64 {
	tb.Helper()
	list, err := rdb.ClientList(context.Background()).Result()
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, "cmd=xreadgroup") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "id="); ok {
				id, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					tb.Fatal(err)
				}
				return id
			}
		}
	}
	return 0
}

// pendingOrMinus1 is the group's pending count, -1 while it cannot be read
// (the group is not created yet).
func pendingOrMinus1(rdb redis.UniversalClient, stream, group string) int64 {
	p, err := rdb.XPending(context.Background(), stream, group).Result()
	if err != nil {
		return -1
	}
	return p.Count
}

// TestResilienceReaderConnectionLost: the worker's dedicated read connection
// is closed under it (a server restart, a proxy, a network blip); the
// worker goes on reading once the server answers again.
func TestResilienceReaderConnectionLost(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		var handled atomic.Int32
		var ev events
		w, _ := streams.NewWorker(rdb, "lost", func(context.Context, streams.Message) error { handled.Add(1); return nil },
			streams.WorkerOptions{Group: "g", StartID: "0", Block: 100 * time.Millisecond, Events: ev.add})
		stop := runWorker(t, w)
		publishN(t, rdb, "lost", 1)
		eventually(t, "1 handled", func() bool { return handled.Load() == 1 })
		var id int64
		eventually(t, "the reader blocked", func() bool { id = readerClientID(t, rdb); return id != 0 })
		if err := rdb.ClientKillByFilter(context.Background(), "ID", strconv.FormatInt(id, 10)).Err(); err != nil {
			t.Fatal(err)
		}
		publishN(t, rdb, "lost", 1)
		eventually(t, "the message after the connection loss handled", func() bool { return handled.Load() == 2 })
		stop()
	})
}

// TestResilienceServerRestart: Runnel restarts on its data directory while a
// worker runs; the worker handles what is published afterwards.
func TestResilienceServerRestart(t *testing.T) {
	d := apptest.StartDurable(t, t.TempDir())
	rdb := redis.NewClient(&redis.Options{Addr: d.Addr()})
	defer rdb.Close()
	var handled atomic.Int32
	w, _ := streams.NewWorker(rdb, "restart", func(context.Context, streams.Message) error { handled.Add(1); return nil },
		streams.WorkerOptions{Group: "g", StartID: "0", Block: 100 * time.Millisecond})
	stop := runWorker(t, w)
	publishN(t, rdb, "restart", 1)
	eventually(t, "1 handled", func() bool { return handled.Load() == 1 })
	d.Restart()
	publishN(t, rdb, "restart", 1)
	eventually(t, "the message after the restart handled", func() bool { return handled.Load() == 2 })
	stop()
}

// TestResilienceDeadLetterWriteFails: the dead-letter stream's key holds a
// string, so the XADD inside the dead-lettering MULTI/EXEC fails; the
// message must not be lost (acknowledged without a dead letter).
func TestResilienceDeadLetterWriteFails(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		ctx := context.Background()
		rdb.Set(ctx, "dlq-string", "not a stream", 0)
		var ev events
		var runs atomic.Int32
		w, _ := streams.NewWorker(rdb, "poison", func(context.Context, streams.Message) error {
			runs.Add(1)
			return streams.Permanent(errors.New("bad input"))
		}, streams.WorkerOptions{Group: "g", StartID: "0", Block: 50 * time.Millisecond, DeadLetterStream: "dlq-string", Events: ev.add})
		publishN(t, rdb, "poison", 1)
		stop := runWorker(t, w)
		eventually(t, "the dead-letter failure reported", func() bool { return ev.count(streams.EventError, "") > 0 })
		stop()
		if n := pending(t, rdb, "poison", "g"); n != 1 {
			t.Errorf("the message could not be dead-lettered, yet %d pending (want 1: it must stay pending, not be acknowledged)", n)
		}
	})
}

// TestResilienceTxOutputWriteFails: a TxHandler's output goes to a key that
// holds a string, so its XADD fails inside the MULTI/EXEC; the input must
// not be acknowledged without its output.
func TestResilienceTxOutputWriteFails(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		ctx := context.Background()
		rdb.Set(ctx, "out-string", "not a stream", 0)
		var ev events
		w, _ := streams.NewTxWorker(rdb, "in", func(ctx context.Context, m streams.Message, tx *streams.Tx) error {
			return tx.Publish("out-string", map[string]any{"from": m.ID})
		}, streams.WorkerOptions{Group: "g", StartID: "0", Block: 50 * time.Millisecond, Events: ev.add,
			Backoff: fixedBackoff(time.Hour), ClaimIdle: 4 * time.Hour})
		publishN(t, rdb, "in", 1)
		stop := runWorker(t, w)
		eventually(t, "the commit failure reported", func() bool { return ev.count(streams.EventError, "") > 0 })
		stop()
		if n := pending(t, rdb, "in", "g"); n != 1 {
			t.Errorf("the output was not written, yet %d pending (want 1: the input must not be acknowledged)", n)
		}
	})
}

// TestResilienceRunTwice: Run, stopped, called again on the same Worker,
// consumes again and first delivers the retry it left pending.
func TestResilienceRunTwice(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		var mu sync.Mutex
		runs := map[string]int{}
		var failID string
		w, _ := streams.NewWorker(rdb, "twice", func(ctx context.Context, m streams.Message) error {
			mu.Lock()
			defer mu.Unlock()
			runs[m.ID]++
			if failID == "" {
				failID = m.ID
			}
			if m.ID == failID && m.Deliveries == 1 {
				return errors.New("first try fails")
			}
			return nil
		}, streams.WorkerOptions{Group: "g", StartID: "0", Block: 50 * time.Millisecond, Backoff: fixedBackoff(time.Hour), ClaimIdle: 4 * time.Hour})
		publishN(t, rdb, "twice", 3)
		stop := runWorker(t, w)
		eventually(t, "3 run", func() bool { mu.Lock(); defer mu.Unlock(); return len(runs) == 3 })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if n := pending(t, rdb, "twice", "g"); n != 1 {
			t.Fatalf("%d pending after the first Run, want the failed one", n)
		}
		stop = runWorker(t, w)
		publishN(t, rdb, "twice", 2)
		eventually(t, "5 run, nothing pending", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(runs) == 5 && pending(t, rdb, "twice", "g") == 0
		})
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		for id, n := range runs {
			if want := map[bool]int{true: 2, false: 1}[id == failID]; n != want {
				t.Errorf("%s ran %d times, want %d", id, n, want)
			}
		}
	})
}

// TestResilienceCancelledBeforeRun: Run with a context already done returns
// at once.
func TestResilienceCancelledBeforeRun(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		w, _ := streams.NewWorker(rdb, "early", func(context.Context, streams.Message) error { return nil },
			streams.WorkerOptions{Group: "g", Block: 10 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		err := w.Run(ctx)
		if took := time.Since(start); took > time.Second {
			t.Errorf("Run took %v with a cancelled context", took)
		}
		// It fails creating the group; the error says why.
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Run with a cancelled context: %v", err)
		}
	})
}

// TestResilienceIdempotentShutdownDeadline: an Idempotent handler whose effect
// finished just as the shutdown deadline cancelled its context (it
// returned nil) must not have the effect run again on redelivery: the
// "done" mark must not depend on the cancelled context.
func TestResilienceIdempotentShutdownDeadline(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		var effects atomic.Int32
		started := make(chan struct{}, 10)
		h := streams.Chain(func(ctx context.Context, m streams.Message) error {
			effects.Add(1)
			started <- struct{}{}
			time.Sleep(150 * time.Millisecond) // a call that does not watch ctx
			return nil
		}, streams.Idempotent(rdb, streams.IdempotencyOptions{Lease: 700 * time.Millisecond}))
		opts := streams.WorkerOptions{Group: "g", Consumer: "c", StartID: "0", Block: 50 * time.Millisecond,
			ShutdownTimeout: 20 * time.Millisecond, Backoff: fixedBackoff(50 * time.Millisecond)}
		w, _ := streams.NewWorker(rdb, "idem", h, opts)
		publishN(t, rdb, "idem", 1)
		stop := runWorker(t, w)
		<-started
		stop()
		w2, _ := streams.NewWorker(rdb, "idem", h, opts)
		stop = runWorker(t, w2)
		eventually(t, "nothing pending", func() bool { return pending(t, rdb, "idem", "g") == 0 })
		stop()
		if n := effects.Load(); n != 1 {
			t.Errorf("the effect ran %d times, want 1", n)
		}
	})
}

// probeFault fails the first TxWorker IDMP probe (an XADD with IDMP and
// MAXLEN -1) as a lost connection would.
type probeFault struct{ done atomic.Bool }

func (h *probeFault) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *probeFault) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *probeFault) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		a := cmd.Args()
		if cmd.Name() == "xadd" && len(a) > 2 && a[2] == "IDMP" && h.done.CompareAndSwap(false, true) {
			err := errors.New("injected: read tcp: connection reset by peer")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

// TestResilienceTxWorkerProbeFails: a transient error on the IDMP probe must
// not make a TxWorker send XADD IDMP to a server without it (every commit
// would then fail inside EXEC). Run may give up with the error (the next
// Run probes again) or go on correctly; either way each input ends with
// exactly one output and no dead letter.
func TestResilienceTxWorkerProbeFails(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		rdb.AddHook(&probeFault{})
		var ev events
		w, _ := streams.NewTxWorker(rdb, "txin", func(ctx context.Context, m streams.Message, tx *streams.Tx) error {
			return tx.Publish("txout", map[string]any{"from": m.ID})
		}, streams.WorkerOptions{Group: "g", StartID: "0", Block: 50 * time.Millisecond, Events: ev.add,
			Backoff: fixedBackoff(10 * time.Millisecond), MaxDeliveries: 3})
		publishN(t, rdb, "txin", 1)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- w.Run(ctx) }()
		settled := func() bool {
			return pendingOrMinus1(rdb, "txin", "g") == 0 && rdb.XLen(context.Background(), "txout").Val() > 0
		}
		timeout := time.After(10 * time.Second)
		for !settled() {
			select {
			case err := <-errc:
				if err == nil {
					t.Fatal("Run returned nil before its context was done")
				}
				t.Logf("the first Run gave up: %v", err)
				stop := runWorker(t, w)
				defer stop()
				eventually(t, "settled", settled)
			case <-timeout:
				t.Fatalf("not settled: %d outputs, %d pending, %d dead-lettered, %d errors",
					rdb.XLen(context.Background(), "txout").Val(), pendingOrMinus1(rdb, "txin", "g"),
					ev.count(streams.EventDeadLettered, ""), ev.count(streams.EventError, ""))
			case <-time.After(5 * time.Millisecond):
			}
		}
		if n := rdb.XLen(context.Background(), "txout").Val(); n != 1 || ev.count(streams.EventDeadLettered, "") != 0 {
			t.Errorf("%d outputs, want 1 (dead-lettered: %d; errors: %d)", n,
				ev.count(streams.EventDeadLettered, ""), ev.count(streams.EventError, ""))
		}
	})
}

// TestResilienceGroupDeleted: the group, then the whole stream, is deleted
// while the worker blocks; it creates the group again and handles what is
// published after.
func TestResilienceGroupDeleted(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		ctx := context.Background()
		var handled atomic.Int32
		w, _ := streams.NewWorker(rdb, "gone", func(context.Context, streams.Message) error { handled.Add(1); return nil },
			streams.WorkerOptions{Group: "g", Block: 100 * time.Millisecond})
		stop := runWorker(t, w)
		hasGroup := func() bool {
			gs, err := rdb.XInfoGroups(ctx, "gone").Result()
			return err == nil && len(gs) == 1
		}
		eventually(t, "the group created", hasGroup)
		for i, del := range []func() error{
			func() error { return rdb.XGroupDestroy(ctx, "gone", "g").Err() },
			func() error { return rdb.Del(ctx, "gone").Err() },
		} {
			eventually(t, "the reader blocked", func() bool { return readerClientID(t, rdb) != 0 })
			if err := del(); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the group created again", hasGroup)
			publishN(t, rdb, "gone", 1)
			eventually(t, "the message handled", func() bool { return handled.Load() == int32(i+1) })
		}
		stop()
	})
}

// TestResilienceTrimmedWhilePending: entries trimmed while pending (a retry
// waiting, or held by a dead consumer) are settled without running the
// handler or dead-lettering them.
func TestResilienceTrimmedWhilePending(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		ctx := context.Background()
		publishN(t, rdb, "trim", 3)
		if err := rdb.XGroupCreate(ctx, "trim", "g", "0").Err(); err != nil {
			t.Fatal(err)
		}
		// A dead consumer took the first two.
		if err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "dead", Streams: []string{"trim", ">"}, Count: 2}).Err(); err != nil {
			t.Fatal(err)
		}
		var runs atomic.Int32
		var ev events
		w, _ := streams.NewWorker(rdb, "trim", func(context.Context, streams.Message) error {
			runs.Add(1)
			return errors.New("fails")
		}, streams.WorkerOptions{Group: "g", Block: 50 * time.Millisecond, Backoff: fixedBackoff(200 * time.Millisecond),
			ClaimIdle: 500 * time.Millisecond, Events: ev.add})
		stop := runWorker(t, w)
		eventually(t, "the third run", func() bool { return runs.Load() == 1 })
		if err := rdb.XTrimMaxLen(ctx, "trim", 0).Err(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for pending(t, rdb, "trim", "g") != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if p := rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "trim", Group: "g", Start: "-", End: "+", Count: 10}).Val(); len(p) > 0 {
			t.Errorf("still pending after the trim: %+v", p)
		}
		stop()
		if n := runs.Load(); n != 1 {
			t.Errorf("the handler ran %d times, want once (before the trim)", n)
		}
		if n := ev.count(streams.EventDeadLettered, ""); n != 0 {
			t.Errorf("%d dead-lettered", n)
		}
	})
}

// TestResilienceSoak: workers of one group start and stop at random (under
// their old name or a new one, some stopped at the shutdown deadline with
// handlers in flight) while handlers fail at random. At the end every
// message was handled successfully or dead-lettered, a dead-lettered one
// ran exactly MaxDeliveries times without a success, none ran more often
// than that or twice at once, no worker ran more than Concurrency handlers,
// and nothing is pending. The randomness has a fixed seed; handler
// outcomes depend only on (ID, delivery).
func TestResilienceSoak(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		ctx := context.Background()
		const (
			before, during = 150, 150
			maxDeliveries  = 4
			slots          = 3
		)
		rng := rand.New(rand.NewPCG(6, 2026))
		var rngMu sync.Mutex
		intn := func(n int) int { rngMu.Lock(); defer rngMu.Unlock(); return rng.IntN(n) }

		var mu sync.Mutex
		runs := map[string]int{}
		successes := map[string]int{}
		inflight := map[string]bool{}
		var violations []string
		// fate is a message's outcome on its n-th delivery: 0 ok, 1 fail,
		// 2 slow (waits for the shutdown deadline, or 40ms).
		fate := func(id string, n int) int {
			h := fnv.New32a()
			fmt.Fprintf(h, "%s/%d", id, n)
			switch v := h.Sum32() % 100; {
			case v < 45:
				return 1
			case v < 50:
				return 2
			}
			return 0
		}
		var ev events
		newWorker := func(name string, conc int) *streams.Worker {
			var running atomic.Int32
			w, err := streams.NewWorker(rdb, "soak", func(hctx context.Context, m streams.Message) error {
				r := running.Add(1)
				defer running.Add(-1)
				if r > int32(conc) {
					mu.Lock()
					violations = append(violations, fmt.Sprintf("%s ran %d handlers, Concurrency %d", name, r, conc))
					mu.Unlock()
				}
				mu.Lock()
				runs[m.ID]++
				if inflight[m.ID] {
					violations = append(violations, fmt.Sprintf("%s run twice at once", m.ID))
				}
				inflight[m.ID] = true
				mu.Unlock()
				defer func() { mu.Lock(); delete(inflight, m.ID); mu.Unlock() }()
				switch fate(m.ID, m.Deliveries) {
				case 1:
					time.Sleep(time.Duration(intn(3)) * time.Millisecond)
					return fmt.Errorf("injected failure of delivery %d", m.Deliveries)
				case 2:
					select {
					case <-hctx.Done():
						return hctx.Err()
					case <-time.After(40 * time.Millisecond):
					}
				default:
					time.Sleep(time.Duration(intn(3)) * time.Millisecond)
				}
				mu.Lock()
				successes[m.ID]++
				mu.Unlock()
				return nil
			}, streams.WorkerOptions{Group: "g", Consumer: name, StartID: "0", Concurrency: conc,
				Block: 50 * time.Millisecond, ShutdownTimeout: 15 * time.Millisecond, MaxDeliveries: maxDeliveries,
				Backoff:   func(int) time.Duration { return time.Duration(5+intn(15)) * time.Millisecond },
				ClaimIdle: 250 * time.Millisecond, DeadLetterStream: "soak-dlq", Events: ev.add})
			if err != nil {
				t.Fatal(err)
			}
			return w
		}
		publishN(t, rdb, "soak", before)

		// Churn: each slot runs a worker for a while, stops it, and starts
		// another under the same name or a new one.
		churnEnd := time.Now().Add(1500 * time.Millisecond)
		var wg sync.WaitGroup
		for s := range slots {
			wg.Add(1)
			go func() {
				defer wg.Done()
				gen := 0
				for time.Now().Before(churnEnd) {
					if intn(2) == 0 {
						gen++
					}
					w := newWorker(fmt.Sprintf("w%d-%d", s, gen), 1+intn(3))
					wctx, cancel := context.WithCancel(ctx)
					errc := make(chan error, 1)
					go func() { errc <- w.Run(wctx) }()
					time.Sleep(time.Duration(50+intn(250)) * time.Millisecond)
					cancel()
					if err := <-errc; err != nil {
						t.Error(err)
					}
				}
			}()
		}
		p := streams.NewProducer(rdb, "soak", streams.ProducerOptions{})
		for i := range during {
			if _, err := p.Publish(ctx, map[string]any{"n": before + i}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Millisecond)
		}
		wg.Wait()

		// Settle: two steady workers under new names take over the rest.
		for i := range 2 {
			runWorker(t, newWorker(fmt.Sprintf("final-%d", i), 3))
		}
		all, err := rdb.XRange(ctx, "soak", "-", "+").Result()
		if err != nil || len(all) != before+during {
			t.Fatalf("XRANGE: %d entries, %v", len(all), err)
		}
		dead := func() map[string]streams.DeadLetter {
			ds, err := streams.ListDeadLetters(ctx, rdb, "soak-dlq", streams.DeadLetterQuery{Count: 1000})
			if err != nil {
				return nil
			}
			out := map[string]streams.DeadLetter{}
			for _, d := range ds {
				out[d.MessageID] = d
			}
			return out
		}
		settled := func() bool {
			if pending(t, rdb, "soak", "g") != 0 {
				return false
			}
			dl := dead()
			mu.Lock()
			defer mu.Unlock()
			for _, m := range all {
				if _, ok := dl[m.ID]; successes[m.ID] == 0 && !ok {
					return false
				}
			}
			return true
		}
		deadline := time.Now().Add(8 * time.Second)
		for !settled() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		dl := dead()
		mu.Lock()
		defer mu.Unlock()
		for _, v := range violations {
			t.Error(v)
		}
		if n := pending(t, rdb, "soak", "g"); n != 0 {
			t.Errorf("%d still pending", n)
		}
		var nDead, nDup int
		for _, m := range all {
			d, isDead := dl[m.ID]
			switch {
			case isDead && successes[m.ID] > 0:
				t.Errorf("%s succeeded and was dead-lettered", m.ID)
			case isDead && runs[m.ID] != maxDeliveries:
				t.Errorf("%s dead-lettered after %d runs (deliveries %d), want %d", m.ID, runs[m.ID], d.Deliveries, maxDeliveries)
			case !isDead && successes[m.ID] == 0:
				t.Errorf("%s neither handled nor dead-lettered (%d runs)", m.ID, runs[m.ID])
			case runs[m.ID] > maxDeliveries:
				t.Errorf("%s ran %d times, more than MaxDeliveries", m.ID, runs[m.ID])
			}
			if isDead {
				nDead++
			}
			if successes[m.ID] > 1 {
				nDup++
			}
		}
		if len(dl) != nDead {
			t.Errorf("%d dead letters for %d dead-lettered messages", len(dl), nDead)
		}
		t.Logf("%d messages: %d dead-lettered, %d handled twice (a success whose XACK the shutdown deadline cancelled), %d reclaims, %d command errors",
			len(all), nDead, nDup, ev.count(streams.EventReclaimed, ""), ev.count(streams.EventError, ""))
	})
}
