package streams_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/internal/app/apptest"
	"github.com/runnel-io/runnel/internal/redistest"
	"github.com/runnel-io/runnel/streams"
)

// server is a server the library's tests run against.
type server struct {
	name string
	idmp bool // XADD IDMP (Redis 8.6+, Runnel)
	addr func(testing.TB) string
}

var servers = []server{
	{"runnel", true, func(tb testing.TB) string { _, addr := apptest.Start(tb); return addr }},
	{"redis-server", false, func(tb testing.TB) string { return redistest.StartRedis(tb).Addr() }},
}

// eachServer runs fn against in-process Runnel and against redis-server
// (skipped with a message when it is not installed, failed instead under
// RUNNEL_REQUIRE_REDIS=1), with a fresh client.
func eachServer(t *testing.T, fn func(t *testing.T, srv server, rdb redis.UniversalClient)) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			rdb := redis.NewClient(&redis.Options{Addr: srv.addr(t)})
			t.Cleanup(func() { rdb.Close() })
			fn(t, srv, rdb)
		})
	}
}

// eachServerAndProtocol is eachServer with clients speaking RESP2 and
// RESP3 (go-redis's default), for code that reads raw replies.
func eachServerAndProtocol(t *testing.T, fn func(t *testing.T, srv server, rdb redis.UniversalClient)) {
	for _, srv := range servers {
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/RESP%d", srv.name, proto), func(t *testing.T) {
				rdb := redis.NewClient(&redis.Options{Addr: srv.addr(t), Protocol: proto})
				t.Cleanup(func() { rdb.Close() })
				fn(t, srv, rdb)
			})
		}
	}
}

type order struct {
	ID       string  `redis:"order_id"`
	Amount   float64 `redis:"amount"`
	Customer string  `redis:"customer_id"`
	Note     string  `redis:"note,omitempty"`
	internal int
	Skipped  string `redis:"-"`
}

func TestPublish(t *testing.T) {
	ctx := context.Background()
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		p := streams.NewProducer(rdb, "orders-stream", streams.ProducerOptions{})
		if p.Stream() != "orders-stream" {
			t.Fatalf("Stream() = %q", p.Stream())
		}
		cases := []struct {
			v    any
			want map[string]any
		}{
			{map[string]any{"b": 2, "a": "x", "t": time.Unix(1700000000, 5).UTC(), "d": 1500 * time.Millisecond},
				map[string]any{"a": "x", "b": "2", "d": "1.5s", "t": "2023-11-14T22:13:20.000000005Z"}},
			{map[string]string{"k": "v"}, map[string]any{"k": "v"}},
			{[]string{"f", "1", "g", "2"}, map[string]any{"f": "1", "g": "2"}},
			{[]any{"n", 3.25, "ok", true, "raw", []byte{0, 1}}, map[string]any{"n": "3.25", "ok": "true", "raw": "\x00\x01"}},
			{order{ID: "o-1", Amount: 12.5, Customer: "c-9", internal: 1, Skipped: "x"},
				map[string]any{"order_id": "o-1", "amount": "12.5", "customer_id": "c-9"}},
			{&order{ID: "o-2", Note: "gift"}, map[string]any{"order_id": "o-2", "amount": "0", "customer_id": "", "note": "gift"}},
		}
		var ids []string
		for _, c := range cases {
			id, err := p.Publish(ctx, c.v)
			if err != nil {
				t.Fatalf("Publish(%#v): %v", c.v, err)
			}
			ids = append(ids, id)
		}
		got, err := rdb.XRange(ctx, "orders-stream", "-", "+").Result()
		if err != nil || len(got) != len(cases) {
			t.Fatalf("XRANGE: %d entries, %v", len(got), err)
		}
		for i, m := range got {
			if m.ID != ids[i] {
				t.Errorf("entry %d: ID %s, Publish returned %s", i, m.ID, ids[i])
			}
			if len(m.Values) != len(cases[i].want) {
				t.Errorf("entry %d: %v, want %v", i, m.Values, cases[i].want)
			}
			for k, v := range cases[i].want {
				if m.Values[k] != v {
					t.Errorf("entry %d field %s = %q, want %q", i, k, m.Values[k], v)
				}
			}
		}
		// Field order is the map's sorted order, so equal maps give equal entries.
		if xs, _ := rdb.XRangeN(ctx, "orders-stream", "-", "+", 1).Result(); len(xs) == 1 {
			raw, _ := rdb.Do(ctx, "XRANGE", "orders-stream", xs[0].ID, xs[0].ID).Slice()
			fields := raw[0].([]any)[1].([]any)
			if fields[0] != "a" || fields[2] != "b" || fields[4] != "d" || fields[6] != "t" {
				t.Errorf("map fields not in sorted order: %v", fields)
			}
		}
		for _, bad := range []any{map[string]any{}, []string{"odd"}, []any{1, "x"}, 42, (*order)(nil), map[string]any{"f": nil}, map[string]any{"f": struct{}{}}} {
			if _, err := p.Publish(ctx, bad); err == nil {
				t.Errorf("Publish(%#v) succeeded", bad)
			}
		}
		if _, err := p.Publish(ctx, map[string]any{}); !errors.Is(err, streams.ErrNoFields) {
			t.Errorf("empty message: %v, want ErrNoFields", err)
		}
	})
}

func TestPublishRetention(t *testing.T) {
	ctx := context.Background()
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		byLen := streams.NewProducer(rdb, "by-len", streams.ProducerOptions{MaxLen: 100})
		for i := range 1000 {
			if _, err := byLen.Publish(ctx, map[string]any{"i": i}); err != nil {
				t.Fatal(err)
			}
		}
		// MAXLEN ~ trims whole nodes of 100 entries: 100..199 stay.
		if n := rdb.XLen(ctx, "by-len").Val(); n < 100 || n >= 200 {
			t.Errorf("XLEN with MaxLen 100: %d", n)
		}

		// By age: entries published with explicit old IDs, then a publish
		// whose clock says the first ones are older than MaxAge.
		now := time.Now()
		for i := range 300 {
			ms := now.Add(-time.Hour).UnixMilli() + int64(i)
			rdb.XAdd(ctx, &redis.XAddArgs{Stream: "by-age", ID: strconv.FormatInt(ms, 10) + "-0", Values: []any{"old", i}})
		}
		byAge := streams.NewProducer(rdb, "by-age", streams.ProducerOptions{MaxAge: 10 * time.Minute})
		if _, err := byAge.Publish(ctx, map[string]any{"new": 1}); err != nil {
			t.Fatal(err)
		}
		// MINID ~ drops the whole nodes below the threshold: of 301 entries
		// at most the last node of old ones (<100) may stay.
		if n := rdb.XLen(ctx, "by-age").Val(); n < 1 || n > 100 {
			t.Errorf("XLEN with MaxAge: %d", n)
		}

		both := streams.NewProducer(rdb, "by-both", streams.ProducerOptions{MaxLen: 1000, MaxAge: 10 * time.Minute})
		for i := range 300 {
			ms := now.Add(-time.Hour).UnixMilli() + int64(i)
			rdb.XAdd(ctx, &redis.XAddArgs{Stream: "by-both", ID: strconv.FormatInt(ms, 10) + "-0", Values: []any{"old", i}})
		}
		if _, err := both.Publish(ctx, map[string]any{"new": 1}); err != nil {
			t.Fatal(err)
		}
		if n := rdb.XLen(ctx, "by-both").Val(); n < 1 || n > 100 {
			t.Errorf("XLEN with MaxLen and MaxAge: %d", n)
		}
	})
}

func TestPublishOnce(t *testing.T) {
	ctx := context.Background()
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		p := streams.NewProducer(rdb, "payments", streams.ProducerOptions{ProducerID: "payment-service", MaxLen: 1000})
		first, err := p.PublishOnce(ctx, "order-17", map[string]any{"status": "paid"})
		if !srv.idmp {
			if !errors.Is(err, streams.ErrIDMPUnsupported) {
				t.Fatalf("PublishOnce on a server without IDMP: %v, want ErrIDMPUnsupported", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		again, err := p.PublishOnce(ctx, "order-17", map[string]any{"status": "paid"})
		if err != nil || again != first {
			t.Fatalf("retried PublishOnce = %s, %v; want the first ID %s", again, err, first)
		}
		other, err := p.PublishOnce(ctx, "order-18", map[string]any{"status": "paid"})
		if err != nil || other == first {
			t.Fatalf("PublishOnce of another key = %s, %v", other, err)
		}
		if n := rdb.XLen(ctx, "payments").Val(); n != 2 {
			t.Fatalf("XLEN %d, want 2", n)
		}
		if _, err := streams.NewProducer(rdb, "payments", streams.ProducerOptions{}).PublishOnce(ctx, "k", map[string]any{"f": 1}); err == nil {
			t.Error("PublishOnce without a ProducerID succeeded")
		}
		if _, err := p.PublishOnce(ctx, "", map[string]any{"f": 1}); err == nil {
			t.Error("PublishOnce with an empty key succeeded")
		}
	})
}
