package streams_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/streams"
)

// ackFault fails the first XACK a client sends: the handler's effect is
// done but the message stays pending and comes back.
type ackFault struct{ failed atomic.Bool }

func (h *ackFault) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *ackFault) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "xack" && h.failed.CompareAndSwap(false, true) {
			err := errors.New("injected: XACK lost")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}
func (h *ackFault) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func TestIdempotentRunsEffectOnce(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		ctx := context.Background()
		c := redis.NewClient(&redis.Options{Addr: rdb.(*redis.Client).Options().Addr})
		defer c.Close()
		c.AddHook(&ackFault{})
		var mu sync.Mutex
		effects := map[string]int{} // order -> times charged
		runs := map[string]int{}    // entry ID -> handler runs past the middleware
		charge := func(ctx context.Context, m streams.Message) error {
			mu.Lock()
			defer mu.Unlock()
			runs[m.ID]++
			if m.Values["order"] == "flaky" && runs[m.ID] == 1 {
				return errors.New("injected: gateway timeout") // releases its claim
			}
			if m.Values["order"] == "slow" {
				mu.Unlock()
				time.Sleep(100 * time.Millisecond)
				mu.Lock()
			}
			effects[m.Values["order"]]++
			return nil
		}
		h := streams.Chain(charge, streams.Idempotent(c, streams.IdempotencyOptions{
			Key: func(m streams.Message) string { return "order:" + m.Values["order"] },
		}))
		var ev events
		w, _ := streams.NewWorker(c, "orders-stream", h, streams.WorkerOptions{Group: "g", StartID: "0", Concurrency: 2,
			MaxDeliveries: 3, Backoff: fixedBackoff(10 * time.Millisecond), Block: time.Second, Events: ev.add})
		p := streams.NewProducer(rdb, "orders-stream", streams.ProducerOptions{})
		for _, o := range []string{"1", "1", "flaky", "slow", "slow", "2"} { // "1" and "slow" published twice
			if _, err := p.Publish(ctx, map[string]string{"order": o}); err != nil {
				t.Fatal(err)
			}
		}
		stop := runWorker(t, w)
		eventually(t, "all acknowledged", func() bool {
			return ev.count(streams.EventHandled, "") == 6 && pending(t, rdb, "orders-stream", "g") == 0
		})
		stop()
		mu.Lock()
		defer mu.Unlock()
		for _, o := range []string{"1", "flaky", "slow", "2"} {
			if effects[o] != 1 {
				t.Errorf("order %s charged %d times, want once (effects %v)", o, effects[o], effects)
			}
		}
		// The first message's XACK was lost: it came back, and the
		// middleware did not run it again.
		if n := ev.count(streams.EventDeadLettered, ""); n != 0 {
			t.Errorf("%d dead-lettered: waiting for a key in progress must not use up deliveries", n)
		}
		if ev.count(streams.EventError, "") != 1 {
			t.Errorf("%d errors reported, want the one lost XACK", ev.count(streams.EventError, ""))
		}
		for _, k := range []string{"order:1", "order:flaky", "order:slow", "order:2"} {
			v, err := rdb.Get(ctx, "streams:idem:"+k).Result()
			if err != nil || v != "done" {
				t.Errorf("%s = %q, %v; want done", k, v, err)
			}
			if ttl := rdb.TTL(ctx, "streams:idem:"+k).Val(); ttl < 23*time.Hour {
				t.Errorf("%s TTL %v, want about 24h", k, ttl)
			}
		}
	})
}

func TestIdempotentInProgress(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		ctx := context.Background()
		entered, release := make(chan struct{}), make(chan struct{})
		h := streams.Idempotent(rdb, streams.IdempotencyOptions{Lease: time.Minute})(func(ctx context.Context, m streams.Message) error {
			close(entered)
			<-release
			return nil
		})
		m := streams.Message{Stream: "s", Group: "g", Consumer: "c", ID: "1-1", Values: map[string]string{}, Deliveries: 1}
		errc := make(chan error)
		go func() { errc <- h(ctx, m) }()
		<-entered
		if err := h(ctx, m); !errors.Is(err, streams.ErrInProgress) {
			t.Errorf("a second delivery while the first runs: %v, want ErrInProgress", err)
		}
		if ttl := rdb.PTTL(ctx, "streams:idem:g:s:1-1").Val(); ttl <= 0 || ttl > time.Minute {
			t.Errorf("the claim's TTL is %v, want the 1m lease", ttl)
		}
		close(release)
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if err := h(ctx, m); err != nil {
			t.Errorf("a delivery after the effect: %v, want nil (acknowledged, not run)", err)
		}
	})
}

func TestCounters(t *testing.T) {
	var c streams.Counters
	for _, ev := range []streams.Event{
		{Kind: streams.EventHandled, Duration: 2 * time.Millisecond},
		{Kind: streams.EventHandled, Duration: time.Millisecond},
		{Kind: streams.EventFailed, Duration: time.Millisecond},
		{Kind: streams.EventDeadLettered},
		{Kind: streams.EventReclaimed},
		{Kind: streams.EventError},
	} {
		c.Observe(ev)
	}
	got := []int64{c.Handled.Load(), c.Failed.Load(), c.DeadLettered.Load(), c.Reclaimed.Load(), c.Errors.Load(), c.HandlerNanos.Load()}
	want := []int64{2, 1, 1, 1, 1, int64(4 * time.Millisecond)}
	if !slices.Equal(got, want) {
		t.Errorf("counters %v, want %v", got, want)
	}
	if s := streams.EventDeadLettered.String(); s != "dead-lettered" {
		t.Errorf("String() = %q", s)
	}
}
