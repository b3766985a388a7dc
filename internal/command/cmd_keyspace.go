package command

// Commands from https://redis.io/commands/?group=generic: the keyspace
// commands (DEL, EXISTS, RENAME, EXPIRE, SCAN, OBJECT, ...), as Redis 7.0's
// db.c, expire.c and object.c implement them.
//
// Key lookups follow Redis's lookupKey* flavours exactly, because they
// decide what is counted in keyspace_hits/misses, which keys are deleted
// lazily ("expired" events), whether "keymiss" is raised and whether the
// access time moves:
//
//	lookupKeyRead            -> lookupRead(x, key, 0)
//	lookupKeyReadWithFlags   -> lookupRead(x, key, engine.LookupNoTouch)  (TYPE, TTL, EXISTS)
//	objectCommandLookup      -> x.Tx.Lookup(.., engine.LookupNoTouch)     (no keymiss)
//	lookupKeyWrite           -> x.Tx.Lookup(.., engine.LookupWrite)       (no stats, no keymiss)
//	expireIfNeeded           -> x.Tx.ExpireIfNeeded
//	dictFind                 -> x.Tx.Peek                                 (MEMORY USAGE)

import (
	"bytes"
	"math"
	"runtime/debug"

	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/glob"
	"github.com/runnel-io/runnel/internal/stream"
)

func init() { registrations = append(registrations, registerKeyspace) }

func registerKeyspace(t *Table) {
	keys1 := func(c *Command) *Command { c.FirstKey, c.LastKey, c.Step = 1, 1, 1; return c }
	keysAll := func(c *Command) *Command { c.FirstKey, c.LastKey, c.Step = 1, -1, 1; return c }
	keys12 := func(c *Command) *Command { c.FirstKey, c.LastKey, c.Step = 1, 2, 1; return c }
	key2 := func(c *Command) *Command { c.FirstKey, c.LastKey, c.Step = 2, 2, 1; return c }
	t.add(
		keysAll(&Command{Name: "del", Arity: -2, Flags: Write, Run: cmdDel}),
		keysAll(&Command{Name: "unlink", Arity: -2, Flags: Write | Fast, Run: cmdDel}),
		keysAll(&Command{Name: "exists", Arity: -2, Flags: ReadOnly | Fast, Run: cmdExists}),
		keys1(&Command{Name: "type", Arity: 2, Flags: ReadOnly | Fast, Run: cmdType}),
		keys12(&Command{Name: "rename", Arity: 3, Flags: Write, Run: cmdRename}),
		keys12(&Command{Name: "renamenx", Arity: 3, Flags: Write | Fast, Run: cmdRenameNX}),
		keys12(&Command{Name: "copy", Arity: -3, Flags: Write | DenyOOM, Run: cmdCopy}),
		keys1(&Command{Name: "move", Arity: 3, Flags: Write | Fast, Run: cmdMove}),
		&Command{Name: "keys", Arity: 2, Flags: ReadOnly | Global, Run: cmdKeys},
		&Command{Name: "scan", Arity: -2, Flags: ReadOnly | Global, Run: cmdScan},
		&Command{Name: "randomkey", Arity: 1, Flags: ReadOnly | Global, Run: cmdRandomKey},
		&Command{Name: "dbsize", Arity: 1, Flags: ReadOnly | Fast | Global, Run: cmdDBSize},
		&Command{Name: "flushdb", Arity: -1, Flags: Write | Global, Run: cmdFlushDB},
		&Command{Name: "flushall", Arity: -1, Flags: Write | Global, Run: cmdFlushAll},
		&Command{Name: "swapdb", Arity: 3, Flags: Write | Fast | Global, Run: cmdSwapDB},
		keys1(&Command{Name: "expire", Arity: -3, Flags: Write | Fast, Run: cmdExpire}),
		keys1(&Command{Name: "pexpire", Arity: -3, Flags: Write | Fast, Run: cmdPExpire}),
		keys1(&Command{Name: "expireat", Arity: -3, Flags: Write | Fast, Run: cmdExpireAt}),
		keys1(&Command{Name: "pexpireat", Arity: -3, Flags: Write | Fast, Run: cmdPExpireAt}),
		keys1(&Command{Name: "ttl", Arity: 2, Flags: ReadOnly | Fast, Run: cmdTTL}),
		keys1(&Command{Name: "pttl", Arity: 2, Flags: ReadOnly | Fast, Run: cmdPTTL}),
		keys1(&Command{Name: "expiretime", Arity: 2, Flags: ReadOnly | Fast, Run: cmdExpireTime}),
		keys1(&Command{Name: "pexpiretime", Arity: 2, Flags: ReadOnly | Fast, Run: cmdPExpireTime}),
		keys1(&Command{Name: "persist", Arity: 2, Flags: Write | Fast, Run: cmdPersist}),
		keysAll(&Command{Name: "touch", Arity: -2, Flags: ReadOnly | Fast, Run: cmdTouch}),
		container("object", -2, 0,
			key2(&Command{Name: "encoding", Arity: 3, Flags: ReadOnly, Run: cmdObjectEncoding}),
			key2(&Command{Name: "freq", Arity: 3, Flags: ReadOnly, Run: cmdObjectFreq}),
			key2(&Command{Name: "idletime", Arity: 3, Flags: ReadOnly, Run: cmdObjectIdletime}),
			key2(&Command{Name: "refcount", Arity: 3, Flags: ReadOnly, Run: cmdObjectRefcount}),
			&Command{Name: "help", Arity: 2, Flags: Loading | Stale | NoKeyspace, Run: cmdObjectHelp},
		),
		container("memory", -2, 0,
			key2(&Command{Name: "usage", Arity: -3, Flags: ReadOnly, Run: cmdMemoryUsage}),
			&Command{Name: "purge", Arity: 2, Flags: NoKeyspace, Run: cmdMemoryPurge},
			&Command{Name: "help", Arity: 2, Flags: Loading | Stale | NoKeyspace, Run: cmdMemoryHelp},
		),
	)
}

// parseDBIndex parses a destination database as MOVE and COPY do:
// getIntFromObjectOrReply, then selectDb's range check.
func parseDBIndex(x *Ctx, arg []byte) (int, bool) {
	n, ok := parseInt(arg)
	if !ok {
		x.Error(msgNotInt)
		return 0, false
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		x.Error(msgIntRange)
		return 0, false
	}
	if n < 0 || n >= int64(x.Env.KS.Databases()) {
		x.Error(msgDBIndex)
		return 0, false
	}
	return int(n), true
}

// DEL key [key ...] (redis.io/commands/del)
// UNLINK key [key ...] (redis.io/commands/unlink): Runnel frees memory
// through the Go collector either way, so UNLINK is DEL.
func cmdDel(x *Ctx) {
	var n int64
	for _, k := range x.Args[1:] {
		x.Tx.ExpireIfNeeded(x.DB, k)
		if x.Tx.Delete(x.DB, k) {
			x.Notify(engine.EventGeneric, "del", k)
			x.Tx.AddDirty(1)
			n++
		}
	}
	x.W.Int(n)
}

// EXISTS key [key ...] (redis.io/commands/exists): a key named twice counts
// twice.
func cmdExists(x *Ctx) {
	var n int64
	for _, k := range x.Args[1:] {
		if _, ok := lookupRead(x, k, engine.LookupNoTouch); ok {
			n++
		}
	}
	x.W.Int(n)
}

// TYPE key (redis.io/commands/type)
func cmdType(x *Ctx) {
	e, ok := lookupRead(x, x.Args[1], engine.LookupNoTouch)
	if !ok {
		x.W.Simple("none")
		return
	}
	x.W.Simple(e.Value().Type())
}

// RENAME key newkey (redis.io/commands/rename)
func cmdRename(x *Ctx) { renameGeneric(x, false) }

// RENAMENX key newkey (redis.io/commands/renamenx)
func cmdRenameNX(x *Ctx) { renameGeneric(x, true) }

func renameGeneric(x *Ctx, nx bool) {
	src, dst := x.Args[1], x.Args[2]
	e, ok := x.Tx.Lookup(x.DB, src, engine.LookupWrite)
	if !ok {
		x.Error(msgNoSuchKey)
		return
	}
	if bytes.Equal(src, dst) {
		if nx {
			x.W.Int(0)
		} else {
			x.W.OK()
		}
		return
	}
	val, exp := e.Value(), e.ExpireAt()
	if _, exists := x.Tx.Lookup(x.DB, dst, engine.LookupWrite); exists {
		if nx {
			x.W.Int(0)
			return
		}
		// Redis deletes the old value and adds the key anew (dbDelete then
		// dbAdd), so "new" is raised even when newkey existed.
		x.Tx.Delete(x.DB, dst)
	}
	x.Tx.Set(x.DB, dst, val, exp, false)
	x.Tx.Detach(x.DB, src) // the value lives on under dst
	x.Notify(engine.EventGeneric, "rename_from", src)
	x.Notify(engine.EventGeneric, "rename_to", dst)
	x.Tx.AddDirty(1)
	if nx {
		x.W.Int(1)
	} else {
		x.W.OK()
	}
}

// COPY source destination [DB destination-db] [REPLACE]
// (redis.io/commands/copy)
func cmdCopy(x *Ctx) {
	dstDB, replace := x.DB, false
	for j := 3; j < len(x.Args); j++ {
		switch {
		case x.Is(j, "replace"):
			replace = true
		case x.Is(j, "db") && j+1 < len(x.Args):
			db, ok := parseDBIndex(x, x.Args[j+1])
			if !ok {
				return
			}
			dstDB = db
			j++
		default:
			x.Error(msgSyntax)
			return
		}
	}
	src, dst := x.Args[1], x.Args[2]
	if dstDB == x.DB && bytes.Equal(src, dst) {
		x.Error(msgSameObject)
		return
	}
	e, ok := lookupRead(x, src, 0)
	if !ok {
		x.W.Int(0)
		return
	}
	del := false
	if _, exists := x.Tx.Lookup(dstDB, dst, engine.LookupWrite); exists {
		if !replace {
			x.W.Int(0)
			return
		}
		del = true
	}
	d, ok := e.Value().(engine.Duplicator)
	if !ok {
		x.Error(msgCopyUnsupported)
		return
	}
	val, exp := d.Dup(), e.ExpireAt()
	if s, ok := val.(*stream.Stream); ok {
		x.touchStream(s) // the copy reports its memory and may page
	}
	if del {
		x.Tx.Delete(dstDB, dst)
	}
	x.Tx.Set(dstDB, dst, val, exp, false)
	x.Env.Notify(engine.EventGeneric, "copy_to", dstDB, dst)
	x.Tx.AddDirty(1)
	x.W.Int(1)
}

// MOVE key db (redis.io/commands/move)
func cmdMove(x *Ctx) {
	db, ok := parseDBIndex(x, x.Args[2])
	if !ok {
		return
	}
	if db == x.DB {
		x.Error(msgSameObject)
		return
	}
	key := x.Args[1]
	if _, ok := x.Tx.Lookup(x.DB, key, engine.LookupWrite); !ok {
		x.W.Int(0)
		return
	}
	if _, exists := x.Tx.Lookup(db, key, engine.LookupWrite); exists {
		x.W.Int(0)
		return
	}
	x.Tx.MoveEntry(x.DB, db, key)
	x.Notify(engine.EventGeneric, "move_from", key)
	x.Env.Notify(engine.EventGeneric, "move_to", db, key)
	x.Tx.AddDirty(1)
	x.W.Int(1)
}

// KEYS pattern (redis.io/commands/keys): expired keys are skipped, not
// deleted.
func cmdKeys(x *Ctx) {
	pat := string(x.Args[1])
	all := pat == "*"
	var keys []string
	x.Tx.Each(x.DB, func(e engine.Entry) bool {
		if k := e.Key(); all || glob.MatchString(pat, k, false) {
			keys = append(keys, k)
		}
		return true
	})
	x.W.Array(len(keys))
	for _, k := range keys {
		x.W.BulkString(k)
	}
}

// maxScanCount bounds COUNT so that the engine's 10*count visit budget
// cannot overflow; it is far more than any database holds.
const maxScanCount = 1 << 40

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
// (redis.io/commands/scan)
func cmdScan(x *Ctx) {
	cursor, ok := parseScanCursor(x.Args[1])
	if !ok {
		x.Error(msgBadCursor)
		return
	}
	count := int64(10)
	var pat string
	usePat := false
	var typ []byte // with hasType: the TYPE filter, up to any NUL
	hasType := false
	for i := 2; i < len(x.Args); i += 2 {
		more := len(x.Args) - i
		switch {
		case x.Is(i, "count") && more >= 2:
			n, ok := x.Int(i + 1)
			if !ok {
				return
			}
			if n < 1 {
				x.Error(msgSyntax)
				return
			}
			count = n
		case x.Is(i, "match") && more >= 2:
			pat = string(x.Args[i+1])
			usePat = pat != "*"
		case x.Is(i, "type") && more >= 2:
			typ, hasType = x.Args[i+1], true
			// Redis compares with strcasecmp, which stops at a NUL.
			if n := bytes.IndexByte(typ, 0); n >= 0 {
				typ = typ[:n]
			}
		default:
			x.Error(msgSyntax)
			return
		}
	}

	// Collect first, filter after: filtering may delete expired keys.
	var keys []string
	next := x.Tx.Scan(x.DB, cursor, int(min(count, maxScanCount)), func(e engine.Entry) {
		keys = append(keys, e.Key())
	})
	out := keys[:0]
	for _, k := range keys {
		if usePat && !glob.MatchString(pat, k, false) {
			continue
		}
		kb := []byte(k)
		if hasType {
			// As Redis: a key that expired is looked up as "none" (and
			// deleted), then passes the expiry filter below because it
			// is gone, so "TYPE none" returns expired keys.
			name := "none"
			if e, ok := lookupRead(x, kb, engine.LookupNoTouch); ok {
				name = e.Value().Type()
			}
			if !equalFold(typ, name) {
				continue
			}
		}
		if x.Tx.ExpireIfNeeded(x.DB, kb) {
			continue
		}
		out = append(out, k)
	}
	x.W.Array(2)
	// Redis prints the unsigned cursor as a long long.
	x.W.BulkInt(int64(next))
	x.W.Array(len(out))
	for _, k := range out {
		x.W.BulkString(k)
	}
}

// parseScanCursor parses a SCAN cursor as Redis's parseScanCursorOrReply:
// strtoul in base 10, refusing a leading space, trailing bytes (up to a NUL,
// where C's string ends) and overflow. Like strtoul it takes an optional
// sign (a '-' negates modulo 2^64), and an empty cursor is 0.
func parseScanCursor(b []byte) (uint64, bool) {
	if len(b) > 0 && isSpaceByte(b[0]) {
		return 0, false
	}
	i := 0
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	start := i
	var v uint64
	overflow := false
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := uint64(b[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			overflow = true
		}
		v = v*10 + d
	}
	if i == start {
		// No digits: strtoul leaves the end pointer at the start, so the
		// cursor is valid only if the string is empty (C: starts with NUL).
		return 0, len(b) == 0 || b[0] == 0
	}
	if overflow || (i < len(b) && b[i] != 0) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// RANDOMKEY (redis.io/commands/randomkey)
func cmdRandomKey(x *Ctx) {
	k, ok := x.Tx.RandomKey(x.DB)
	if !ok {
		x.W.Null()
		return
	}
	x.W.BulkString(k)
}

// DBSIZE (redis.io/commands/dbsize): keys that expired but were not yet
// reclaimed are counted, as in Redis.
func cmdDBSize(x *Ctx) { x.W.Int(x.Env.KS.DBSize(x.DB)) }

// flushOptions parses FLUSHDB's and FLUSHALL's [ASYNC|SYNC] (Redis's
// getFlushCommandFlags). Both free synchronously in Runnel: the dropped
// tables are left to the garbage collector.
func flushOptions(x *Ctx) bool {
	switch {
	case len(x.Args) == 1:
		return true
	case len(x.Args) == 2 && (x.Is(1, "sync") || x.Is(1, "async")):
		return true
	}
	x.Error(msgSyntax)
	return false
}

// FLUSHDB [ASYNC|SYNC] (redis.io/commands/flushdb)
func cmdFlushDB(x *Ctx) {
	if !flushOptions(x) {
		return
	}
	x.Tx.AddDirty(x.Tx.Flush(x.DB))
	x.W.OK()
}

// FLUSHALL [ASYNC|SYNC] (redis.io/commands/flushall): dirty grows by the
// keys removed, as in Redis 7.0's flushAllDataAndResetRDB (the "+1" of
// older versions is gone: 7.0 forces propagation instead).
// TODO: when RDB persistence exists, FLUSHALL must save the (empty) dataset
// if save points are configured, as Redis does (which resets dirty).
func cmdFlushAll(x *Ctx) {
	if !flushOptions(x) {
		return
	}
	x.Tx.AddDirty(x.Tx.Flush(-1))
	x.W.OK()
}

// SWAPDB index1 index2 (redis.io/commands/swapdb)
func cmdSwapDB(x *Ctx) {
	a, ok := parseInt(x.Args[1])
	if !ok || a != int64(int32(a)) {
		x.Error(msgInvalidFirstDB)
		return
	}
	b, ok := parseInt(x.Args[2])
	if !ok || b != int64(int32(b)) {
		x.Error(msgInvalidSecondDB)
		return
	}
	n := int64(x.Env.KS.Databases())
	if a < 0 || a >= n || b < 0 || b >= n {
		x.Error(msgDBIndex)
		return
	}
	if a != b {
		x.Tx.SwapDB(int(a), int(b))
	}
	x.Tx.AddDirty(1)
	x.W.OK()
}

// EXPIRE key seconds [NX|XX|GT|LT] (redis.io/commands/expire)
func cmdExpire(x *Ctx) { expireGeneric(x, x.Now, true) }

// PEXPIRE key milliseconds [NX|XX|GT|LT] (redis.io/commands/pexpire)
func cmdPExpire(x *Ctx) { expireGeneric(x, x.Now, false) }

// EXPIREAT key unix-time-seconds [NX|XX|GT|LT] (redis.io/commands/expireat)
func cmdExpireAt(x *Ctx) { expireGeneric(x, 0, true) }

// PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]
// (redis.io/commands/pexpireat)
func cmdPExpireAt(x *Ctx) { expireGeneric(x, 0, false) }

// EXPIRE's options.
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

// parseExpireOptions is parseExtendedExpireArgumentsOrReply.
func parseExpireOptions(x *Ctx) (int, bool) {
	flags := 0
	for j := 3; j < len(x.Args); j++ {
		switch {
		case x.Is(j, "nx"):
			flags |= expireNX
		case x.Is(j, "xx"):
			flags |= expireXX
		case x.Is(j, "gt"):
			flags |= expireGT
		case x.Is(j, "lt"):
			flags |= expireLT
		default:
			x.Errorf(msgUnsupportedOption, x.Arg(j))
			return 0, false
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		x.Error(msgExpireOptions)
		return 0, false
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		x.Error(msgExpireGTLT)
		return 0, false
	}
	return flags, true
}

// expireGeneric is Redis's expireGenericCommand: base is the time the
// argument is relative to (0 for the *AT forms), in milliseconds.
func expireGeneric(x *Ctx, base int64, seconds bool) {
	flags, ok := parseExpireOptions(x)
	if !ok {
		return
	}
	when, ok := x.Int(2)
	if !ok {
		return
	}
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			x.Errorf(msgInvalidExpire, x.Cmd.Name)
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-base {
		x.Errorf(msgInvalidExpire, x.Cmd.Name)
		return
	}
	when += base

	key := x.Args[1]
	e, exists := x.Tx.Lookup(x.DB, key, engine.LookupWrite)
	if !exists {
		x.W.Int(0)
		return
	}
	if flags != 0 {
		cur := e.ExpireAt()
		if cur == 0 {
			cur = -1 // no expiry: an infinite TTL
		}
		if (flags&expireNX != 0 && cur != -1) ||
			(flags&expireXX != 0 && cur == -1) ||
			(flags&expireGT != 0 && (when <= cur || cur == -1)) ||
			(flags&expireLT != 0 && cur != -1 && when >= cur) {
			x.W.Int(0)
			return
		}
	}
	if when <= x.Now {
		// A time in the past deletes the key (Redis propagates a DEL).
		x.Tx.Delete(x.DB, key)
		x.Tx.AddDirty(1)
		x.Notify(engine.EventGeneric, "del", key)
		x.W.Int(1)
		return
	}
	x.Tx.SetExpire(x.DB, key, when)
	x.Notify(engine.EventGeneric, "expire", key)
	x.Tx.AddDirty(1)
	x.W.Int(1)
}

// TTL key (redis.io/commands/ttl)
func cmdTTL(x *Ctx) { ttlGeneric(x, false, false) }

// PTTL key (redis.io/commands/pttl)
func cmdPTTL(x *Ctx) { ttlGeneric(x, true, false) }

// EXPIRETIME key (redis.io/commands/expiretime)
func cmdExpireTime(x *Ctx) { ttlGeneric(x, false, true) }

// PEXPIRETIME key (redis.io/commands/pexpiretime)
func cmdPExpireTime(x *Ctx) { ttlGeneric(x, true, true) }

// ttlGeneric is Redis's ttlGenericCommand: -2 for a missing key, -1 for no
// expiry, else the time left (or the absolute time with abs), rounded to the
// nearest second unless ms.
func ttlGeneric(x *Ctx, ms, abs bool) {
	e, ok := lookupRead(x, x.Args[1], engine.LookupNoTouch)
	if !ok {
		x.W.Int(-2)
		return
	}
	at := e.ExpireAt()
	if at == 0 {
		x.W.Int(-1)
		return
	}
	ttl := at
	if !abs {
		ttl = at - x.Now
	}
	ttl = max(ttl, 0)
	if ms {
		x.W.Int(ttl)
		return
	}
	// Unsigned, so that the rounding of a time near MaxInt64 does not wrap
	// (Redis prints 9223372036854776 for PEXPIREAT ... 9223372036854775807).
	x.W.Int(int64((uint64(ttl) + 500) / 1000))
}

// PERSIST key (redis.io/commands/persist)
func cmdPersist(x *Ctx) {
	key := x.Args[1]
	e, ok := x.Tx.Lookup(x.DB, key, engine.LookupWrite)
	if !ok || e.ExpireAt() == 0 {
		x.W.Int(0)
		return
	}
	x.Tx.SetExpire(x.DB, key, 0)
	x.Notify(engine.EventGeneric, "persist", key)
	x.Tx.AddDirty(1)
	x.W.Int(1)
}

// TOUCH key [key ...] (redis.io/commands/touch): it updates the access
// time even for a CLIENT NO-TOUCH client, which is what it is for.
func cmdTouch(x *Ctx) {
	noTouch := x.Tx.NoTouch
	x.Tx.NoTouch = false
	var n int64
	for _, k := range x.Args[1:] {
		if _, ok := lookupRead(x, k, 0); ok {
			n++
		}
	}
	x.Tx.NoTouch = noTouch
	x.W.Int(n)
}

// objectLookup is objectCommandLookupOrReply: it counts a hit or miss but
// neither touches the key nor raises "keymiss"; a missing key is a null
// reply.
func objectLookup(x *Ctx) (engine.Entry, bool) {
	e, ok := x.Tx.Lookup(x.DB, x.Args[2], engine.LookupNoTouch)
	if !ok {
		x.W.Null()
	}
	return e, ok
}

// OBJECT ENCODING key (redis.io/commands/object-encoding)
func cmdObjectEncoding(x *Ctx) {
	if e, ok := objectLookup(x); ok {
		x.W.BulkString(e.Value().Encoding())
	}
}

// OBJECT FREQ key (redis.io/commands/object-freq): Runnel has no
// maxmemory policies, so it answers as Redis under the default
// noeviction policy: access frequency is not tracked.
func cmdObjectFreq(x *Ctx) {
	if _, ok := objectLookup(x); ok {
		x.Error(msgLFUNotSelected)
	}
}

// OBJECT IDLETIME key (redis.io/commands/object-idletime)
func cmdObjectIdletime(x *Ctx) {
	if e, ok := objectLookup(x); ok {
		x.W.Int(e.IdleSeconds(x.Now))
	}
}

// OBJECT REFCOUNT key (redis.io/commands/object-refcount)
func cmdObjectRefcount(x *Ctx) {
	e, ok := objectLookup(x)
	if !ok {
		return
	}
	if rc, ok := e.Value().(engine.RefCounter); ok {
		x.W.Int(rc.RefCount())
		return
	}
	x.W.Int(1)
}

// OBJECT HELP (redis.io/commands/object-help)
func cmdObjectHelp(x *Ctx) {
	writeHelp(x, "OBJECT",
		"ENCODING <key>",
		"    Return the kind of internal representation used in order to store the value",
		"    associated with a <key>.",
		"FREQ <key>",
		"    Return the access frequency index of the <key>. The returned integer is",
		"    proportional to the logarithm of the recent access frequency of the key.",
		"IDLETIME <key>",
		"    Return the idle time of the <key>, that is the approximated number of",
		"    seconds elapsed since the last access to the key.",
		"REFCOUNT <key>",
		"    Return the number of references of the value associated with the specified",
		"    <key>.",
	)
}

// memoryUsageDefaultSamples is OBJ_COMPUTE_SIZE_DEF_SAMPLES.
const memoryUsageDefaultSamples = 5

// MEMORY USAGE key [SAMPLES count] (redis.io/commands/memory-usage)
//
// The size is Redis's: objectComputeSize of the value, plus the key's sds
// and its dictEntry, with jemalloc's size classes (engine.MallocSize). For
// strings stored whole (SET and friends) it is exact; for a string grown in
// place (APPEND, SETRANGE) Redis counts the greedy sds allocation, which
// Runnel does not track, so the figure is an estimate there. The key is
// found as Redis's dictFind finds it: an expired key is still counted and
// nothing is touched or counted in the statistics.
func cmdMemoryUsage(x *Ctx) {
	samples := int64(memoryUsageDefaultSamples)
	for j := 3; j < len(x.Args); j++ {
		if !x.Is(j, "samples") || j+1 >= len(x.Args) {
			x.Error(msgSyntax)
			return
		}
		n, ok := x.Int(j + 1)
		if !ok {
			return
		}
		if n < 0 {
			x.Error(msgSyntax)
			return
		}
		if n == 0 {
			n = math.MaxInt64
		}
		samples = n
		j++
	}
	key := x.Args[2]
	e, ok := x.Tx.Peek(x.DB, key)
	if !ok {
		x.W.Null()
		return
	}
	size := int64(16) // a bare robj, for a value that cannot say better
	if ms, ok := e.Value().(engine.MemorySizer); ok {
		size = ms.ObjectSize(samples)
	}
	x.W.Int(size + engine.KeyOverhead(key))
}

// MEMORY PURGE (redis.io/commands/memory-purge): Redis asks jemalloc to
// give its dirty pages back; here the runtime collects and returns every
// free page to the OS at once (Go's scavenger would take minutes after a
// big stream is deleted). Only the calling client waits. Redis replies OK
// whatever its allocator did.
func cmdMemoryPurge(x *Ctx) {
	debug.FreeOSMemory()
	x.W.OK()
}

// MEMORY HELP (redis.io/commands/memory-help)
func cmdMemoryHelp(x *Ctx) {
	writeHelp(x, "MEMORY",
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator.",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).",
	)
}
