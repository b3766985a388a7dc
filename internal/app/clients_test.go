package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// startApp runs an in-process Runnel until the test ends.
func startApp(tb testing.TB) (*App, string) {
	tb.Helper()
	a := New(nil, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go a.Serve(l)
	tb.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	return a, l.Addr().String()
}

// TestGoRedis runs go-redis v9 (RESP3 by default) against Runnel: the
// handshake, plain commands, a pipeline and WATCH/MULTI/EXEC transactions.
func TestGoRedis(t *testing.T) {
	_, addr := startApp(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto, DB: 2})
			defer rdb.Close()
			if err := rdb.Ping(ctx).Err(); err != nil {
				t.Fatalf("PING: %v", err)
			}
			if err := rdb.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			if got, err := rdb.Get(ctx, "k").Result(); err != nil || got != "v" {
				t.Fatalf("GET = %q, %v", got, err)
			}
			if _, err := rdb.Get(ctx, "missing").Result(); !errors.Is(err, redis.Nil) {
				t.Fatalf("GET missing: %v, want redis.Nil", err)
			}
			cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i := 0; i < 100; i++ {
					p.Incr(ctx, "counter")
				}
				return nil
			})
			if err != nil || len(cmds) != 100 {
				t.Fatalf("pipeline: %d cmds, %v", len(cmds), err)
			}
			if n := cmds[99].(*redis.IntCmd).Val(); n != 100 {
				t.Fatalf("last INCR = %d, want 100", n)
			}
			// Optimistic locking: a transaction on a watched key.
			err = rdb.Watch(ctx, func(tx *redis.Tx) error {
				n, err := tx.Get(ctx, "counter").Int()
				if err != nil {
					return err
				}
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, "counter", n*2, 0)
					return nil
				})
				return err
			}, "counter")
			if err != nil {
				t.Fatalf("WATCH transaction: %v", err)
			}
			if n, _ := rdb.Get(ctx, "counter").Int(); n != 200 {
				t.Fatalf("counter = %d, want 200", n)
			}
			// A watched key changed by another client aborts the transaction.
			other := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto, DB: 2})
			defer other.Close()
			err = rdb.Watch(ctx, func(tx *redis.Tx) error {
				other.Set(ctx, "counter", 1, 0)
				_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, "counter", 2, 0)
					return nil
				})
				return err
			}, "counter")
			if !errors.Is(err, redis.TxFailedErr) {
				t.Fatalf("conflicting transaction: %v, want TxFailedErr", err)
			}
			if err := rdb.FlushDB(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRueidis runs rueidis (RESP3 only, auto-pipelining) against Runnel.
func TestRueidis(t *testing.T) {
	_, addr := startApp(t)
	ctx := context.Background()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		t.Fatalf("rueidis.NewClient: %v", err)
	}
	defer c.Close()
	if err := c.Do(ctx, c.B().Set().Key("rk").Value("1").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	// Concurrent commands are auto-pipelined on one connection.
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		go func() { errs <- c.Do(ctx, c.B().Incr().Key("rk").Build()).Error() }()
	}
	for i := 0; i < 50; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.Do(ctx, c.B().Get().Key("rk").Build()).AsInt64(); err != nil || n != 51 {
		t.Fatalf("GET rk = %d, %v; want 51", n, err)
	}
	// MULTI/EXEC on a dedicated connection.
	err = c.Dedicated(func(d rueidis.DedicatedClient) error {
		res := d.DoMulti(ctx,
			d.B().Multi().Build(),
			d.B().Set().Key("a").Value("x").Build(),
			d.B().Incr().Key("rk").Build(),
			d.B().Exec().Build())
		for _, r := range res {
			if err := r.Error(); err != nil {
				return err
			}
		}
		vals, err := res[3].ToArray()
		if err != nil || len(vals) != 2 {
			return fmt.Errorf("EXEC reply %v, %v", vals, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("transaction: %v", err)
	}
}
