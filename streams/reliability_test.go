package streams_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/internal/app/apptest"
	"github.com/runnel-io/runnel/streams"
)

// events records a Worker's events for a test.
type events struct {
	mu  sync.Mutex
	evs []streams.Event
}

func (e *events) add(ev streams.Event) { e.mu.Lock(); e.evs = append(e.evs, ev); e.mu.Unlock() }

// count is how many events of kind were reported (for id, if not empty).
func (e *events) count(kind streams.EventKind, id string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.evs {
		if ev.Kind == kind && (id == "" || ev.ID == id) {
			n++
		}
	}
	return n
}

func fixedBackoff(d time.Duration) func(int) time.Duration {
	return func(int) time.Duration { return d }
}

// TestWorkerRetriesWithoutStalling: a failing message is delivered again
// after its backoff, with the server's delivery count, while the others
// go through; the retry interrupts the blocked read (Block is long).
func TestWorkerRetriesWithoutStalling(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		p := streams.NewProducer(rdb, "jobs", streams.ProducerOptions{})
		flaky, err := p.Publish(context.Background(), map[string]any{"n": "flaky"})
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var order []string // "n@deliveries", in handling order
		var flakyAt []time.Time
		var ev events
		w, _ := streams.NewWorker(rdb, "jobs", func(ctx context.Context, m streams.Message) error {
			mu.Lock()
			order = append(order, m.Values["n"]+"@"+strconv.Itoa(m.Deliveries))
			if m.ID == flaky {
				flakyAt = append(flakyAt, time.Now())
			}
			mu.Unlock()
			if m.ID == flaky && m.Deliveries < 3 {
				return errors.New("not yet")
			}
			return nil
		}, streams.WorkerOptions{Group: "g", StartID: "0", Block: 10 * time.Second,
			Backoff: fixedBackoff(400 * time.Millisecond), Events: ev.add})
		stop := runWorker(t, w)
		publishN(t, rdb, "jobs", 20) // they go through while flaky waits
		eventually(t, "all handled and acknowledged", func() bool {
			mu.Lock()
			n := len(order)
			mu.Unlock()
			return n == 23 && pending(t, rdb, "jobs", "g") == 0
		})
		start := time.Now()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("shutdown took %v with Block 10s: the blocked read was not interrupted", took)
		}
		mu.Lock()
		defer mu.Unlock()
		if order[0] != "flaky@1" || order[1] != "0@1" || order[len(order)-1] != "flaky@3" {
			t.Errorf("handling order %v: want flaky@1 first, the others next, flaky@3 last", order)
		}
		if i := slices.Index(order, "flaky@2"); i < 20 {
			t.Errorf("flaky@2 came at %d of %v: its retry held up the others", i, order)
		}
		for i := 1; i < len(flakyAt); i++ {
			// -10% for the timer; far less than Block, so the read was woken.
			if gap := flakyAt[i].Sub(flakyAt[i-1]); gap < 360*time.Millisecond || gap > 3*time.Second {
				t.Errorf("retry %d came %v after the failure, want the 400ms backoff", i, gap)
			}
		}
		if f, h := ev.count(streams.EventFailed, flaky), ev.count(streams.EventHandled, ""); f != 2 || h != 21 {
			t.Errorf("events: %d failed for flaky (want 2), %d handled (want 21)", f, h)
		}
	})
}

// TestWorkerDeadLetters: a poison message is run exactly MaxDeliveries
// times and then moved to the dead-letter stream with XACK in one
// MULTI/EXEC, carrying its origin, its delivery count and the last error,
// then its own fields in order; Permanent skips the retries; a panicking
// handler is a failing one.
func TestWorkerDeadLetters(t *testing.T) {
	eachServerAndProtocol(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		ctx := context.Background()
		p := streams.NewProducer(rdb, "payments", streams.ProducerOptions{})
		poison, _ := p.Publish(ctx, []string{"order", "17", "note", "a", "note", "b"})
		bad, _ := p.Publish(ctx, []string{"order", "bad"})
		good, _ := p.Publish(ctx, []string{"order", "18"})
		panicky, _ := p.Publish(ctx, []string{"order", "19"})
		var runs sync.Map // id -> *atomic.Int32
		var ev events
		w, _ := streams.NewWorker(rdb, "payments", func(ctx context.Context, m streams.Message) error {
			n, _ := runs.LoadOrStore(m.ID, new(atomic.Int32))
			run := n.(*atomic.Int32).Add(1)
			if int(run) != m.Deliveries {
				t.Errorf("%s: run %d came with Deliveries %d", m.ID, run, m.Deliveries)
			}
			switch m.ID {
			case panicky:
				panic("nil map")
			case poison:
				return fmt.Errorf("card declined (try %d)", m.Deliveries)
			case bad:
				return streams.Permanent(errors.New("no such order"))
			}
			return nil
		}, streams.WorkerOptions{Group: "payment-processors", Consumer: "c1", StartID: "0", MaxDeliveries: 3,
			Backoff: fixedBackoff(10 * time.Millisecond), Events: ev.add})
		stop := runWorker(t, w)
		eventually(t, "three dead letters", func() bool { return rdb.XLen(ctx, "dead-letter-stream").Val() == 3 })
		eventually(t, "nothing pending", func() bool { return pending(t, rdb, "payments", "payment-processors") == 0 })
		stop()
		for id, want := range map[string]int32{poison: 3, bad: 1, good: 1, panicky: 3} {
			n, _ := runs.Load(id)
			if got := n.(*atomic.Int32).Load(); got != want {
				t.Errorf("%s ran %d times, want %d", id, got, want)
			}
		}
		raw, err := rdb.Do(ctx, "XRANGE", "dead-letter-stream", "-", "+").Slice()
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			fmt.Sprint([]any{"dlq-stream", "payments", "dlq-id", poison, "dlq-group", "payment-processors", "dlq-consumer", "c1",
				"dlq-deliveries", "3", "dlq-error", "card declined (try 3)", "order", "17", "note", "a", "note", "b"}),
			fmt.Sprint([]any{"dlq-stream", "payments", "dlq-id", bad, "dlq-group", "payment-processors", "dlq-consumer", "c1",
				"dlq-deliveries", "1", "dlq-error", "no such order", "order", "bad"}),
			fmt.Sprint([]any{"dlq-stream", "payments", "dlq-id", panicky, "dlq-group", "payment-processors", "dlq-consumer", "c1",
				"dlq-deliveries", "3", "dlq-error", "handler panicked: nil map", "order", "19"}),
		}
		var got []string
		for _, e := range raw {
			got = append(got, fmt.Sprint(e.([]any)[1]))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("dead-letter entries:\n got %q\nwant %q", got, want)
		}
		if ev.count(streams.EventDeadLettered, "") != 3 || ev.count(streams.EventFailed, poison) != 2 {
			t.Errorf("events: %d dead-lettered (want 3), %d failed for the poison message (want 2)",
				ev.count(streams.EventDeadLettered, ""), ev.count(streams.EventFailed, poison))
		}
	})
}

// TestWorkerReclaimsFromDeadConsumer: messages a consumer took and never
// acknowledged are taken over once idle longer than ClaimIdle (XREADGROUP
// CLAIM on Runnel, XAUTOCLAIM on Redis 7), with their delivery counts; one
// that already had its MaxDeliveries is dead-lettered without a run.
func TestWorkerReclaimsFromDeadConsumer(t *testing.T) {
	eachServerAndProtocol(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		ctx := context.Background()
		if err := rdb.XGroupCreateMkStream(ctx, "orders-stream", "payment-processors", "$").Err(); err != nil {
			t.Fatal(err)
		}
		publishN(t, rdb, "orders-stream", 6)
		// worker-dead reads them all and dies holding them.
		taken, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "payment-processors", Consumer: "worker-dead",
			Streams: []string{"orders-stream", ">"}, Count: 10, Block: -1}).Result()
		if err != nil || len(taken[0].Messages) != 6 {
			t.Fatalf("XREADGROUP: %v %v", taken, err)
		}
		exhausted := taken[0].Messages[5].ID // delivered 3 times already
		if err := rdb.XClaim(ctx, &redis.XClaimArgs{Stream: "orders-stream", Group: "payment-processors", Consumer: "worker-dead",
			Messages: []string{exhausted}}).Err(); err != nil {
			t.Fatal(err)
		}
		rdb.Do(ctx, "XCLAIM", "orders-stream", "payment-processors", "worker-dead", 0, exhausted, "RETRYCOUNT", 3)

		var mu sync.Mutex
		deliveries := map[string]int{}
		var ev events
		w, _ := streams.NewWorker(rdb, "orders-stream", func(ctx context.Context, m streams.Message) error {
			mu.Lock()
			deliveries[m.ID] = m.Deliveries
			mu.Unlock()
			return nil
		}, streams.WorkerOptions{Group: "payment-processors", Consumer: "worker-alive", MaxDeliveries: 3,
			ClaimIdle: 300 * time.Millisecond, Block: 5 * time.Second, Events: ev.add})
		start := time.Now()
		runWorker(t, w)
		eventually(t, "all taken over", func() bool { return pending(t, rdb, "orders-stream", "payment-processors") == 0 })
		if took := time.Since(start); took < 250*time.Millisecond {
			t.Errorf("taken over after %v, before ClaimIdle", took)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(deliveries) != 5 {
			t.Errorf("handled %v, want the 5 with deliveries left", deliveries)
		}
		for id, n := range deliveries {
			if n != 2 {
				t.Errorf("%s came with Deliveries %d, want 2", id, n)
			}
		}
		if _, ran := deliveries[exhausted]; ran {
			t.Error("the message past MaxDeliveries was run")
		}
		if n := rdb.XLen(ctx, "dead-letter-stream").Val(); n != 1 {
			t.Errorf("%d dead letters, want 1", n)
		}
		if n := ev.count(streams.EventReclaimed, ""); n != 6 {
			t.Errorf("%d reclaimed events, want 6", n)
		}
	})
}

// TestWorkerShutdownDeadline: a handler still running at ShutdownTimeout
// gets its context cancelled and its message stays pending; Run returns.
func TestWorkerShutdownDeadline(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		started := make(chan struct{}, 1)
		w, _ := streams.NewWorker(rdb, "stuck", func(ctx context.Context, m streams.Message) error {
			started <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}, streams.WorkerOptions{Group: "g", StartID: "0", Block: 10 * time.Second, ShutdownTimeout: 200 * time.Millisecond})
		publishN(t, rdb, "stuck", 1)
		stop := runWorker(t, w)
		<-started
		start := time.Now()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 200*time.Millisecond || took > 2*time.Second {
			t.Errorf("Run returned %v after the cancel, want about ShutdownTimeout (200ms)", took)
		}
		if n := pending(t, rdb, "stuck", "g"); n != 1 {
			t.Errorf("%d pending, want the cancelled one", n)
		}
	})
}

// TestWorkerRedeliveryAfterRestart: Runnel restarted on its data
// directory without a final checkpoint (recovering from its log, as after
// a crash) keeps the group's pending entries; the worker, restarted under
// its name, finishes what it held, and nothing acknowledged before is
// handled again.
func TestWorkerRedeliveryAfterRestart(t *testing.T) {
	d := apptest.StartDurable(t, t.TempDir())
	rdb := redis.NewClient(&redis.Options{Addr: d.Addr()})
	defer rdb.Close()
	publishN(t, rdb, "orders-stream", 50)
	var mu sync.Mutex
	handled := map[string]int{}
	hold := make(chan struct{})
	opts := streams.WorkerOptions{Group: "payment-processors", Consumer: "worker-1", StartID: "0", Concurrency: 4, Block: time.Second}
	w, _ := streams.NewWorker(rdb, "orders-stream", func(ctx context.Context, m streams.Message) error {
		n, _ := strconv.Atoi(m.Values["n"])
		if n >= 40 {
			<-hold // still running when the server goes away
			return errors.New("interrupted")
		}
		mu.Lock()
		handled[m.ID]++
		mu.Unlock()
		return nil
	}, opts)
	stop := runWorker(t, w)
	eventually(t, "40 handled and 4 in flight", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handled) == 40 && pending(t, rdb, "orders-stream", "payment-processors") == 4
	})
	d.Restart()
	close(hold)
	stop()

	w2, _ := streams.NewWorker(rdb, "orders-stream", func(ctx context.Context, m streams.Message) error {
		mu.Lock()
		handled[m.ID]++
		mu.Unlock()
		return nil
	}, opts)
	stop = runWorker(t, w2)
	eventually(t, "all 50 handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handled) == 50 && pending(t, rdb, "orders-stream", "payment-processors") == 0
	})
	stop()
	for id, n := range handled {
		if n != 1 {
			t.Errorf("%s handled %d times", id, n)
		}
	}
}

// faultHook makes a client's MULTI/EXEC fail at random: before it is sent
// (nothing happens) or after (it happens; the reply is lost).
type faultHook struct {
	mu            sync.Mutex
	rng           *rand.Rand
	before, after float64
	injected      atomic.Int32
}

func (h *faultHook) roll() float64 { h.mu.Lock(); defer h.mu.Unlock(); return h.rng.Float64() }

func (h *faultHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *faultHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *faultHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !slices.ContainsFunc(cmds, func(c redis.Cmder) bool { return c.Name() == "exec" }) {
			return next(ctx, cmds)
		}
		switch r := h.roll(); {
		case r < h.before:
			h.injected.Add(1)
			return errors.New("injected: connection lost before EXEC")
		case r < h.before+h.after:
			h.injected.Add(1)
			_ = next(ctx, cmds)
			return errors.New("injected: connection lost after EXEC")
		}
		return next(ctx, cmds)
	}
}

// TestTxWorkerExactlyOnce: a stream-to-stream step publishes each input's
// output exactly once while handlers fail, commits are lost before and
// after EXEC, a worker dies holding messages (another takes them over)
// and a worker restarts.
func TestTxWorkerExactlyOnce(t *testing.T) {
	eachServerAndProtocol(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		ctx := context.Background()
		const n = 400
		base := rdb.(*redis.Client).Options()
		var handlerRuns atomic.Int32
		var ev events
		newStep := func(consumer string, seed uint64, die func(*redis.Client, int32) bool) (*streams.Worker, *redis.Client, *faultHook) {
			c := redis.NewClient(&redis.Options{Addr: base.Addr, Protocol: base.Protocol})
			t.Cleanup(func() { c.Close() })
			hook := &faultHook{rng: rand.New(rand.NewPCG(seed, 1)), before: 0.1, after: 0.1}
			c.AddHook(hook)
			var calls atomic.Int32
			rng := rand.New(rand.NewPCG(seed, 2))
			var rngMu sync.Mutex
			w, err := streams.NewTxWorker(c, "orders-stream", func(ctx context.Context, m streams.Message, tx *streams.Tx) error {
				handlerRuns.Add(1)
				if die != nil && die(c, calls.Add(1)) {
					return nil // its commit cannot reach the server
				}
				rngMu.Lock()
				fail := rng.Float64() < 0.15
				rngMu.Unlock()
				if fail {
					return errors.New("injected handler failure")
				}
				return tx.Publish("payments-stream", map[string]string{"order": m.Values["n"], "status": "paid"})
			}, streams.WorkerOptions{Group: "payment-processors", Consumer: consumer, StartID: "0", Concurrency: 4,
				MaxDeliveries: -1, Backoff: fixedBackoff(5 * time.Millisecond), ClaimIdle: time.Second, Block: time.Second,
				Events: ev.add})
			if err != nil {
				t.Fatal(err)
			}
			return w, c, hook
		}
		// a dies after its 60th handler run: its client closes under it.
		a, _, hookA := newStep("worker-a", 1, func(c *redis.Client, call int32) bool {
			if call >= 60 {
				c.Close()
				return true
			}
			return false
		})
		b, _, hookB := newStep("worker-b", 2, nil)
		stopA := runWorker(t, a)
		stopB := runWorker(t, b)
		publishN(t, rdb, "orders-stream", n/2)
		eventually(t, "worker-a dead", func() bool { return handlerRuns.Load() > 100 })
		stopA()
		stopB() // b restarts, as in a deploy
		b2, _, hookB2 := newStep("worker-b", 3, nil)
		stopB = runWorker(t, b2)
		publishN(t, rdb, "orders-stream", n/2)
		deadline := time.Now().Add(30 * time.Second)
		for pending(t, rdb, "orders-stream", "payment-processors") != 0 || rdb.XLen(ctx, "payments-stream").Val() < n {
			if time.Now().After(deadline) {
				t.Fatalf("after 30s: %d outputs, %d inputs pending", rdb.XLen(ctx, "payments-stream").Val(),
					pending(t, rdb, "orders-stream", "payment-processors"))
			}
			time.Sleep(10 * time.Millisecond)
		}
		stopB()
		out, err := rdb.XRange(ctx, "payments-stream", "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, m := range out {
			seen[m.Values["order"].(string)]++
		}
		for i := range n {
			if k := strconv.Itoa(i % (n / 2)); seen[k] != 2 { // each n published twice, once per half
				t.Errorf("order %s has %d payments, want 2 (one per input)", k, seen[k])
			}
		}
		if len(out) != n {
			t.Errorf("%d payments for %d orders", len(out), n)
		}
		injected := hookA.injected.Load() + hookB.injected.Load() + hookB2.injected.Load()
		t.Logf("%d handler runs for %d inputs; %d commits lost before or after EXEC", handlerRuns.Load(), n, injected)
		if injected == 0 {
			t.Error("no commit failure was injected")
		}
		if ev.count(streams.EventReclaimed, "") == 0 {
			t.Error("nothing worker-a held was taken over")
		}
	})
}

// TestWorkerForgetsGoneConsumers: consumers that hold nothing and were
// not seen for ForgetConsumersAfter are deleted when a worker starts;
// one that still holds a message is kept, whatever its idle time.
func TestWorkerForgetsGoneConsumers(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		ctx := context.Background()
		rdb.XGroupCreateMkStream(ctx, "s", "g", "$")
		publishN(t, rdb, "s", 1)
		rdb.XGroupCreateConsumer(ctx, "s", "g", "worker-old-1")
		rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "worker-holding", Streams: []string{"s", ">"}, Count: 1, Block: -1})
		time.Sleep(300 * time.Millisecond)
		rdb.XGroupCreateConsumer(ctx, "s", "g", "worker-recent")
		var handled atomic.Int32
		w, _ := streams.NewWorker(rdb, "s", func(context.Context, streams.Message) error { handled.Add(1); return nil },
			streams.WorkerOptions{Group: "g", Consumer: "worker-new", ForgetConsumersAfter: 200 * time.Millisecond,
				ClaimIdle: time.Hour, Block: 50 * time.Millisecond})
		stop := runWorker(t, w)
		publishN(t, rdb, "s", 1)
		eventually(t, "worker-new handles one", func() bool { return handled.Load() == 1 })
		stop()
		cs, err := rdb.XInfoConsumers(ctx, "s", "g").Result()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range cs {
			names = append(names, c.Name)
		}
		slices.Sort(names)
		if want := []string{"worker-holding", "worker-new", "worker-recent"}; !slices.Equal(names, want) {
			t.Errorf("consumers %v, want %v", names, want)
		}
	})
}

// TestTxWorkerWriteFailsInsideExec: MULTI/EXEC does not roll back, so an
// output XADD that fails inside EXEC (its key became a string after the
// worker checked it) leaves the XACK done; the worker makes the input
// pending again, and it ends dead-lettered, never acknowledged without
// its output.
func TestTxWorkerWriteFailsInsideExec(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		ctx := context.Background()
		var ev events
		w, _ := streams.NewTxWorker(rdb, "in", func(ctx context.Context, m streams.Message, tx *streams.Tx) error {
			return tx.Publish("out", map[string]string{"from": m.ID})
		}, streams.WorkerOptions{Group: "g", StartID: "0", MaxDeliveries: 3, Backoff: fixedBackoff(10 * time.Millisecond),
			Block: time.Second, Events: ev.add})
		stop := runWorker(t, w)
		publishN(t, rdb, "in", 1)
		eventually(t, "the first output", func() bool { return rdb.XLen(ctx, "out").Val() == 1 })
		rdb.Del(ctx, "out")
		rdb.Set(ctx, "out", "now a string", 0)
		publishN(t, rdb, "in", 1)
		eventually(t, "the second input dead-lettered", func() bool { return ev.count(streams.EventDeadLettered, "") == 1 })
		stop()
		if n := pending(t, rdb, "in", "g"); n != 0 {
			t.Errorf("%d pending", n)
		}
		dl, err := streams.ListDeadLetters(ctx, rdb, streams.DefaultDeadLetterStream, streams.DeadLetterQuery{})
		if err != nil || len(dl) != 1 {
			t.Fatalf("dead letters %+v, %v", dl, err)
		}
		in := rdb.XRange(ctx, "in", "-", "+").Val()
		if dl[0].MessageID != in[1].ID || dl[0].Deliveries != 4 {
			t.Errorf("dead letter %+v: want the second input (%s), after 3 deliveries whose commits failed", dl[0], in[1].ID)
		}
		if n := ev.count(streams.EventError, ""); n < 3 {
			t.Errorf("%d commit errors reported, want one per delivery", n)
		}
	})
}

// TestWorkerShutdownAbandonsDeafHandler: a handler that ignores its
// cancelled context cannot hold Run past ShutdownTimeout and a second;
// the next Run on the Worker first waits for it.
func TestWorkerShutdownAbandonsDeafHandler(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		release := make(chan struct{})
		started := make(chan struct{}, 1)
		var handled atomic.Int32
		w, _ := streams.NewWorker(rdb, "deaf", func(ctx context.Context, m streams.Message) error {
			if handled.Add(1) == 1 {
				started <- struct{}{}
				<-release // ignores ctx
			}
			return nil
		}, streams.WorkerOptions{Group: "g", StartID: "0", Block: 10 * time.Second, ShutdownTimeout: 100 * time.Millisecond})
		publishN(t, rdb, "deaf", 1)
		stop := runWorker(t, w)
		<-started
		start := time.Now()
		stop()
		if took := time.Since(start); took < time.Second || took > 3*time.Second {
			t.Errorf("Run returned %v after the cancel, want ShutdownTimeout and a second", took)
		}
		again := make(chan error, 1)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { again <- w.Run(ctx) }()
		time.Sleep(100 * time.Millisecond)
		publishN(t, rdb, "deaf", 1)
		time.Sleep(100 * time.Millisecond)
		if n := handled.Load(); n != 1 {
			t.Errorf("the next Run handled a message while the deaf handler still ran (%d handled)", n)
		}
		close(release)
		eventually(t, "both acknowledged", func() bool { return handled.Load() == 2 && pending(t, rdb, "deaf", "g") == 0 })
		cancel()
		if err := <-again; err != nil {
			t.Fatal(err)
		}
	})
}

// TestWorkerHeartbeatKeepsSlowHandler: a handler that runs for three
// times ClaimIdle on a live worker is not taken over by another worker
// of the group (a dead worker's are: TestWorkerReclaimsFromDeadConsumer).
func TestWorkerHeartbeatKeepsSlowHandler(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		var runs atomic.Int32
		var ev events
		opts := streams.WorkerOptions{Group: "g", StartID: "0", ClaimIdle: 300 * time.Millisecond, Block: time.Second, Events: ev.add}
		slow := func(ctx context.Context, m streams.Message) error {
			runs.Add(1)
			time.Sleep(900 * time.Millisecond)
			return nil
		}
		opts.Consumer = "a"
		a, _ := streams.NewWorker(rdb, "slow", slow, opts)
		opts.Consumer = "b"
		b, _ := streams.NewWorker(rdb, "slow", slow, opts)
		publishN(t, rdb, "slow", 1)
		stopA := runWorker(t, a)
		eventually(t, "a runs it", func() bool { return runs.Load() == 1 })
		stopB := runWorker(t, b)
		eventually(t, "acknowledged", func() bool { return pending(t, rdb, "slow", "g") == 0 })
		stopA()
		stopB()
		if n := runs.Load(); n != 1 {
			t.Errorf("the slow message ran %d times, want once", n)
		}
		if n := ev.count(streams.EventReclaimed, ""); n != 0 {
			t.Errorf("%d taken over from a live worker", n)
		}
	})
}
