package streams_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/streams"
)

// runWorker runs w until the test ends (or stop is called) and returns stop,
// which cancels it and waits for Run to return.
func runWorker(t *testing.T, w *streams.Worker) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-errc })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func pending(t *testing.T, rdb redis.UniversalClient, stream, group string) int64 {
	t.Helper()
	p, err := rdb.XPending(context.Background(), stream, group).Result()
	if err != nil {
		t.Fatal(err)
	}
	return p.Count
}

func publishN(t *testing.T, rdb redis.UniversalClient, stream string, n int) {
	t.Helper()
	p := streams.NewProducer(rdb, stream, streams.ProducerOptions{})
	for i := range n {
		if _, err := p.Publish(context.Background(), map[string]any{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWorkerProcessesAndAcks(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		var mu sync.Mutex
		seen := map[string]int{}
		var running, maxRunning atomic.Int32
		w, err := streams.NewWorker(rdb, "jobs", func(ctx context.Context, m streams.Message) error {
			r := running.Add(1)
			for {
				old := maxRunning.Load()
				if r <= old || maxRunning.CompareAndSwap(old, r) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			running.Add(-1)
			mu.Lock()
			seen[m.Values["n"]]++
			mu.Unlock()
			if m.Stream != "jobs" || m.ID == "" {
				t.Errorf("message %+v", m)
			}
			return nil
		}, streams.WorkerOptions{Group: "g", StartID: "0", Concurrency: 4, Block: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		publishN(t, rdb, "jobs", 100) // before Run: StartID 0 takes them
		stop := runWorker(t, w)
		publishN(t, rdb, "jobs", 100) // while it blocks
		eventually(t, "200 messages handled", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == 100 && total(seen) == 200 })
		eventually(t, "every message acknowledged", func() bool { return pending(t, rdb, "jobs", "g") == 0 })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if m := maxRunning.Load(); m > 4 || m < 2 {
			t.Errorf("at most %d handlers ran at once, want 2..4", m)
		}
	})
}

func total(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

// TestWorkerFailureStaysPendingAndRestartResumes: a failed message waits
// for its retry pending with this consumer; the same consumer, restarted
// before the retry, delivers it again first, and acknowledges it once
// handled.
func TestWorkerFailureStaysPendingAndRestartResumes(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		publishN(t, rdb, "q", 10)
		var handled atomic.Int32
		failing := func(ctx context.Context, m streams.Message) error {
			if m.Values["n"] == "3" || m.Values["n"] == "7" {
				return errors.New("injected failure")
			}
			handled.Add(1)
			return nil
		}
		opts := streams.WorkerOptions{Group: "g", Consumer: "worker-a", StartID: "0", Block: 50 * time.Millisecond,
			Backoff: func(int) time.Duration { return time.Hour }, ClaimIdle: 4 * time.Hour}
		w, _ := streams.NewWorker(rdb, "q", failing, opts)
		stop := runWorker(t, w)
		eventually(t, "8 handled", func() bool { return handled.Load() == 8 })
		eventually(t, "2 left pending", func() bool { return pending(t, rdb, "q", "g") == 2 })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		var again []string
		var mu sync.Mutex
		w2, _ := streams.NewWorker(rdb, "q", func(ctx context.Context, m streams.Message) error {
			mu.Lock()
			again = append(again, m.Values["n"])
			mu.Unlock()
			return nil
		}, opts)
		stop = runWorker(t, w2)
		eventually(t, "the pending ones acknowledged", func() bool { return pending(t, rdb, "q", "g") == 0 })
		stop()
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(again) != "[3 7]" {
			t.Fatalf("the restarted worker handled %v, want [3 7]", again)
		}
	})
}

// TestWorkerGracefulShutdown: once Run's context is done it reads no more,
// waits for the handler in flight and acknowledges its message.
func TestWorkerGracefulShutdown(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		started := make(chan struct{}, 10)
		release := make(chan struct{})
		var handled atomic.Int32
		w, _ := streams.NewWorker(rdb, "slow", func(ctx context.Context, m streams.Message) error {
			started <- struct{}{}
			<-release
			handled.Add(1)
			return nil
		}, streams.WorkerOptions{Group: "g", StartID: "0", Block: 50 * time.Millisecond})
		publishN(t, rdb, "slow", 3)
		stop := runWorker(t, w)
		<-started
		stopped := make(chan error, 1)
		go func() { stopped <- stop() }()
		select {
		case err := <-stopped:
			t.Fatalf("Run returned (%v) with a handler in flight", err)
		case <-time.After(200 * time.Millisecond):
		}
		close(release)
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		if handled.Load() != 1 {
			t.Fatalf("%d handled, want only the one in flight", handled.Load())
		}
		// The one in flight was acknowledged; the two never read stay
		// in the stream for the group, not pending with the worker.
		if n := pending(t, rdb, "slow", "g"); n != 0 {
			t.Fatalf("%d pending after a graceful shutdown, want 0", n)
		}
	})
}

func TestWorkerGroupAndConsumer(t *testing.T) {
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		ctx := context.Background()
		if err := rdb.XGroupCreateMkStream(ctx, "exists", "g", "$").Err(); err != nil {
			t.Fatal(err)
		}
		var handled atomic.Int32
		w, err := streams.NewWorker(rdb, "exists", func(context.Context, streams.Message) error { handled.Add(1); return nil },
			streams.WorkerOptions{Group: "g", Block: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		host, _ := os.Hostname()
		if want := fmt.Sprintf("worker-%s-%d", host, os.Getpid()); w.Consumer() != want || streams.DefaultConsumerName() != want {
			t.Fatalf("consumer %q, want %q", w.Consumer(), want)
		}
		if !regexp.MustCompile(`^worker-.+-\d+$`).MatchString(w.Consumer()) {
			t.Fatalf("consumer %q", w.Consumer())
		}
		stop := runWorker(t, w) // BUSYGROUP is fine
		publishN(t, rdb, "exists", 5)
		eventually(t, "5 handled", func() bool { return handled.Load() == 5 })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if _, err := streams.NewWorker(rdb, "x", func(context.Context, streams.Message) error { return nil }, streams.WorkerOptions{}); err == nil {
			t.Error("a Worker without a group was accepted")
		}
		if _, err := streams.NewWorker(rdb, "x", nil, streams.WorkerOptions{Group: "g"}); err == nil {
			t.Error("a Worker without a handler was accepted")
		}
		rdb.Set(ctx, "notastream", "v", 0)
		bad, _ := streams.NewWorker(rdb, "notastream", func(context.Context, streams.Message) error { return nil }, streams.WorkerOptions{Group: "g"})
		if err := bad.Run(ctx); err == nil {
			t.Error("Run on a string key succeeded")
		}
	})
}
