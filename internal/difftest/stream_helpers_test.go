package difftest

// Shared helpers of the stream differential tests (stream_*_test.go).
//
// The oracle is redis-server 7.0.15, but Runnel's target is the newer
// surface described in /work/shared/docs/redis-streams-spec.md (7.2/7.4
// changes included). Every place where the two legitimately differ is
// handled here, in one of three ways, each citing the spec:
//
//   - sxNewerReply maps a 7.0 reply to the reply the spec requires, when the
//     difference follows from the reply alone (error texts);
//   - sxInfo drops from Runnel's XINFO replies exactly the fields added
//     after 7.0 (and requires that Runnel sends them);
//   - sxAfterGroupCall brings Redis 7.0's consumer state to where 7.2+ would
//     be after XREADGROUP, XCLAIM and XAUTOCLAIM (eager consumer creation).
//
// Tests that check one stateful difference compare with sxDiffer, which
// pins both replies (Runnel's per the spec, Redis's as 7.0 sends it).
//
// RUNNEL_STREAM_SELFCHECK=1 replaces Runnel with a second redis-server 7.0,
// to validate the tests themselves: every comparison must then hold between
// two identical servers, and the version differences above compare the
// two 7.0 replies exactly instead.

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/redistest"
)

// sxSelfCheck is set by RUNNEL_STREAM_SELFCHECK=1.
var sxSelfCheck = os.Getenv("RUNNEL_STREAM_SELFCHECK") == "1"

// sxTol bounds how far apart time values measured by the two servers (idle
// times, delivery and seen timestamps) may be. Both servers run every
// command within a millisecond or so of each other, so the slack is for a
// loaded CI machine only; tests that set a time on purpose (XCLAIM IDLE)
// use values far larger.
const sxTol = 750

// sxMaxID is the largest stream ID.
const sxMaxID = "18446744073709551615-18446744073709551615"

// sxStart starts the servers for a stream test: Runnel and redis-server,
// or two redis-servers with RUNNEL_STREAM_SELFCHECK=1.
func sxStart(t *testing.T) *servers {
	t.Helper()
	if !sxSelfCheck {
		return startServers(t)
	}
	r := redistest.StartRedis(t)
	other := redistest.StartRedis(t)
	return &servers{redis: r, addr: other.Addr()}
}

// sxEachProto starts the servers and runs fn in RESP2 and RESP3.
func sxEachProto(t *testing.T, fn func(t *testing.T, p *redistest.Pair)) *servers {
	t.Helper()
	s := sxStart(t)
	eachProto(t, s, fn)
	return s
}

// sxConfig runs CONFIG SET on both servers, e.g. stream-node-max-entries.
func sxConfig(t *testing.T, p *redistest.Pair, name, value string) {
	t.Helper()
	for _, c := range []*redistest.Conn{p.Runnel, p.Redis} {
		if got := string(c.Do("CONFIG", "SET", name, value)); got != "+OK\r\n" {
			t.Fatalf("CONFIG SET %s %s: %q", name, value, got)
		}
	}
}

// sxErr is an error reply.
func sxErr(text string) redistest.Value {
	return redistest.Value{Kind: redistest.KindError, Str: text}
}

// sxDiffer compares a reply where Redis 7.0 and the newer target
// legitimately differ (the caller cites the spec section): Runnel must send
// want and Redis old. Checking Redis's reply too keeps the premise honest:
// if the oracle ever stops sending old, the test says so. With
// RUNNEL_STREAM_SELFCHECK both must send old.
func sxDiffer(want, old redistest.Value) redistest.Comparison {
	return func(r, s redistest.Value) error {
		if !s.Equal(old) {
			return fmt.Errorf("redis 7.0 was expected to send %s, sent %s", old, s)
		}
		if sxSelfCheck {
			want = old
		}
		if !r.Equal(want) {
			return fmt.Errorf("runnel must send %s (newer than 7.0, see the spec), sent %s", want, r)
		}
		return nil
	}
}

// 7.0's texts for errors whose wording changed later.
const (
	sxUnbalanced70 = "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
	sxTooLarge70   = "ERR Elements are too large to be stored"
	sxBadID        = "ERR Invalid stream ID specified as stream command argument"
	// 7.2+ texts (errors_stream.go holds Runnel's copies; these are the
	// spec's, §3).
	sxUnbalancedXRead      = "ERR Unbalanced 'xread' list of streams: for each stream key an ID, '+', or '$' must be specified."
	sxUnbalancedXReadGroup = "ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified."
	sxXAddSmall            = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
	sxXReadGroupPlus       = "ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set."
	sxXSetIDMaxDel         = "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id"
)

// sxNewerReply returns the reply the spec requires for a command to which
// Redis 7.0 sent redis, where the difference follows from the reply alone,
// with the reason; ok is false when Runnel must send what Redis sent.
func sxNewerReply(args []string, redis redistest.Value) (want redistest.Value, why string, ok bool) {
	if !redis.IsError() || len(args) == 0 {
		return redistest.Value{}, "", false
	}
	cmd := strings.ToUpper(args[0])
	switch {
	case redis.Str == sxUnbalanced70 && cmd == "XREAD":
		// spec §3: the 7.2+ text names the command and lists '+'.
		return sxErr(sxUnbalancedXRead), "§3 Unbalanced 'xread' (7.2+)", true
	case redis.Str == sxUnbalanced70 && cmd == "XREADGROUP":
		return sxErr(sxUnbalancedXReadGroup), "§3 Unbalanced 'xreadgroup' (7.2+)", true
	case redis.Str == sxTooLarge70 && cmd == "XADD" && sxSeqStarAtMax(args):
		// spec §2.2 and §11 (7.2, #11424): <ms>-* after a sequence of
		// UINT64_MAX is "equal or smaller"; 7.0 overflowed into the
		// size check.
		return sxErr(sxXAddSmall), "§2.2 <ms>-* at the maximal sequence (7.2+, #11424)", true
	case redis.Str == sxBadID && cmd == "XREADGROUP" && slices.Contains(sxStreamsIDs(args), "+"):
		// spec §2.2/§3: '+' is a special symbol since 7.4 and an error in
		// XREADGROUP; 7.0 failed to parse it as an ID. The generators
		// never put another invalid ID before a '+'.
		return sxErr(sxXReadGroupPlus), "§3 XREADGROUP '+' (7.4+)", true
	}
	return redistest.Value{}, "", false
}

// sxSeqStarAtMax reports whether an XADD's ID argument has the <ms>-* form;
// Redis 7.0 only sends "too large" for such an ID when the sequence is
// exhausted (the tests never add entries over 1 GB).
func sxSeqStarAtMax(args []string) bool {
	for _, a := range args[2:] {
		if strings.HasSuffix(a, "-*") {
			return true
		}
	}
	return false
}

// sxStreamsIDs returns the ID arguments of an XREAD or XREADGROUP.
func sxStreamsIDs(args []string) []string {
	for i, a := range args {
		if strings.EqualFold(a, "STREAMS") {
			rest := args[i+1:]
			return rest[len(rest)/2:]
		}
	}
	return nil
}

// sxCompare is cmp, except where sxNewerReply says Runnel must send the
// newer reply.
func sxCompare(args []string, cmp redistest.Comparison) redistest.Comparison {
	return func(r, s redistest.Value) error {
		if want, why, ok := sxNewerReply(args, s); ok && !sxSelfCheck {
			if !r.Equal(want) {
				return fmt.Errorf("runnel must send %s (spec %s; redis 7.0 sends the older reply)", want, why)
			}
			return nil
		}
		return cmp(r, s)
	}
}

// sxDo is Pair.Do for stream commands: byte-identical replies, with the
// reply-only version differences of sxNewerReply.
func sxDo(p *redistest.Pair, args ...string) bool {
	return p.DoMatch(sxCompare(args, redistest.CompareExact), args...)
}

// sxDoMatch is sxDo with a custom comparison.
func sxDoMatch(p *redistest.Pair, cmp redistest.Comparison, args ...string) bool {
	return p.DoMatch(sxCompare(args, cmp), args...)
}

// sxSeenID is a history-read ID beyond any entry a test adds: an
// XREADGROUP with it returns nothing, and Redis 7.0 then creates the
// consumer and refreshes its seen-time (STREAMS key MAX-1: the start of the
// history range is the ID plus one, which must not overflow).
const sxSeenID = "18446744073709551615-18446744073709551614"

// sxTouchConsumer makes Redis 7.0's consumer state what 7.2+ has after an
// XREADGROUP, XCLAIM or XAUTOCLAIM that did not fail: since 7.2 these
// create the consumer (with an xgroup-createconsumer event and a dirty
// increment) and refresh its seen-time up front, even when nothing is
// delivered or claimed, where 7.0 did both only for entries actually
// served (spec §4 XREADGROUP "The consumer is created on first use, even
// when nothing is returned", XCLAIM "The consumer is created if missing
// ...; seen_time is updated"; §11 7.2; Redis test "Consumer seen-time and
// active-time"). A history read past every entry does exactly that on
// 7.0. It is sent to Redis only (to both with RUNNEL_STREAM_SELFCHECK), so
// a test must not compare events or dirty across it.
//
// The history read would also redeliver an entry at the largest ID, if
// this consumer owns one: then the consumer exists already and is left
// alone (its seen-time is then within sxTol only if the test is short).
func sxTouchConsumer(p *redistest.Pair, key, group, consumer string) {
	args := []string{"XREADGROUP", "GROUP", group, consumer, "STREAMS", key, sxSeenID}
	for _, c := range []*redistest.Conn{p.Redis, p.Runnel} {
		if c == p.Runnel && !sxSelfCheck {
			break
		}
		if v := c.DoValue("XPENDING", key, group, sxMaxID, sxMaxID, "1", consumer); len(v.Elems) > 0 {
			continue
		}
		c.Do(args...)
	}
}

// sxGroupCall runs XREADGROUP, XCLAIM or XAUTOCLAIM with sxDoMatch and
// then, if Redis did not reply with an error, sxTouchConsumer for every
// key (group, consumer) the command names.
func sxGroupCall(p *redistest.Pair, cmp redistest.Comparison, args ...string) bool {
	var last redistest.Value
	ok := p.DoMatch(sxCompare(args, func(r, s redistest.Value) error {
		last = s
		return cmp(r, s)
	}), args...)
	if last.IsError() || last.Kind == 0 {
		return ok
	}
	sxAfterGroupCall(p, args, last)
	return ok
}

// sxAfterGroupCall applies sxTouchConsumer for a group command that Redis
// answered with reply.
func sxAfterGroupCall(p *redistest.Pair, args []string, reply redistest.Value) {
	if reply.IsError() {
		return
	}
	switch strings.ToUpper(args[0]) {
	case "XCLAIM", "XAUTOCLAIM":
		sxTouchConsumer(p, args[1], args[2], args[3])
	case "XREADGROUP":
		if len(args) < 4 {
			return
		}
		group, consumer := args[2], args[3]
		for i, a := range args {
			if strings.EqualFold(a, "STREAMS") {
				rest := args[i+1:]
				for _, k := range rest[:len(rest)/2] {
					sxTouchConsumer(p, k, group, consumer)
				}
				break
			}
		}
	}
}

// Fields added to XINFO replies after 7.0 (spec §4 XINFO, §11).
var (
	// 8.6: always present in XINFO STREAM, 0 when IDMP is unused.
	sxIdmpFields = []string{"idmp-duration", "idmp-maxsize", "pids-tracked", "iids-tracked", "iids-added", "iids-duplicates"}
	// 8.8: XINFO STREAM FULL, per group.
	sxNackedField = "nacked-count"
	// 7.2: XINFO STREAM FULL, per consumer.
	sxActiveTimeField = "active-time"
	// 7.2: XINFO CONSUMERS, per consumer.
	sxInactiveField = "inactive"
)

// sxInfoKind says which XINFO reply sxInfo compares.
type sxInfoKind int

const (
	sxInfoStream    sxInfoKind = iota // XINFO STREAM key
	sxInfoFull                        // XINFO STREAM key FULL [COUNT n]
	sxInfoGroups                      // XINFO GROUPS key
	sxInfoConsumers                   // XINFO CONSUMERS key group
)

// sxInfo compares XINFO replies of the given kind:
//   - from Runnel's reply it drops the fields added after 7.0 (idmp-*,
//     nacked-count, active-time, inactive), which must be there and be
//     integers;
//   - radix-tree-nodes is Redis's internal rax node count, which the spec
//     leaves to the implementation ("any plausible number is fine", §6):
//     it must be a positive integer;
//   - idle times and unix-ms times (seen-time, delivery times) must be
//     within sxTol of each other;
//   - with maskLag, entries-read and lag are not compared (see
//     sxLagUnsure).
//
// Error replies are compared exactly.
func sxInfo(kind sxInfoKind, maskLag bool) redistest.Comparison {
	return func(r, s redistest.Value) error {
		if r.IsError() || s.IsError() {
			return redistest.CompareExact(r, s)
		}
		r = r.Clone()
		if !sxSelfCheck {
			var err error
			if r, err = sxDropNewer(kind, r); err != nil {
				return err
			}
		}
		mask := func(v redistest.Value) (redistest.Value, []int64) {
			return sxMaskInfo(kind, v, maskLag)
		}
		return redistest.CompareMasked(mask, sxTol)(r, s)
	}
}

// sxDropField removes name from a field list, requiring it to be an
// integer there.
func sxDropField(v redistest.Value, where, name string) (redistest.Value, error) {
	f, ok := redistest.Field(v, name)
	if !ok {
		return v, fmt.Errorf("runnel's %s lacks %q (a field newer than 7.0 the spec requires)", where, name)
	}
	if f.Kind != redistest.KindInt {
		return v, fmt.Errorf("runnel's %s: %q is %s, not an integer", where, name, f)
	}
	v, _ = redistest.DropFields(v, name)
	return v, nil
}

// sxDropNewer removes the post-7.0 fields from Runnel's XINFO reply.
func sxDropNewer(kind sxInfoKind, v redistest.Value) (redistest.Value, error) {
	var err error
	switch kind {
	case sxInfoStream, sxInfoFull:
		for _, f := range sxIdmpFields {
			if v, err = sxDropField(v, "XINFO STREAM", f); err != nil {
				return v, err
			}
		}
		if kind == sxInfoStream {
			return v, nil
		}
		i := redistest.FieldIndex(v, "groups")
		if i < 0 {
			return v, nil
		}
		groups := &v.Elems[i]
		for gi := range groups.Elems {
			g := &groups.Elems[gi]
			if *g, err = sxDropField(*g, "XINFO STREAM FULL group", sxNackedField); err != nil {
				return v, err
			}
			ci := redistest.FieldIndex(*g, "consumers")
			if ci < 0 {
				continue
			}
			for j := range g.Elems[ci].Elems {
				c := &g.Elems[ci].Elems[j]
				if *c, err = sxDropField(*c, "XINFO STREAM FULL consumer", sxActiveTimeField); err != nil {
					return v, err
				}
			}
		}
	case sxInfoConsumers:
		for i := range v.Elems {
			if v.Elems[i], err = sxDropField(v.Elems[i], "XINFO CONSUMERS entry", sxInactiveField); err != nil {
				return v, err
			}
		}
	}
	return v, nil
}

// sxMaskField masks the integer field name of a field list.
func sxMaskField(v *redistest.Value, name string, times []int64) []int64 {
	if i := redistest.FieldIndex(*v, name); i >= 0 {
		times = redistest.MaskInt(&v.Elems[i], times)
	}
	return times
}

// sxMaskedValue replaces a value the comparison must ignore.
var sxMaskedValue = redistest.Value{Kind: redistest.KindSimple, Str: "(not compared)"}

// sxMaskLag replaces entries-read and lag in a group's field list.
func sxMaskLag(g *redistest.Value) {
	for _, name := range []string{"entries-read", "lag"} {
		if i := redistest.FieldIndex(*g, name); i >= 0 {
			g.Elems[i] = sxMaskedValue
		}
	}
}

// sxMaskInfo masks the time values (and, with maskLag, the lag fields) of
// an XINFO reply, and radix-tree-nodes (spec §6: internal).
func sxMaskInfo(kind sxInfoKind, v redistest.Value, maskLag bool) (redistest.Value, []int64) {
	var times []int64
	switch kind {
	case sxInfoStream, sxInfoFull:
		if i := redistest.FieldIndex(v, "radix-tree-nodes"); i >= 0 {
			if n := v.Elems[i]; n.Kind == redistest.KindInt && n.Int > 0 {
				v.Elems[i] = sxMaskedValue
			}
		}
		if kind == sxInfoStream {
			break
		}
		i := redistest.FieldIndex(v, "groups")
		if i < 0 {
			break
		}
		for gi := range v.Elems[i].Elems {
			g := &v.Elems[i].Elems[gi]
			if maskLag {
				sxMaskLag(g)
			}
			if pi := redistest.FieldIndex(*g, "pending"); pi >= 0 {
				for j := range g.Elems[pi].Elems {
					if row := &g.Elems[pi].Elems[j]; len(row.Elems) == 4 {
						times = redistest.MaskInt(&row.Elems[2], times)
					}
				}
			}
			ci := redistest.FieldIndex(*g, "consumers")
			if ci < 0 {
				continue
			}
			for j := range g.Elems[ci].Elems {
				c := &g.Elems[ci].Elems[j]
				times = sxMaskField(c, "seen-time", times)
				if pi := redistest.FieldIndex(*c, "pending"); pi >= 0 {
					for k := range c.Elems[pi].Elems {
						if row := &c.Elems[pi].Elems[k]; len(row.Elems) == 3 {
							times = redistest.MaskInt(&row.Elems[1], times)
						}
					}
				}
			}
		}
	case sxInfoGroups:
		if maskLag {
			for i := range v.Elems {
				sxMaskLag(&v.Elems[i])
			}
		}
	case sxInfoConsumers:
		for i := range v.Elems {
			times = sxMaskField(&v.Elems[i], "idle", times)
		}
	}
	return v, times
}

// sxPendingTimes compares XPENDING replies: in the extended form
// ([[id, consumer, idle, count], ...]) the idle times must be within
// sxTol; the summary form is compared exactly.
var sxPendingTimes = redistest.CompareMasked(func(v redistest.Value) (redistest.Value, []int64) {
	var times []int64
	if v.Kind != redistest.KindArray || v.Null {
		return v, nil
	}
	for i := range v.Elems {
		if row := &v.Elems[i]; row.Kind == redistest.KindArray && len(row.Elems) == 4 && row.Elems[0].Kind == redistest.KindBulk {
			times = redistest.MaskInt(&row.Elems[2], times)
		}
	}
	return v, times
}, sxTol)

// sxIDPattern matches a stream ID as servers send it.
var sxIDPattern = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

// sxAutoIDs maps the IDs that XADD * generated on each server (from the
// wall clock, so they differ) to the same placeholders, "<id1>", "<id2>"...,
// so that later replies containing them can be compared exactly.
type sxAutoIDs struct {
	r, s map[string]string
	n    int
}

func newSXAutoIDs() *sxAutoIDs {
	return &sxAutoIDs{r: map[string]string{}, s: map[string]string{}}
}

// add runs an XADD with an auto-generated ID and records the two IDs,
// which must both be well-formed (or both the same non-ID reply).
func (m *sxAutoIDs) add(p *redistest.Pair, args ...string) bool {
	return p.DoMatch(func(r, s redistest.Value) error {
		if r.Kind == redistest.KindBulk && s.Kind == redistest.KindBulk && !r.Null && !s.Null {
			if !sxIDPattern.MatchString(r.Str) || !sxIDPattern.MatchString(s.Str) {
				return fmt.Errorf("not stream IDs: runnel %q, redis %q", r.Str, s.Str)
			}
			// The same ID on two keys (generated in the same
			// millisecond) keeps one placeholder if both servers agree.
			if ph, ok := m.r[r.Str]; ok && m.s[s.Str] == ph {
				return nil
			}
			m.n++
			ph := "<id" + strconv.Itoa(m.n) + ">"
			m.r[r.Str], m.s[s.Str] = ph, ph
			return nil
		}
		return redistest.CompareExact(r, s)
	}, args...)
}

// cmp wraps a comparison so that recorded IDs compare equal.
func (m *sxAutoIDs) cmp(fn redistest.Comparison) redistest.Comparison {
	return func(r, s redistest.Value) error {
		return fn(sxReplaceIDs(r.Clone(), m.r), sxReplaceIDs(s.Clone(), m.s))
	}
}

// do is Pair.Do for replies that may contain recorded IDs.
func (m *sxAutoIDs) do(p *redistest.Pair, args ...string) bool {
	return p.DoMatch(m.cmp(redistest.CompareExact), args...)
}

// sxReplaceIDs replaces every string of v found in ids.
func sxReplaceIDs(v redistest.Value, ids map[string]string) redistest.Value {
	switch v.Kind {
	case redistest.KindBulk, redistest.KindSimple:
		if ph, ok := ids[v.Str]; ok && !v.Null {
			v.Str = ph
		}
	}
	for i := range v.Elems {
		v.Elems[i] = sxReplaceIDs(v.Elems[i], ids)
	}
	return v
}

// sxInfoInt reads an integer field of INFO section from one server.
func sxInfoInt(t *testing.T, c *redistest.Conn, section, field string) int64 {
	t.Helper()
	return strInfoInt(t, c, section, field)
}

// sxWaitBlocked waits until both servers report n blocked clients in INFO
// clients, as the Redis tests do with wait_for_blocked_clients_count: a
// command sent by another connection must not race the blocking one.
func sxWaitBlocked(t *testing.T, p *redistest.Pair, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, c := range []*redistest.Conn{p.Runnel, p.Redis} {
		for {
			got := sxInfoInt(t, c, "clients", "blocked_clients")
			if got == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: blocked_clients is %d, want %d", c.NetConn().RemoteAddr(), got, n)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// sxSend sends a command to both servers without reading the reply, for a
// client that blocks; read it later with Pair.Receive or ReceiveMatch.
func sxSend(p *redistest.Pair, args ...string) {
	p.WriteRaw(redistest.Command(args...))
}

// sxOther opens another connection pair (the "other client") in proto.
func sxOther(t *testing.T, s *servers, proto int) *redistest.Pair {
	t.Helper()
	q := redistest.NewPair(t, s.addr, s.redis.Addr(), proto)
	t.Cleanup(q.Close)
	return q
}

// sxProto returns the protocol of the eachProto subtest t.
func sxProto(t *testing.T) int {
	if strings.HasSuffix(t.Name(), "RESP3") {
		return 3
	}
	return 2
}

// sxFill adds entries n-1 ... m-1 (field f, value v<n>) to key.
func sxFill(p *redistest.Pair, key string, from, to int) {
	for i := from; i <= to; i++ {
		n := strconv.Itoa(i)
		p.Do("XADD", key, n+"-1", "f", "v"+n)
	}
}

// sxXInfo compares XINFO STREAM key [options...] (sxInfo).
func sxXInfo(p *redistest.Pair, key string, opts ...string) bool {
	kind := sxInfoStream
	if len(opts) > 0 && strings.EqualFold(opts[0], "FULL") {
		kind = sxInfoFull
	}
	return p.DoMatch(sxInfo(kind, false), append([]string{"XINFO", "STREAM", key}, opts...)...)
}

// sxParseID parses a plain "ms-seq" or "ms" ID (seq 0), as the tests write
// them; ok is false for anything else.
func sxParseID(s string) (id [2]uint64, ok bool) {
	ms, seq, hasSeq := strings.Cut(s, "-")
	var err error
	if id[0], err = strconv.ParseUint(ms, 10, 64); err != nil {
		return id, false
	}
	if hasSeq {
		if id[1], err = strconv.ParseUint(seq, 10, 64); err != nil {
			return id, false
		}
	}
	return id, true
}

func sxLess(a, b [2]uint64) bool { return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]) }

// sxXSetID runs an XSETID. Since 7.2, after the ID and options parse and
// the key is found, an ID below the stream's current max-deleted-entry-id
// is refused before the other checks (spec §4 XSETID, §11 7.2, #11444);
// 7.0 went on to its other checks and could accept it. The current value
// is read from Redis before the command (a read that changes nothing
// compared here); it must not be used inside MULTI.
//
// When 7.0 accepted such an XSETID, Redis's stream is put back as it was
// (last ID, entries-added, max-deleted), so that both servers go on from
// the same state.
func sxXSetID(p *redistest.Pair, args ...string) bool {
	var maxDel [2]uint64
	var before redistest.Value
	haveMax := false
	if len(args) >= 3 {
		before = p.Redis.DoValue("XINFO", "STREAM", args[1])
		if f, ok := redistest.Field(before, "max-deleted-entry-id"); ok {
			maxDel, haveMax = sxParseID(f.Str)
		}
	}
	id, idOK := sxParseID(args[min(2, len(args)-1)])
	restore := false
	ok := p.DoMatch(func(r, s redistest.Value) error {
		accepted := s.Kind == redistest.KindSimple && s.Str == "OK"
		older := accepted ||
			s.IsError() && (s.Str == "ERR The ID specified in XSETID is smaller than the target stream top item" ||
				s.Str == "ERR The entries_added specified in XSETID is smaller than the target stream length")
		if haveMax && idOK && older && sxLess(id, maxDel) && !sxSelfCheck {
			restore = accepted
			if want := sxErr(sxXSetIDMaxDel); !r.Equal(want) {
				return fmt.Errorf("runnel must send %s: the ID is below the current max-deleted-entry-id (spec §4 XSETID, 7.2+), redis 7.0 sent %s", want, s)
			}
			return nil
		}
		return redistest.CompareExact(r, s)
	}, args...)
	if restore {
		last, _ := redistest.Field(before, "last-generated-id")
		added, _ := redistest.Field(before, "entries-added")
		md, _ := redistest.Field(before, "max-deleted-entry-id")
		back := []string{"XSETID", args[1], last.Str, "ENTRIESADDED", strconv.FormatInt(added.Int, 10), "MAXDELETEDID", md.Str}
		if got := string(p.Redis.Do(back...)); got != "+OK\r\n" {
			p.Redis.Do("PING") // keep the connection in step; the test fails below
			panic(fmt.Sprintf("restoring Redis after %s: %s: %q", redistest.FormatCommand(args), redistest.FormatCommand(back), got))
		}
	}
	return ok
}

// sxAny runs any stream command with the comparison its reply needs.
func sxAny(p *redistest.Pair, args ...string) bool {
	switch strings.ToUpper(args[0]) {
	case "XINFO":
		if len(args) > 1 {
			switch strings.ToUpper(args[1]) {
			case "STREAM":
				if len(args) > 3 && strings.EqualFold(args[3], "FULL") {
					return p.DoMatch(sxInfo(sxInfoFull, false), args...)
				}
				return p.DoMatch(sxInfo(sxInfoStream, false), args...)
			case "GROUPS":
				return p.DoMatch(sxInfo(sxInfoGroups, false), args...)
			case "CONSUMERS":
				return p.DoMatch(sxInfo(sxInfoConsumers, false), args...)
			}
		}
	case "XPENDING":
		return p.DoMatch(sxPendingTimes, args...)
	case "XREADGROUP", "XCLAIM", "XAUTOCLAIM":
		return sxGroupCall(p, redistest.CompareExact, args...)
	case "XSETID":
		return sxXSetID(p, args...)
	}
	return sxDo(p, args...)
}
