package streams_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/streams"
)

// deadLetter is a dead letter as a Worker writes one.
type deadLetter struct {
	stream, id, group, consumer, deliveries, err string
	fields                                       []string
}

// addDeadLetter appends d to dlq in the dead-letter format (the metadata
// fields, then the original ones) and returns its ID.
func addDeadLetter(tb testing.TB, rdb redis.UniversalClient, dlq string, d deadLetter) string {
	tb.Helper()
	args := []any{"XADD", dlq, "*",
		"dlq-stream", d.stream, "dlq-id", d.id, "dlq-group", d.group,
		"dlq-consumer", d.consumer, "dlq-deliveries", d.deliveries, "dlq-error", d.err}
	for _, f := range d.fields {
		args = append(args, f)
	}
	id, err := rdb.Do(context.Background(), args...).Text()
	if err != nil {
		tb.Fatalf("XADD %s: %v", dlq, err)
	}
	return id
}

// rawEntries is XRANGE key - + as (ID, fields in stored order) pairs.
func rawEntries(tb testing.TB, rdb redis.UniversalClient, key string) (ids []string, fields [][]string) {
	tb.Helper()
	v, err := rdb.Do(context.Background(), "XRANGE", key, "-", "+").Slice()
	if err != nil {
		tb.Fatalf("XRANGE %s: %v", key, err)
	}
	for _, e := range v {
		parts := e.([]any)
		ids = append(ids, parts[0].(string))
		var fs []string
		for _, f := range parts[1].([]any) {
			fs = append(fs, f.(string))
		}
		fields = append(fields, fs)
	}
	return ids, fields
}

func dlIDs(ds []streams.DeadLetter) []string {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return ids
}

func TestListDeadLetters(t *testing.T) {
	ctx := context.Background()
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		const dlq = streams.DefaultDeadLetterStream
		var all, orders, ordersBilling []string
		for i := range 12 {
			d := deadLetter{stream: "orders", id: fmt.Sprintf("1-%d", i), group: "billing", consumer: "w1",
				deliveries: "5", err: "boom", fields: []string{"i", fmt.Sprint(i)}}
			if i%3 == 1 {
				d.stream = "payments"
			}
			if i%2 == 1 {
				d.group = "shipping"
			}
			id := addDeadLetter(t, rdb, dlq, d)
			all = append(all, id)
			if d.stream == "orders" {
				orders = append(orders, id)
				if d.group == "billing" {
					ordersBilling = append(ordersBilling, id)
				}
			}
		}
		// An entry other code wrote, without the metadata.
		foreign, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: dlq, Values: []string{"dlq-stream", "x", "k", "v"}}).Result()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, foreign)

		cases := []struct {
			name string
			q    streams.DeadLetterQuery
			want []string
		}{
			{"all", streams.DeadLetterQuery{}, all},
			{"count", streams.DeadLetterQuery{Count: 5}, all[:5]},
			{"start inclusive", streams.DeadLetterQuery{Start: all[3], Count: 2}, all[3:5]},
			{"start exclusive", streams.DeadLetterQuery{Start: "(" + all[3], Count: 2}, all[4:6]},
			{"stream", streams.DeadLetterQuery{Stream: "orders"}, orders},
			{"stream and group", streams.DeadLetterQuery{Stream: "orders", Group: "billing"}, ordersBilling},
			{"filtered count", streams.DeadLetterQuery{Stream: "orders", Count: 3}, orders[:3]},
			{"filtered from", streams.DeadLetterQuery{Stream: "orders", Start: "(" + orders[2], Count: 2}, orders[3:5]},
			{"no match", streams.DeadLetterQuery{Group: "nobody"}, nil},
			{"past the end", streams.DeadLetterQuery{Start: "(" + foreign}, nil},
		}
		for _, c := range cases {
			got, err := streams.ListDeadLetters(ctx, rdb, dlq, c.q)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if ids := dlIDs(got); !slices.Equal(ids, c.want) {
				t.Errorf("%s: got %v, want %v", c.name, ids, c.want)
			}
		}

		// Paging by "(" + last ID visits every entry once.
		var paged []string
		q := streams.DeadLetterQuery{Count: 4}
		for {
			page, err := streams.ListDeadLetters(ctx, rdb, dlq, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, dlIDs(page)...)
			q.Start = "(" + page[len(page)-1].ID
		}
		if !slices.Equal(paged, all) {
			t.Errorf("paged: %v, want %v", paged, all)
		}

		got, _ := streams.ListDeadLetters(ctx, rdb, dlq, streams.DeadLetterQuery{Count: 1})
		want := streams.DeadLetter{ID: all[0], Stream: "orders", MessageID: "1-0", Group: "billing", Consumer: "w1",
			Deliveries: 5, Error: "boom", Fields: []string{"i", "0"}}
		if len(got) != 1 || !equalDeadLetter(got[0], want) {
			t.Errorf("first: %+v, want %+v", got, want)
		}
		for _, bad := range []streams.DeadLetterQuery{{Count: -1}, {Start: "nonsense"}} {
			if _, err := streams.ListDeadLetters(ctx, rdb, dlq, bad); err == nil {
				t.Errorf("%+v: no error", bad)
			}
		}
		if got, err := streams.ListDeadLetters(ctx, rdb, "no-such-dlq", streams.DeadLetterQuery{}); err != nil || len(got) != 0 {
			t.Errorf("missing stream: %v, %v", got, err)
		}
	})
}

// TestListDeadLettersPages crosses more than one internal page of a
// filtered scan.
func TestListDeadLettersPages(t *testing.T) {
	ctx := context.Background()
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		const dlq = "dlq"
		var want []string
		for i := range 1200 {
			d := deadLetter{stream: "s", id: "1-1", group: "g", consumer: "c", deliveries: "1", err: "e", fields: []string{"i", fmt.Sprint(i)}}
			if i%100 == 7 {
				d.group = "rare"
			}
			id := addDeadLetter(t, rdb, dlq, d)
			if d.group == "rare" {
				want = append(want, id)
			}
		}
		got, err := streams.ListDeadLetters(ctx, rdb, dlq, streams.DeadLetterQuery{Group: "rare"})
		if err != nil || !slices.Equal(dlIDs(got), want) {
			t.Errorf("rare: %v, %v; want %v", dlIDs(got), err, want)
		}
		got, err = streams.ListDeadLetters(ctx, rdb, dlq, streams.DeadLetterQuery{Count: 1000})
		if err != nil || len(got) != 1000 {
			t.Errorf("Count 1000: %d, %v", len(got), err)
		}
	})
}

func equalDeadLetter(a, b streams.DeadLetter) bool {
	return a.ID == b.ID && a.Stream == b.Stream && a.MessageID == b.MessageID && a.Group == b.Group &&
		a.Consumer == b.Consumer && a.Deliveries == b.Deliveries && a.Error == b.Error && slices.Equal(a.Fields, b.Fields)
}

func TestGetDeadLetter(t *testing.T) {
	ctx := context.Background()
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		const dlq = "dlq"
		fields := []string{"order_id", "o-1", "dlq-stream", "not metadata", "order_id", "o-2"}
		id := addDeadLetter(t, rdb, dlq, deadLetter{stream: "orders", id: "1700000000000-3", group: "billing",
			consumer: "worker-h-1", deliveries: "7", err: "card declined\nretry later", fields: fields})
		foreign, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: dlq, ID: "9000000000000-0", Values: []string{"dlq-stream", "orders", "k", "v"}}).Result()
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			id   string
			want streams.DeadLetter
		}{
			{id, streams.DeadLetter{ID: id, Stream: "orders", MessageID: "1700000000000-3", Group: "billing",
				Consumer: "worker-h-1", Deliveries: 7, Error: "card declined\nretry later", Fields: fields}},
			{foreign, streams.DeadLetter{ID: foreign, Fields: []string{"dlq-stream", "orders", "k", "v"}}},
			// An ID without its sequence number is its -0.
			{"9000000000000", streams.DeadLetter{ID: foreign, Fields: []string{"dlq-stream", "orders", "k", "v"}}},
		}
		for _, c := range cases {
			got, err := streams.GetDeadLetter(ctx, rdb, dlq, c.id)
			if err != nil || !equalDeadLetter(got, c.want) {
				t.Errorf("%s: %+v, %v; want %+v", c.id, got, err, c.want)
			}
		}
		for _, missing := range []string{"1-1", "9000000000000-1", "9000000000001"} {
			if _, err := streams.GetDeadLetter(ctx, rdb, dlq, missing); !errors.Is(err, streams.ErrDeadLetterNotFound) {
				t.Errorf("%s: %v, want ErrDeadLetterNotFound", missing, err)
			}
		}
		if _, err := streams.GetDeadLetter(ctx, rdb, "no-such-dlq", id); !errors.Is(err, streams.ErrDeadLetterNotFound) {
			t.Errorf("missing stream: %v, want ErrDeadLetterNotFound", err)
		}
		if _, err := streams.GetDeadLetter(ctx, rdb, dlq, "bad-id"); err == nil || errors.Is(err, streams.ErrDeadLetterNotFound) {
			t.Errorf("invalid ID: %v, want the server's error", err)
		}
	})
}

func TestRedrive(t *testing.T) {
	ctx := context.Background()
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		const dlq = "dlq"
		// A group on the source stream that has read everything so far.
		if _, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: "orders", Values: []string{"seed", "1"}}).Result(); err != nil {
			t.Fatal(err)
		}
		if err := rdb.XGroupCreate(ctx, "orders", "billing", "$").Err(); err != nil {
			t.Fatal(err)
		}
		// Repeated names, and an original field named like metadata.
		fields := []string{"order_id", "o-1", "dlq-stream", "elsewhere", "order_id", "o-2", "empty", ""}
		id1 := addDeadLetter(t, rdb, dlq, deadLetter{stream: "orders", id: "5-0", group: "billing", consumer: "c", deliveries: "5", err: "e", fields: fields})
		id2 := addDeadLetter(t, rdb, dlq, deadLetter{stream: "payments", id: "6-0", group: "g", consumer: "c", deliveries: "1", err: "e", fields: []string{"p", "1"}})
		keep := addDeadLetter(t, rdb, dlq, deadLetter{stream: "orders", id: "7-0", group: "billing", consumer: "c", deliveries: "5", err: "e", fields: []string{"k", "v"}})

		got, err := streams.Redrive(ctx, rdb, dlq, id1, id2)
		if err != nil || len(got) != 2 {
			t.Fatalf("Redrive: %+v, %v", got, err)
		}
		for i, c := range []struct{ id, stream string }{{id1, "orders"}, {id2, "payments"}} {
			if got[i].ID != c.id || got[i].Stream != c.stream || got[i].NewID == "" {
				t.Errorf("result %d: %+v, want %s -> %s", i, got[i], c.id, c.stream)
			}
		}
		ids, fs := rawEntries(t, rdb, "orders")
		if len(ids) != 2 || ids[1] != got[0].NewID || !slices.Equal(fs[1], fields) {
			t.Errorf("orders: %v %q; want the redriven %s with %q", ids, fs, got[0].NewID, fields)
		}
		if ids, fs := rawEntries(t, rdb, "payments"); len(ids) != 1 || ids[0] != got[1].NewID || !slices.Equal(fs[0], []string{"p", "1"}) {
			t.Errorf("payments: %v %q", ids, fs)
		}
		if ids, _ := rawEntries(t, rdb, dlq); !slices.Equal(ids, []string{keep}) {
			t.Errorf("dlq after redrive: %v, want only %s", ids, keep)
		}

		// The group reads the redriven message as new.
		res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "billing", Consumer: "c", Streams: []string{"orders", ">"}, Count: 10, Block: -1}).Result()
		if err != nil || len(res) != 1 || len(res[0].Messages) != 1 || res[0].Messages[0].ID != got[0].NewID {
			t.Fatalf("XREADGROUP: %+v, %v; want %s", res, err, got[0].NewID)
		}
		if v := res[0].Messages[0].Values; v["order_id"] != "o-2" || v["dlq-stream"] != "elsewhere" {
			t.Errorf("group read %v", v)
		}

		// Gone (already redriven), never there, and a partial batch.
		for _, missing := range [][]string{{id1}, {"1-1"}} {
			if got, err := streams.Redrive(ctx, rdb, dlq, missing...); !errors.Is(err, streams.ErrDeadLetterNotFound) || len(got) != 0 {
				t.Errorf("Redrive(%v): %+v, %v; want ErrDeadLetterNotFound", missing, got, err)
			}
		}
		got, err = streams.Redrive(ctx, rdb, dlq, keep, id2)
		if !errors.Is(err, streams.ErrDeadLetterNotFound) || len(got) != 1 || got[0].ID != keep {
			t.Errorf("Redrive(keep, id2): %+v, %v; want keep done, then ErrDeadLetterNotFound", got, err)
		}
		if err != nil && !strings.Contains(err.Error(), id2) {
			t.Errorf("error %q does not name %s", err, id2)
		}
		if n, _ := rdb.XLen(ctx, dlq).Result(); n != 0 {
			t.Errorf("dlq has %d entries, want 0", n)
		}
	})
}

func TestRedriveRefuses(t *testing.T) {
	ctx := context.Background()
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		const dlq = "dlq"
		foreign, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: dlq, Values: []string{"k", "v"}}).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := rdb.Set(ctx, "a-string", "x", 0).Err(); err != nil {
			t.Fatal(err)
		}
		wrongType := addDeadLetter(t, rdb, dlq, deadLetter{stream: "a-string", id: "1-1", group: "g", consumer: "c", deliveries: "1", err: "e", fields: []string{"k", "v"}})
		noFields := addDeadLetter(t, rdb, dlq, deadLetter{stream: "orders", id: "1-1", group: "g", consumer: "c", deliveries: "1", err: "e"})
		cases := []struct {
			id      string
			wantErr error
		}{
			{foreign, streams.ErrNoSource},
			{wrongType, nil},
			{noFields, nil},
		}
		for _, c := range cases {
			got, err := streams.Redrive(ctx, rdb, dlq, c.id)
			if err == nil || len(got) != 0 || (c.wantErr != nil && !errors.Is(err, c.wantErr)) {
				t.Errorf("Redrive(%s): %+v, %v; want an error (%v)", c.id, got, err, c.wantErr)
			}
		}
		if ids, _ := rawEntries(t, rdb, dlq); !slices.Equal(ids, []string{foreign, wrongType, noFields}) {
			t.Errorf("dlq: %v, want every entry kept", ids)
		}
		if n, _ := rdb.Exists(ctx, "orders").Result(); n != 0 {
			t.Errorf("orders was created")
		}
	})
}

// TestRedriveFailedXADD makes the XADD fail inside EXEC (the source stream
// has used up its IDs), where the XDEL still runs: the dead letter must be
// put back, not lost.
func TestRedriveFailedXADD(t *testing.T) {
	ctx := context.Background()
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		const dlq = "dlq"
		const last = "18446744073709551615-18446744073709551615"
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: "full", ID: last, Values: []string{"f", "v"}}).Err(); err != nil {
			t.Fatal(err)
		}
		fields := []string{"a", "1", "a", "2"}
		id := addDeadLetter(t, rdb, dlq, deadLetter{stream: "full", id: "1-1", group: "g", consumer: "c", deliveries: "3", err: "e", fields: fields})
		got, err := streams.Redrive(ctx, rdb, dlq, id)
		if err == nil || len(got) != 0 {
			t.Fatalf("Redrive: %+v, %v; want an error", got, err)
		}
		ds, lerr := streams.ListDeadLetters(ctx, rdb, dlq, streams.DeadLetterQuery{})
		if lerr != nil || len(ds) != 1 {
			t.Fatalf("dlq: %+v, %v; want the dead letter back", ds, lerr)
		}
		want := streams.DeadLetter{ID: ds[0].ID, Stream: "full", MessageID: "1-1", Group: "g", Consumer: "c", Deliveries: 3, Error: "e", Fields: fields}
		if !equalDeadLetter(ds[0], want) || !strings.Contains(err.Error(), ds[0].ID) {
			t.Errorf("back in the dlq as %+v (error %q); want %+v", ds[0], err, want)
		}
		if ids, _ := rawEntries(t, rdb, "full"); !slices.Equal(ids, []string{last}) {
			t.Errorf("full: %v", ids)
		}
	})
}

// TestRedriveConcurrent redrives the same dead letters from many clients
// at once, with other writes to the DLQ going on: each is moved exactly
// once.
func TestRedriveConcurrent(t *testing.T) {
	ctx := context.Background()
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		const dlq, n, clients = "dlq", 20, 4
		var ids []string
		for i := range n {
			ids = append(ids, addDeadLetter(t, rdb, dlq, deadLetter{stream: "orders", id: "1-1", group: "g", consumer: "c", deliveries: "1", err: "e", fields: []string{"i", fmt.Sprint(i)}}))
		}
		var mu sync.Mutex
		moved := map[string]int{}
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for _, id := range ids {
					got, err := streams.Redrive(ctx, rdb, dlq, id)
					if err != nil && !errors.Is(err, streams.ErrDeadLetterNotFound) {
						t.Errorf("Redrive(%s): %v", id, err)
					}
					mu.Lock()
					for _, r := range got {
						moved[r.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Go(func() { // another writer to the DLQ fails some EXECs
			for range n {
				if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: dlq, Values: []string{"k", "v"}}).Err(); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Wait()
		for _, id := range ids {
			if moved[id] != 1 {
				t.Errorf("%s moved %d times", id, moved[id])
			}
		}
		if l, _ := rdb.XLen(ctx, "orders").Result(); l != n {
			t.Errorf("orders has %d entries, want %d", l, n)
		}
		if l, _ := rdb.XLen(ctx, dlq).Result(); l != n {
			t.Errorf("dlq has %d entries, want the %d others", l, n)
		}
	})
}

func TestRedriveAll(t *testing.T) {
	ctx := context.Background()
	eachServer(t, func(t *testing.T, srv server, rdb redis.UniversalClient) {
		const dlq = "dlq"
		var billing, others []string
		for i := range 10 {
			d := deadLetter{stream: "orders", id: "1-1", group: "billing", consumer: "c", deliveries: "5", err: "e", fields: []string{"i", fmt.Sprint(i)}}
			if i%2 == 1 {
				d.group = "shipping"
			}
			id := addDeadLetter(t, rdb, dlq, d)
			if d.group == "billing" {
				billing = append(billing, id)
			} else {
				others = append(others, id)
			}
		}
		foreign, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: dlq, Values: []string{"k", "v"}}).Result()
		if err != nil {
			t.Fatal(err)
		}

		got, err := streams.RedriveAll(ctx, rdb, dlq, streams.DeadLetterQuery{Stream: "orders", Group: "billing", Count: 2})
		if err != nil || !slices.Equal(resultIDs(got), billing[:2]) {
			t.Errorf("Count 2: %v, %v; want %v", resultIDs(got), err, billing[:2])
		}
		got, err = streams.RedriveAll(ctx, rdb, dlq, streams.DeadLetterQuery{Group: "billing"})
		if err != nil || !slices.Equal(resultIDs(got), billing[2:]) {
			t.Errorf("billing: %v, %v; want %v", resultIDs(got), err, billing[2:])
		}
		if ids, _ := rawEntries(t, rdb, dlq); !slices.Equal(ids, append(slices.Clone(others), foreign)) {
			t.Errorf("dlq: %v, want %v and %s", ids, others, foreign)
		}
		_, fs := rawEntries(t, rdb, "orders")
		for i, f := range fs {
			if want := []string{"i", fmt.Sprint(2 * i)}; !slices.Equal(f, want) {
				t.Errorf("orders entry %d: %q, want %q", i, f, want)
			}
		}

		// Everything: the foreign entry stays and is reported.
		got, err = streams.RedriveAll(ctx, rdb, dlq, streams.DeadLetterQuery{})
		if !errors.Is(err, streams.ErrNoSource) || !strings.Contains(err.Error(), foreign) || !slices.Equal(resultIDs(got), others) {
			t.Errorf("all: %v, %v; want %v and ErrNoSource naming %s", resultIDs(got), err, others, foreign)
		}
		if ids, _ := rawEntries(t, rdb, dlq); !slices.Equal(ids, []string{foreign}) {
			t.Errorf("dlq: %v, want only %s", ids, foreign)
		}
		if n, _ := rdb.XLen(ctx, "orders").Result(); n != 10 {
			t.Errorf("orders has %d entries, want 10", n)
		}
		if got, err := streams.RedriveAll(ctx, rdb, "no-such-dlq", streams.DeadLetterQuery{}); err != nil || len(got) != 0 {
			t.Errorf("empty: %v, %v", got, err)
		}
	})
}

func resultIDs(rs []streams.RedriveResult) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}
