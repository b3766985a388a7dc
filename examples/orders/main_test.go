package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/internal/app/apptest"
	"github.com/runnel-io/runnel/internal/redistest"
	"github.com/runnel-io/runnel/streams"
)

// server is a server the example runs against.
type server struct {
	name string
	idmp bool // XADD IDMP (Runnel; Redis 8.6+)
	addr func(testing.TB) string
}

var servers = []server{
	{"runnel", true, func(tb testing.TB) string { _, addr := apptest.Start(tb); return addr }},
	{"redis-server", false, func(tb testing.TB) string { return redistest.StartRedis(tb).Addr() }},
}

// runExample runs the program with args and returns its summary line by
// field name, failing the test if it fails.
func runExample(t *testing.T, args ...string) map[string]string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	// -v: the workers' log, shown if the run fails.
	if err := run(t.Context(), append(args, "-v"), &stdout, &stderr); err != nil {
		t.Fatalf("run %q: %v\nstdout: %s\nstderr: %s", args, err, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("run %q printed %d lines, want 1:\n%s", args, len(lines), stdout.String())
	}
	got := map[string]string{}
	for f := range strings.FieldsSeq(lines[0]) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("summary %q: field %q is not name=value", lines[0], f)
		}
		got[k] = v
	}
	t.Logf("%s", lines[0])
	return got
}

// TestRun runs the whole system end to end, the issue's "a few thousand
// orders" first, then reruns on the same server, which --reset makes
// clean.
func TestRun(t *testing.T) {
	cases := []struct {
		args                                     []string
		orders, processed, deadLettered, retries int
	}{
		// Every 97th order is poison, retried twice; every 13th fails
		// once, but 1261 is both.
		{[]string{"--orders", "2000"}, 2000, 1980, 20, 20*2 + 153 - 1},
		{[]string{"--orders", "300", "--fail-every", "10", "--max-deliveries", "2"}, 300, 270, 30, 30*1 + 23 - 2},
		// No poison, and no retry: order 13, 26 and 39's one failure
		// dead-letters them.
		{[]string{"--orders", "40", "--fail-every", "0", "--max-deliveries", "1"}, 40, 37, 3, 0},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			addr := srv.addr(t)
			for _, c := range cases {
				got := runExample(t, append([]string{"--addr", addr}, c.args...)...)
				var revenue int64
				for n := 1; n <= c.orders; n++ {
					revenue += orderCents(n)
				}
				want := map[string]string{
					"orders":            strconv.Itoa(c.orders),
					"processed":         strconv.Itoa(c.processed),
					"dead-lettered":     strconv.Itoa(c.deadLettered),
					"duplicate-effects": "0",
					"retries":           strconv.Itoa(c.retries),
					"notified":          strconv.Itoa(c.processed),
					"analytics":         strconv.Itoa(c.orders),
					"revenue":           formatCents(revenue),
				}
				for k, v := range want {
					if got[k] != v {
						t.Errorf("%q: %s=%s, want %s", c.args, k, got[k], v)
					}
				}
				email, _ := strconv.Atoi(got["email"])
				sms, _ := strconv.Atoi(got["sms"])
				if email+sms != c.processed {
					t.Errorf("%q: email=%s sms=%s, want %d in all", c.args, got["email"], got["sms"], c.processed)
				}
				if _, ok := got["elapsed"]; !ok {
					t.Errorf("%q: no elapsed", c.args)
				}
			}
		})
	}
}

func TestRunRefuses(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--orders", "0"}, "--orders"},
		{[]string{"--max-deliveries", "0"}, "--max-deliveries"},
		{[]string{"--fail-every", "-1"}, "--fail-every"},
		{[]string{"--timeout", "0s"}, "--timeout"},
		{[]string{"--orders", "x"}, "invalid value"},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"--addr", "127.0.0.1:1"}, "127.0.0.1:1"}, // nothing listens there
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), c.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error()+stderr.String(), c.want) {
			t.Errorf("run %q: %v (stderr %q), want an error about %s", c.args, err, stderr.String(), c.want)
		}
		if stdout.Len() > 0 {
			t.Errorf("run %q printed %q", c.args, stdout.String())
		}
	}
}

// TestNoReset: without --reset the example leaves existing keys alone and
// refuses to run, rather than count their contents with its own.
func TestNoReset(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			addr := srv.addr(t)
			rdb := redis.NewClient(&redis.Options{Addr: addr})
			t.Cleanup(func() { rdb.Close() })
			ctx := t.Context()
			runExample(t, "--addr", addr, "--orders", "10", "--reset=false") // nothing there yet
			var stdout, stderr bytes.Buffer
			err := run(ctx, []string{"--addr", addr, "--orders", "10", "--reset=false"}, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), "--reset") {
				t.Fatalf("second run without --reset: %v, want a refusal", err)
			}
			if n, err := rdb.XLen(ctx, ordersStream).Result(); err != nil || n != 10 {
				t.Errorf("orders-stream holds %d entries (%v), want the first run's 10", n, err)
			}
			keys, err := rdb.Keys(ctx, keyPrefix+"*").Result()
			if err != nil || len(keys) == 0 {
				t.Errorf("idempotency keys: %q (%v), want the first run's", keys, err)
			}
		})
	}
}

// TestOrderAPI drives the order service's HTTP API directly.
func TestOrderAPI(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			rdb := redis.NewClient(&redis.Options{Addr: srv.addr(t)})
			t.Cleanup(func() { rdb.Close() })
			ts := httptest.NewServer(newOrderService(rdb, 1000).routes())
			t.Cleanup(ts.Close)

			post := func(body string) (int, string) {
				t.Helper()
				resp, err := http.Post(ts.URL+"/orders", "application/json", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var r struct{ ID string }
				json.NewDecoder(resp.Body).Decode(&r)
				return resp.StatusCode, r.ID
			}
			cases := []struct {
				body string
				code int
			}{
				{`{"order_id":"order-1","customer_id":"c-1","amount":12.5}`, http.StatusCreated},
				{`{"order_id":"order-2","customer_id":"c-1","amount":0}`, http.StatusBadRequest},
				{`{"order_id":"","customer_id":"c-1","amount":1}`, http.StatusBadRequest},
				{`{"order_id":"order-3","customer_id":"c-1","amount":1,"coupon":"x"}`, http.StatusBadRequest},
				{`{"order_id":`, http.StatusBadRequest},
			}
			for _, c := range cases {
				if code, _ := post(c.body); code != c.code {
					t.Errorf("POST %s: %d, want %d", c.body, code, c.code)
				}
			}
			// A client retrying a POST: XADD IDMP keeps the order once
			// where the server has it.
			_, first := post(`{"order_id":"order-9","customer_id":"c-2","amount":3}`)
			_, again := post(`{"order_id":"order-9","customer_id":"c-2","amount":3}`)
			if (first == again) != srv.idmp || first == "" {
				t.Errorf("order-9 posted twice: IDs %q and %q; IDMP %v", first, again, srv.idmp)
			}
			got, err := rdb.XRange(context.Background(), ordersStream, "-", "+").Result()
			want := 3
			if srv.idmp {
				want = 2
			}
			if err != nil || len(got) != want {
				t.Fatalf("orders-stream: %v (%v), want %d entries", got, err, want)
			}
			if v := got[0].Values; v["order_id"] != "order-1" || v["customer_id"] != "c-1" || v["amount"] != "12.5" {
				t.Errorf("first order stored as %v", v)
			}

			resp, err := http.Get(ts.URL + "/healthz")
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("GET /healthz: %v %v", resp, err)
			}
			if resp != nil {
				resp.Body.Close()
			}
		})
	}
}

func TestOrderNumber(t *testing.T) {
	cases := []struct {
		id string
		n  int
	}{
		{"order-1", 1}, {"order-2970", 2970}, {"order-0", 0}, {"order--1", 0},
		{"order-", 0}, {"order-x", 0}, {"ord-1", 0}, {"", 0},
	}
	for _, c := range cases {
		if n := orderNumber(c.id); n != c.n {
			t.Errorf("orderNumber(%q) = %d, want %d", c.id, n, c.n)
		}
	}
	for _, n := range []int{1, 97, 3000} {
		if got := orderNumber(orderID(n)); got != n {
			t.Errorf("orderNumber(orderID(%d)) = %d", n, got)
		}
	}
}

// TestCheckCatches makes sure the final check is not vacuous: after a
// good run, each case spoils one thing, and check must report it.
func TestCheckCatches(t *testing.T) {
	cfg := config{orders: 30, failEvery: 10, maxDeliveries: 3}
	args := []string{"--orders", "30", "--fail-every", "10", "--max-deliveries", "3"}
	cases := []struct {
		name  string
		spoil func(ctx context.Context, rdb *redis.Client, led *ledgers) error
		want  string
	}{
		{"nothing", func(context.Context, *redis.Client, *ledgers) error { return nil }, ""},
		{"payment twice", func(ctx context.Context, rdb *redis.Client, _ *ledgers) error {
			return rdb.XAdd(ctx, &redis.XAddArgs{Stream: paymentsStream, Values: []string{"order_id", "order-1", "status", "paid"}}).Err()
		}, "1 duplicate effects"},
		{"poison paid", func(ctx context.Context, rdb *redis.Client, _ *ledgers) error {
			return rdb.XAdd(ctx, &redis.XAddArgs{Stream: paymentsStream, Values: []string{"order_id", "order-10", "status", "paid"}}).Err()
		}, `order "order-10" should not exist`},
		{"notified twice", func(_ context.Context, _ *redis.Client, led *ledgers) error {
			led.notified.add("order-1", "sms")
			return nil
		}, "1 duplicate effects"},
		{"counted twice", func(_ context.Context, _ *redis.Client, led *ledgers) error {
			led.analytics.orders.add("order-2", "")
			return nil
		}, "1 duplicate effects"},
		{"a retry too many", func(_ context.Context, _ *redis.Client, led *ledgers) error {
			led.payments.Failed.Add(1)
			return nil
		}, "retried 9 times, want 8"},
		{"left pending", func(ctx context.Context, rdb *redis.Client, _ *ledgers) error {
			// Delivered again, and not acknowledged.
			if err := rdb.XGroupSetID(ctx, paymentsStream, notifyGroup, "0").Err(); err != nil {
				return err
			}
			return rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: notifyGroup, Consumer: "c", Streams: []string{paymentsStream, ">"}, Count: 1}).Err()
		}, "group notifiers of payments-stream: 1 entries still pending"},
		{"dead letter lost", func(ctx context.Context, rdb *redis.Client, _ *ledgers) error {
			dl, err := streams.ListDeadLetters(ctx, rdb, deadLetters, streams.DeadLetterQuery{Count: 1})
			if err != nil || len(dl) == 0 {
				return fmt.Errorf("dead letters: %v %v", dl, err)
			}
			return rdb.XDel(ctx, deadLetters, dl[0].ID).Err()
		}, "27 orders paid and 2 dead-lettered, want 27 and 3"},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			addr := srv.addr(t)
			rdb := redis.NewClient(&redis.Options{Addr: addr})
			t.Cleanup(func() { rdb.Close() })
			for _, c := range cases {
				runExample(t, append([]string{"--addr", addr}, args...)...)
				ctx := t.Context()
				// The ledgers of a good run, rebuilt.
				led := newLedgers()
				for n := 1; n <= cfg.orders; n++ {
					if doomed(cfg, n) == nil {
						led.notified.add(orderID(n), "email")
					} else {
						led.payments.DeadLettered.Add(1)
					}
					led.analytics.orders.add(orderID(n), "")
					led.analytics.revenue.Add(orderCents(n))
					led.payments.Failed.Add(int64(retriesOf(cfg, n)))
				}
				if err := c.spoil(ctx, rdb, led); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				_, err := check(ctx, rdb, cfg, led)
				switch {
				case c.want == "" && err != nil:
					t.Errorf("%s: check: %v", c.name, err)
				case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
					t.Errorf("%s: check: %v, want an error with %q", c.name, err, c.want)
				}
			}
		})
	}
}
