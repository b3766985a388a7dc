package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestXReadGroupClaimBlockWakesOnIdle checks XREADGROUP ... BLOCK ... CLAIM
// (Redis 8.4; redis-streams-spec.md §7): with nothing new and nothing idle
// enough, the reader blocks, and it is served when a pending entry reaches
// min-idle-time, although no write signals that moment. An XNACK wakes it
// at once.
func TestXReadGroupClaimBlockWakesOnIdle(t *testing.T) {
	_, addr := startApp(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto})
			defer rdb.Close()
			rdb.FlushAll(ctx)
			must := func(args ...any) any {
				t.Helper()
				v, err := rdb.Do(ctx, args...).Result()
				if err != nil {
					t.Fatalf("%v: %v", args, err)
				}
				return v
			}
			must("XADD", "s", "1-0", "f", "v")
			must("XGROUP", "CREATE", "s", "g", "0")
			delivered := time.Now()
			must("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")

			// Nothing is idle for 400 ms yet: c2 blocks until 1-0 is.
			start := time.Now()
			v := must("XREADGROUP", "GROUP", "g", "c2", "BLOCK", "5000", "CLAIM", "400", "STREAMS", "s", ">")
			waited, idleFor := time.Since(start), time.Since(delivered)
			// Delivery times are whole milliseconds: allow one.
			if idleFor < 399*time.Millisecond || waited > 3*time.Second {
				t.Fatalf("served after %v (entry idle %v), want when the entry reaches 400 ms idle", waited, idleFor)
			}
			if got := fmt.Sprint(claimedIDs(t, v)); got != "[1-0]" {
				t.Fatalf("claimed %s, want [1-0]; reply %#v", got, v)
			}
			owner := must("XPENDING", "s", "g", "-", "+", "10").([]any)[0].([]any)[1]
			if owner != "c2" {
				t.Fatalf("1-0 is owned by %v, want c2", owner)
			}

			// A reader blocked with a long min-idle-time is woken by XNACK:
			// a NACKed entry is claimable at once.
			done := make(chan any, 1)
			other := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto})
			defer other.Close()
			start = time.Now()
			go func() {
				v, err := other.Do(ctx, "XREADGROUP", "GROUP", "g", "c3", "BLOCK", "5000", "CLAIM", "60000", "STREAMS", "s", ">").Result()
				if err != nil {
					done <- err
					return
				}
				done <- v
			}()
			waitBlocked(t, rdb, 1)
			must("XNACK", "s", "g", "FAIL", "IDS", "1", "1-0")
			select {
			case v := <-done:
				if err, ok := v.(error); ok {
					t.Fatal(err)
				}
				if got := fmt.Sprint(claimedIDs(t, v)); got != "[1-0]" {
					t.Fatalf("after XNACK: claimed %s, want [1-0]", got)
				}
				if w := time.Since(start); w > 3*time.Second {
					t.Fatalf("XNACK woke the reader after %v", w)
				}
			case <-time.After(4 * time.Second):
				t.Fatal("XNACK did not wake the blocked XREADGROUP ... CLAIM")
			}
		})
	}
}

// claimedIDs extracts the entry IDs of a one-stream XREADGROUP reply
// (RESP2 [[key, entries]] or RESP3 {key: entries}).
func claimedIDs(t *testing.T, v any) []string {
	t.Helper()
	var entries []any
	switch r := v.(type) {
	case []any:
		entries = r[0].([]any)[1].([]any)
	case map[any]any:
		for _, e := range r {
			entries = e.([]any)
		}
	default:
		t.Fatalf("unexpected reply %#v", v)
	}
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.([]any)[0].(string))
	}
	return ids
}

// waitBlocked waits until INFO reports n blocked clients.
func waitBlocked(t *testing.T, rdb *redis.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	want := fmt.Sprintf("blocked_clients:%d\r", n)
	for time.Now().Before(deadline) {
		info, err := rdb.Info(context.Background(), "clients").Result()
		if err == nil && strings.Contains(info, want) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("never %d blocked clients", n)
}
