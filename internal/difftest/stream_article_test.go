package difftest

// The article Runnel implements ("Redis Streams — Lightweight Event
// Streaming Alternative to Kafka for Microservices") drives Redis through
// StackExchange.Redis. These tests replay its flows as the exact commands
// that library sends for each call the article makes, and compare Runnel
// with redis-server byte for byte in RESP2 and RESP3.
//
// The command shapes come from StackExchange.Redis's RedisDatabase.cs
// (GetStreamAddMessage, GetStreamCreateConsumerGroupMessage,
// GetStreamReadGroupMessage, GetStreamAcknowledgeMessage,
// GetStreamPendingMessagesMessage, GetStreamRangeMessage,
// GetStreamClaimMessage, GetStreamTrimMessage) and StreamPosition.Resolve:
//
//	StreamAddAsync(k, pairs)                      XADD k * f v ...
//	StreamAddAsync(k, pairs, maxLength: n,        XADD k MAXLEN ~ n * f v ...
//	    useApproximateMaxLength: true)
//	StreamCreateConsumerGroupAsync(k, g,          XGROUP CREATE k g $ MKSTREAM
//	    StreamPosition.NewMessages)               (createStream defaults to true)
//	StreamReadGroupAsync(k, g, c,                 XREADGROUP GROUP g c COUNT n STREAMS k >
//	    StreamPosition.NewMessages, count: n)
//	StreamAcknowledgeAsync(k, g, id)              XACK k g id
//	StreamPendingMessagesAsync(k, g, count: 20,   XPENDING k g - + 20
//	    consumerName: RedisValue.Null, "-", "+")
//	StreamRangeAsync(k, id, id)                   XRANGE k id id
//	StreamClaimAsync(k, g, c, 60_000, [id])       XCLAIM k g c 60000 id
//	StreamInfo / StreamGroupInfo /                XINFO STREAM k / XINFO GROUPS k /
//	    StreamConsumerInfo / StreamLength         XINFO CONSUMERS k g / XLEN k
//	StreamTrimAsync(k, n, true)                   XTRIM k MAXLEN ~ n
//
// StackExchange.Redis never blocks (it multiplexes one connection), so the
// article polls with Task.Delay; nothing here blocks either.
//
// XADD * takes its ID from each server's clock, so the two servers' IDs
// differ: artSession records each under a placeholder and compares replies
// with the IDs replaced (see artSession). Time passing (an entry idle for
// five minutes, delivered four times) is simulated with XCLAIM IDLE and
// RETRYCOUNT on the entry's current owner, which is a setup step and not
// a call the article makes.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/redistest"
)

// The article's names and limits.
const (
	artOrders    = "orders-stream"
	artPayments  = "payments-stream"
	artDeadOrder = "orders-dead-letter" // the dead-letter snippet's stream
	artDLQ       = "dead-letter-stream" // Figure 4's dead-letter stream
	artProcGroup = "order-processors"
	artMaxLen    = 100_000 // StreamAddAsync maxLength
	artClaimIdle = 60_000  // XCLAIM timeout
	artDeadIdle  = 300_000 // pending this long...
	artDeadCount = 3       // ...and delivered more often than this: dead letter
)

// SE.Redis's commands for the article's calls (see the table above).

func seAdd(key string, pairs ...string) []string {
	return append([]string{"XADD", key, "*"}, pairs...)
}

func seAddCapped(key string, maxLen int, pairs ...string) []string {
	return append([]string{"XADD", key, "MAXLEN", "~", strconv.Itoa(maxLen), "*"}, pairs...)
}

func seCreateGroup(key, group string) []string {
	return []string{"XGROUP", "CREATE", key, group, "$", "MKSTREAM"}
}

func seReadGroup(key, group, consumer string, count int) []string {
	return []string{"XREADGROUP", "GROUP", group, consumer, "COUNT", strconv.Itoa(count), "STREAMS", key, ">"}
}

func seAck(key, group, id string) []string { return []string{"XACK", key, group, id} }

func sePending(key, group string, count int) []string {
	return []string{"XPENDING", key, group, "-", "+", strconv.Itoa(count)}
}

func seRange(key, from, to string) []string { return []string{"XRANGE", key, from, to} }

func seClaim(key, group, consumer string, minIdle int, ids ...string) []string {
	return append([]string{"XCLAIM", key, group, consumer, strconv.Itoa(minIdle)}, ids...)
}

// artTimeMachine is the setup step that stands for time passing: it makes
// id (owned by owner) look idle for idleMs and delivered count times.
func artTimeMachine(key, group, owner, id string, idleMs, count int) []string {
	return []string{"XCLAIM", key, group, owner, "0", id, "IDLE", strconv.Itoa(idleMs), "RETRYCOUNT", strconv.Itoa(count), "JUSTID"}
}

// artWorkerName is the article's consumer naming rule, worker-{host}-{pid}
// (Environment.MachineName, Environment.ProcessId), for the n-th worker
// process of this host.
func artWorkerName(t *testing.T, n int) string {
	t.Helper()
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("worker-%s-%d", host, os.Getpid()+n)
}

// artOrder is the producer snippet's entry: five fields.
func artOrder(orderID, customer, amount string) []string {
	return []string{
		"orderId", orderID,
		"customerId", customer,
		"amount", amount,
		"status", "pending",
		"timestamp", strconv.FormatInt(time.Now().UnixMilli(), 10),
	}
}

// artKeyIDs maps the IDs XADD * generated for one key on each server to
// placeholders and back.
type artKeyIDs struct {
	r, s map[string]string // server's ID → placeholder
}

// artSession runs the article's calls on both servers of a Pair.
//
// An ID is recorded per stream key as "<key#n>": two keys may get the same
// ID from one server (same millisecond) and different IDs from the other,
// so one map for all keys could not keep them apart. A reply is normalised
// with the map of the key its command names (every command here names one
// key), and a placeholder in a command is sent to each server as that
// server's own ID.
type artSession struct {
	t    *testing.T
	p    *redistest.Pair
	keys map[string]*artKeyIDs
	back map[string][2]string // placeholder → {runnel's ID, redis's ID}
}

func newArtSession(t *testing.T, p *redistest.Pair) *artSession {
	return &artSession{t: t, p: p, keys: map[string]*artKeyIDs{}, back: map[string][2]string{}}
}

// artCmdKey returns the stream key a command names.
func artCmdKey(args []string) string {
	switch strings.ToUpper(args[0]) {
	case "XINFO":
		if len(args) > 2 {
			return args[2]
		}
	case "XREADGROUP":
		if ids := sxStreamsIDs(args); len(ids) == 1 {
			return args[len(args)-2]
		}
	case "XGROUP":
		if len(args) > 2 {
			return args[2]
		}
	default:
		if len(args) > 1 {
			return args[1]
		}
	}
	return ""
}

// resolve replaces placeholders with the ID of server i (0 Runnel, 1 Redis).
func (a *artSession) resolve(args []string, i int) []string {
	out := make([]string, len(args))
	for j, arg := range args {
		if ids, ok := a.back[arg]; ok {
			arg = ids[i]
		}
		out[j] = arg
	}
	return out
}

// do sends args (with placeholders resolved per server) and compares the
// replies with cmp, after replacing the recorded IDs of the command's key.
// Version differences that follow from the reply alone are handled as in
// sxDo. It returns Redis's reply, normalised, and whether the replies
// agreed.
func (a *artSession) do(cmp redistest.Comparison, args ...string) (redistest.Value, bool) {
	a.t.Helper()
	rArgs, sArgs := a.resolve(args, 0), a.resolve(args, 1)
	rRaw := a.p.Runnel.Do(rArgs...)
	sRaw := a.p.Redis.Do(sArgs...)
	rv, err := redistest.Parse(rRaw)
	if err != nil {
		a.t.Fatalf("runnel: %s: malformed reply %q: %v", redistest.FormatCommand(rArgs), rRaw, err)
	}
	sv, err := redistest.Parse(sRaw)
	if err != nil {
		a.t.Fatalf("redis: %s: malformed reply %q: %v", redistest.FormatCommand(sArgs), sRaw, err)
	}
	var ids artKeyIDs
	if k := a.keys[artCmdKey(args)]; k != nil {
		ids = *k
	}
	rn, sn := sxReplaceIDs(rv.Clone(), ids.r), sxReplaceIDs(sv.Clone(), ids.s)
	ok := true
	if err := sxCompare(sArgs, cmp)(rn, sn); err != nil {
		ok = false
		a.t.Errorf("replies differ for: %s\n%v\nrunnel raw: %q\nredis  raw: %q\nrunnel normalised:\n%s\nredis normalised:\n%s",
			redistest.FormatCommand(args), err, rRaw, sRaw, rn, sn)
	}
	switch strings.ToUpper(args[0]) {
	case "XREADGROUP", "XCLAIM", "XAUTOCLAIM":
		sxAfterGroupCall(a.p, sArgs, sv)
	}
	return sn, ok
}

// exact is do with byte-identical replies.
func (a *artSession) exact(args ...string) redistest.Value {
	a.t.Helper()
	v, _ := a.do(redistest.CompareExact, args...)
	return v
}

// add runs an XADD with an auto-generated ID and returns the placeholder
// of the new entry; both servers must reply with an ID.
func (a *artSession) add(args ...string) string {
	a.t.Helper()
	key := args[1]
	var rID, sID string
	a.do(func(r, s redistest.Value) error {
		if r.Kind != redistest.KindBulk || s.Kind != redistest.KindBulk || r.Null || s.Null ||
			!sxIDPattern.MatchString(r.Str) || !sxIDPattern.MatchString(s.Str) {
			return fmt.Errorf("XADD must reply with a new ID on both servers: runnel %s, redis %s", r, s)
		}
		rID, sID = r.Str, s.Str
		return nil
	}, args...)
	if rID == "" {
		a.t.FailNow()
	}
	k := a.keys[key]
	if k == nil {
		k = &artKeyIDs{r: map[string]string{}, s: map[string]string{}}
		a.keys[key] = k
	}
	ph := fmt.Sprintf("<%s#%d>", key, len(k.r)+1)
	if _, dup := k.r[rID]; dup {
		a.t.Fatalf("runnel: XADD * on %s returned %s twice", key, rID)
	}
	if _, dup := k.s[sID]; dup {
		a.t.Fatalf("redis: XADD * on %s returned %s twice", key, sID)
	}
	k.r[rID], k.s[sID] = ph, ph
	a.back[ph] = [2]string{rID, sID}
	return ph
}

// info compares an XINFO reply (sxInfo: newer fields, times, rax nodes).
func (a *artSession) info(kind sxInfoKind, args ...string) redistest.Value {
	a.t.Helper()
	v, _ := a.do(sxInfo(kind, false), args...)
	return v
}

// pending runs the article's XPENDING k g - + n (idle times within sxTol)
// and returns the rows.
func (a *artSession) pending(key, group string, count int) []artPendingRow {
	a.t.Helper()
	v, _ := a.do(sxPendingTimes, sePending(key, group, count)...)
	return artPendingRows(a.t, v)
}

// artPendingRow is one row of an extended XPENDING reply, as SE.Redis's
// StreamPendingMessageInfo holds it.
type artPendingRow struct {
	id       string
	consumer string
	idle     int64
	count    int64
}

func artPendingRows(t *testing.T, v redistest.Value) []artPendingRow {
	t.Helper()
	var rows []artPendingRow
	for _, e := range v.Elems {
		if len(e.Elems) != 4 {
			t.Fatalf("XPENDING row %s", e)
		}
		rows = append(rows, artPendingRow{e.Elems[0].Str, e.Elems[1].Str, e.Elems[2].Int, e.Elems[3].Int})
	}
	return rows
}

// artEntry is a stream entry of a reply: an ID and its field/value list.
type artEntry struct {
	id     string
	values []string
}

// field returns the value of a field of the entry (entry["amount"]).
func (e artEntry) field(name string) string {
	for i := 0; i+1 < len(e.values); i += 2 {
		if e.values[i] == name {
			return e.values[i+1]
		}
	}
	return ""
}

// artEntries reads the entries of an XRANGE or XCLAIM reply.
func artEntries(t *testing.T, v redistest.Value) []artEntry {
	t.Helper()
	var out []artEntry
	for _, e := range v.Elems {
		if len(e.Elems) != 2 {
			t.Fatalf("not a stream entry: %s", e)
		}
		var vals []string
		for _, f := range e.Elems[1].Elems {
			vals = append(vals, f.Str)
		}
		out = append(out, artEntry{e.Elems[0].Str, vals})
	}
	return out
}

// artReadEntries reads the entries of a single-key XREADGROUP reply
// (RESP2 [[key, entries]], RESP3 {key: entries}); a null reply is no
// entries, as SE.Redis returns an empty array for it.
func artReadEntries(t *testing.T, v redistest.Value, key string) []artEntry {
	t.Helper()
	if v.IsNull() {
		return nil
	}
	var k, entries redistest.Value
	switch {
	case v.Kind == redistest.KindMap && len(v.Elems) == 2:
		k, entries = v.Elems[0], v.Elems[1]
	case v.Kind == redistest.KindArray && len(v.Elems) == 1 && len(v.Elems[0].Elems) == 2:
		k, entries = v.Elems[0].Elems[0], v.Elems[0].Elems[1]
	default:
		t.Fatalf("XREADGROUP reply %s", v)
	}
	if k.Str != key {
		t.Fatalf("XREADGROUP reply for key %q, want %q", k.Str, key)
	}
	return artEntries(t, entries)
}

// readGroup runs the article's StreamReadGroupAsync and returns the
// entries.
func (a *artSession) readGroup(key, group, consumer string, count int) []artEntry {
	a.t.Helper()
	return artReadEntries(a.t, a.exact(seReadGroup(key, group, consumer, count)...), key)
}

// ack runs StreamAcknowledgeAsync and requires Redis's count to be want.
func (a *artSession) ack(key, group, id string, want int64) {
	a.t.Helper()
	if v := a.exact(seAck(key, group, id)...); v.Kind != redistest.KindInt || v.Int != want {
		a.t.Errorf("XACK %s %s %s = %s, want %d", key, group, id, v, want)
	}
}

// ensureGroup is the article's EnsureConsumerGroupAsync: create the group
// (and the stream), where BUSYGROUP means it is there already.
func (a *artSession) ensureGroup(key, group string) {
	a.t.Helper()
	v := a.exact(seCreateGroup(key, group)...)
	if !(v.Kind == redistest.KindSimple && v.Str == "OK") && !(v.IsError() && strings.HasPrefix(v.Str, "BUSYGROUP")) {
		a.t.Fatalf("XGROUP CREATE %s %s: %s", key, group, v)
	}
}

// consume is the article's consumer loop body: read up to count new
// entries, process each (amount must parse as a number, as
// decimal.Parse(entry["amount"]) requires) and acknowledge the ones that
// succeed; failures stay pending. It returns the entries read and the IDs
// that failed.
func (a *artSession) consume(key, group, consumer string, count int) (read []artEntry, failed []string) {
	a.t.Helper()
	read = a.readGroup(key, group, consumer, count)
	for _, e := range read {
		if _, err := strconv.ParseFloat(e.field("amount"), 64); err != nil {
			failed = append(failed, e.id)
			continue
		}
		a.ack(key, group, e.id, 1)
	}
	return read, failed
}

// sweep is the article's dead-letter snippet for the given stream: entries
// pending longer than five minutes and delivered more than three times are
// copied to dlq and acknowledged; entries pending longer than a minute are
// reclaimed by consumer. It returns the IDs moved and the IDs reclaimed.
func (a *artSession) sweep(key, group, consumer, dlq string) (moved, claimed []string) {
	a.t.Helper()
	for _, pe := range a.pending(key, group, 20) {
		switch {
		case pe.idle > artDeadIdle && pe.count > artDeadCount:
			entry := artEntries(a.t, a.exact(seRange(key, pe.id, pe.id)...))
			if len(entry) > 0 {
				a.add(seAdd(dlq, entry[0].values...)...)
				a.ack(key, group, pe.id, 1)
				moved = append(moved, pe.id)
			}
		case pe.idle > artClaimIdle:
			got := artEntries(a.t, a.exact(seClaim(key, group, consumer, artClaimIdle, pe.id)...))
			if len(got) != 1 || got[0].id != pe.id {
				a.t.Errorf("XCLAIM %s: claimed %v", pe.id, got)
			}
			claimed = append(claimed, pe.id)
		}
	}
	return moved, claimed
}

// artIDs returns the IDs of entries.
func artIDs(entries []artEntry) []string {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.id
	}
	return ids
}

func artWantIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s: %v, want %v", what, got, want)
	}
}

// TestStreamArticleProducer: the producer snippet, XADD with five fields
// and XADD MAXLEN ~ 100000, then what a reader sees of them; and the same
// approximate cap scaled down so that it trims (at 100 entries a node, the
// article's 100000 needs 100000 entries to show).
func TestStreamArticleProducer(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		a := newArtSession(t, p)
		first := a.add(seAdd(artOrders, artOrder("ORD-2026-0042", "C-1234", "2500000")...)...)
		second := a.add(seAddCapped(artOrders, artMaxLen, "orderId", "ORD-2026-0043", "amount", "1800000")...)
		a.exact("XLEN", artOrders)
		all := artEntries(t, a.exact(seRange(artOrders, "-", "+")...))
		artWantIDs(t, "XRANGE - +", artIDs(all), []string{first, second})
		if len(all) == 2 && (len(all[0].values) != 10 || all[0].field("customerId") != "C-1234" || all[1].field("amount") != "1800000") {
			t.Errorf("entries read back: %v", all)
		}
		a.exact(seRange(artOrders, second, second)...)
		a.info(sxInfoStream, "XINFO", "STREAM", artOrders)

		// The cap scaled down: MAXLEN ~ 100 over 250 entries removes
		// whole nodes only, on both servers alike.
		for i := range 250 {
			a.add(seAddCapped("capped", 100, "orderId", fmt.Sprintf("ORD-%04d", i), "amount", "1")...)
		}
		if n := a.exact("XLEN", "capped"); n.Int < 100 || n.Int >= 250 {
			t.Errorf("XLEN after MAXLEN ~ 100: %s", n)
		}
		a.info(sxInfoStream, "XINFO", "STREAM", "capped")
		a.exact("XRANGE", "capped", "-", "+", "COUNT", "3")
		// The monitoring section's XTRIM MAXLEN ~ 50000 (nothing to do),
		// and StreamTrimAsync scaled down.
		a.exact("XTRIM", "capped", "MAXLEN", "~", "50000")
		a.exact("XTRIM", "capped", "MAXLEN", "~", "10")
		a.exact("XLEN", "capped")
		a.info(sxInfoStream, "XINFO", "STREAM", "capped")
	})
}

// TestStreamArticleConsumerGroup: the consumer-group snippet. The group is
// created with MKSTREAM (a second create is BUSYGROUP, which the article
// tolerates), an empty read is a null reply, entries are read ten at a
// time and acknowledged, and an entry whose processing fails stays in the
// PEL.
func TestStreamArticleConsumerGroup(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		a := newArtSession(t, p)
		consumer, _ := os.Hostname() // Environment.MachineName
		if consumer == "" {
			consumer = "localhost"
		}
		if v := a.exact(seCreateGroup(artOrders, artProcGroup)...); v.Str != "OK" {
			t.Fatalf("XGROUP CREATE MKSTREAM: %s", v)
		}
		a.exact("TYPE", artOrders)
		a.exact("XLEN", artOrders)
		if v := a.exact(seCreateGroup(artOrders, artProcGroup)...); !v.IsError() || !strings.Contains(v.Str, "BUSYGROUP") {
			t.Errorf("second XGROUP CREATE: %s, want BUSYGROUP", v)
		}
		if got := a.readGroup(artOrders, artProcGroup, consumer, 10); len(got) != 0 {
			t.Errorf("read from an empty stream: %v", got)
		}

		var ids []string
		for i := range 12 {
			amount := strconv.Itoa(1_000_000 + i*1000)
			if i == 4 {
				amount = "n/a" // decimal.Parse throws: no ACK
			}
			ids = append(ids, a.add(seAdd(artOrders, artOrder(fmt.Sprintf("ORD-2026-%04d", 100+i), "C-1234", amount)...)...))
		}
		read, failed := a.consume(artOrders, artProcGroup, consumer, 10)
		artWantIDs(t, "first read", artIDs(read), ids[:10])
		artWantIDs(t, "failed", failed, ids[4:5])
		read, failed = a.consume(artOrders, artProcGroup, consumer, 10)
		artWantIDs(t, "second read", artIDs(read), ids[10:])
		if len(failed) != 0 {
			t.Errorf("second read failed %v", failed)
		}
		if read, _ := a.consume(artOrders, artProcGroup, consumer, 10); len(read) != 0 {
			t.Errorf("third read: %v, want nothing (null reply)", read)
		}
		a.ack(artOrders, artProcGroup, ids[0], 0) // already acknowledged

		a.exact("XPENDING", artOrders, artProcGroup)
		rows := a.pending(artOrders, artProcGroup, 20)
		if len(rows) != 1 || rows[0].id != ids[4] || rows[0].consumer != consumer || rows[0].count != 1 {
			t.Errorf("pending after the loop: %+v", rows)
		}
		a.info(sxInfoGroups, "XINFO", "GROUPS", artOrders)
		a.info(sxInfoConsumers, "XINFO", "CONSUMERS", artOrders, artProcGroup)
		a.info(sxInfoStream, "XINFO", "STREAM", artOrders)
	})
}

// TestStreamArticleRecovery: Figure 2. Consumer A and consumer B each get
// one order; A acknowledges, B crashes, and A claims B's order with
// XCLAIM min-idle 60000 once it has been idle that long (not before).
func TestStreamArticleRecovery(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		a := newArtSession(t, p)
		const group = "processors"
		a.ensureGroup(artOrders, group)
		var ids []string
		for _, o := range []string{"ORD-42", "ORD-43", "ORD-44"} {
			ids = append(ids, a.add(seAdd(artOrders, "orderId", o)...))
		}
		gotA := a.readGroup(artOrders, group, "consumer-a", 1)
		gotB := a.readGroup(artOrders, group, "consumer-b", 1)
		artWantIDs(t, "consumer-a", artIDs(gotA), ids[:1])
		artWantIDs(t, "consumer-b", artIDs(gotB), ids[1:2])
		a.ack(artOrders, group, ids[0], 1)
		// B crashed. Too early: nothing is claimed.
		if got := artEntries(t, a.exact(seClaim(artOrders, group, "consumer-a", artClaimIdle, ids[1])...)); len(got) != 0 {
			t.Errorf("XCLAIM of a fresh entry claimed %v", got)
		}
		a.exact(artTimeMachine(artOrders, group, "consumer-b", ids[1], artClaimIdle+1000, 1)...)
		rows := a.pending(artOrders, group, 20)
		if len(rows) != 1 || rows[0].consumer != "consumer-b" || rows[0].idle < artClaimIdle {
			t.Errorf("pending before the claim: %+v", rows)
		}
		got := artEntries(t, a.exact(seClaim(artOrders, group, "consumer-a", artClaimIdle, ids[1])...))
		if len(got) != 1 || got[0].field("orderId") != "ORD-43" {
			t.Errorf("XCLAIM after the timeout: %v", got)
		}
		rows = a.pending(artOrders, group, 20)
		if len(rows) != 1 || rows[0].consumer != "consumer-a" || rows[0].count != 2 {
			t.Errorf("pending after the claim: %+v", rows)
		}
		a.info(sxInfoConsumers, "XINFO", "CONSUMERS", artOrders, group)
		a.ack(artOrders, group, ids[1], 1)
		a.exact("XPENDING", artOrders, group)
		// ORD-44 is still there for the next reader.
		artWantIDs(t, "next read", artIDs(a.readGroup(artOrders, group, "consumer-b", 10)), ids[2:])
	})
}

// TestStreamArticleDeadLetter: the dead-letter snippet over three pending
// entries: one idle for over five minutes after four deliveries (moved to
// orders-dead-letter and acknowledged), one idle for over a minute
// (reclaimed by this consumer), and a fresh one (left alone).
func TestStreamArticleDeadLetter(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		a := newArtSession(t, p)
		crashed, me := artWorkerName(t, 0), artWorkerName(t, 1)
		a.ensureGroup(artOrders, artProcGroup)
		var ids []string
		for i := range 3 {
			ids = append(ids, a.add(seAdd(artOrders, artOrder(fmt.Sprintf("ORD-2026-%04d", 200+i), "C-77", "99")...)...))
		}
		// A worker reads them all and dies before acknowledging.
		artWantIDs(t, "crashed worker's read", artIDs(a.readGroup(artOrders, artProcGroup, crashed, 10)), ids)
		a.exact(artTimeMachine(artOrders, artProcGroup, crashed, ids[0], artDeadIdle+60_000, artDeadCount+1)...)
		a.exact(artTimeMachine(artOrders, artProcGroup, crashed, ids[1], artClaimIdle+30_000, 1)...)

		moved, claimed := a.sweep(artOrders, artProcGroup, me, artDeadOrder)
		artWantIDs(t, "moved to the dead letter stream", moved, ids[:1])
		artWantIDs(t, "reclaimed", claimed, ids[1:2])

		rows := a.pending(artOrders, artProcGroup, 20)
		if len(rows) != 2 || rows[0].id != ids[1] || rows[0].consumer != me || rows[0].count != 2 ||
			rows[1].id != ids[2] || rows[1].consumer != crashed || rows[1].count != 1 {
			t.Errorf("pending after the sweep: %+v", rows)
		}
		dead := artEntries(t, a.exact(seRange(artDeadOrder, "-", "+")...))
		if len(dead) != 1 || dead[0].field("orderId") != "ORD-2026-0200" || len(dead[0].values) != 10 {
			t.Errorf("dead letter stream: %v", dead)
		}
		// A second sweep right away finds nothing old enough.
		if moved, claimed := a.sweep(artOrders, artProcGroup, me, artDeadOrder); len(moved)+len(claimed) != 0 {
			t.Errorf("second sweep moved %v, claimed %v", moved, claimed)
		}
		a.exact("XPENDING", artOrders, artProcGroup)
		a.info(sxInfoConsumers, "XINFO", "CONSUMERS", artOrders, artProcGroup)
		a.info(sxInfoGroups, "XINFO", "GROUPS", artOrders)
		a.info(sxInfoStream, "XINFO", "STREAM", artDeadOrder)
	})
}

// TestStreamArticleMicroservices: Figure 4 with the hosted-service worker.
// The order service writes orders-stream; the payment service (group
// payment-processors, worker-{host}-{pid}) pays each order into
// payments-stream and acknowledges it, and an order it cannot pay goes to
// dead-letter-stream after failing repeatedly; the notification service
// reads payments-stream with two consumers of group notifiers, which share
// the entries; the analytics service (group analytics) reads every order
// on its own. Then the monitoring section's commands.
func TestStreamArticleMicroservices(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		a := newArtSession(t, p)
		const payGroup, notifyGroup, analytics = "payment-processors", "notifiers", "analytics"
		payWorker := artWorkerName(t, 0)
		email, sms := artWorkerName(t, 1), artWorkerName(t, 2)
		analyticsWorker := artWorkerName(t, 3)

		// Every service ensures its group at start-up, twice here as a
		// restarted service would (BUSYGROUP is swallowed).
		for range 2 {
			a.ensureGroup(artOrders, payGroup)
			a.ensureGroup(artOrders, analytics)
			a.ensureGroup(artPayments, notifyGroup)
		}
		// The payment worker polls before any order exists.
		if got := a.readGroup(artOrders, payGroup, payWorker, 20); len(got) != 0 {
			t.Fatalf("payment worker read %v from an empty stream", got)
		}

		var orders []string
		for i := range 5 {
			amount := strconv.Itoa(500_000 * (i + 1))
			if i == 2 {
				amount = "" // the payment fails every time
			}
			orders = append(orders, a.add(seAddCapped(artOrders, artMaxLen, artOrder(fmt.Sprintf("ORD-2026-%04d", 300+i), fmt.Sprintf("C-%d", i), amount)...)...))
		}

		// Payment service: handle each order, produce a payment event,
		// acknowledge.
		read := a.readGroup(artOrders, payGroup, payWorker, 20)
		artWantIDs(t, "payment worker read", artIDs(read), orders)
		var payments []string
		for _, e := range read {
			if e.field("amount") == "" {
				continue // handler threw: the PEL keeps it
			}
			payments = append(payments, a.add(seAddCapped(artPayments, artMaxLen,
				"orderId", e.field("orderId"), "amount", e.field("amount"), "status", "paid")...))
			a.ack(artOrders, payGroup, e.id, 1)
		}
		if len(payments) != 4 {
			t.Fatalf("%d payments, want 4", len(payments))
		}

		// Notification service: two consumers of one group share the
		// payments; each is delivered to exactly one of them.
		gotEmail := a.readGroup(artPayments, notifyGroup, email, 2)
		gotSMS := a.readGroup(artPayments, notifyGroup, sms, 20)
		artWantIDs(t, "email consumer", artIDs(gotEmail), payments[:2])
		artWantIDs(t, "sms consumer", artIDs(gotSMS), payments[2:])
		for _, e := range append(gotEmail, gotSMS...) {
			a.ack(artPayments, notifyGroup, e.id, 1)
		}
		if got := a.readGroup(artPayments, notifyGroup, email, 20); len(got) != 0 {
			t.Errorf("email consumer read %v after the payments were shared out", got)
		}
		a.info(sxInfoConsumers, "XINFO", "CONSUMERS", artPayments, notifyGroup)

		// Analytics reads every order, the failed one included.
		got := a.readGroup(artOrders, analytics, analyticsWorker, 20)
		artWantIDs(t, "analytics", artIDs(got), orders)
		for _, e := range got {
			a.ack(artOrders, analytics, e.id, 1)
		}

		// The unpayable order failed more than three times over five
		// minutes: the payment service's sweep moves it to the DLQ.
		a.exact(artTimeMachine(artOrders, payGroup, payWorker, orders[2], artDeadIdle+1, artDeadCount+1)...)
		moved, claimed := a.sweep(artOrders, payGroup, payWorker, artDLQ)
		artWantIDs(t, "moved to the DLQ", moved, orders[2:3])
		if len(claimed) != 0 {
			t.Errorf("sweep reclaimed %v", claimed)
		}
		dlq := artEntries(t, a.exact(seRange(artDLQ, "-", "+")...))
		if len(dlq) != 1 || dlq[0].field("orderId") != "ORD-2026-0302" {
			t.Errorf("DLQ: %v", dlq)
		}

		// Monitoring with redis-cli.
		a.info(sxInfoStream, "XINFO", "STREAM", artOrders)
		a.info(sxInfoGroups, "XINFO", "GROUPS", artOrders)
		a.info(sxInfoGroups, "XINFO", "GROUPS", artPayments)
		a.info(sxInfoConsumers, "XINFO", "CONSUMERS", artOrders, payGroup)
		a.do(sxPendingTimes, sePending(artOrders, payGroup, 10)...)
		a.exact("XPENDING", artOrders, payGroup)
		for _, k := range []string{artOrders, artPayments, artDLQ} {
			a.exact("XLEN", k)
		}
		a.exact("XTRIM", artOrders, "MAXLEN", "~", "50000")
	})
}
