package command

// Stream entry commands (redis.io/commands/?group=stream): XADD, XLEN,
// XRANGE, XREVRANGE, XDEL, XDELEX, XTRIM, XSETID and XCFGSET, as Redis's
// t_stream.c implements them (redis-streams-spec.md §4), with Redis's
// argument-check order, keyspace events and dirty counts. The reads with a
// BLOCK option are in cmd_stream_read.go, the consumer groups in
// cmd_stream_group.go, XINFO in cmd_stream_info.go.

import (
	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/stream"
)

func init() { registrations = append(registrations, registerStreams) }

func registerStreams(t *Table) {
	key1 := func(name string, arity int, flags Flag, run func(*Ctx)) *Command {
		return &Command{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Run: run}
	}
	t.add(
		key1("xadd", -5, Write|DenyOOM|Fast, cmdXAdd),
		key1("xlen", 2, ReadOnly|Fast, cmdXLen),
		key1("xrange", -4, ReadOnly, cmdXRange),
		key1("xrevrange", -4, ReadOnly, cmdXRevRange),
		key1("xdel", -3, Write|Fast, cmdXDel),
		key1("xdelex", -5, Write|Fast, cmdXDelEx),
		key1("xtrim", -4, Write, cmdXTrim),
		key1("xsetid", -3, Write|DenyOOM|Fast, cmdXSetID),
		key1("xcfgset", -2, Write|Fast, cmdXCfgSet),
		key1("xidmprecord", 5, Write|Fast, cmdXIDMPRecord),
	)
}

// trimArgs are the parsed trimming options of XADD and XTRIM
// (streamAddTrimArgs).
type trimArgs struct {
	strategy   int // trimNone, trimMaxLen, trimMinID
	trim       stream.Trim
	limitGiven bool
	refGiven   bool
	noMkStream bool
	idGiven    bool
	seqAuto    bool // "<ms>-*"
	id         stream.ID
	idmp       int // 0 none, 1 IDMP, 2 IDMPAUTO
	pid, iid   []byte
}

const (
	trimNone = iota
	trimMaxLen
	trimMinID
)

// parseAddTrim is streamParseAddOrTrimArgsOrReply: it parses the options of
// XADD (xadd set; it stops at the ID and returns its index) or XTRIM. It
// replies and returns -1 on error.
func parseAddTrim(x *Ctx, a *trimArgs, xadd bool) int {
	args := x.Args
	i := 2
loop:
	for ; i < len(args); i++ {
		more := len(args) - 1 - i
		opt := args[i]
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
			// The common case: an auto-generated ID ends the options.
			break loop
		case (equalFold(opt, "maxlen") || equalFold(opt, "minid")) && more > 0:
			minID := equalFold(opt, "minid")
			if a.strategy != trimNone {
				x.Error(msgTrimBothStrategies)
				return -1
			}
			a.trim.Approx = false
			if next := args[i+1]; more >= 2 && len(next) == 1 && (next[0] == '~' || next[0] == '=') {
				a.trim.Approx = next[0] == '~'
				i++
			}
			if minID {
				id, ok := x.streamID(i+1, 0, true)
				if !ok {
					return -1
				}
				a.trim.MinID, a.trim.Min = true, id
				a.strategy = trimMinID
			} else {
				n, ok := x.Int(i + 1)
				if !ok {
					return -1
				}
				if n < 0 {
					x.Error(msgMaxLenNegative)
					return -1
				}
				a.trim.MaxLen = n
				a.strategy = trimMaxLen
			}
			i++
		case equalFold(opt, "limit") && more > 0:
			n, ok := x.Int(i + 1)
			if !ok {
				return -1
			}
			if n < 0 {
				x.Error(msgLimitNegative)
				return -1
			}
			a.trim.Limit, a.limitGiven = n, true
			i++
		case equalFold(opt, "keepref") || equalFold(opt, "delref") || equalFold(opt, "acked"):
			// Redis 8.2: one reference mode at most.
			if a.refGiven {
				x.Error(msgSyntax)
				return -1
			}
			a.refGiven = true
			switch {
			case equalFold(opt, "delref"):
				a.trim.Ref = stream.DelRef
			case equalFold(opt, "acked"):
				a.trim.Ref = stream.Acked
			default:
				a.trim.Ref = stream.KeepRef
			}
		case xadd && equalFold(opt, "nomkstream"):
			a.noMkStream = true
		case xadd && (equalFold(opt, "idmp") && more >= 2 || equalFold(opt, "idmpauto") && more >= 1):
			// Redis 8.6 idempotent production.
			if a.idmp != 0 {
				x.Error(msgIDMPTwice)
				return -1
			}
			a.pid = args[i+1]
			if equalFold(opt, "idmpauto") {
				if len(a.pid) == 0 {
					x.Error(msgIDMPAutoEmptyPid)
					return -1
				}
				a.idmp = 2
				i++
				continue
			}
			a.iid = args[i+2]
			if len(a.pid) == 0 {
				x.Error(msgIDMPEmptyPid)
				return -1
			}
			if len(a.iid) == 0 {
				x.Error(msgIDMPEmptyIid)
				return -1
			}
			a.idmp = 1
			i += 2
		case xadd:
			// Anything else is the ID, or a syntax error reported as an
			// invalid ID.
			id, seqAuto, ok := stream.ParseIDSeqAuto(opt)
			if !ok {
				x.Error(msgStreamID)
				return -1
			}
			a.id, a.seqAuto, a.idGiven = id, seqAuto, true
			break loop
		default:
			x.Error(msgSyntax)
			return -1
		}
	}
	if a.limitGiven && a.trim.Limit != 0 && a.strategy == trimNone {
		x.Error(msgLimitNoStrategy)
		return -1
	}
	if !xadd && a.strategy == trimNone {
		x.Error(msgXTrimNoStrategy)
		return -1
	}
	if a.limitGiven {
		if !a.trim.Approx {
			x.Error(msgLimitNoApprox)
			return -1
		}
	} else if a.trim.Approx {
		// Without LIMIT, "~" trims at most 100 nodes' worth of entries.
		a.trim.Limit = 100 * x.streamLimits().MaxEntries
		if a.trim.Limit <= 0 || a.trim.Limit > 1<<30 {
			a.trim.Limit = 10000
		}
	} else {
		a.trim.Limit = 0 // exact trimming is never limited
	}
	return i
}

// XADD key [NOMKSTREAM] [KEEPREF|DELREF|ACKED] [IDMPAUTO pid | IDMP pid iid]
// [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [...]
// (redis.io/commands/xadd)
func cmdXAdd(x *Ctx) {
	var a trimArgs
	idPos := parseAddTrim(x, &a, true)
	if idPos < 0 {
		return
	}
	if idPos >= len(x.Args) {
		// Only options: the ID is missing, which Redis reports as arity.
		x.WrongArgs()
		return
	}
	fieldPos := idPos + 1
	if n := len(x.Args) - fieldPos; n < 2 || n%2 == 1 {
		x.WrongArgs()
		return
	}
	if a.idmp != 0 && a.idGiven {
		x.Error(msgIDMPNotAuto)
		return
	}
	// 0-0 is refused before the key is created.
	if a.idGiven && !a.seqAuto && a.id.IsZero() {
		x.Error(msgXAddIDZero)
		return
	}
	key := x.Args[1]
	s, ok := x.lookupStream(key, true)
	if !ok {
		return
	}
	if s == nil {
		if a.noMkStream {
			x.W.Null()
			return
		}
		s = stream.New()
		x.Tx.Set(x.DB, key, s, 0, false)
		x.touchStream(s)
	}
	if s.LastID() == stream.MaxID {
		x.Error(msgStreamExhausted)
		return
	}
	fv := x.Args[fieldPos:]
	iid := a.iid
	var iidBuf [32]byte // IDMPAUTO's hash, on the stack
	if a.idmp == 2 {
		iid = stream.AppendIDMPAutoID(iidBuf[:0], fv)
	}
	if a.idmp != 0 {
		if dup, ok := xaddIdempotent(x, s, a.pid, iid); ok {
			x.writeStreamID(dup)
			return
		}
	}
	// The entry's size is checked before its ID, as streamAppendItem does.
	err := stream.CheckSize(fv)
	var id stream.ID
	switch {
	case err != nil:
	case !a.idGiven:
		id, err = s.NextID(uint64(x.Now))
	case a.seqAuto:
		id, err = s.SeqID(a.id.Ms)
	default:
		id, err = a.id, s.CheckID(a.id)
	}
	if err == nil {
		err = s.Append(id, fv, x.streamLimits())
	}
	if err != nil {
		x.Error(streamErrorText(err))
		return
	}
	if a.idmp != 0 {
		s.IDMPRecordWith(a.pid, iid, id, x.Now, idmpDefaults(x))
	}
	x.writeStreamID(id)
	x.Tx.Touched(x.DB, key)
	x.Notify(engine.EventStream, "xadd", key)
	x.Tx.AddDirty(1)
	if a.strategy != trimNone && s.Trim(a.trim) > 0 {
		x.Notify(engine.EventStream, "xtrim", key)
	}
}

// xaddIdempotent looks (pid, iid) up for XADD IDMP/IDMPAUTO (Redis 8.6):
// it returns the ID of the entry already added with them, counting a
// duplicate, or false when the entry must be added.
func xaddIdempotent(x *Ctx, s *stream.Stream, pid, iid []byte) (stream.ID, bool) {
	id, dup := s.IDMPLookupWith(pid, iid, x.Now, idmpDefaults(x))
	if dup {
		s.IDMPDuplicate()
		x.Tx.AddDirty(1)
	}
	return id, dup
}

// idmpDefaults are stream-idmp-duration and stream-idmp-maxsize, in force
// for the streams XCFGSET has not configured.
func idmpDefaults(x *Ctx) stream.IDMPConfig {
	if x.Env.Cfg == nil {
		return stream.DefaultIDMPConfig
	}
	p := x.Params()
	return stream.IDMPConfig{Duration: p.IDMPDuration, MaxSize: p.IDMPMaxSize}
}

// streamErrorText maps a stream core error to Redis's reply text.
func streamErrorText(err error) string {
	switch err {
	case stream.ErrIDTooSmall:
		return msgXAddIDSmall
	case stream.ErrIDExhausted:
		return msgStreamExhausted
	case stream.ErrTooLarge:
		return msgStreamTooLarge
	case stream.ErrSetIDSmall:
		return msgXSetIDSmall
	case stream.ErrSetIDMaxDel:
		return msgXSetIDMaxDelGiven
	case stream.ErrSetIDCurDel:
		return msgXSetIDMaxDelCurrent
	case stream.ErrSetIDEntries:
		return msgXSetIDEntriesAdded
	}
	return "ERR " + err.Error()
}

// XLEN key (redis.io/commands/xlen)
func cmdXLen(x *Ctx) {
	s, ok := x.lookupStream(x.Args[1], false)
	if !ok {
		return
	}
	if s == nil {
		x.W.Int(0)
		return
	}
	x.W.Int(s.Len())
}

// XRANGE key start end [COUNT count] (redis.io/commands/xrange)
func cmdXRange(x *Ctx) { xrange(x, false) }

// XREVRANGE key end start [COUNT count] (redis.io/commands/xrevrange)
func cmdXRevRange(x *Ctx) { xrange(x, true) }

// xrange is xrangeGenericCommand: the start bound is parsed first, whatever
// its position; COUNT 0 (or negative) answers a null array.
func xrange(x *Ctx, rev bool) {
	startArg, endArg := 2, 3
	if rev {
		startArg, endArg = 3, 2
	}
	start, ok := x.rangeBound(startArg, false)
	if !ok {
		return
	}
	end, ok := x.rangeBound(endArg, true)
	if !ok {
		return
	}
	count := int64(-1)
	for j := 4; j < len(x.Args); j++ {
		if !x.Is(j, "count") || j+1 >= len(x.Args) {
			x.Error(msgSyntax)
			return
		}
		n, ok := x.Int(j + 1)
		if !ok {
			return
		}
		count = max(n, 0)
		j++
	}
	s, ok := x.lookupStream(x.Args[1], false)
	if !ok {
		return
	}
	if s == nil {
		x.W.Array(0)
		return
	}
	if count == 0 {
		x.W.NullArray()
		return
	}
	writeRange(x, s, start, end, rev, count)
}

// writeRange replies with the entries of s in [start, end], at most count
// (negative: all), without knowing their number in advance.
func writeRange(x *Ctx, s *stream.Stream, start, end stream.ID, rev bool, count int64) {
	if start.Compare(end) > 0 {
		x.W.Array(0)
		return
	}
	// The array length is written once the entries are counted: reserve
	// the largest header and move the entries after the real one.
	mark := x.W.Len()
	x.W.Raw(arrayHeaderReserve[:])
	body := x.W.Len()
	it := x.iterator()
	s.RangeInto(it, start, end, rev)
	n := int64(0)
	for (count < 0 || n < count) && it.Next() {
		x.writeEntry(it.Entry())
		n++
	}
	fixArrayHeader(x, mark, body, n)
}

// arrayHeaderReserve is room for the longest array header, "*<20 digits>\r\n".
var arrayHeaderReserve [23]byte

// fixArrayHeader writes the header of an n-element array at mark, where
// len(arrayHeaderReserve) bytes were reserved before body.
func fixArrayHeader(x *Ctx, mark, body int, n int64) {
	var hdr [24]byte
	h := appendArrayHeader(hdr[:0], n)
	b := x.W.B
	copy(b[mark+len(h):], b[body:])
	x.W.B = b[:len(b)-(body-mark-len(h))]
	copy(x.W.B[mark:], h)
}

func appendArrayHeader(dst []byte, n int64) []byte {
	dst = append(dst, '*')
	var digits [20]byte
	i := len(digits)
	u := uint64(n)
	for {
		i--
		digits[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	dst = append(dst, digits[i:]...)
	return append(dst, '\r', '\n')
}

// XDEL key id [id ...] (redis.io/commands/xdel): the key is looked up
// first (a missing key answers 0 whatever the IDs), then every ID is
// parsed before anything is deleted.
func cmdXDel(x *Ctx) {
	key := x.Args[1]
	s, ok := x.lookupStream(key, true)
	if !ok {
		return
	}
	if s == nil {
		x.W.Int(0)
		return
	}
	if !x.validStreamIDs(2) {
		return
	}
	deleted := x.countStreamIDs(2, s.Delete)
	if deleted > 0 {
		x.Tx.Touched(x.DB, key)
		x.Notify(engine.EventStream, "xdel", key)
		x.Tx.AddDirty(deleted)
	}
	x.W.Int(deleted)
}

// parseRefIDs parses the "[KEEPREF|DELREF|ACKED] IDS numids id..." tail of
// XDELEX and XACKDEL (Redis 8.2) starting at argument i. It replies and
// returns false on error.
func parseRefIDs(x *Ctx, i int) (mode stream.RefMode, first, n int, ok bool) {
	args := x.Args
	refGiven := false
	for ; i < len(args); i++ {
		switch {
		case x.Is(i, "keepref"), x.Is(i, "delref"), x.Is(i, "acked"):
			if refGiven {
				x.Error(msgSyntax)
				return 0, 0, 0, false
			}
			refGiven = true
			switch {
			case x.Is(i, "delref"):
				mode = stream.DelRef
			case x.Is(i, "acked"):
				mode = stream.Acked
			}
		case x.Is(i, "ids") && i+1 < len(args):
			num, isInt := parseInt(args[i+1])
			if !isInt || num <= 0 {
				x.Error(msgNumIDsPositive)
				return 0, 0, 0, false
			}
			first = i + 2
			rest := int64(len(args) - first)
			if rest < num {
				x.Error(msgNumIDsMismatch)
				return 0, 0, 0, false
			}
			if rest > num {
				x.Error(msgSyntax)
				return 0, 0, 0, false
			}
			for j := first; j < len(args); j++ {
				if _, ok := x.streamID(j, 0, true); !ok {
					return 0, 0, 0, false
				}
			}
			return mode, first, int(num), true
		default:
			x.Error(msgSyntax)
			return 0, 0, 0, false
		}
	}
	x.Error(msgSyntax)
	return 0, 0, 0, false
}

// XDELEX key [KEEPREF|DELREF|ACKED] IDS numids id [id ...] (Redis 8.2,
// spec §4 XDELEX): one result per ID; a missing key answers -1 for each.
func cmdXDelEx(x *Ctx) {
	mode, first, n, ok := parseRefIDs(x, 2)
	if !ok {
		return
	}
	key := x.Args[1]
	s, ok := x.lookupStream(key, true)
	if !ok {
		return
	}
	x.W.Array(n)
	deleted := int64(0)
	for j := first; j < len(x.Args); j++ {
		if s == nil {
			x.W.Int(-1)
			continue
		}
		id, _ := stream.ParseID(x.Args[j], 0, true)
		r := s.DeleteEx(id, mode)
		if r == 1 {
			deleted++
		}
		x.W.Int(int64(r))
	}
	if deleted > 0 {
		x.Tx.Touched(x.DB, key)
		x.Notify(engine.EventStream, "xdel", key)
		x.Tx.AddDirty(deleted)
	}
}

// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
// [KEEPREF|DELREF|ACKED] (redis.io/commands/xtrim)
func cmdXTrim(x *Ctx) {
	var a trimArgs
	if parseAddTrim(x, &a, false) < 0 {
		return
	}
	key := x.Args[1]
	s, ok := x.lookupStream(key, true)
	if !ok {
		return
	}
	if s == nil {
		x.W.Int(0)
		return
	}
	deleted := s.Trim(a.trim)
	if deleted > 0 {
		x.Notify(engine.EventStream, "xtrim", key)
		x.Tx.Touched(x.DB, key)
		x.Tx.AddDirty(deleted)
	}
	x.W.Int(deleted)
}

// XSETID key last-id [ENTRIESADDED entries-added]
// [MAXDELETEDID max-deleted-id] (redis.io/commands/xsetid): the arguments
// are checked before the key is looked up.
func cmdXSetID(x *Ctx) {
	id, ok := x.streamID(2, 0, true)
	if !ok {
		return
	}
	entriesAdded := int64(-1)
	var maxDel *stream.ID
	for i := 3; i < len(x.Args); i += 2 {
		more := len(x.Args) - 1 - i
		switch {
		case x.Is(i, "entriesadded") && more > 0:
			n, ok := x.Int(i + 1)
			if !ok {
				return
			}
			if n < 0 {
				x.Error(msgEntriesAddedPos)
				return
			}
			entriesAdded = n
		case x.Is(i, "maxdeletedid") && more > 0:
			d, ok := x.streamID(i+1, 0, true)
			if !ok {
				return
			}
			if id.Compare(d) < 0 {
				x.Error(msgXSetIDMaxDelGiven)
				return
			}
			maxDel = &d
		default:
			x.Error(msgSyntax)
			return
		}
	}
	key := x.Args[1]
	s, ok := x.existingStream(key, true)
	if !ok {
		return
	}
	if maxDel != nil && maxDel.IsZero() {
		maxDel = nil // MAXDELETEDID 0-0 leaves the current value
	}
	if err := s.SetID(id, entriesAdded, maxDel); err != nil {
		x.Error(streamErrorText(err))
		return
	}
	// No signalModifiedKey: redis-server 7.0.15 leaves a WATCH on the key
	// intact after XSETID.
	x.Notify(engine.EventStream, "xsetid", key)
	x.Tx.AddDirty(1)
	x.W.OK()
}

// XCFGSET key [IDMP-DURATION seconds] [IDMP-MAXSIZE maxsize] (Redis 8.6,
// spec §4 XCFGSET): changing either value forgets the tracked IDs.
func cmdXCfgSet(x *Ctx) {
	var dur, size int64 = -1, -1
	if len(x.Args) == 2 {
		x.Error(msgXCfgSetNoParam)
		return
	}
	for i := 2; i < len(x.Args); i += 2 {
		if i+1 >= len(x.Args) {
			x.Error(msgSyntax)
			return
		}
		var ok bool
		switch {
		case x.Is(i, "idmp-duration"):
			dur, ok = x.intInRange(i+1, 1, 86400, msgIDMPDurationRange)
		case x.Is(i, "idmp-maxsize"):
			size, ok = x.intInRange(i+1, 1, 10000, msgIDMPMaxSizeRange)
		default:
			x.Error(msgSyntax)
			return
		}
		if !ok {
			return
		}
	}
	key := x.Args[1]
	s, ok := x.existingStream(key, true)
	if !ok {
		return
	}
	def := idmpDefaults(x)
	cfg, set := s.IDMP()
	if !set {
		cfg = def
	}
	next := cfg
	if dur > 0 {
		next.Duration = dur
	}
	if size > 0 {
		next.MaxSize = size
	}
	if next != cfg {
		s.SetIDMPWith(next, def)
		x.Tx.AddDirty(1)
	}
	x.W.OK()
}

// XIDMPRECORD key pid iid stream-id (Redis 8.6.2, spec §4 XIDMPRECORD):
// restores an IDMP mapping, as AOF rewrite and replication emit it. The
// entry must exist; a pair already mapped elsewhere is refused.
func cmdXIDMPRecord(x *Ctx) {
	pid, iid := x.Args[2], x.Args[3]
	id, ok := x.streamID(4, 0, true)
	if !ok {
		return
	}
	switch {
	case len(pid) == 0:
		x.Error(msgIDMPEmptyPid)
		return
	case len(iid) == 0:
		x.Error(msgIDMPEmptyIid)
		return
	}
	key := x.Args[1]
	s, ok := x.existingStream(key, true)
	if !ok {
		return
	}
	if !s.Exists(id) {
		x.Error(msgIDMPRecordNoEntry)
		return
	}
	def := idmpDefaults(x)
	if prev, found := s.IDMPLookupWith(pid, iid, x.Now, def); found {
		if prev != id {
			x.Error(msgIDMPRecordConflict)
			return
		}
		x.W.OK()
		return
	}
	s.IDMPRecordWith(pid, iid, id, x.Now, def)
	x.Tx.AddDirty(1)
	x.W.OK()
}

// intInRange parses argument i as an integer in [lo, hi], replying with the
// integer error or with msg when it is out of range.
func (x *Ctx) intInRange(i int, lo, hi int64, msg string) (int64, bool) {
	n, ok := x.Int(i)
	if ok && (n < lo || n > hi) {
		x.Error(msg)
		ok = false
	}
	return n, ok
}
