package command

// Commands from https://redis.io/commands/?group=string, as Redis 7.0's
// t_string.c implements them: same error precedence, keyspace events, dirty
// counts and value encodings.

import (
	"bytes"
	"math"
	"math/big"

	"github.com/runnel-io/runnel/internal/engine"
)

func init() { registrations = append(registrations, registerStrings) }

func registerStrings(t *Table) {
	key1 := func(name string, arity int, flags Flag, run func(*Ctx)) *Command {
		return &Command{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Run: run}
	}
	t.add(
		key1("get", 2, ReadOnly|Fast, cmdGet),
		key1("set", -3, Write|DenyOOM, cmdSet),
		key1("setnx", 3, Write|DenyOOM|Fast, cmdSetNX),
		key1("setex", 4, Write|DenyOOM, cmdSetEX),
		key1("psetex", 4, Write|DenyOOM, cmdPSetEX),
		key1("getset", 3, Write|DenyOOM|Fast, cmdGetSet),
		key1("getdel", 2, Write|Fast, cmdGetDel),
		key1("getex", -2, Write|Fast, cmdGetEx),
		&Command{Name: "mget", Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1, Run: cmdMGet},
		&Command{Name: "mset", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 2, Run: cmdMSet},
		&Command{Name: "msetnx", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 2, Run: cmdMSetNX},
		key1("incr", 2, Write|DenyOOM|Fast, cmdIncr),
		key1("decr", 2, Write|DenyOOM|Fast, cmdDecr),
		key1("incrby", 3, Write|DenyOOM|Fast, cmdIncrBy),
		key1("decrby", 3, Write|DenyOOM|Fast, cmdDecrBy),
		key1("incrbyfloat", 3, Write|DenyOOM|Fast, cmdIncrByFloat),
		key1("append", 3, Write|DenyOOM|Fast, cmdAppend),
		key1("strlen", 2, ReadOnly|Fast, cmdStrlen),
		key1("getrange", 4, ReadOnly, cmdGetRange),
		key1("substr", 4, ReadOnly, cmdGetRange),
		key1("setrange", 4, Write|DenyOOM, cmdSetRange),
		&Command{Name: "lcs", Arity: -3, Flags: ReadOnly, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdLCS},
	)
}

// maxStringLen is proto-max-bulk-len: the longest string APPEND, SETRANGE
// and LCS's work table may reach.
func maxStringLen(x *Ctx) int64 {
	if x.Env.Cfg == nil {
		return 512 << 20 // the default, for a bare Env in unit tests
	}
	return x.Env.Cfg.ProtoMaxBulkLen()
}

// asCString is b up to its first NUL byte. Redis compares option names as
// C strings, so "NX\x00junk" is NX to it.
func asCString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// Options of SET and GETEX (Redis's OBJ_* flags).
const (
	optNX = 1 << iota
	optXX
	optGet
	optKeepTTL
	optEX
	optPX
	optEXAT
	optPXAT
	optPersist
)

// parseExtendedStringArgs parses the options of SET (isSet) or GETEX, as
// Redis's parseExtendedStringArgumentsOrReply: each option is accepted only
// if no conflicting one came before it (so "EX 1 EX 2" is valid and the last
// wins), and anything else is a syntax error. expire is the EX/PX/EXAT/PXAT
// argument, nil if none.
func parseExtendedStringArgs(x *Ctx, isSet bool) (flags int, expire []byte, ok bool) {
	j := 2
	if isSet {
		j = 3
	}
	for ; j < len(x.Args); j++ {
		opt := asCString(x.Args[j])
		hasNext := j+1 < len(x.Args)
		switch {
		case isSet && equalFold(opt, "nx") && flags&optXX == 0:
			flags |= optNX
		case isSet && equalFold(opt, "xx") && flags&optNX == 0:
			flags |= optXX
		case isSet && equalFold(opt, "get"):
			flags |= optGet
		case isSet && equalFold(opt, "keepttl") && flags&(optPersist|optEX|optEXAT|optPX|optPXAT) == 0:
			flags |= optKeepTTL
		case !isSet && equalFold(opt, "persist") && flags&(optEX|optEXAT|optPX|optPXAT|optKeepTTL) == 0:
			flags |= optPersist
		case equalFold(opt, "ex") && flags&(optKeepTTL|optPersist|optEXAT|optPX|optPXAT) == 0 && hasNext:
			flags |= optEX
			j++
			expire = x.Args[j]
		case equalFold(opt, "px") && flags&(optKeepTTL|optPersist|optEX|optEXAT|optPXAT) == 0 && hasNext:
			flags |= optPX
			j++
			expire = x.Args[j]
		case equalFold(opt, "exat") && flags&(optKeepTTL|optPersist|optEX|optPX|optPXAT) == 0 && hasNext:
			flags |= optEXAT
			j++
			expire = x.Args[j]
		case equalFold(opt, "pxat") && flags&(optKeepTTL|optPersist|optEX|optEXAT|optPX) == 0 && hasNext:
			flags |= optPXAT
			j++
			expire = x.Args[j]
		default:
			x.Error(msgSyntax)
			return 0, nil, false
		}
	}
	return flags, expire, true
}

// parseSetExpire converts the argument of EX, PX, EXAT or PXAT (named by
// flags) into an absolute unix time in ms, as getExpireMillisecondsOrReply:
// the value must be positive, and neither the conversion to ms nor adding
// the current time may overflow.
func parseSetExpire(x *Ctx, arg []byte, flags int) (int64, bool) {
	ms, ok := parseInt(arg)
	if !ok {
		x.Error(msgNotInt)
		return 0, false
	}
	seconds := flags&(optEX|optEXAT) != 0
	if ms <= 0 || (seconds && ms > math.MaxInt64/1000) {
		x.Errorf(msgInvalidExpire, x.Cmd.Name)
		return 0, false
	}
	if seconds {
		ms *= 1000
	}
	if flags&(optEX|optPX) != 0 {
		ms += x.Now // wraps around on overflow, as in C, and is caught below
	}
	if ms <= 0 {
		x.Errorf(msgInvalidExpire, x.Cmd.Name)
		return 0, false
	}
	return ms, true
}

// getStringReply replies with the string at key, or null; ok is false after a
// WRONGTYPE error. It counts a keyspace hit or miss.
func getStringReply(x *Ctx, key []byte) (exists, ok bool) {
	s, exists, ok := x.GetString(key, 0)
	if !ok {
		return exists, false
	}
	if !exists {
		x.W.Null()
		return false, true
	}
	x.W.Bulk(s.B)
	return true, true
}

// setStringKey stores val at key as Redis's setKey does: the TTL is
// cleared (and, as Tx.Set does, a key that had expired is reclaimed first,
// raising "expired").
func setStringKey(x *Ctx, key []byte, val *engine.String) {
	x.Tx.Set(x.DB, key, val, 0, false)
}

// GET key (redis.io/commands/get)
func cmdGet(x *Ctx) {
	s, exists, ok := x.GetString(x.Args[1], 0)
	if !ok {
		return
	}
	if !exists {
		x.W.Null()
		return
	}
	x.W.Bulk(s.B)
}

// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds |
// EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]
// (redis.io/commands/set)
func cmdSet(x *Ctx) {
	flags, expire, ok := parseExtendedStringArgs(x, true)
	if !ok {
		return
	}
	setGeneric(x, flags, expire, x.Args[2], "", "")
}

// SETNX key value (redis.io/commands/setnx)
func cmdSetNX(x *Ctx) { setGeneric(x, optNX, nil, x.Args[2], ":1\r\n", ":0\r\n") }

// SETEX key seconds value (redis.io/commands/setex)
func cmdSetEX(x *Ctx) { setGeneric(x, optEX, x.Args[2], x.Args[3], "", "") }

// PSETEX key milliseconds value (redis.io/commands/psetex)
func cmdPSetEX(x *Ctx) { setGeneric(x, optPX, x.Args[2], x.Args[3], "", "") }

// setGeneric is Redis's setGenericCommand for SET, SETNX, SETEX and PSETEX.
// okReply and abortReply are raw replies; "" means +OK and null.
func setGeneric(x *Ctx, flags int, expire, val []byte, okReply, abortReply string) {
	key := x.Args[1]
	var at int64
	if expire != nil {
		var ok bool
		if at, ok = parseSetExpire(x, expire, flags); !ok {
			return
		}
	}
	if flags&optGet != 0 {
		if _, ok := getStringReply(x, key); !ok {
			return
		}
	}
	// Only NX and XX need to know whether the key exists; Tx.Set itself
	// reclaims an expired key first, as Redis's lookupKeyWrite would.
	if flags&(optNX|optXX) != 0 {
		_, found := x.Tx.Lookup(x.DB, key, engine.LookupWrite)
		if (flags&optNX != 0) == found { // NX and the key exists, or XX and it does not
			if flags&optGet == 0 {
				if abortReply == "" {
					x.W.Null()
				} else {
					x.W.B = append(x.W.B, abortReply...)
				}
			}
			return
		}
	}
	x.Tx.Set(x.DB, key, engine.NewString(val), at, flags&optKeepTTL != 0)
	x.Tx.AddDirty(1)
	x.Notify(engine.EventString, "set", key)
	if expire != nil {
		x.Notify(engine.EventGeneric, "expire", key)
	}
	if flags&optGet == 0 {
		if okReply == "" {
			x.W.OK()
		} else {
			x.W.B = append(x.W.B, okReply...)
		}
	}
}

// GETSET key value (redis.io/commands/getset)
func cmdGetSet(x *Ctx) {
	key := x.Args[1]
	if _, ok := getStringReply(x, key); !ok {
		return
	}
	setStringKey(x, key, engine.NewString(x.Args[2]))
	x.Notify(engine.EventString, "set", key)
	x.Tx.AddDirty(1)
}

// GETDEL key (redis.io/commands/getdel)
func cmdGetDel(x *Ctx) {
	key := x.Args[1]
	exists, ok := getStringReply(x, key)
	if !ok || !exists {
		return
	}
	x.Tx.Delete(x.DB, key)
	x.Notify(engine.EventGeneric, "del", key)
	x.Tx.AddDirty(1)
}

// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
// PXAT unix-time-milliseconds | PERSIST] (redis.io/commands/getex)
func cmdGetEx(x *Ctx) {
	flags, expire, ok := parseExtendedStringArgs(x, false)
	if !ok {
		return
	}
	key := x.Args[1]
	e, found := lookupRead(x, key, 0)
	if !found {
		x.W.Null()
		return
	}
	s, isStr := e.Value().(*engine.String)
	if !isStr {
		x.Error(msgWrongType)
		return
	}
	// The expire time is validated only once the key is known to exist.
	var at int64
	if expire != nil {
		if at, ok = parseSetExpire(x, expire, flags); !ok {
			return
		}
	}
	x.W.Bulk(s.B)
	switch {
	case flags&(optEXAT|optPXAT) != 0 && at <= x.Now:
		// An absolute time in the past deletes the key.
		x.Tx.Delete(x.DB, key)
		x.Notify(engine.EventGeneric, "del", key)
		x.Tx.AddDirty(1)
	case expire != nil:
		x.Tx.SetExpire(x.DB, key, at)
		x.Notify(engine.EventGeneric, "expire", key)
		x.Tx.AddDirty(1)
	case flags&optPersist != 0:
		if e.ExpireAt() != 0 {
			x.Tx.SetExpire(x.DB, key, 0)
			x.Notify(engine.EventGeneric, "persist", key)
			x.Tx.AddDirty(1)
		}
	}
}

// MGET key [key ...] (redis.io/commands/mget)
func cmdMGet(x *Ctx) {
	x.W.Array(len(x.Args) - 1)
	for _, key := range x.Args[1:] {
		e, found := lookupRead(x, key, 0)
		if !found {
			x.W.Null()
			continue
		}
		if s, ok := e.Value().(*engine.String); ok {
			x.W.Bulk(s.B)
		} else {
			x.W.Null() // other types read as missing, not as an error
		}
	}
}

// MSET key value [key value ...] (redis.io/commands/mset)
func cmdMSet(x *Ctx) { msetGeneric(x, false) }

// MSETNX key value [key value ...] (redis.io/commands/msetnx)
func cmdMSetNX(x *Ctx) { msetGeneric(x, true) }

func msetGeneric(x *Ctx, nx bool) {
	if len(x.Args)%2 == 0 {
		x.WrongArgs()
		return
	}
	if nx {
		for j := 1; j < len(x.Args); j += 2 {
			if _, found := x.Tx.Lookup(x.DB, x.Args[j], engine.LookupWrite); found {
				x.W.Int(0)
				return
			}
		}
	}
	for j := 1; j < len(x.Args); j += 2 {
		setStringKey(x, x.Args[j], engine.NewString(x.Args[j+1]))
		x.Notify(engine.EventString, "set", x.Args[j])
	}
	x.Tx.AddDirty(int64(len(x.Args) / 2))
	if nx {
		x.W.Int(1)
	} else {
		x.W.OK()
	}
}

// INCR key (redis.io/commands/incr)
func cmdIncr(x *Ctx) { incrDecr(x, 1) }

// DECR key (redis.io/commands/decr)
func cmdDecr(x *Ctx) { incrDecr(x, -1) }

// INCRBY key increment (redis.io/commands/incrby)
func cmdIncrBy(x *Ctx) {
	incr, ok := x.Int(2)
	if !ok {
		return
	}
	incrDecr(x, incr)
}

// DECRBY key decrement (redis.io/commands/decrby)
func cmdDecrBy(x *Ctx) {
	decr, ok := x.Int(2)
	if !ok {
		return
	}
	if decr == math.MinInt64 {
		x.Error(msgDecrOverflow)
		return
	}
	incrDecr(x, -decr)
}

// incrDecr adds incr to the integer at key (0 if absent). The result is
// int-encoded; an existing value is rewritten in place and keeps its TTL.
func incrDecr(x *Ctx, incr int64) {
	key := x.Args[1]
	e, found := x.Tx.Lookup(x.DB, key, engine.LookupWrite)
	var s *engine.String
	var v int64
	if found {
		var ok bool
		if s, ok = e.Value().(*engine.String); !ok {
			x.Error(msgWrongType)
			return
		}
		if v, ok = parseInt(s.B); !ok {
			x.Error(msgNotInt)
			return
		}
	}
	if (incr < 0 && v < 0 && incr < math.MinInt64-v) || (incr > 0 && v > 0 && incr > math.MaxInt64-v) {
		x.Error(msgOverflow)
		return
	}
	v += incr
	if s != nil {
		s.SetInt(v)
		x.Tx.Touched(x.DB, key)
	} else {
		x.Tx.Set(x.DB, key, engine.NewInt(v), 0, false)
	}
	x.Notify(engine.EventString, "incrby", key)
	x.Tx.AddDirty(1)
	x.W.Int(v)
}

// INCRBYFLOAT key increment (redis.io/commands/incrbyfloat)
func cmdIncrByFloat(x *Ctx) {
	key := x.Args[1]
	e, found := x.Tx.Lookup(x.DB, key, engine.LookupWrite)
	cur := new(big.Float).SetPrec(ldPrec)
	if found {
		s, ok := e.Value().(*engine.String)
		if !ok {
			x.Error(msgWrongType)
			return
		}
		if cur, ok = parseLongDouble(s.B); !ok {
			x.Error(msgNotFloat)
			return
		}
	}
	incr, ok := parseLongDouble(x.Args[2])
	if !ok {
		x.Error(msgNotFloat)
		return
	}
	sum, ok := addLongDouble(cur, incr)
	if !ok {
		x.Error(msgIncrFloatNaN)
		return
	}
	b := appendLongDoubleHuman(nil, sum)
	// A new embstr/raw object replaces the old one; the TTL stays.
	x.Tx.Set(x.DB, key, engine.NewStringOwned(b), 0, found)
	x.Notify(engine.EventString, "incrbyfloat", key)
	x.Tx.AddDirty(1)
	x.W.Bulk(b)
}

// APPEND key value (redis.io/commands/append)
func cmdAppend(x *Ctx) {
	key, val := x.Args[1], x.Args[2]
	e, found := x.Tx.Lookup(x.DB, key, engine.LookupWrite)
	var total int
	if !found {
		// The argument is stored as SET would store it (int, embstr...).
		x.Tx.Set(x.DB, key, engine.NewString(val), 0, false)
		total = len(val)
	} else {
		s, ok := e.Value().(*engine.String)
		if !ok {
			x.Error(msgWrongType)
			return
		}
		if !checkStringLength(x, int64(len(s.B)), int64(len(val))) {
			return
		}
		s.Append(val)
		x.Tx.Touched(x.DB, key)
		total = len(s.B)
	}
	x.Notify(engine.EventString, "append", key)
	x.Tx.AddDirty(1)
	x.W.Int(int64(total))
}

// checkStringLength replies with an error when a string of size+add bytes
// would exceed proto-max-bulk-len (or overflow).
func checkStringLength(x *Ctx, size, add int64) bool {
	total := int64(uint64(size) + uint64(add))
	if total > maxStringLen(x) || total < size || total < add {
		x.Error(msgStringTooLong)
		return false
	}
	return true
}

// STRLEN key (redis.io/commands/strlen)
func cmdStrlen(x *Ctx) {
	s, exists, ok := x.GetString(x.Args[1], 0)
	if !ok {
		return
	}
	if !exists {
		x.W.Int(0)
		return
	}
	x.W.Int(int64(len(s.B)))
}

// GETRANGE key start end (redis.io/commands/getrange); also SUBSTR key
// start end, its deprecated alias (redis.io/commands/substr).
func cmdGetRange(x *Ctx) {
	start, ok := x.Int(2)
	if !ok {
		return
	}
	end, ok := x.Int(3)
	if !ok {
		return
	}
	s, exists, ok := x.GetString(x.Args[1], 0)
	if !ok {
		return
	}
	if !exists {
		x.W.Bulk(nil)
		return
	}
	n := int64(len(s.B))
	if start < 0 && end < 0 && start > end {
		x.W.Bulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start = max(start, 0)
	end = max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		x.W.Bulk(nil)
		return
	}
	x.W.Bulk(s.B[start : end+1])
}

// SETRANGE key offset value (redis.io/commands/setrange)
func cmdSetRange(x *Ctx) {
	key, val := x.Args[1], x.Args[3]
	offset, ok := x.Int(2)
	if !ok {
		return
	}
	if offset < 0 {
		x.Error(msgOffsetRange)
		return
	}
	e, found := x.Tx.Lookup(x.DB, key, engine.LookupWrite)
	var s *engine.String
	if !found {
		if len(val) == 0 {
			x.W.Int(0) // setting nothing on a missing key creates nothing
			return
		}
		if !checkStringLength(x, offset, int64(len(val))) {
			return
		}
		s = &engine.String{Enc: engine.EncRaw}
		s.SetRange(int(offset), val)
		x.Tx.Set(x.DB, key, s, 0, false)
	} else {
		if s, ok = e.Value().(*engine.String); !ok {
			x.Error(msgWrongType)
			return
		}
		if len(val) == 0 {
			x.W.Int(int64(len(s.B)))
			return
		}
		if !checkStringLength(x, offset, int64(len(val))) {
			return
		}
		s.SetRange(int(offset), val)
		x.Tx.Touched(x.DB, key)
	}
	x.Notify(engine.EventString, "setrange", key)
	x.Tx.AddDirty(1)
	x.W.Int(int64(len(s.B)))
}

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
// (redis.io/commands/lcs)
func cmdLCS(x *Ctx) {
	// Both keys are read (counting hits and misses) before either is
	// type-checked; a missing key is an empty string.
	var strs [2][]byte
	var wrong bool
	for i := range strs {
		e, found := lookupRead(x, x.Args[1+i], 0)
		if !found {
			continue
		}
		if s, ok := e.Value().(*engine.String); ok {
			strs[i] = s.B
		} else {
			wrong = true
		}
	}
	if wrong {
		x.Error(msgLCSNotStrings)
		return
	}
	a, b := strs[0], strs[1]
	var getLen, getIdx, withMatchLen bool
	var minMatchLen int64
	for j := 3; j < len(x.Args); j++ {
		opt := asCString(x.Args[j])
		switch {
		case equalFold(opt, "idx"):
			getIdx = true
		case equalFold(opt, "len"):
			getLen = true
		case equalFold(opt, "withmatchlen"):
			withMatchLen = true
		case equalFold(opt, "minmatchlen") && j+1 < len(x.Args):
			n, ok := x.Int(j + 1)
			if !ok {
				return
			}
			minMatchLen = max(n, 0)
			j++
		default:
			x.Error(msgSyntax)
			return
		}
	}
	if getLen && getIdx {
		x.Error(msgLCSLenAndIdx)
		return
	}
	if uint64(len(a)) >= math.MaxUint32-1 || uint64(len(b)) >= math.MaxUint32-1 {
		x.Error(msgLCSTooLong)
		return
	}
	alen, blen := len(a), len(b)
	if uint64(alen+1)*uint64(blen+1)*4 > uint64(maxStringLen(x)) {
		x.Error(msgLCSMemory)
		return
	}

	// Dynamic programming table: lcs[i*(blen+1)+j] is the LCS length of
	// a[:i] and b[:j].
	w := blen + 1
	lcs := make([]uint32, (alen+1)*w)
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			if a[i-1] == b[j-1] {
				lcs[i*w+j] = lcs[(i-1)*w+j-1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i-1)*w+j], lcs[i*w+j-1])
			}
		}
	}
	total := lcs[alen*w+blen]
	if getLen {
		x.W.Int(int64(total))
		return
	}

	// Walk back from the end, building the LCS string and, for IDX, the
	// matching ranges, exactly in the order Redis emits them.
	type match struct{ aStart, aEnd, bStart, bEnd, length uint32 }
	var matches []match
	result := make([]byte, total)
	idx := total
	i, j := uint32(alen), uint32(blen)
	aStart, aEnd, bStart, bEnd := uint32(alen), uint32(0), uint32(0), uint32(0) // aStart == alen: no range yet
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if aStart == uint32(alen) {
				aStart, aEnd = i-1, i-1
				bStart, bEnd = j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if lcs[(i-1)*uint32(w)+j] > lcs[i*uint32(w)+j-1] {
				i--
			} else {
				j--
			}
			if aStart != uint32(alen) {
				emit = true
			}
		}
		if emit {
			matchLen := aEnd - aStart + 1
			if getIdx && (minMatchLen == 0 || int64(matchLen) >= minMatchLen) {
				matches = append(matches, match{aStart, aEnd, bStart, bEnd, matchLen})
			}
			aStart = uint32(alen)
		}
	}
	if !getIdx {
		x.W.Bulk(result)
		return
	}
	x.W.Map(2)
	x.W.BulkString("matches")
	x.W.Array(len(matches))
	for _, m := range matches {
		if withMatchLen {
			x.W.Array(3)
		} else {
			x.W.Array(2)
		}
		x.W.Array(2)
		x.W.Int(int64(m.aStart))
		x.W.Int(int64(m.aEnd))
		x.W.Array(2)
		x.W.Int(int64(m.bStart))
		x.W.Int(int64(m.bEnd))
		if withMatchLen {
			x.W.Int(int64(m.length))
		}
	}
	x.W.BulkString("len")
	x.W.Int(int64(total))
}

// Long doubles.
//
// INCRBYFLOAT computes with C's long double, which on x86-64 (Redis's
// platform) is the 80-bit x87 extended format: a 64-bit significand and a
// 15-bit exponent, so 0.1+0.2 is exactly 0.3 to 17 decimals and 1e308*10 is
// finite (the limit is about 1.19e4932). Runnel reproduces it with big.Float
// at 64 bits of precision, rounding to nearest-even like the FPU; parsing is
// correctly rounded like glibc's strtold and printing is exact like glibc's
// printf, so results are identical for every normal value. Subnormals (below
// 3.4e-4932) are kept at 64 bits instead of being denormalised; that cannot
// change a reply, as any such value prints as 0 to 17 decimals and vanishes
// when added to anything larger.
const (
	ldPrec     = 64       // significand bits
	ldMaxExp   = 16384    // big.Float exponent (mantissa in [0.5,1)) of the largest finite binade
	ldMinExp   = -16381   // big.Float exponent of the smallest normal, 2^-16382
	ldZeroExp  = 16446    // values at most 2^-16446, half the smallest subnormal, round to zero
	ldMaxChars = 5 * 1024 // MAX_LONG_DOUBLE_CHARS: longer strings are not floats
	ldMaxDec   = 4932     // LDBL_MAX is 1.19e4932
	ldMinDec   = -4951    // half the smallest subnormal is 1.8e-4951
)

// parseLongDouble parses b as Redis's string2ld: glibc's strtold must
// consume all of b (so a NUL byte anywhere makes it invalid), with no
// leading space, and the value must be neither NaN nor out of range
// (overflow, or underflow to zero). Infinities ("inf", "-Infinity") are
// valid.
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= ldMaxChars || isSpaceByte(b[0]) {
		return nil, false
	}
	z := new(big.Float).SetPrec(ldPrec)
	neg := false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		b = b[1:]
	}
	var ok bool
	switch {
	case len(b) >= 3 && equalFold(b[:3], "inf"):
		if len(b) != 3 && !equalFold(b, "infinity") {
			return nil, false
		}
		return z.SetInf(neg), true
	case len(b) >= 3 && b[0] == '0' && b[1]|0x20 == 'x' &&
		(ldIsHexDigit(b[2]) || (b[2] == '.' && len(b) > 3 && ldIsHexDigit(b[3]))):
		ok = parseHexLongDouble(z, b[2:])
	default:
		ok = parseDecLongDouble(z, b)
	}
	if !ok {
		return nil, false
	}
	if neg {
		z.Neg(z)
	}
	return z, true
}

func ldIsDigit(c byte) bool { return c >= '0' && c <= '9' }

func ldIsHexDigit(c byte) bool {
	return ldIsDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

// ldScanMantissa reads digits with an optional point, as strtold does. It
// returns the significant digits (no leading zeros), the number of digits
// after the point, the total number of digits and the rest of s.
func ldScanMantissa(s []byte, digit func(byte) bool) (mant []byte, frac, n int, rest []byte) {
	i := 0
	for ; i < len(s) && digit(s[i]); i++ {
		if len(mant) > 0 || s[i] != '0' {
			mant = append(mant, s[i])
		}
		n++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && digit(s[i]); i++ {
			if len(mant) > 0 || s[i] != '0' {
				mant = append(mant, s[i])
			}
			frac++
			n++
		}
	}
	return mant, frac, n, s[i:]
}

// ldScanExponent reads an exponent introduced by the letter e (e or p): a
// sign and at least one digit. Without digits the letter is not part of the
// number and ok is false. Huge exponents saturate.
func ldScanExponent(s []byte, letter byte) (exp int, rest []byte, ok bool) {
	if len(s) == 0 || s[0]|0x20 != letter {
		return 0, s, false
	}
	i := 1
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i >= len(s) || !ldIsDigit(s[i]) {
		return 0, s, false
	}
	for ; i < len(s) && ldIsDigit(s[i]); i++ {
		if exp < 1e9 {
			exp = exp*10 + int(s[i]-'0')
		}
	}
	if neg {
		exp = -exp
	}
	return exp, s[i:], true
}

// parseDecLongDouble sets z to the decimal number s (unsigned), correctly
// rounded to 64 bits, and reports whether all of s is a valid number whose
// value neither overflows nor underflows to zero.
func parseDecLongDouble(z *big.Float, s []byte) bool {
	mant, frac, n, rest := ldScanMantissa(s, ldIsDigit)
	if n == 0 {
		return false
	}
	exp, rest, _ := ldScanExponent(rest, 'e')
	if len(rest) != 0 {
		return false
	}
	exp -= frac
	for len(mant) > 0 && mant[len(mant)-1] == '0' {
		mant = mant[:len(mant)-1]
		exp++
	}
	if len(mant) == 0 {
		return true // zero
	}
	// 10^(len+exp-1) <= value < 10^(len+exp)
	if len(mant)+exp-1 > ldMaxDec || len(mant)+exp <= ldMinDec {
		return false
	}
	m, _ := new(big.Int).SetString(string(mant), 10)
	if exp >= 0 {
		z.SetInt(m.Mul(m, ldPow10(exp)))
	} else {
		d := ldPow10(-exp)
		var num, den big.Float
		num.SetInt(m)
		den.SetInt(d)
		z.Quo(&num, &den) // exact operands: one correct rounding
		if z.MantExp(nil) < ldMinExp && new(big.Int).Lsh(m, ldZeroExp).Cmp(d) <= 0 {
			return false // m/d <= 2^-16446: underflow to zero
		}
	}
	return z.MantExp(nil) <= ldMaxExp
}

// parseHexLongDouble is parseDecLongDouble for a hexadecimal float after its
// 0x prefix: hex digits, an optional point, an optional binary exponent.
func parseHexLongDouble(z *big.Float, s []byte) bool {
	mant, frac, _, rest := ldScanMantissa(s, ldIsHexDigit)
	exp, rest, _ := ldScanExponent(rest, 'p')
	if len(rest) != 0 {
		return false
	}
	if len(mant) == 0 {
		return true // zero
	}
	exp -= 4 * frac
	m, _ := new(big.Int).SetString(string(mant), 16)
	top := m.BitLen() - 1 + exp // 2^top <= value < 2^(top+1)
	if top >= ldMaxExp || top < -ldZeroExp ||
		(top == -ldZeroExp && m.TrailingZeroBits() == uint(m.BitLen()-1)) {
		return false
	}
	z.SetInt(m)
	z.SetMantExp(z, exp)
	return z.MantExp(nil) <= ldMaxExp
}

func ldPow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// addLongDouble returns a+b rounded to a long double; ok is false when the
// sum is NaN or infinite.
func addLongDouble(a, b *big.Float) (*big.Float, bool) {
	if a.IsInf() || b.IsInf() {
		return nil, false
	}
	z := new(big.Float).SetPrec(ldPrec).Add(a, b)
	if z.MantExp(nil) > ldMaxExp {
		return nil, false
	}
	return z, true
}

// appendLongDoubleHuman appends v as Redis's ld2string in LD_STR_HUMAN
// mode: printf("%.17Lf") with the trailing zeros and point removed, and
// "-0" written as "0".
func appendLongDoubleHuman(dst []byte, v *big.Float) []byte {
	start := len(dst)
	if v.IsInf() {
		if v.Signbit() {
			return append(dst, "-inf"...)
		}
		return append(dst, "inf"...)
	}
	dst = v.Append(dst, 'f', 17)
	if bytes.IndexByte(dst[start:], '.') >= 0 {
		for dst[len(dst)-1] == '0' {
			dst = dst[:len(dst)-1]
		}
		if dst[len(dst)-1] == '.' {
			dst = dst[:len(dst)-1]
		}
	}
	if string(dst[start:]) == "-0" {
		dst = append(dst[:start], '0')
	}
	return dst
}
