package command

// Consumer-group commands of https://redis.io/commands/?group=stream:
// XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XACKDEL (8.2) and XNACK
// (8.8), as Redis's t_stream.c implements them (7.4 where it differs from
// 7.0; spec: redis-streams-spec.md §3, §4, §8).
//
// Each handler keeps Redis's order of checks, because it decides which
// error a bad command gets: XACK, XCLAIM and XAUTOCLAIM look the key up
// before parsing (so hits, misses and "keymiss" are counted even for a
// syntax error), XPENDING and XGROUP parse first.
//
// Signals. Redis calls signalModifiedKey (WATCH, and blocked clients) only
// when XGROUP CREATE ... MKSTREAM adds the key, and signalKeyAsReady
// (blocked clients only) on XGROUP DESTROY, so that blocked XREADGROUPs get
// NOGROUP. Every other consumer-group change (CREATE on an existing key,
// SETID, CREATECONSUMER, DELCONSUMER, XACK, XCLAIM, XAUTOCLAIM) leaves a
// WATCH intact, as checked on redis-server 7.0.15. DESTROY and XNACK (which
// wakes XREADGROUP ... CLAIM readers, 8.8) call x.Tx.SignalReady, which
// wakes blocked clients without touching WATCH; XACKDEL deletions are
// modifications (x.Tx.Touched), as XDEL's.

import (
	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/resp"
	"github.com/runnel-io/runnel/internal/stream"
)

func init() { registrations = append(registrations, registerStreamGroups) }

func registerStreamGroups(t *Table) {
	key1 := func(name string, arity int, flags Flag, run func(*Ctx)) *Command {
		return &Command{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Run: run}
	}
	key2 := func(name string, arity int, flags Flag, run func(*Ctx)) *Command {
		return &Command{Name: name, Arity: arity, Flags: flags, FirstKey: 2, LastKey: 2, Step: 1, Run: run}
	}
	t.add(
		container("xgroup", -2, 0,
			key2("create", -5, Write|DenyOOM, cmdXGroupCreate),
			key2("setid", -5, Write, cmdXGroupSetID),
			key2("destroy", 4, Write, cmdXGroupDestroy),
			key2("createconsumer", 5, Write|DenyOOM, cmdXGroupCreateConsumer),
			key2("delconsumer", 5, Write, cmdXGroupDelConsumer),
			&Command{Name: "help", Arity: 2, Flags: Loading | Stale | NoKeyspace, Run: cmdXGroupHelp},
		),
		key1("xack", -4, Write|Fast, cmdXAck),
		key1("xpending", -3, ReadOnly, cmdXPending),
		key1("xclaim", -6, Write|Fast, cmdXClaim),
		key1("xautoclaim", -6, Write|Fast, cmdXAutoClaim),
		key1("xackdel", -6, Write|Fast, cmdXAckDel),
		key1("xnack", -7, Write|Fast, cmdXNack),
	)
}

// noKeyOrGroup replies NOGROUP as XPENDING, XCLAIM, XAUTOCLAIM and XNACK
// do. Redis formats the names with %s, so they end at a NUL byte.
func noKeyOrGroup(x *Ctx) {
	x.Errorf(msgNoKeyOrGroup, asCString(x.Args[1]), asCString(x.Args[2]))
}

// --- XGROUP ---

// xgroupHelp is XGROUP HELP of redis-server 7.0.15 (unchanged through 8.x
// as far as the spec goes).
var xgroupHelp = []string{
	"CREATE <key> <groupname> <id|$> [option]",
	"    Create a new consumer group. Options are:",
	"    * MKSTREAM",
	"      Create the empty stream if it does not exist.",
	"    * ENTRIESREAD entries_read",
	"      Set the group's entries_read counter (internal use).",
	"CREATECONSUMER <key> <groupname> <consumer>",
	"    Create a new consumer in the specified group.",
	"DELCONSUMER <key> <groupname> <consumer>",
	"    Remove the specified consumer.",
	"DESTROY <key> <groupname>",
	"    Remove the specified group.",
	"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
	"    Set the current group ID and entries_read counter.",
}

// XGROUP HELP (redis.io/commands/xgroup-help)
func cmdXGroupHelp(x *Ctx) { replyHelp(x, xgroupHelp...) }

// xgroupArgs is what the common part of xgroupCommand resolves.
type xgroupArgs struct {
	s           *stream.Stream // nil only for CREATE ... MKSTREAM on a missing key
	g           *stream.Group  // nil if the group does not exist
	mkstream    bool
	entriesRead int64 // ENTRIESREAD, or -1
}

// xgroupPrologue is the part of Redis's xgroupCommand shared by the
// subcommands that take a key: it parses the CREATE/SETID options, looks
// the key up for writing, requires it (unless MKSTREAM) and, for SETID,
// CREATECONSUMER and DELCONSUMER, the group. It replies and returns false
// on error.
func xgroupPrologue(x *Ctx, create, setid, needGroup bool) (a xgroupArgs, ok bool) {
	a.entriesRead = -1
	args := x.Args
	for i := 5; i < len(args); {
		switch {
		case create && x.Is(i, "mkstream"):
			a.mkstream = true
			i++
		case (create || setid) && x.Is(i, "entriesread") && i+1 < len(args):
			n, ok := x.Int(i + 1)
			if !ok {
				return a, false
			}
			if n < 0 && n != -1 {
				x.Error(msgEntriesRead)
				return a, false
			}
			a.entriesRead = n
			i += 2
		default:
			x.SubcommandSyntax()
			return a, false
		}
	}
	s, ok := x.lookupStream(args[2], true)
	if !ok {
		return a, false
	}
	a.s = s
	if a.mkstream {
		return a, true
	}
	if s == nil {
		x.Error(msgXGroupNoKey)
		return a, false
	}
	a.g = s.Group(args[3])
	if a.g == nil && needGroup {
		x.Errorf(msgNoGroupForKey, asCString(args[3]), asCString(args[2]))
		return a, false
	}
	return a, true
}

// XGROUP CREATE key group <id|$> [MKSTREAM] [ENTRIESREAD n]
// (redis.io/commands/xgroup-create; spec §4 XGROUP). The ID is strict; the
// key is created by MKSTREAM only once nothing can fail any more.
func cmdXGroupCreate(x *Ctx) {
	a, ok := xgroupPrologue(x, true, false, false)
	if !ok {
		return
	}
	if len(x.Args) > 8 {
		// Options repeated beyond the longest valid form: Redis checks the
		// argument count only when dispatching, after the key checks.
		x.SubcommandSyntax()
		return
	}
	key := x.Args[2]
	var id stream.ID
	if string(x.Args[4]) == "$" {
		if a.s != nil {
			id = a.s.LastID()
		}
	} else if id, ok = x.streamID(4, 0, true); !ok {
		return
	}
	if a.s == nil {
		a.s = stream.New()
		x.Tx.Set(x.DB, key, a.s, 0, false)
		x.touchStream(a.s)
	}
	if _, created := a.s.CreateGroup(x.Args[3], id, a.entriesRead); !created {
		x.Error(msgBusyGroup)
		return
	}
	x.W.OK()
	x.Tx.AddDirty(1)
	x.Notify(engine.EventStream, "xgroup-create", key)
}

// XGROUP SETID key group <id|$> [ENTRIESREAD n]
// (redis.io/commands/xgroup-setid). The ID parser is the lax one: "-" and
// "+" are accepted. Without ENTRIESREAD entries-read becomes invalid.
func cmdXGroupSetID(x *Ctx) {
	a, ok := xgroupPrologue(x, false, true, true)
	if !ok {
		return
	}
	if len(x.Args) != 5 && len(x.Args) != 7 {
		x.SubcommandSyntax()
		return
	}
	var id stream.ID
	if string(x.Args[4]) == "$" {
		id = a.s.LastID()
	} else if id, ok = x.streamID(4, 0, false); !ok {
		return
	}
	a.s.SetGroupID(a.g, id, a.entriesRead)
	x.W.OK()
	x.Tx.AddDirty(1)
	x.Notify(engine.EventStream, "xgroup-setid", x.Args[2])
}

// XGROUP DESTROY key group (redis.io/commands/xgroup-destroy): 1, or 0 when
// there is no such group. Blocked XREADGROUPs of the key are woken, to
// answer NOGROUP (7.2+).
func cmdXGroupDestroy(x *Ctx) {
	a, ok := xgroupPrologue(x, false, false, false)
	if !ok {
		return
	}
	key := x.Args[2]
	if a.g == nil || !a.s.DestroyGroup(x.Args[3]) {
		x.W.Int(0)
		return
	}
	x.W.Int(1)
	x.Tx.AddDirty(1)
	x.Notify(engine.EventStream, "xgroup-destroy", key)
	x.Tx.SignalReady(x.DB, key) // signalKeyAsReady: wakes, leaves WATCH alone
}

// XGROUP CREATECONSUMER key group consumer
// (redis.io/commands/xgroup-createconsumer): 1 if created, 0 if it existed.
func cmdXGroupCreateConsumer(x *Ctx) {
	a, ok := xgroupPrologue(x, false, false, true)
	if !ok {
		return
	}
	if _, created := a.g.CreateConsumer(x.Args[4], x.Now); !created {
		x.W.Int(0)
		return
	}
	x.W.Int(1)
	x.Tx.AddDirty(1)
	x.Notify(engine.EventStream, "xgroup-createconsumer", x.Args[2])
}

// XGROUP DELCONSUMER key group consumer
// (redis.io/commands/xgroup-delconsumer): the number of pending entries the
// consumer had (they leave the group PEL), 0 if there is no such consumer.
func cmdXGroupDelConsumer(x *Ctx) {
	a, ok := xgroupPrologue(x, false, false, true)
	if !ok {
		return
	}
	pending, existed := a.g.DeleteConsumer(x.Args[4])
	x.W.Int(pending)
	if existed {
		x.Tx.AddDirty(1)
		x.Notify(engine.EventStream, "xgroup-delconsumer", x.Args[2])
	}
}

// --- XACK ---

// XACK key group id [id ...] (redis.io/commands/xack; spec §4 XACK). A
// missing key or group answers 0 before the IDs are looked at; otherwise
// every ID is parsed before anything is acknowledged.
func cmdXAck(x *Ctx) {
	e, found := lookupRead(x, x.Args[1], 0)
	if !found {
		x.W.Int(0)
		return
	}
	s, isStream := e.Value().(*stream.Stream)
	if !isStream {
		x.Error(msgWrongType)
		return
	}
	x.touchStream(s)
	g := s.Group(x.Args[2])
	if g == nil {
		x.W.Int(0)
		return
	}
	if !x.validStreamIDs(3) {
		return
	}
	acked := x.countStreamIDs(3, g.Ack)
	if acked > 0 {
		x.Tx.AddDirty(acked)
	}
	x.W.Int(acked)
}

// --- XPENDING ---

// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
// (redis.io/commands/xpending; spec §4 XPENDING). The range arguments are
// checked before the key, in Redis's order: IDLE's value, the argument
// count, count, start, end.
func cmdXPending(x *Ctx) {
	args := x.Args
	argc := len(args)
	if argc != 3 && (argc < 6 || argc > 9) {
		x.Error(msgSyntax)
		return
	}
	var start, end stream.ID
	var count, minIdle int64
	var consumer []byte
	if argc >= 6 {
		first := 3
		if x.Is(3, "idle") {
			var ok bool
			if minIdle, ok = x.Int(4); !ok {
				return
			}
			if argc < 8 {
				x.Error(msgSyntax)
				return
			}
			first += 2
		}
		var ok bool
		if count, ok = x.Int(first + 2); !ok {
			return
		}
		count = max(count, 0)
		if start, ok = x.rangeBound(first, false); !ok {
			return
		}
		if end, ok = x.rangeBound(first+1, true); !ok {
			return
		}
		if first+3 < argc {
			consumer = args[first+3]
		}
	}
	s, ok := x.lookupStream(args[1], false)
	if !ok {
		return
	}
	var g *stream.Group
	if s != nil {
		g = s.Group(args[2])
	}
	if g == nil {
		noKeyOrGroup(x)
		return
	}
	if argc == 3 {
		xpendingSummary(x, g)
		return
	}
	var c *stream.Consumer
	if consumer != nil {
		if c = g.Consumer(consumer); c == nil {
			x.W.Array(0)
			return
		}
	}
	mark := x.W.Len()
	x.W.Raw(arrayHeaderReserve[:])
	body := x.W.Len()
	n := int64(0)
	if count > 0 {
		g.PendingRange(start, end, c, func(p stream.Pending) bool {
			if minIdle != 0 && x.Now-p.DeliveryTime < minIdle {
				return true
			}
			x.W.Array(4)
			x.writeStreamID(p.ID)
			if p.Consumer == nil {
				// An XNACKed entry (8.8): unowned, and idle -1 because its
				// delivery time is 0.
				x.W.Bulk(nil)
				x.W.Int(-1)
			} else {
				x.W.Bulk(p.Consumer.Name())
				x.W.Int(max(x.Now-p.DeliveryTime, 0))
			}
			x.W.Int(p.DeliveryCount)
			n++
			return n < count
		})
	}
	fixArrayHeader(x, mark, body, n)
}

// xpendingSummary is XPENDING key group: [total, first, last, [[consumer,
// count]...]], with each count a bulk string and consumers without pending
// entries left out; [0, nil, nil, nil] for an empty PEL.
func xpendingSummary(x *Ctx, g *stream.Group) {
	x.W.Array(4)
	total := g.PendingCount()
	x.W.Int(total)
	first, last, ok := g.PendingFirstLast()
	if total == 0 || !ok {
		x.W.Null()
		x.W.Null()
		x.W.NullArray()
		return
	}
	x.writeStreamID(first)
	x.writeStreamID(last)
	mark := x.W.Len()
	x.W.Raw(arrayHeaderReserve[:])
	body := x.W.Len()
	n := int64(0)
	g.Consumers(func(c *stream.Consumer) bool {
		if p := c.PendingCount(); p > 0 {
			x.W.Array(2)
			x.W.Bulk(c.Name())
			x.W.BulkInt(p)
			n++
		}
		return true
	})
	fixArrayHeader(x, mark, body, n)
}

// --- XCLAIM / XAUTOCLAIM ---

// consumerFor finds the consumer a claim goes to, creating it (with its
// event and dirty count) if needed, and marks it seen now: Redis 7.2+ does
// this before claiming anything, even when nothing is claimed.
func consumerFor(x *Ctx, g *stream.Group, name []byte) *stream.Consumer {
	c := g.Consumer(name)
	if c == nil {
		c, _ = g.CreateConsumer(name, x.Now)
		x.Tx.AddDirty(1)
		x.Notify(engine.EventStream, "xgroup-createconsumer", x.Args[1])
	}
	c.Touch(x.Now)
	return c
}

// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
// [TIME ms-unix-time] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]
// (redis.io/commands/xclaim; spec §4 XCLAIM). NOGROUP comes first. The IDs
// run up to the first argument that is not a strict ID; the rest are
// options.
func cmdXClaim(x *Ctx) {
	args := x.Args
	e, found := lookupRead(x, args[1], 0)
	s, g, ok := claimTarget(x, e, found)
	if !ok {
		return
	}
	minIdle, ok := parseInt(args[4])
	if !ok {
		x.Error(msgXClaimMinIdle)
		return
	}
	minIdle = max(minIdle, 0)
	j := 5
	for ; j < len(args); j++ {
		if _, ok := stream.ParseID(args[j], 0, true); !ok {
			break
		}
	}
	lastIDArg := j // the IDs are args[5:lastIDArg]
	o := stream.ClaimOpts{NowMs: x.Now, MinIdle: minIdle, RetryCount: -1}
	deliveryTime, timeGiven := int64(0), false
	var lastID stream.ID
	for ; j < len(args); j++ {
		more := j+1 < len(args)
		switch {
		case x.Is(j, "force"):
			o.Force = true
		case x.Is(j, "justid"):
			o.JustID = true
		case x.Is(j, "idle") && more:
			j++
			idle, ok := parseInt(args[j])
			if !ok {
				x.Error(msgXClaimIdle)
				return
			}
			deliveryTime, timeGiven = x.Now-idle, true
		case x.Is(j, "time") && more:
			j++
			if deliveryTime, ok = parseInt(args[j]); !ok {
				x.Error(msgXClaimTime)
				return
			}
			timeGiven = true
		case x.Is(j, "retrycount") && more:
			j++
			if o.RetryCount, ok = parseInt(args[j]); !ok {
				x.Error(msgXClaimRetry)
				return
			}
		case x.Is(j, "lastid") && more:
			j++
			if lastID, ok = x.streamID(j, 0, true); !ok {
				return
			}
		default:
			x.Errorf(msgXClaimOption, asCString(args[j]))
			return
		}
	}
	// Redis: a negative RETRYCOUNT is as if it were not given.
	o.RetryCount = max(o.RetryCount, -1)
	// LASTID (used by replication) only moves the group forward; it keeps
	// entries-read, as Redis's XCLAIM does.
	raised := false
	if g.LastID().Less(lastID) {
		s.SetGroupID(g, lastID, g.EntriesRead())
		raised = true
	}
	// A bogus IDLE/TIME is not an error: the delivery time becomes now.
	if !timeGiven || deliveryTime < 0 || deliveryTime > x.Now {
		deliveryTime = x.Now
	}
	o.DeliveryTime = deliveryTime
	c := consumerFor(x, g, args[3])

	mark := x.W.Len()
	x.W.Raw(arrayHeaderReserve[:])
	body := x.W.Len()
	var scratch [16][]byte
	n, changes := int64(0), int64(0)
	for j := 5; j < lastIDArg; j++ {
		id, _ := stream.ParseID(args[j], 0, true)
		ent, claimed, deleted := s.Claim(g, c, id, o, scratch[:0])
		if deleted {
			changes++
		}
		if !claimed {
			continue
		}
		changes++
		if o.JustID {
			x.writeStreamID(id)
		} else {
			x.writeEntry(ent)
		}
		n++
	}
	fixArrayHeader(x, mark, body, n)
	if raised && changes == 0 {
		changes = 1 // the group's last ID was propagated on its own
	}
	if changes > 0 {
		x.Tx.AddDirty(changes)
	}
}

// Bounds of XAUTOCLAIM's COUNT. Redis refuses counts above
// LONG_MAX/max(sizeof(streamID), attempts factor 10), and then allocates
// count streamIDs up front, answering an error when that fails. That limit
// is its allocator's: on x86-64 Linux with jemalloc (redis-server 7.0.15 on
// this machine) counts up to 2.5e12 (40 TB) succeed and 3e12 fail. Runnel
// allocates nothing up front and refuses above 40 TiB's worth.
const (
	autoClaimMaxCount   = (1<<63 - 1) / 16
	autoClaimAllocLimit = 40 << 40 / 16
)

// autoClaimReserve is room for XAUTOCLAIM's reply prefix, written after the
// entries are known: the next ID as a bulk string ("$41\r\n" + 41 digits
// and dash + "\r\n") and the entries' array header.
var autoClaimReserve [48 + len(arrayHeaderReserve)]byte

// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
// (redis.io/commands/xautoclaim; spec §4 XAUTOCLAIM). The key is looked up
// first, but its type and group are checked after the arguments.
func cmdXAutoClaim(x *Ctx) {
	args := x.Args
	e, found := lookupRead(x, args[1], 0)
	minIdle, ok := parseInt(args[4])
	if !ok {
		x.Error(msgXAutoClaimMinIdle)
		return
	}
	minIdle = max(minIdle, 0)
	start, ok := x.rangeBound(5, false)
	if !ok {
		return
	}
	count, justID := int64(100), false
	for j := 6; j < len(args); j++ {
		switch {
		case x.Is(j, "count") && j+1 < len(args):
			j++
			n, ok := parseInt(args[j])
			if !ok || n < 1 || n > autoClaimMaxCount {
				x.Error(msgCountPositive)
				return
			}
			count = n
		case x.Is(j, "justid"):
			justID = true
		default:
			x.Error(msgSyntax)
			return
		}
	}
	s, g, ok := claimTarget(x, e, found)
	if !ok {
		return
	}
	if count > autoClaimAllocLimit {
		x.Error(msgXAutoClaimMemory)
		return
	}
	c := consumerFor(x, g, args[3])

	x.W.Array(3)
	mark := x.W.Len()
	x.W.Raw(autoClaimReserve[:])
	body := x.W.Len()
	var delBuf [16]stream.ID
	deleted := delBuf[:0]
	n := int64(0)
	next := s.AutoClaim(g, c, start, minIdle, count, justID, x.Now, func(e stream.Entry) {
		if justID {
			x.writeStreamID(e.ID)
		} else {
			x.writeEntry(e)
		}
		n++
	}, func(id stream.ID) {
		deleted = append(deleted, id)
	})
	var pre [len(autoClaimReserve)]byte
	var idBuf [44]byte
	p := resp.AppendBulk(pre[:0], next.Append(idBuf[:0]))
	p = appendArrayHeader(p, n)
	fixReserved(x, mark, body, p)
	x.W.Array(len(deleted))
	for _, id := range deleted {
		x.writeStreamID(id)
	}
	if changes := n + int64(len(deleted)); changes > 0 {
		x.Tx.AddDirty(changes)
	}
}

// fixReserved writes prefix at mark, where body-mark bytes were reserved
// (at least len(prefix)), and moves what follows body right after it.
func fixReserved(x *Ctx, mark, body int, prefix []byte) {
	b := x.W.B
	copy(b[mark+len(prefix):], b[body:])
	x.W.B = b[:len(b)-(body-mark-len(prefix))]
	copy(x.W.B[mark:], prefix)
}

// --- XACKDEL (8.2) ---

// XACKDEL key group [KEEPREF|DELREF|ACKED] IDS numids id [id ...]
// (Redis 8.2; spec §4 XACKDEL): one result per ID, -1 for every ID when the
// key or the group is missing (not NOGROUP). The arguments are checked
// before the key, as for XDELEX.
func cmdXAckDel(x *Ctx) {
	mode, first, n, ok := parseRefIDs(x, 3)
	if !ok {
		return
	}
	key := x.Args[1]
	s, ok := x.lookupStream(key, true)
	if !ok {
		return
	}
	var g *stream.Group
	if s != nil {
		g = s.Group(x.Args[2])
	}
	x.W.Array(n)
	if g == nil {
		for range n {
			x.W.Int(-1)
		}
		return
	}
	length, pending := s.Len(), g.PendingCount()
	for j := first; j < len(x.Args); j++ {
		id, _ := stream.ParseID(x.Args[j], 0, true)
		x.W.Int(int64(s.AckDelete(g, id, mode)))
	}
	// The results do not tell an entry deleted now from one already gone
	// (both are 1), so the changes are measured.
	deleted := length - s.Len()
	acked := pending - g.PendingCount()
	if acked+deleted > 0 {
		x.Tx.AddDirty(acked + deleted)
	}
	if deleted > 0 {
		x.Tx.Touched(x.DB, key)
		x.Notify(engine.EventStream, "xdel", key)
	}
}

// --- XNACK (8.8) ---

// nackArgs are XNACK's parsed arguments.
type nackArgs struct {
	mode     stream.NackMode
	retry    int64 // RETRYCOUNT, -1 if not given
	force    bool
	first, n int // the IDs are Args[first : first+n]
}

// parseNack parses XNACK's arguments as the Redis 8.8 tests pin them: the
// mode right after the group, then RETRYCOUNT and FORCE before or after
// the "IDS numids id..." block. It replies and returns false on error.
func parseNack(x *Ctx) (a nackArgs, ok bool) {
	args := x.Args
	switch {
	case x.Is(3, "silent"):
		a.mode = stream.NackSilent
	case x.Is(3, "fail"):
		a.mode = stream.NackFail
	case x.Is(3, "fatal"):
		a.mode = stream.NackFatal
	default:
		x.Error(msgXNackMode)
		return a, false
	}
	a.retry = -1
	for i := 4; i < len(args); i++ {
		more := i+1 < len(args)
		switch {
		case x.Is(i, "ids") && a.n == 0 && more:
			num, isInt := parseInt(args[i+1])
			if !isInt || num <= 0 {
				x.Error(msgXNackNumIDs)
				return a, false
			}
			a.first = i + 2
			if int64(len(args)-a.first) < num {
				x.Error(msgXNackNumMismatch)
				return a, false
			}
			a.n = int(num)
			for j := a.first; j < a.first+a.n; j++ {
				if _, ok := x.streamID(j, 0, true); !ok {
					return a, false
				}
			}
			i = a.first + a.n - 1
		case x.Is(i, "retrycount") && more:
			i++
			n, ok := x.Int(i)
			if !ok {
				return a, false
			}
			if n < 0 {
				x.Error(msgXNackRetry)
				return a, false
			}
			a.retry = n
		case x.Is(i, "force"):
			a.force = true
		default:
			x.Errorf(msgXNackOption, asCString(args[i]))
			return a, false
		}
	}
	if a.n == 0 {
		x.Error(msgXNackIDS)
		return a, false
	}
	return a, true
}

// XNACK key group <SILENT|FAIL|FATAL> IDS numids id [id ...]
// [RETRYCOUNT count] [FORCE] (Redis 8.8; spec §4 XNACK): the number of IDs
// released to the group (unowned, claimable at once). It creates and
// deletes no consumer.
func cmdXNack(x *Ctx) {
	a, ok := parseNack(x)
	if !ok {
		return
	}
	key := x.Args[1]
	s, ok := x.lookupStream(key, true)
	if !ok {
		return
	}
	var g *stream.Group
	if s != nil {
		g = s.Group(x.Args[2])
	}
	if g == nil {
		noKeyOrGroup(x)
		return
	}
	done := int64(0)
	for j := a.first; j < a.first+a.n; j++ {
		id, _ := stream.ParseID(x.Args[j], 0, true)
		if g.Nack(s, id, a.mode, a.retry, a.force) {
			done++
		}
	}
	x.W.Int(done)
	if done > 0 {
		x.Tx.AddDirty(done)
		// Released entries are claimable at once: wake XREADGROUP ...
		// CLAIM readers blocked on the key.
		x.Tx.SignalReady(x.DB, key)
	}
}

// claimTarget is the stream and group XCLAIM and XAUTOCLAIM work on, from
// the entry of their key: WRONGTYPE for another type, NOGROUP when the key
// or the group is missing. ok is false when it replied.
func claimTarget(x *Ctx, e engine.Entry, found bool) (*stream.Stream, *stream.Group, bool) {
	if !found {
		noKeyOrGroup(x)
		return nil, nil, false
	}
	s, isStream := e.Value().(*stream.Stream)
	if !isStream {
		x.Error(msgWrongType)
		return nil, nil, false
	}
	x.touchStream(s)
	g := s.Group(x.Args[2])
	if g == nil {
		noKeyOrGroup(x)
		return nil, nil, false
	}
	return s, g, true
}
