package app

// Real client libraries run the article's Redis Streams flows (producer
// with MAXLEN ~, consumer group with BUSYGROUP tolerated, read/ack loop,
// dead-letter sweep with XPENDING/XRANGE/XADD/XACK, XCLAIM and XAUTOCLAIM
// recovery, monitoring, and a blocked reader woken by another client)
// through their own stream APIs against an in-process Runnel: go-redis v9
// (RESP2 and RESP3) and rueidis (RESP3 and RESP2) in Go, redis-py (Debian's
// python3-redis) and ioredis through scripts in testdata/clients.
//
// Every client fills in the same scSummary and scCheck asserts its values;
// the scripts print it as JSON. The exact command sequences of
// StackExchange.Redis, the article's own client, are compared with
// redis-server byte for byte in internal/difftest/stream_article_test.go.
//
// Time passing (an entry idle for minutes) is simulated with XCLAIM IDLE
// and RETRYCOUNT on the entry's current owner, a setup step and not a call
// the article makes.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	"github.com/runnel-io/runnel/internal/redistest"
)

// The article's names and limits.
const (
	scOrders    = "orders-stream"
	scGroup     = "order-processors"
	scDead      = "orders-dead-letter"
	scPayments  = "payments-stream"
	scNotifiers = "notifiers"
	scMaxLen    = 100_000 // MAXLEN ~ 100000
	scClaimIdle = 60 * time.Second
	scDeadIdle  = 300 * time.Second // pending this long and delivered
	scDeadCount = 3                 // more than this often: dead letter
)

// scIoredisVersion is the ioredis release the test installs (5.x supports
// the Node.js 18 of Debian 12 as well as newer ones).
const scIoredisVersion = "5.11.1"

// scRow is a tuple as the scripts print it: a JSON array of strings and
// numbers. Rows compare by their fmt.Sprint form, so 4 and 4.0 agree.
type scRow []any

// scSummary is what one client observed running the article's flow. The
// field names are the JSON keys article.py and article.js print.
type scSummary struct {
	Client     string   `json:"client"`
	Consumer   string   `json:"consumer"` // worker-{host}-{pid}
	Crashed    string   `json:"crashed"`  // the worker that dies
	Created    bool     `json:"created"`
	BusyGroup  string   `json:"busygroup"`
	EmptyRead  int      `json:"empty_read"`
	IDs        []string `json:"ids"` // the 12 orders
	Batches    []int    `json:"batches"`
	Acked      int      `json:"acked"`
	Failed     []string `json:"failed"`
	EarlyClaim int      `json:"early_claim"`
	Pending    []scRow  `json:"pending"` // [id, consumer, deliveries]
	PendingOK  bool     `json:"pending_idle_ok"`
	DeadMoved  []string `json:"dead_moved"`
	DeadItems  []scRow  `json:"dead_entries"` // [orderId, fields]
	Reclaim    struct {
		ID      string   `json:"id"`
		Claimed []string `json:"claimed"`
		Owner   string   `json:"owner"`
		Count   int      `json:"count"`
	} `json:"reclaim"`
	AutoClaim struct {
		IDs     []string `json:"ids"`
		Claimed []string `json:"claimed"`
		Next    string   `json:"next"`
		Deleted []string `json:"deleted"`
	} `json:"autoclaim"`
	InfoStream struct {
		Length         int64  `json:"length"`
		EntriesAdded   int64  `json:"entries_added"`
		Groups         int64  `json:"groups"`
		LastGenerated  string `json:"last_generated_id"`
		FirstEntry     string `json:"first_entry"`
		LastEntry      string `json:"last_entry"`
		LastEntryOrder string `json:"last_entry_order"`
	} `json:"info_stream"`
	InfoGroups    []scGroupInfo `json:"info_groups"`
	InfoConsumers []scRow       `json:"info_consumers"` // [name, pending]
	Trim          int64         `json:"trim"`
	XDel          int64         `json:"xdel"`
	XLen          int64         `json:"xlen"`
	AfterDelete   struct {
		FirstEntry string `json:"first_entry"`
		MaxDeleted string `json:"max_deleted"`
	} `json:"after_delete"`
	Block struct {
		Added          string   `json:"added"`
		Woken          []string `json:"woken"`
		Ms             float64  `json:"ms"`
		TimeoutEntries int      `json:"timeout_entries"`
		TimeoutMs      float64  `json:"timeout_ms"`
		BlockedAfter   int64    `json:"blocked_after"`
	} `json:"block"`
}

// scGroupInfo is one XINFO GROUPS entry.
type scGroupInfo struct {
	Name          string `json:"name"`
	Consumers     int64  `json:"consumers"`
	Pending       int64  `json:"pending"`
	LastDelivered string `json:"last_delivered_id"`
	EntriesRead   int64  `json:"entries_read"`
	Lag           int64  `json:"lag"`
}

// scParseID parses a stream ID as servers send it.
func scParseID(t *testing.T, id string) [2]uint64 {
	t.Helper()
	ms, seq, ok := strings.Cut(id, "-")
	a, err1 := strconv.ParseUint(ms, 10, 64)
	b, err2 := strconv.ParseUint(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("%q is not a stream ID", id)
	}
	return [2]uint64{a, b}
}

// scIncreasing requires ids to be well-formed and strictly increasing.
func scIncreasing(t *testing.T, what string, ids ...string) {
	t.Helper()
	for i := 1; i < len(ids); i++ {
		a, b := scParseID(t, ids[i-1]), scParseID(t, ids[i])
		if a[0] > b[0] || a[0] == b[0] && a[1] >= b[1] {
			t.Errorf("%s: %s does not follow %s", what, ids[i], ids[i-1])
		}
	}
}

func scEq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
		t.Errorf("%s: got %s, want %s", what, g, w)
	}
}

// scCheck asserts what a client observed against what the flow must
// produce (the values Redis itself gives for it).
func scCheck(t *testing.T, s scSummary) {
	t.Helper()
	t.Logf("%s: orders %s..%s", s.Client, s.IDs[0], s.IDs[len(s.IDs)-1])
	if !s.Created || !strings.HasPrefix(s.BusyGroup, "BUSYGROUP ") {
		t.Errorf("group creation: created %v, second create %q", s.Created, s.BusyGroup)
	}
	scEq(t, "read before any order", s.EmptyRead, 0)
	if len(s.IDs) != 12 {
		t.Fatalf("%d orders added, want 12: %v", len(s.IDs), s.IDs)
	}
	scIncreasing(t, "orders", s.IDs...)
	scEq(t, "batches read (COUNT 10)", s.Batches, []int{10, 2, 0})
	scEq(t, "acknowledged", s.Acked, 11)
	scEq(t, "failed", s.Failed, s.IDs[4:5])
	scEq(t, "XCLAIM before the timeout", s.EarlyClaim, 0)
	scEq(t, "pending", s.Pending, []scRow{{s.IDs[4], s.Consumer, scDeadCount + 1}})
	if !s.PendingOK {
		t.Errorf("XPENDING idle times not past %v", scDeadIdle)
	}
	scEq(t, "moved to the dead letter stream", s.DeadMoved, s.IDs[4:5])
	scEq(t, "dead letter entries", s.DeadItems, []scRow{{"ORD-2026-0104", 5}})

	scIncreasing(t, "reclaimed after the orders", s.IDs[11], s.Reclaim.ID)
	scEq(t, "XCLAIM", s.Reclaim.Claimed, []string{s.Reclaim.ID})
	scEq(t, "reclaimed entry's owner and deliveries", []any{s.Reclaim.Owner, s.Reclaim.Count}, []any{s.Consumer, 2})

	a := s.AutoClaim
	if len(a.IDs) != 2 {
		t.Fatalf("autoclaim IDs %v", a.IDs)
	}
	scIncreasing(t, "autoclaim entries", s.Reclaim.ID, a.IDs[0], a.IDs[1])
	scEq(t, "XAUTOCLAIM claimed", a.Claimed, a.IDs[:1])
	scEq(t, "XAUTOCLAIM next start", a.Next, "0-0")
	scEq(t, "XAUTOCLAIM deleted", len(a.Deleted), 0)

	last := a.IDs[1]
	is := s.InfoStream
	scEq(t, "XINFO STREAM", []any{is.Length, is.EntriesAdded, is.Groups, is.LastGenerated, is.FirstEntry, is.LastEntry, is.LastEntryOrder},
		[]any{15, 15, 1, last, s.IDs[0], last, "ORD-2026-0502"})
	scEq(t, "XINFO GROUPS", s.InfoGroups, []scGroupInfo{{scGroup, 2, 1, last, 15, 0}})
	consumers := map[string]string{}
	for _, c := range s.InfoConsumers {
		if len(c) == 2 {
			consumers[fmt.Sprint(c[0])] = fmt.Sprint(c[1])
		}
	}
	scEq(t, "XINFO CONSUMERS", consumers, map[string]string{s.Consumer: "0", s.Crashed: "1"})
	scEq(t, "XTRIM MAXLEN ~ 50000, XDEL, XLEN", []int64{s.Trim, s.XDel, s.XLen}, []int64{0, 1, 14})
	scEq(t, "first entry and max-deleted-entry-id after XDEL of the first entry",
		[]string{s.AfterDelete.FirstEntry, s.AfterDelete.MaxDeleted}, []string{s.IDs[1], s.IDs[0]})

	b := s.Block
	scEq(t, "blocked reader woken by XADD", b.Woken, []string{b.Added})
	if b.Ms >= 5000 {
		t.Errorf("the blocked reader returned after %.0f ms: the XADD did not wake it", b.Ms)
	}
	scEq(t, "XREADGROUP BLOCK 100 with nothing new", b.TimeoutEntries, 0)
	if b.TimeoutMs < 90 || b.TimeoutMs > 3000 {
		t.Errorf("XREADGROUP BLOCK 100 returned after %.0f ms", b.TimeoutMs)
	}
	scEq(t, "blocked clients afterwards", b.BlockedAfter, 0)
}

// scEntry is an entry as the flow uses it.
type scEntry struct {
	ID     string
	Fields map[string]string
}

// scPending is one row of XPENDING's extended form.
type scPending struct {
	ID, Consumer string
	Idle         time.Duration
	Count        int64
}

// scStreamInfo is what the flow reads of XINFO STREAM.
type scStreamInfo struct {
	Length, EntriesAdded, Groups int64
	LastGenerated, MaxDeleted    string
	First, Last                  scEntry
}

// scClient is the article flow's view of a client library: each method is
// one call of the library's stream API (or, for Do, its generic command
// call), its reply converted to plain values.
type scClient interface {
	FlushAll(ctx context.Context) error
	// CreateGroup is XGROUP CREATE key group $ MKSTREAM.
	CreateGroup(ctx context.Context, key, group string) error
	// Add is XADD key [MAXLEN ~ maxLen] * pairs... (no cap if maxLen is 0).
	Add(ctx context.Context, key string, maxLen int64, pairs ...string) (string, error)
	// ReadGroup is XREADGROUP ... COUNT count [BLOCK ms] STREAMS key >;
	// block < 0 sends no BLOCK. A null reply is no entries and no error.
	ReadGroup(ctx context.Context, group, consumer, key string, count int64, block time.Duration) ([]scEntry, error)
	Ack(ctx context.Context, key, group string, ids ...string) (int64, error)
	Pending(ctx context.Context, key, group, start, end string, count int64) ([]scPending, error)
	Range(ctx context.Context, key, start, end string) ([]scEntry, error)
	Claim(ctx context.Context, key, group, consumer string, minIdle time.Duration, ids ...string) ([]scEntry, error)
	AutoClaim(ctx context.Context, key, group, consumer string, minIdle time.Duration, start string, count int64) (next string, claimed []scEntry, deleted []string, err error)
	InfoStream(ctx context.Context, key string) (scStreamInfo, error)
	InfoGroups(ctx context.Context, key string) ([]scGroupInfo, error)
	InfoConsumers(ctx context.Context, key, group string) (map[string]int64, error)
	TrimApprox(ctx context.Context, key string, maxLen int64) (int64, error)
	Del(ctx context.Context, key string, ids ...string) (int64, error)
	Len(ctx context.Context, key string) (int64, error)
	Do(ctx context.Context, args ...string) error
	BlockedClients(ctx context.Context) (int64, error)
}

// scWorker is the article's consumer name, worker-{host}-{pid}, for the
// n-th worker process of this host.
func scWorker(n int) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("worker-%s-%d", host, os.Getpid()+n)
}

// scOrder is the producer's five fields.
func scOrder(id, amount string) []string {
	return []string{"orderId", id, "customerId", "C-1234", "amount", amount, "status", "pending",
		"timestamp", strconv.FormatInt(time.Now().UnixMilli(), 10)}
}

// scTimeMachine makes id (owned by owner) look idle for idle and
// delivered count times.
func scTimeMachine(ctx context.Context, c scClient, owner, id string, idle time.Duration, count int) error {
	return c.Do(ctx, "XCLAIM", scOrders, scGroup, owner, "0", id, "IDLE", strconv.FormatInt(idle.Milliseconds(), 10),
		"RETRYCOUNT", strconv.Itoa(count), "JUSTID")
}

func scIDsOf(entries []scEntry) []string {
	ids := []string{}
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	return ids
}

// scFlow runs the article's flow through c (other is a second client, the
// one that wakes the blocked reader); it is article.py and article.js in
// Go.
func scFlow(t *testing.T, c, other scClient, name string) scSummary {
	t.Helper()
	ctx := context.Background()
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %s: %v", name, what, err)
		}
	}
	s := scSummary{Client: name, Consumer: scWorker(0), Crashed: scWorker(1)}
	must(c.FlushAll(ctx), "FLUSHALL")

	must(c.CreateGroup(ctx, scOrders, scGroup), "XGROUP CREATE MKSTREAM")
	s.Created = true
	if err := c.CreateGroup(ctx, scOrders, scGroup); err != nil {
		s.BusyGroup = err.Error()
	}
	read := func(consumer string) []scEntry {
		t.Helper()
		got, err := c.ReadGroup(ctx, scGroup, consumer, scOrders, 10, -1)
		must(err, "XREADGROUP")
		return got
	}
	s.EmptyRead = len(read(s.Consumer))

	add := func(key string, maxLen int64, pairs ...string) string {
		t.Helper()
		id, err := c.Add(ctx, key, maxLen, pairs...)
		must(err, "XADD")
		return id
	}
	s.IDs = append(s.IDs, add(scOrders, 0, scOrder("ORD-2026-0042", "2500000")...))
	s.IDs = append(s.IDs, add(scOrders, scMaxLen, "orderId", "ORD-2026-0043", "amount", "1800000"))
	for i := 2; i < 12; i++ {
		amount := strconv.Itoa(1_000_000 + i)
		if i == 4 {
			amount = "n/a"
		}
		s.IDs = append(s.IDs, add(scOrders, scMaxLen, scOrder(fmt.Sprintf("ORD-2026-%04d", 100+i), amount)...))
	}

	ack := func(key, group, id string) int64 {
		t.Helper()
		n, err := c.Ack(ctx, key, group, id)
		must(err, "XACK")
		return n
	}
	for {
		got := read(s.Consumer)
		s.Batches = append(s.Batches, len(got))
		if len(got) == 0 {
			break
		}
		for _, e := range got {
			if _, err := strconv.ParseFloat(e.Fields["amount"], 64); err != nil {
				s.Failed = append(s.Failed, e.ID)
				continue
			}
			s.Acked += int(ack(scOrders, scGroup, e.ID))
		}
	}
	if len(s.Failed) != 1 {
		t.Fatalf("%s: failed %v", name, s.Failed)
	}

	early, err := c.Claim(ctx, scOrders, scGroup, s.Consumer, scClaimIdle, s.Failed...)
	must(err, "XCLAIM")
	s.EarlyClaim = len(early)
	must(scTimeMachine(ctx, c, s.Consumer, s.Failed[0], scDeadIdle+time.Minute, scDeadCount+1), "XCLAIM IDLE")
	pending, err := c.Pending(ctx, scOrders, scGroup, "-", "+", 20)
	must(err, "XPENDING")
	s.PendingOK = true
	for _, p := range pending {
		s.Pending = append(s.Pending, scRow{p.ID, p.Consumer, p.Count})
		s.PendingOK = s.PendingOK && p.Idle > scDeadIdle
	}
	for _, p := range pending {
		if p.Idle > scDeadIdle && p.Count > scDeadCount {
			entry, err := c.Range(ctx, scOrders, p.ID, p.ID)
			must(err, "XRANGE")
			if len(entry) > 0 {
				var pairs []string
				for _, f := range []string{"orderId", "customerId", "amount", "status", "timestamp"} {
					pairs = append(pairs, f, entry[0].Fields[f])
				}
				add(scDead, 0, pairs...)
				ack(scOrders, scGroup, p.ID)
				s.DeadMoved = append(s.DeadMoved, p.ID)
			}
		}
	}
	dead, err := c.Range(ctx, scDead, "-", "+")
	must(err, "XRANGE dead letter")
	for _, e := range dead {
		s.DeadItems = append(s.DeadItems, scRow{e.Fields["orderId"], len(e.Fields)})
	}

	rid := add(scOrders, 0, scOrder("ORD-2026-0500", "10")...)
	scEq(t, name+": crashed worker's read", scIDsOf(read(s.Crashed)), []string{rid})
	must(scTimeMachine(ctx, c, s.Crashed, rid, scClaimIdle+30*time.Second, 1), "XCLAIM IDLE")
	claimed, err := c.Claim(ctx, scOrders, scGroup, s.Consumer, scClaimIdle, rid)
	must(err, "XCLAIM")
	row, err := c.Pending(ctx, scOrders, scGroup, rid, rid, 1)
	must(err, "XPENDING")
	if len(row) != 1 {
		t.Fatalf("%s: XPENDING %s: %v", name, rid, row)
	}
	s.Reclaim.ID, s.Reclaim.Claimed = rid, scIDsOf(claimed)
	s.Reclaim.Owner, s.Reclaim.Count = row[0].Consumer, int(row[0].Count)
	ack(scOrders, scGroup, rid)

	a1 := add(scOrders, 0, scOrder("ORD-2026-0501", "11")...)
	a2 := add(scOrders, 0, scOrder("ORD-2026-0502", "12")...)
	scEq(t, name+": crashed worker's second read", scIDsOf(read(s.Crashed)), []string{a1, a2})
	must(scTimeMachine(ctx, c, s.Crashed, a1, scClaimIdle+30*time.Second, 1), "XCLAIM IDLE")
	next, got, deleted, err := c.AutoClaim(ctx, scOrders, scGroup, s.Consumer, scClaimIdle, "0-0", 10)
	must(err, "XAUTOCLAIM")
	s.AutoClaim.IDs, s.AutoClaim.Claimed, s.AutoClaim.Next, s.AutoClaim.Deleted = []string{a1, a2}, scIDsOf(got), next, deleted
	ack(scOrders, scGroup, a1)

	info, err := c.InfoStream(ctx, scOrders)
	must(err, "XINFO STREAM")
	is := &s.InfoStream
	is.Length, is.EntriesAdded, is.Groups, is.LastGenerated = info.Length, info.EntriesAdded, info.Groups, info.LastGenerated
	is.FirstEntry, is.LastEntry, is.LastEntryOrder = info.First.ID, info.Last.ID, info.Last.Fields["orderId"]
	s.InfoGroups, err = c.InfoGroups(ctx, scOrders)
	must(err, "XINFO GROUPS")
	consumers, err := c.InfoConsumers(ctx, scOrders, scGroup)
	must(err, "XINFO CONSUMERS")
	for n, p := range consumers {
		s.InfoConsumers = append(s.InfoConsumers, scRow{n, p})
	}
	s.Trim, err = c.TrimApprox(ctx, scOrders, 50_000)
	must(err, "XTRIM")
	s.XDel, err = c.Del(ctx, scOrders, s.IDs[0])
	must(err, "XDEL")
	s.XLen, err = c.Len(ctx, scOrders)
	must(err, "XLEN")
	info, err = c.InfoStream(ctx, scOrders)
	must(err, "XINFO STREAM")
	s.AfterDelete.FirstEntry, s.AfterDelete.MaxDeleted = info.First.ID, info.MaxDeleted

	// A blocked reader woken by another client's XADD.
	must(c.CreateGroup(ctx, scPayments, scNotifiers), "XGROUP CREATE")
	type result struct {
		entries []scEntry
		err     error
		ms      float64
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		got, err := c.ReadGroup(ctx, scNotifiers, "worker-email", scPayments, 10, 5*time.Second)
		done <- result{got, err, float64(time.Since(start).Microseconds()) / 1000}
	}()
	scWaitBlocked(t, other, 1)
	added, err := other.Add(ctx, scPayments, 0, "orderId", "ORD-2026-0042", "status", "paid")
	must(err, "XADD from the other client")
	var woken result
	select {
	case woken = <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the blocked reader was not woken", name)
	}
	must(woken.err, "blocked XREADGROUP")
	start := time.Now()
	timedOut, err := c.ReadGroup(ctx, scNotifiers, "worker-sms", scPayments, 10, 100*time.Millisecond)
	must(err, "XREADGROUP BLOCK 100")
	b := &s.Block
	b.Added, b.Woken, b.Ms = added, scIDsOf(woken.entries), woken.ms
	b.TimeoutEntries, b.TimeoutMs = len(timedOut), float64(time.Since(start).Microseconds())/1000
	b.BlockedAfter, err = other.BlockedClients(ctx)
	must(err, "INFO clients")
	return s
}

// scWaitBlocked waits until the server counts n blocked clients.
func scWaitBlocked(t *testing.T, c scClient, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := c.BlockedClients(context.Background())
		if err != nil {
			t.Fatalf("INFO clients: %v", err)
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("blocked_clients is %d, want %d", got, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// scBlockedClients reads blocked_clients from an INFO clients reply.
func scBlockedClients(info string) (int64, error) {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "blocked_clients:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("INFO clients has no blocked_clients")
}

// ---- go-redis v9 ----

// scGoRedis is scClient over go-redis's stream API.
type scGoRedis struct{ c *redis.Client }

func goRedisEntries(msgs []redis.XMessage) []scEntry {
	out := make([]scEntry, 0, len(msgs))
	for _, m := range msgs {
		f := map[string]string{}
		for k, v := range m.Values {
			f[k] = fmt.Sprint(v)
		}
		out = append(out, scEntry{m.ID, f})
	}
	return out
}

func (g scGoRedis) FlushAll(ctx context.Context) error { return g.c.FlushAll(ctx).Err() }

func (g scGoRedis) CreateGroup(ctx context.Context, key, group string) error {
	return g.c.XGroupCreateMkStream(ctx, key, group, "$").Err()
}

func (g scGoRedis) Add(ctx context.Context, key string, maxLen int64, pairs ...string) (string, error) {
	return g.c.XAdd(ctx, &redis.XAddArgs{Stream: key, MaxLen: maxLen, Approx: maxLen > 0, Values: pairs}).Result()
}

func (g scGoRedis) ReadGroup(ctx context.Context, group, consumer, key string, count int64, block time.Duration) ([]scEntry, error) {
	if block < 0 {
		block = -1 // go-redis sends BLOCK for any Block >= 0
	}
	streams, err := g.c.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: group, Consumer: consumer, Streams: []string{key, ">"}, Count: count, Block: block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(streams) != 1 || streams[0].Stream != key {
		return nil, fmt.Errorf("XREADGROUP replied for streams %v", streams)
	}
	return goRedisEntries(streams[0].Messages), nil
}

func (g scGoRedis) Ack(ctx context.Context, key, group string, ids ...string) (int64, error) {
	return g.c.XAck(ctx, key, group, ids...).Result()
}

func (g scGoRedis) Pending(ctx context.Context, key, group, start, end string, count int64) ([]scPending, error) {
	rows, err := g.c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: key, Group: group, Start: start, End: end, Count: count}).Result()
	var out []scPending
	for _, r := range rows {
		out = append(out, scPending{r.ID, r.Consumer, r.Idle, r.RetryCount})
	}
	return out, err
}

func (g scGoRedis) Range(ctx context.Context, key, start, end string) ([]scEntry, error) {
	msgs, err := g.c.XRangeN(ctx, key, start, end, 100).Result()
	return goRedisEntries(msgs), err
}

func (g scGoRedis) Claim(ctx context.Context, key, group, consumer string, minIdle time.Duration, ids ...string) ([]scEntry, error) {
	msgs, err := g.c.XClaim(ctx, &redis.XClaimArgs{Stream: key, Group: group, Consumer: consumer, MinIdle: minIdle, Messages: ids}).Result()
	return goRedisEntries(msgs), err
}

// AutoClaim uses XAutoClaim, whose result has no deleted IDs (none are
// expected).
func (g scGoRedis) AutoClaim(ctx context.Context, key, group, consumer string, minIdle time.Duration, start string, count int64) (string, []scEntry, []string, error) {
	msgs, next, err := g.c.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: key, Group: group, Consumer: consumer, MinIdle: minIdle, Start: start, Count: count,
	}).Result()
	return next, goRedisEntries(msgs), nil, err
}

func (g scGoRedis) InfoStream(ctx context.Context, key string) (scStreamInfo, error) {
	i, err := g.c.XInfoStream(ctx, key).Result()
	if err != nil {
		return scStreamInfo{}, err
	}
	first, last := goRedisEntries([]redis.XMessage{i.FirstEntry}), goRedisEntries([]redis.XMessage{i.LastEntry})
	return scStreamInfo{i.Length, i.EntriesAdded, i.Groups, i.LastGeneratedID, i.MaxDeletedEntryID, first[0], last[0]}, nil
}

func (g scGoRedis) InfoGroups(ctx context.Context, key string) ([]scGroupInfo, error) {
	groups, err := g.c.XInfoGroups(ctx, key).Result()
	var out []scGroupInfo
	for _, x := range groups {
		out = append(out, scGroupInfo{x.Name, x.Consumers, x.Pending, x.LastDeliveredID, x.EntriesRead, x.Lag})
	}
	return out, err
}

func (g scGoRedis) InfoConsumers(ctx context.Context, key, group string) (map[string]int64, error) {
	cs, err := g.c.XInfoConsumers(ctx, key, group).Result()
	out := map[string]int64{}
	for _, x := range cs {
		out[x.Name] = x.Pending
	}
	return out, err
}

func (g scGoRedis) TrimApprox(ctx context.Context, key string, maxLen int64) (int64, error) {
	return g.c.XTrimMaxLenApprox(ctx, key, maxLen, 0).Result()
}

func (g scGoRedis) Del(ctx context.Context, key string, ids ...string) (int64, error) {
	return g.c.XDel(ctx, key, ids...).Result()
}

func (g scGoRedis) Len(ctx context.Context, key string) (int64, error) {
	return g.c.XLen(ctx, key).Result()
}

func (g scGoRedis) Do(ctx context.Context, args ...string) error {
	a := make([]any, len(args))
	for i, s := range args {
		a[i] = s
	}
	return g.c.Do(ctx, a...).Err()
}

func (g scGoRedis) BlockedClients(ctx context.Context) (int64, error) {
	info, err := g.c.Info(ctx, "clients").Result()
	if err != nil {
		return 0, err
	}
	return scBlockedClients(info)
}

// TestStreamsClientGoRedis runs the article's flow through go-redis in
// RESP2 and RESP3, then goRedisBeyondFlow.
func TestStreamsClientGoRedis(t *testing.T) {
	_, addr := startApp(t)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			opts := &redis.Options{Addr: addr, Protocol: proto}
			rdb, other := redis.NewClient(opts), redis.NewClient(opts)
			defer rdb.Close()
			defer other.Close()
			s := scFlow(t, scGoRedis{rdb}, scGoRedis{other}, fmt.Sprintf("go-redis RESP%d", proto))
			scCheck(t, s)
			goRedisBeyondFlow(t, addr, proto, rdb, other, s)
		})
	}
}

// goRedisBeyondFlow covers with go-redis what the flow leaves out, on the
// state the flow s left: the XINFO STREAM FULL and XINFO CONSUMERS parsers
// on Runnel's replies (which carry fields newer than Redis 7.0), the
// XPENDING summary, approximate trimming that removes whole nodes, XDEL,
// and a blocked XREADGROUP abandoned when its context expires.
func goRedisBeyondFlow(t *testing.T, addr string, proto int, rdb, other *redis.Client, s scSummary) {
	t.Helper()
	ctx := context.Background()
	a2 := s.AutoClaim.IDs[1] // left pending with the crashed worker

	// XINFO STREAM FULL: the pending a2 of the crashed worker.
	full, err := rdb.XInfoStreamFull(ctx, scOrders, 0).Result()
	if err != nil {
		t.Fatalf("XInfoStreamFull: %v", err)
	}
	scEq(t, "FULL length, last ID, entries", []any{full.Length, full.LastGeneratedID, len(full.Entries), full.RecordedFirstEntryID},
		[]any{14, a2, 10, s.IDs[1]}) // COUNT defaults to 10
	if len(full.Entries) > 0 {
		scEq(t, "FULL first entry", []any{full.Entries[0].ID, full.Entries[0].Values["orderId"]}, []any{s.IDs[1], "ORD-2026-0043"})
	}
	if len(full.Groups) != 1 {
		t.Fatalf("FULL groups: %+v", full.Groups)
	}
	g := full.Groups[0]
	scEq(t, "FULL group", []any{g.Name, g.LastDeliveredID, g.EntriesRead, g.Lag, g.PelCount, g.NackedCount},
		[]any{scGroup, a2, 15, 0, 1, 0})
	if len(g.Pending) != 1 {
		t.Fatalf("FULL group pending: %+v", g.Pending)
	}
	p := g.Pending[0]
	scEq(t, "FULL group PEL", []any{p.ID, p.Consumer, p.DeliveryCount}, []any{a2, s.Crashed, 1})
	if age := time.Since(p.DeliveryTime); age < 0 || age > time.Minute {
		t.Errorf("FULL delivery time %v is %v ago", p.DeliveryTime, age)
	}
	pels := map[string]int64{}
	for _, c := range g.Consumers {
		pels[c.Name] = c.PelCount
		if age := time.Since(c.SeenTime); age < 0 || age > time.Minute {
			t.Errorf("FULL consumer %s seen-time %v is %v ago", c.Name, c.SeenTime, age)
		}
		if age := time.Since(c.ActiveTime); age < 0 || age > time.Minute {
			t.Errorf("FULL consumer %s active-time %v is %v ago", c.Name, c.ActiveTime, age)
		}
		if c.Name == s.Crashed && (len(c.Pending) != 1 || c.Pending[0].ID != a2 || c.Pending[0].DeliveryCount != 1) {
			t.Errorf("FULL consumer PEL of %s: %+v", c.Name, c.Pending)
		}
	}
	scEq(t, "FULL consumers' PEL counts", pels, map[string]int64{s.Consumer: 0, s.Crashed: 1})

	// XINFO CONSUMERS: idle and inactive (7.2+).
	cs, err := rdb.XInfoConsumers(ctx, scOrders, scGroup).Result()
	if err != nil || len(cs) != 2 {
		t.Fatalf("XInfoConsumers: %+v, %v", cs, err)
	}
	for _, c := range cs {
		if c.Idle < 0 || c.Idle > time.Minute || c.Inactive < 0 || c.Inactive > time.Minute {
			t.Errorf("XINFO CONSUMERS %s: idle %v, inactive %v", c.Name, c.Idle, c.Inactive)
		}
	}
	info, err := rdb.XInfoStream(ctx, scOrders).Result()
	if err != nil {
		t.Fatal(err)
	}
	scEq(t, "XINFO STREAM after XDEL", []any{info.Length, info.EntriesAdded, info.MaxDeletedEntryID, info.RecordedFirstEntryID, info.PIDsTracked, info.IIDsAdded},
		[]any{14, 15, s.IDs[0], s.IDs[1], 0, 0})
	pend, err := rdb.XPending(ctx, scOrders, scGroup).Result()
	if err != nil {
		t.Fatal(err)
	}
	scEq(t, "XPENDING summary", []any{pend.Count, pend.Lower, pend.Higher, pend.Consumers}, []any{1, a2, a2, map[string]int64{s.Crashed: 1}})

	// Approximate trimming removes whole nodes only: 250 entries
	// in nodes of 100, MAXLEN ~ 100 drops the first node.
	pipe := rdb.Pipeline()
	for i := range 250 {
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: "capped", ID: fmt.Sprintf("%d-1", i+1), Values: []string{"n", strconv.Itoa(i)}})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := rdb.XTrimMaxLenApprox(ctx, "capped", 100, 0).Result(); err != nil || n != 100 {
		t.Errorf("XTRIM MAXLEN ~ 100 on 250 entries: %d, %v; want 100", n, err)
	}
	if n, err := rdb.XDel(ctx, "capped", "101-1", "102-1", "999-1").Result(); err != nil || n != 2 {
		t.Errorf("XDEL: %d, %v; want 2", n, err)
	}
	if n, err := rdb.XLen(ctx, "capped").Result(); err != nil || n != 148 {
		t.Errorf("XLEN: %d, %v; want 148", n, err)
	}
	if msgs, err := rdb.XRangeN(ctx, "capped", "-", "+", 2).Result(); err != nil || len(msgs) != 2 || msgs[0].ID != "103-1" || msgs[1].Values["n"] != "103" {
		t.Errorf("XRANGE after the trim: %+v, %v", msgs, err)
	}

	// XREADGROUP BLOCK abandoned by its context's deadline:
	// go-redis gives up and closes the connection, and Runnel
	// must drop the blocked client, so that a later entry goes to
	// a live consumer instead of the abandoned one.
	short := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto, ContextTimeoutEnabled: true})
	defer short.Close()
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	start := time.Now()
	_, err = short.XReadGroup(cctx, &redis.XReadGroupArgs{
		Group: scNotifiers, Consumer: "worker-gone", Streams: []string{scPayments, ">"}, Count: 10, Block: 0,
	}).Result()
	cancel()
	var ne net.Error
	if err == nil || !(errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("XREADGROUP BLOCK 0 with a 200ms context: %v, want a timeout", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 5*time.Second {
		t.Errorf("the abandoned read returned after %v", d)
	}
	scWaitBlocked(t, scGoRedis{other}, 0)
	id, err := other.XAdd(ctx, &redis.XAddArgs{Stream: scPayments, Values: []string{"orderId", "ORD-2026-0043", "status", "paid"}}).Result()
	if err != nil {
		t.Fatal(err)
	}
	got, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: scNotifiers, Consumer: "worker-sms", Streams: []string{scPayments, ">"}, Count: 10, Block: -1,
	}).Result()
	if err != nil || len(got) != 1 || len(got[0].Messages) != 1 || got[0].Messages[0].ID != id {
		t.Errorf("read after the abandoned block: %+v, %v; want %s", got, err, id)
	}
	cs, err = rdb.XInfoConsumers(ctx, scPayments, scNotifiers).Result()
	if err != nil {
		t.Fatal(err)
	}
	pendingOf := map[string]int64{}
	for _, c := range cs {
		pendingOf[c.Name] = c.Pending
	}
	if pendingOf["worker-gone"] != 0 || pendingOf["worker-sms"] != 1 {
		t.Errorf("pending per notifier after the abandoned block: %v", pendingOf)
	}
}

// ---- rueidis ----

// scRueidis is scClient over rueidis's command builder and reply helpers.
type scRueidis struct{ c rueidis.Client }

func rueidisEntries(es []rueidis.XRangeEntry) []scEntry {
	out := make([]scEntry, 0, len(es))
	for _, e := range es {
		out = append(out, scEntry{e.ID, e.FieldValues})
	}
	return out
}

func (r scRueidis) FlushAll(ctx context.Context) error {
	return r.c.Do(ctx, r.c.B().Flushall().Build()).Error()
}

func (r scRueidis) CreateGroup(ctx context.Context, key, group string) error {
	return r.c.Do(ctx, r.c.B().XgroupCreate().Key(key).Group(group).Id("$").Mkstream().Build()).Error()
}

func (r scRueidis) Add(ctx context.Context, key string, maxLen int64, pairs ...string) (string, error) {
	fv := r.c.B().Xadd().Key(key).Id("*").FieldValue()
	if maxLen > 0 {
		fv = r.c.B().Xadd().Key(key).Maxlen().Almost().Threshold(strconv.FormatInt(maxLen, 10)).Id("*").FieldValue()
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		fv = fv.FieldValue(pairs[i], pairs[i+1])
	}
	return r.c.Do(ctx, fv.Build()).ToString()
}

func (r scRueidis) ReadGroup(ctx context.Context, group, consumer, key string, count int64, block time.Duration) ([]scEntry, error) {
	cmd := r.c.B().Xreadgroup().Group(group, consumer).Count(count).Streams().Key(key).Id(">").Build()
	if block >= 0 {
		cmd = r.c.B().Xreadgroup().Group(group, consumer).Count(count).Block(block.Milliseconds()).Streams().Key(key).Id(">").Build()
	}
	streams, err := r.c.Do(ctx, cmd).AsXRead()
	if rueidis.IsRedisNil(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(streams) != 1 {
		return nil, fmt.Errorf("XREADGROUP replied for %d streams", len(streams))
	}
	return rueidisEntries(streams[key]), nil
}

func (r scRueidis) Ack(ctx context.Context, key, group string, ids ...string) (int64, error) {
	return r.c.Do(ctx, r.c.B().Xack().Key(key).Group(group).Id(ids...).Build()).AsInt64()
}

func (r scRueidis) Pending(ctx context.Context, key, group, start, end string, count int64) ([]scPending, error) {
	rows, err := r.c.Do(ctx, r.c.B().Xpending().Key(key).Group(group).Start(start).End(end).Count(count).Build()).ToArray()
	if err != nil {
		return nil, err
	}
	var out []scPending
	for _, row := range rows {
		f, err := row.ToArray()
		if err != nil || len(f) != 4 {
			return nil, fmt.Errorf("XPENDING row %v: %v", row, err)
		}
		id, _ := f[0].ToString()
		consumer, _ := f[1].ToString()
		idle, err1 := f[2].AsInt64()
		count, err2 := f[3].AsInt64()
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		out = append(out, scPending{id, consumer, time.Duration(idle) * time.Millisecond, count})
	}
	return out, nil
}

func (r scRueidis) Range(ctx context.Context, key, start, end string) ([]scEntry, error) {
	es, err := r.c.Do(ctx, r.c.B().Xrange().Key(key).Start(start).End(end).Build()).AsXRange()
	return rueidisEntries(es), err
}

func (r scRueidis) Claim(ctx context.Context, key, group, consumer string, minIdle time.Duration, ids ...string) ([]scEntry, error) {
	es, err := r.c.Do(ctx, r.c.B().Xclaim().Key(key).Group(group).Consumer(consumer).
		MinIdleTime(strconv.FormatInt(minIdle.Milliseconds(), 10)).Id(ids...).Build()).AsXRange()
	return rueidisEntries(es), err
}

func (r scRueidis) AutoClaim(ctx context.Context, key, group, consumer string, minIdle time.Duration, start string, count int64) (string, []scEntry, []string, error) {
	parts, err := r.c.Do(ctx, r.c.B().Xautoclaim().Key(key).Group(group).Consumer(consumer).
		MinIdleTime(strconv.FormatInt(minIdle.Milliseconds(), 10)).Start(start).Count(count).Build()).ToArray()
	if err != nil {
		return "", nil, nil, err
	}
	if len(parts) != 3 {
		return "", nil, nil, fmt.Errorf("XAUTOCLAIM reply has %d parts", len(parts))
	}
	next, err1 := parts[0].ToString()
	es, err2 := parts[1].AsXRange()
	deleted, err3 := parts[2].AsStrSlice()
	return next, rueidisEntries(es), deleted, errors.Join(err1, err2, err3)
}

func (r scRueidis) InfoStream(ctx context.Context, key string) (scStreamInfo, error) {
	m, err := r.c.Do(ctx, r.c.B().XinfoStream().Key(key).Build()).AsMap()
	if err != nil {
		return scStreamInfo{}, err
	}
	var i scStreamInfo
	var errs []error
	num := func(name string) int64 {
		v := m[name]
		n, err := v.AsInt64()
		errs = append(errs, err)
		return n
	}
	str := func(name string) string {
		v := m[name]
		s, err := v.ToString()
		errs = append(errs, err)
		return s
	}
	entry := func(name string) scEntry {
		v := m[name]
		e, err := v.AsXRangeEntry()
		errs = append(errs, err)
		return scEntry{e.ID, e.FieldValues}
	}
	i.Length, i.EntriesAdded, i.Groups = num("length"), num("entries-added"), num("groups")
	i.LastGenerated, i.MaxDeleted = str("last-generated-id"), str("max-deleted-entry-id")
	i.First, i.Last = entry("first-entry"), entry("last-entry")
	return i, errors.Join(errs...)
}

func (r scRueidis) InfoGroups(ctx context.Context, key string) ([]scGroupInfo, error) {
	groups, err := r.c.Do(ctx, r.c.B().XinfoGroups().Key(key).Build()).ToArray()
	if err != nil {
		return nil, err
	}
	var out []scGroupInfo
	for _, g := range groups {
		m, err := g.AsMap()
		if err != nil {
			return nil, err
		}
		var errs []error
		get := func(name string) rueidis.RedisMessage {
			v, ok := m[name]
			if !ok {
				errs = append(errs, fmt.Errorf("XINFO GROUPS: no %q", name))
			}
			return v
		}
		name, lastDelivered := get("name"), get("last-delivered-id")
		consumers, pending, read, lag := get("consumers"), get("pending"), get("entries-read"), get("lag")
		var x scGroupInfo
		x.Name, _ = name.ToString()
		x.LastDelivered, _ = lastDelivered.ToString()
		x.Consumers, _ = consumers.AsInt64()
		x.Pending, _ = pending.AsInt64()
		x.EntriesRead, _ = read.AsInt64()
		x.Lag, _ = lag.AsInt64()
		out = append(out, x)
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r scRueidis) InfoConsumers(ctx context.Context, key, group string) (map[string]int64, error) {
	cs, err := r.c.Do(ctx, r.c.B().XinfoConsumers().Key(key).Group(group).Build()).ToArray()
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, c := range cs {
		m, err := c.AsMap()
		if err != nil {
			return nil, err
		}
		name, pending := m["name"], m["pending"]
		n, err1 := name.ToString()
		p, err2 := pending.AsInt64()
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		out[n] = p
	}
	return out, nil
}

func (r scRueidis) TrimApprox(ctx context.Context, key string, maxLen int64) (int64, error) {
	return r.c.Do(ctx, r.c.B().Xtrim().Key(key).Maxlen().Almost().Threshold(strconv.FormatInt(maxLen, 10)).Build()).AsInt64()
}

func (r scRueidis) Del(ctx context.Context, key string, ids ...string) (int64, error) {
	return r.c.Do(ctx, r.c.B().Xdel().Key(key).Id(ids...).Build()).AsInt64()
}

func (r scRueidis) Len(ctx context.Context, key string) (int64, error) {
	return r.c.Do(ctx, r.c.B().Xlen().Key(key).Build()).AsInt64()
}

func (r scRueidis) Do(ctx context.Context, args ...string) error {
	return r.c.Do(ctx, r.c.B().Arbitrary(args...).Build()).Error()
}

func (r scRueidis) BlockedClients(ctx context.Context) (int64, error) {
	info, err := r.c.Do(ctx, r.c.B().Info().Section("clients").Build()).ToString()
	if err != nil {
		return 0, err
	}
	return scBlockedClients(info)
}

// TestStreamsClientRueidis runs the article's flow through rueidis, in
// RESP3 and with AlwaysRESP2, and cancels a blocked XREADGROUP through its
// context.
func TestStreamsClientRueidis(t *testing.T) {
	_, addr := startApp(t)
	for _, resp2 := range []bool{false, true} {
		name := "RESP3"
		if resp2 {
			name = "RESP2"
		}
		t.Run(name, func(t *testing.T) {
			newClient := func() rueidis.Client {
				c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true, AlwaysRESP2: resp2})
				if err != nil {
					t.Fatalf("rueidis.NewClient: %v", err)
				}
				t.Cleanup(c.Close)
				return c
			}
			c, other := newClient(), newClient()
			scCheck(t, scFlow(t, scRueidis{c}, scRueidis{other}, "rueidis "+name))

			// A blocked read cancelled through its context: rueidis
			// returns at once and drops the connection; Runnel must drop
			// the blocked client with it.
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() {
				_, err := scRueidis{c}.ReadGroup(ctx, scNotifiers, "worker-gone", scPayments, 10, 0)
				errc <- err
			}()
			scWaitBlocked(t, scRueidis{other}, 1)
			cancel()
			select {
			case err := <-errc:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("cancelled XREADGROUP BLOCK 0: %v, want context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("cancelling the context did not end the blocked read")
			}
			scWaitBlocked(t, scRueidis{other}, 0)
			ctx = context.Background()
			id, err := scRueidis{other}.Add(ctx, scPayments, 0, "orderId", "ORD-2026-0044", "status", "paid")
			if err != nil {
				t.Fatal(err)
			}
			got, err := scRueidis{c}.ReadGroup(ctx, scNotifiers, "worker-sms", scPayments, 10, -1)
			scEq(t, "read after the cancelled block", []any{scIDsOf(got), err}, []any{[]string{id}, nil})
			pending, err := scRueidis{c}.InfoConsumers(ctx, scPayments, scNotifiers)
			if err != nil {
				t.Fatal(err)
			}
			if pending["worker-gone"] != 0 || pending["worker-sms"] != 1 {
				t.Errorf("pending per notifier after the cancelled block: %v", pending)
			}
		})
	}
}

// ---- scripts: redis-py and ioredis ----

// scMissing skips the test with why, or fails it when
// RUNNEL_REQUIRE_REDIS=1 (CI), as redistest does for redis-server.
func scMissing(t *testing.T, why string) {
	t.Helper()
	if redistest.RequireRedis() {
		t.Fatalf("%s (%s=1 requires every client test to run)", why, redistest.RequireRedisEnv)
	}
	t.Skip(why)
}

// scRunScript runs a client script (prog script HOST PORT) against addr
// and decodes the summary it prints.
func scRunScript(t *testing.T, env []string, prog, script, addr string) scSummary {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{script, host, port}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s\nstdout:\n%s", prog, strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	var s scSummary
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("%s: summary: %v\nstdout:\n%s", prog, err, stdout.String())
	}
	return s
}

// scPython is Debian's python3, the one python3-redis installs into.
const scPython = "/usr/bin/python3"

// TestStreamsClientRedisPy runs the article's flow through redis-py
// (testdata/clients/article.py; RESP2, the only protocol of 4.3).
func TestStreamsClientRedisPy(t *testing.T) {
	if out, err := exec.Command(scPython, "-c", "import redis").CombinedOutput(); err != nil {
		scMissing(t, fmt.Sprintf("redis-py not importable by %s (install Debian's python3-redis): %v: %s", scPython, err, bytes.TrimSpace(out)))
	}
	_, addr := startApp(t)
	scCheck(t, scRunScript(t, nil, scPython, filepath.Join("testdata", "clients", "article.py"), addr))
}

var (
	scIoredisOnce sync.Once
	scIoredisPath string // node_modules holding ioredis
	scIoredisErr  error
)

// scInstallIoredis installs ioredis once into the user's cache directory
// (outside the repository) and returns its node_modules. A finished
// install is reused across runs; an install goes to a fresh directory that
// is renamed into place, so concurrent test processes never see half of
// one.
func scInstallIoredis() (string, error) {
	scIoredisOnce.Do(func() {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		parent := filepath.Join(base, "runnel-test")
		dir := filepath.Join(parent, "ioredis-"+scIoredisVersion)
		modules := filepath.Join(dir, "node_modules")
		if scIoredisInstalled(modules) {
			scIoredisPath = modules
			return
		}
		if err := os.MkdirAll(parent, 0o755); err != nil {
			scIoredisErr = err
			return
		}
		tmp, err := os.MkdirTemp(parent, "install-")
		if err != nil {
			scIoredisErr = err
			return
		}
		defer os.RemoveAll(tmp)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "install", "--prefix", tmp, "--no-audit", "--no-fund",
			"--no-package-lock", "--omit=dev", "--loglevel=error", "ioredis@"+scIoredisVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			scIoredisErr = fmt.Errorf("npm install ioredis@%s: %v: %s", scIoredisVersion, err, bytes.TrimSpace(out))
			return
		}
		if err := os.Rename(tmp, dir); err != nil && !scIoredisInstalled(modules) {
			scIoredisErr = err
			return
		}
		if !scIoredisInstalled(modules) {
			scIoredisErr = fmt.Errorf("npm install left no ioredis %s in %s", scIoredisVersion, modules)
			return
		}
		scIoredisPath = modules
	})
	return scIoredisPath, scIoredisErr
}

// scIoredisInstalled reports whether modules holds the pinned ioredis.
func scIoredisInstalled(modules string) bool {
	b, err := os.ReadFile(filepath.Join(modules, "ioredis", "package.json"))
	if err != nil {
		return false
	}
	var pkg struct{ Version string }
	return json.Unmarshal(b, &pkg) == nil && pkg.Version == scIoredisVersion
}

// TestStreamsClientIoredis runs the article's flow through ioredis
// (testdata/clients/article.js; RESP2, the only protocol of ioredis 5).
func TestStreamsClientIoredis(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			scMissing(t, tool+" not found: install Node.js and npm to run the ioredis test")
		}
	}
	modules, err := scInstallIoredis()
	if err != nil {
		scMissing(t, err.Error())
	}
	_, addr := startApp(t)
	s := scRunScript(t, []string{"NODE_PATH=" + modules}, "node", filepath.Join("testdata", "clients", "article.js"), addr)
	scEq(t, "client", s.Client, "ioredis "+scIoredisVersion)
	scCheck(t, s)
}
