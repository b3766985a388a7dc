package command

// XREAD and XREADGROUP (redis.io/commands/xread, /xreadgroup), as Redis's
// xreadCommand implements them, with the changes up to 8.10: XREAD "+"
// (7.4), re-execution of blocked commands (7.2, spec §7), XREADGROUP CLAIM
// (8.4) and MAXCOUNT/MAXSIZE (8.10).

import (
	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/stream"
)

func init() { registrations = append(registrations, registerStreamReads) }

func registerStreamReads(t *Table) {
	t.add(
		&Command{Name: "xread", Arity: -4, Flags: ReadOnly | Blocking, Keys: xreadKeys, Run: cmdXRead},
		&Command{Name: "xreadgroup", Arity: -7, Flags: Write | Blocking, Keys: xreadKeys, Run: cmdXReadGroup},
	)
}

// xreadKeys is Redis's xreadGetKeys: the keys follow the first STREAMS
// token found while skipping the options and their arguments.
func xreadKeys(args [][]byte) [][]byte {
	pos := -1
scan:
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case equalFold(a, "block"), equalFold(a, "count"), equalFold(a, "claim"),
			equalFold(a, "maxcount"), equalFold(a, "maxsize"):
			i++
		case equalFold(a, "group"):
			i += 2
		case equalFold(a, "noack"):
		case equalFold(a, "streams"):
			pos = i
			break scan
		default:
			break scan
		}
	}
	if pos < 0 {
		return nil
	}
	n := len(args) - pos - 1
	if n == 0 || n%2 != 0 {
		return nil
	}
	return args[pos+1 : pos+1+n/2]
}

// readArgs are the parsed options of XREAD/XREADGROUP.
type readArgs struct {
	group, consumer []byte
	count           int64
	maxCount        int64 // 0: none
	maxSize         int64 // 0: none
	timeout         int64 // -1: no BLOCK; else unix-ms deadline, 0 forever
	claim           int64 // -1: no CLAIM
	noAck           bool
	streams         int // index of the first key
	n               int // number of streams
}

// readID is one stream's resolved ID.
type readID struct {
	id   stream.ID
	kind uint8 // idPlain, idNew (">"), idLast ("+")
}

const (
	idPlain = iota
	idNew
	idLast
)

// blockedRead is what a blocked XREAD/XREADGROUP keeps between executions:
// the IDs resolved when it blocked ("$" and "+" fixed then).
type blockedRead struct {
	ids []readID
}

func cmdXRead(x *Ctx)      { xread(x, false) }
func cmdXReadGroup(x *Ctx) { xread(x, true) }

// parseRead parses the options; it replies and returns false on error.
func parseRead(x *Ctx, a *readArgs, group bool) bool {
	args := x.Args
	a.timeout, a.claim = -1, -1
	for i := 1; i < len(args); i++ {
		more := len(args) - i - 1
		switch {
		case x.Is(i, "block") && more > 0:
			i++
			ms, ok := parseInt(args[i])
			if !ok {
				x.Error(msgTimeoutNotInt)
				return false
			}
			if ms < 0 {
				x.Error(msgTimeoutNegative)
				return false
			}
			if ms > 0 {
				if ms > 1<<63-1-x.Now {
					x.Error(msgTimeoutRange)
					return false
				}
				ms += x.Now
			}
			a.timeout = ms
		case x.Is(i, "count") && more > 0:
			i++
			n, ok := x.Int(i)
			if !ok {
				return false
			}
			a.count = max(n, 0)
		case x.Is(i, "maxcount") && more > 0:
			i++
			n, ok := parseInt(args[i])
			if !ok || n <= 0 {
				x.Error(msgMaxCount)
				return false
			}
			a.maxCount = n
		case x.Is(i, "maxsize") && more > 0:
			i++
			n, ok := parseInt(args[i])
			if !ok || n <= 0 {
				x.Error(msgMaxSize)
				return false
			}
			a.maxSize = n
		case x.Is(i, "streams") && more > 0:
			a.streams = i + 1
			n := len(args) - a.streams
			if n%2 != 0 {
				if group {
					x.Error(msgXReadGroupUnbalance)
				} else {
					x.Error(msgXReadUnbalanced)
				}
				return false
			}
			a.n = n / 2
			i = len(args)
		case x.Is(i, "group") && more >= 2:
			if !group {
				x.Error(msgXReadGroupOption)
				return false
			}
			a.group, a.consumer = args[i+1], args[i+2]
			i += 2
		case x.Is(i, "noack"):
			if !group {
				x.Error(msgXReadNoAck)
				return false
			}
			a.noAck = true
		case x.Is(i, "claim") && more > 0:
			if !group {
				x.Error(msgXReadClaim)
				return false
			}
			i++
			n, ok := parseInt(args[i])
			if !ok {
				x.Error(msgMinIdleNotInt)
				return false
			}
			if n < 0 {
				x.Error(msgMinIdleNegative)
				return false
			}
			a.claim = n
		default:
			x.Error(msgSyntax)
			return false
		}
	}
	if a.streams == 0 {
		x.Error(msgSyntax)
		return false
	}
	if group && a.group == nil {
		x.Error(msgXReadGroupMissing)
		return false
	}
	if a.maxCount > 0 && a.count > a.maxCount {
		x.Error(msgMaxCountBelowCount)
		return false
	}
	return true
}

func xread(x *Ctx, group bool) {
	var a readArgs
	if !parseRead(x, &a, group) {
		return
	}
	var saved *blockedRead
	if st, ok := x.Blocked().(*blockedRead); ok {
		saved = st
	}
	var ids []readID
	if x.S != nil {
		ids = x.S.stream.ids[:0]
	}
	if saved != nil {
		ids = saved.ids
		if group && !checkGroups(x, &a) {
			return
		}
	} else {
		ok := resolveReadIDs(x, &a, group, &ids)
		if x.S != nil {
			x.S.stream.ids = ids[:0] // kept for the next command
		}
		if !ok {
			return
		}
	}
	served := serveRead(x, &a, group, ids)
	if served || a.timeout < 0 {
		if !served {
			x.W.NullArray()
		}
		return
	}
	if !x.CanBlock() {
		x.W.NullArray()
		return
	}
	// A blocked XREAD is re-run only when one of its keys holds a stream;
	// XREADGROUP also when a key is deleted or retyped, to answer NOGROUP
	// or WRONGTYPE (Redis 7.2+, spec §7).
	x.BlockFor("stream")
	if group {
		x.BlockOnNoKey()
		if a.claim >= 0 {
			blockUntilClaimable(x, &a, ids)
		}
	}
	if saved == nil {
		// "$" and "+" are fixed now, so that a later wake-up returns only
		// what was added after this point.
		st := &blockedRead{ids: append([]readID(nil), ids...)}
		for i := range st.ids {
			if st.ids[i].kind == idLast {
				st.ids[i].kind = idPlain
			}
		}
		x.Block(x.Args[a.streams:a.streams+a.n], a.timeout, st)
		return
	}
	x.Block(nil, 0, saved)
}

// resolveReadIDs is the ID loop of xreadCommand: per stream, the key's type
// is checked (and, for XREADGROUP, its group), then "$", "+", ">" or a
// strict ID is resolved.
func resolveReadIDs(x *Ctx, a *readArgs, group bool, ids *[]readID) bool {
	for i := 0; i < a.n; i++ {
		key := x.Args[a.streams+i]
		arg := x.Args[a.streams+a.n+i]
		s, ok := x.lookupStream(key, false)
		if !ok {
			return false
		}
		if group && (s == nil || s.Group(a.group) == nil) {
			x.Errorf(msgXReadGroupNoGroup, key, a.group)
			return false
		}
		var r readID
		switch {
		case len(arg) == 1 && arg[0] == '$':
			if group {
				x.Error(msgXReadGroupDollar)
				return false
			}
			if s != nil {
				r.id = s.LastID()
			}
		case len(arg) == 1 && arg[0] == '+':
			if group {
				x.Error(msgXReadGroupPlus)
				return false
			}
			r.kind = idLast
			if s != nil {
				r.id = s.LastID()
			}
		case len(arg) == 1 && arg[0] == '>':
			if !group {
				x.Error(msgXReadGT)
				return false
			}
			r.kind, r.id = idNew, stream.MaxID
		default:
			id, ok := x.streamID(a.streams+a.n+i, 0, true)
			if !ok {
				return false
			}
			r.id = id
			if group && id == stream.MaxID {
				// Redis encodes ">" as the largest ID, so spelling that ID
				// out reads new entries too.
				r.kind = idNew
			}
		}
		*ids = append(*ids, r)
	}
	return true
}

// checkGroups is the NOGROUP check a re-executed XREADGROUP repeats: the
// key may have been deleted, retyped or lost its group while it waited.
func checkGroups(x *Ctx, a *readArgs) bool {
	for i := 0; i < a.n; i++ {
		key := x.Args[a.streams+i]
		s, ok := x.lookupStream(key, false)
		if !ok {
			return false
		}
		if s == nil || s.Group(a.group) == nil {
			x.Errorf(msgXReadGroupNoGroup, key, a.group)
			return false
		}
	}
	return true
}

// serveRead writes the reply for every stream that has something to serve
// and reports whether any had. The reply's length is fixed at the end.
func serveRead(x *Ctx, a *readArgs, group bool, ids []readID) bool {
	mark := x.W.Len()
	x.W.Raw(arrayHeaderReserve[:])
	body := x.W.Len()
	served := int64(0)
	budget := readBudget{count: a.maxCount, size: a.maxSize}
	for i := 0; i < a.n; i++ {
		key := x.Args[a.streams+i]
		// Looked up again, as xreadCommand does (statistics count twice);
		// the types were checked when the IDs were resolved. A blocked
		// XREAD is only served by a stream: a key that now holds another
		// type is waited on, as Redis does not wake it.
		var s *stream.Stream
		if e, ok := lookupRead(x, key, 0); ok {
			if s, _ = e.Value().(*stream.Stream); s != nil {
				x.touchStream(s)
			}
		}
		if s == nil || budget.spent() {
			continue
		}
		if group {
			if serveGroup(x, a, s, key, ids[i], &budget) {
				served++
			}
			continue
		}
		if serveStream(x, a, s, key, ids[i], &budget) {
			served++
		}
	}
	if served == 0 {
		x.W.Truncate(mark)
		return false
	}
	fixHeader(x, mark, body, served, x.W.Resp3())
	return true
}

// readBudget is MAXCOUNT/MAXSIZE (8.10): caps over the whole reply.
type readBudget struct {
	count, size int64 // remaining; 0 means no cap (negative: spent)
	used        bool
}

func (b *readBudget) spent() bool { return b.used && (b.count < 0 || b.size < 0) }

// limit caps a per-stream count by the remaining MAXCOUNT.
func (b *readBudget) limit(count int64) int64 {
	if b.count == 0 {
		return count
	}
	if count == 0 || count > b.count {
		return b.count
	}
	return count
}

// take records n entries of size bytes served.
func (b *readBudget) take(n, size int64) {
	b.used = true
	if b.count > 0 {
		if b.count -= n; b.count == 0 {
			b.count = -1
		}
	}
	if b.size > 0 {
		if b.size -= size; b.size <= 0 {
			b.size = -1
		}
	}
}

// sizeLimit returns how many entries of the iterator fit the MAXSIZE
// budget (at least one), at most count (0: no limit).
func (b *readBudget) sizeLimit(it *stream.Iterator, count int64) int64 {
	if b.size <= 0 {
		return count
	}
	var n, size int64
	for (count == 0 || n < count) && it.Next() {
		n++
		size += entrySize(it.Entry())
		if size >= b.size {
			break
		}
	}
	return n
}

func entrySize(e stream.Entry) int64 {
	n := int64(16)
	for _, f := range e.Fields {
		n += int64(len(f))
	}
	return n
}

// serveStream serves one XREAD stream: entries after the ID, or the last
// entry for "+".
func serveStream(x *Ctx, a *readArgs, s *stream.Stream, key []byte, r readID, b *readBudget) bool {
	if s.Len() == 0 {
		return false
	}
	if r.kind == idLast {
		var scratch [16][]byte
		e, ok := s.Last(scratch[:0])
		if !ok {
			return false
		}
		writeReadKey(x, key)
		x.W.Array(1)
		x.writeEntry(e)
		b.take(1, entrySize(e))
		return true
	}
	start, ok := r.id.Incr()
	if !ok {
		return false
	}
	it := x.iterator()
	s.RangeInto(it, start, stream.MaxID, false)
	if !it.Next() {
		return false
	}
	count := b.limit(a.count)
	if b.size > 0 {
		s.RangeInto(it, start, stream.MaxID, false)
		count = b.sizeLimit(it, count)
	}
	writeReadKey(x, key)
	mark := x.W.Len()
	x.W.Raw(arrayHeaderReserve[:])
	body := x.W.Len()
	s.RangeInto(it, start, stream.MaxID, false)
	var n, size int64
	for (count == 0 || n < count) && it.Next() {
		e := it.Entry()
		x.writeEntry(e)
		size += entrySize(e)
		n++
	}
	fixArrayHeader(x, mark, body, n)
	b.take(n, size)
	return true
}

// writeReadKey starts one stream's part of the reply: [key, entries] in
// RESP2, a map key in RESP3.
func writeReadKey(x *Ctx, key []byte) {
	if !x.W.Resp3() {
		x.W.Array(2)
	}
	x.W.Bulk(key)
}

// serveGroup serves one XREADGROUP stream: the consumer's history for an
// explicit ID, else idle pending entries (CLAIM) then new entries.
func serveGroup(x *Ctx, a *readArgs, s *stream.Stream, key []byte, r readID, b *readBudget) bool {
	g := s.Group(a.group)
	c := g.Consumer(a.consumer)
	if c == nil {
		c, _ = g.CreateConsumer(a.consumer, x.Now)
		x.Notify(engine.EventStream, "xgroup-createconsumer", key)
		x.Tx.AddDirty(1)
	}
	c.Touch(x.Now)
	if r.kind != idNew {
		serveHistory(x, a, s, g, c, key, r.id, b)
		return true
	}
	claiming := a.claim >= 0
	if !claiming {
		var scratch [16][]byte
		last, ok := s.Last(scratch[:0])
		if !ok || last.ID.Compare(g.LastID()) <= 0 {
			return false
		}
	}
	count := b.limit(a.count)
	mark := x.W.Len()
	writeReadKey(x, key)
	hdr := x.W.Len()
	x.W.Raw(arrayHeaderReserve[:])
	body := x.W.Len()
	var n, size int64
	if claiming {
		n = s.ClaimIdle(g, c, a.claim, count, x.Now, func(e stream.Entry, idle, deliveries int64) {
			writeClaimedEntry(x, e, idle, deliveries)
			size += entrySize(e)
		})
	}
	if count == 0 || n < count {
		rest := int64(0)
		if count > 0 {
			rest = count - n
		}
		if b.size > 0 {
			if start, ok := g.LastID().Incr(); ok {
				it := x.iterator()
				s.RangeInto(it, start, stream.MaxID, false)
				rest = b.sizeLimit(it, rest)
			}
		}
		n += s.ReadNew(g, c, rest, a.noAck, x.Now, func(e stream.Entry) {
			if claiming {
				writeClaimedEntry(x, e, 0, 0)
			} else {
				x.writeEntry(e)
			}
			size += entrySize(e)
		})
	}
	if n == 0 {
		x.W.Truncate(mark)
		return false
	}
	fixArrayHeader(x, hdr, body, n)
	b.take(n, size)
	x.Tx.AddDirty(1)
	return true
}

// writeClaimedEntry writes an XREADGROUP CLAIM entry: [id, fields, idle,
// deliveries] (8.4; integers since #14524).
func writeClaimedEntry(x *Ctx, e stream.Entry, idle, deliveries int64) {
	x.W.Array(4)
	x.writeStreamID(e.ID)
	x.W.Array(len(e.Fields))
	for _, f := range e.Fields {
		x.W.Bulk(f)
	}
	x.W.Int(idle)
	x.W.Int(deliveries)
}

// serveHistory replies with c's pending entries after id; the key is
// always in the reply, with an empty list when there is nothing. It never
// blocks and leaves dirty alone (Redis 7.4, #13251).
func serveHistory(x *Ctx, a *readArgs, s *stream.Stream, g *stream.Group, c *stream.Consumer, key []byte, after stream.ID, b *readBudget) {
	count := b.limit(a.count)
	writeReadKey(x, key)
	mark := x.W.Len()
	x.W.Raw(arrayHeaderReserve[:])
	body := x.W.Len()
	var n, size int64
	redelivered := false
	s.ReadHistory(g, c, after, count, x.Now, func(e stream.Entry, live bool) {
		if live {
			x.writeEntry(e)
			size += entrySize(e)
			redelivered = true
		} else {
			x.writeDeletedEntry(e.ID)
		}
		n++
	})
	if redelivered {
		// Delivery counts and times changed: Redis propagates XCLAIMs
		// for them without counting a change (dirty), so this is logged
		// without one too.
		x.Tx.NoteChange()
	}
	fixArrayHeader(x, mark, body, n)
	b.take(n, size)
}

// fixHeader is fixArrayHeader for the outer reply: a map in RESP3.
func fixHeader(x *Ctx, mark, body int, n int64, resp3 bool) {
	fixArrayHeader(x, mark, body, n)
	if resp3 {
		x.W.B[mark] = '%'
	}
}

// blockUntilClaimable makes a blocked XREADGROUP ... CLAIM run again when
// the first pending entry of its groups becomes idle enough to claim (8.4,
// spec §7): no write signals that moment.
func blockUntilClaimable(x *Ctx, a *readArgs, ids []readID) {
	next := int64(0)
	for i := 0; i < a.n; i++ {
		if ids[i].kind != idNew {
			continue
		}
		e, ok := x.Tx.Lookup(x.DB, x.Args[a.streams+i], engine.LookupNoStats|engine.LookupNoTouch)
		if !ok {
			continue
		}
		s, isStream := e.Value().(*stream.Stream)
		if !isStream {
			continue
		}
		x.touchStream(s)
		g := s.Group(a.group)
		if g == nil {
			continue
		}
		if at, ok := s.NextClaimTime(g, a.claim); ok && (next == 0 || at < next) {
			next = at
		}
	}
	if next != 0 {
		// Never in the past: the entry would have been claimed already,
		// and a recheck due at once would spin.
		x.BlockRecheck(max(next, x.Now+1))
	}
}
