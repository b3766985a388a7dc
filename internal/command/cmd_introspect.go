package command

// Introspection and server probes: COMMAND, SLOWLOG, MONITOR, TIME,
// LASTSAVE, and the commands clients send on connect that Runnel answers
// as a standalone Redis 7.0 without scripting would: CLUSTER, READONLY,
// READWRITE, ASKING, FUNCTION, SCRIPT and DEBUG SLEEP/LOG.

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/runnel-io/runnel/internal/glob"
	"github.com/runnel-io/runnel/internal/server"
)

func init() { registrations = append(registrations, registerIntrospection) }

func registerIntrospection(t *Table) {
	const probe = NoKeyspace
	command := container("command", -1, Loading|Stale|NoKeyspace,
		&Command{Name: "count", Arity: 2, Flags: Loading | Stale | NoKeyspace, Run: cmdCommandCount},
		&Command{Name: "list", Arity: -2, Flags: Loading | Stale | NoKeyspace, Run: cmdCommandList},
		&Command{Name: "info", Arity: -2, Flags: Loading | Stale | NoKeyspace, Run: cmdCommandInfo},
		&Command{Name: "docs", Arity: -2, Flags: Loading | Stale | NoKeyspace, Run: cmdCommandDocs},
		&Command{Name: "getkeys", Arity: -4, Flags: Loading | Stale | NoKeyspace, Run: cmdCommandGetkeys},
		&Command{Name: "getkeysandflags", Arity: -4, Flags: Loading | Stale | NoKeyspace, Run: cmdCommandGetkeys},
		&Command{Name: "help", Arity: 2, Flags: Loading | Stale | NoKeyspace, Run: cmdCommandHelp},
	)
	command.Run = cmdCommand
	t.add(
		command,
		container("slowlog", -2, NoKeyspace,
			&Command{Name: "get", Arity: -2, Flags: Admin | Loading | Stale | NoKeyspace, Run: cmdSlowlogGet},
			&Command{Name: "len", Arity: 2, Flags: Admin | Loading | Stale | NoKeyspace, Run: cmdSlowlogLen},
			&Command{Name: "reset", Arity: 2, Flags: Admin | Loading | Stale | NoKeyspace, Run: cmdSlowlogReset},
			&Command{Name: "help", Arity: 2, Flags: Loading | Stale | NoKeyspace, Run: cmdSlowlogHelp},
		),
		&Command{Name: "monitor", Arity: 1, Flags: Admin | NoScript | Loading | Stale | NoKeyspace, Run: cmdMonitor},
		&Command{Name: "time", Arity: 1, Flags: Loading | Stale | Fast | NoKeyspace, Run: cmdTime},
		&Command{Name: "lastsave", Arity: 1, Flags: Loading | Stale | Fast | NoKeyspace, Run: cmdLastsave},
		&Command{Name: "readonly", Arity: 1, Flags: Loading | Stale | Fast | probe, Run: cmdClusterDisabled},
		&Command{Name: "readwrite", Arity: 1, Flags: Loading | Stale | Fast | probe, Run: cmdClusterDisabled},
		&Command{Name: "asking", Arity: 1, Flags: Fast | probe, Run: cmdClusterDisabled},
		clusterContainer(),
		container("function", -2, NoKeyspace,
			// Not NoKeyspace: it counts a change (x.Tx.AddDirty), so it
			// takes the (empty) lock scope that gives it a Tx.
			&Command{Name: "flush", Arity: -2, Flags: Write | NoScript, Run: cmdFunctionFlush},
			&Command{Name: "list", Arity: -2, Flags: NoScript | NoKeyspace, Run: cmdFunctionList},
			&Command{Name: "delete", Arity: 3, Flags: Write | NoScript | NoKeyspace, Run: cmdFunctionDelete},
			&Command{Name: "kill", Arity: 2, Flags: NoScript | AllowBusy | NoKeyspace, Run: cmdScriptKill},
			&Command{Name: "stats", Arity: 2, Flags: NoScript | AllowBusy | NoKeyspace, Run: cmdFunctionStats},
			&Command{Name: "load", Arity: -3, Flags: Write | DenyOOM | NoScript | NoKeyspace, Run: cmdScriptingUnsupported},
			&Command{Name: "restore", Arity: -3, Flags: Write | DenyOOM | NoScript | NoKeyspace, Run: cmdScriptingUnsupported},
			&Command{Name: "help", Arity: 2, Flags: Loading | Stale | NoKeyspace, Run: cmdFunctionHelp},
		),
		container("script", -2, NoKeyspace,
			&Command{Name: "flush", Arity: -2, Flags: NoScript | NoKeyspace, Run: cmdScriptFlush},
			&Command{Name: "exists", Arity: -3, Flags: NoScript | NoKeyspace, Run: cmdScriptExists},
			&Command{Name: "kill", Arity: 2, Flags: NoScript | AllowBusy | NoKeyspace, Run: cmdScriptKill},
			&Command{Name: "load", Arity: 3, Flags: NoScript | Stale | NoKeyspace, Run: cmdScriptingUnsupported},
			&Command{Name: "help", Arity: 2, Flags: Loading | Stale | NoKeyspace, Run: cmdScriptHelp},
		),
		&Command{Name: "debug", Arity: -2, Flags: Admin | NoScript | Loading | Stale | NoKeyspace, Run: cmdDebug},
	)
}

// ---- COMMAND ----

// allCommands lists the top-level commands as COMMAND shows them: the table
// and QUIT, sorted by name (Redis's order is that of a hash table).
func (t *Table) allCommands() []*Command {
	list := append(t.All(), quitCommand)
	sortCommands(list)
	return list
}

func sortCommands(list []*Command) {
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
}

// commandByName is Redis's lookupCommandBySds: "name" or "container|sub",
// ignoring case.
func (t *Table) commandByName(name []byte) *Command {
	top, sub, hasSub := strings.Cut(strings.ToLower(string(name)), "|")
	c := t.cmds[top]
	if c == nil && top == "quit" {
		c = quitCommand
	}
	if c == nil || !hasSub {
		return c
	}
	if c.Sub == nil || strings.Contains(sub, "|") {
		return nil
	}
	return c.Sub[sub]
}

// COMMAND (redis.io/commands/command)
func cmdCommand(x *Ctx) {
	list := x.Env.table.allCommands()
	x.W.Array(len(list))
	for _, c := range list {
		writeCommandInfo(x.W, c)
	}
}

// COMMAND COUNT (redis.io/commands/command-count)
func cmdCommandCount(x *Ctx) { x.W.Int(int64(len(x.Env.table.allCommands()))) }

// COMMAND INFO [command-name ...] (redis.io/commands/command-info)
func cmdCommandInfo(x *Ctx) {
	if len(x.Args) == 2 {
		cmdCommand(x)
		return
	}
	x.W.Array(len(x.Args) - 2)
	for _, name := range x.Args[2:] {
		if c := x.Env.table.commandByName(name); c != nil {
			writeCommandInfo(x.W, c)
		} else {
			x.W.Null()
		}
	}
}

// COMMAND DOCS [command-name ...] (redis.io/commands/command-docs)
func cmdCommandDocs(x *Ctx) {
	var list []*Command
	if len(x.Args) == 2 {
		list = x.Env.table.allCommands()
	} else {
		for _, name := range x.Args[2:] {
			if c := x.Env.table.commandByName(name); c != nil {
				list = append(list, c)
			}
		}
	}
	x.W.Map(len(list))
	for _, c := range list {
		x.W.BulkString(c.Name)
		writeCommandDocs(x.W, c)
	}
}

// COMMAND LIST [FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]
// (redis.io/commands/command-list)
func cmdCommandList(x *Ctx) {
	var kind, arg []byte
	for i := 2; i < len(x.Args); i++ {
		if !x.Is(i, "filterby") || len(x.Args)-1-i != 2 ||
			!x.Is(i+1, "module") && !x.Is(i+1, "aclcat") && !x.Is(i+1, "pattern") {
			x.Error(msgSyntax)
			return
		}
		kind, arg = x.Args[i+1], x.Args[i+2]
		i += 2
	}
	var names []string
	add := func(c *Command) {
		switch {
		case kind == nil:
		case equalFold(kind, "module"):
			return // Runnel has no modules
		case equalFold(kind, "aclcat"):
			if !hasACLCategory(c, string(arg)) {
				return
			}
		case !glob.MatchString(string(arg), c.Name, true):
			return
		}
		names = append(names, c.Name)
	}
	for _, c := range x.Env.table.allCommands() {
		add(c)
		for _, s := range c.subcommands() {
			add(s)
		}
	}
	x.W.Array(len(names))
	for _, n := range names {
		x.W.BulkString(n)
	}
}

// hasACLCategory reports whether c is in the ACL category cat (given
// without '@', any case).
func hasACLCategory(c *Command, cat string) bool {
	m := metaFor(c.Name)
	if m == nil {
		return false
	}
	for _, e := range m.info.elems[6].elems {
		if len(e.str) > 1 && strings.EqualFold(e.str[1:], cat) {
			return true
		}
	}
	return false
}

// COMMAND GETKEYS command [arg ...] (redis.io/commands/command-getkeys)
// COMMAND GETKEYSANDFLAGS command [arg ...]
// (redis.io/commands/command-getkeysandflags)
func cmdCommandGetkeys(x *Ctx) {
	withFlags := x.Is(1, "getkeysandflags")
	args := x.Args[2:]
	t := x.Env.table
	c := t.commandByName(args[0])
	if c != nil && strings.Contains(string(args[0]), "|") {
		c = nil // the command is given as separate words
	}
	if c != nil && c.Sub != nil && len(args) > 1 {
		c = lookupSub(c, args[1])
	}
	if c == nil {
		x.Error(msgGetkeysInvalidCommand)
		return
	}
	specs := keySpecsOf(c)
	if !commandHasKeys(c, specs) {
		x.Error(msgGetkeysNoKeys)
		return
	}
	if (c.Arity > 0 && c.Arity != len(args)) || len(args) < -c.Arity {
		x.Error(msgGetkeysArity)
		return
	}
	keys := keysOf(c, specs, args)
	if len(keys) == 0 {
		if !hasRedisFlag(c, "no_mandatory_keys") {
			x.Error(msgGetkeysInvalidArgs)
			return
		}
	}
	x.W.Array(len(keys))
	for _, k := range keys {
		if withFlags {
			x.W.Array(2)
			x.W.Bulk(args[k.pos])
			k.flags.write(x.W)
		} else {
			x.W.Bulk(args[k.pos])
		}
	}
}

// COMMAND HELP
func cmdCommandHelp(x *Ctx) {
	replyHelp(x,
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.",
	)
}

// hasRedisFlag reports whether Redis's COMMAND INFO lists flag for c.
func hasRedisFlag(c *Command, flag string) bool {
	m := metaFor(c.Name)
	if m == nil {
		return false
	}
	for _, f := range m.info.elems[2].elems {
		if f.str == flag {
			return true
		}
	}
	return false
}

// ---- SLOWLOG ----

// SLOWLOG GET [count] (redis.io/commands/slowlog-get)
func cmdSlowlogGet(x *Ctx) {
	if len(x.Args) > 3 {
		x.SubcommandSyntax()
		return
	}
	n := int64(10)
	if len(x.Args) == 3 {
		v, ok := parseInt(x.Args[2])
		if !ok || v < -1 {
			x.Error(msgSlowlogCount)
			return
		}
		n = v
	}
	entries := x.Env.Slowlog.Get(int(min(n, 1<<31)))
	x.W.Array(len(entries))
	for _, e := range entries {
		x.W.Array(6)
		x.W.Int(e.ID)
		x.W.Int(e.Time)
		x.W.Int(int64(e.Duration / time.Microsecond))
		x.W.Array(len(e.Args))
		for _, a := range e.Args {
			x.W.BulkString(a)
		}
		x.W.BulkString(e.Addr)
		x.W.BulkString(e.Name)
	}
}

// SLOWLOG LEN (redis.io/commands/slowlog-len)
func cmdSlowlogLen(x *Ctx) { x.W.Int(int64(x.Env.Slowlog.Len())) }

// SLOWLOG RESET (redis.io/commands/slowlog-reset)
func cmdSlowlogReset(x *Ctx) {
	x.Env.Slowlog.Reset()
	x.W.OK()
}

// SLOWLOG HELP
func cmdSlowlogHelp(x *Ctx) {
	replyHelp(x,
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.",
	)
}

// ---- MONITOR, TIME, LASTSAVE ----

// MONITOR (redis.io/commands/monitor): from now on the client receives a
// line for every command the server runs (Env.feedMonitors).
func cmdMonitor(x *Ctx) {
	if x.inExec {
		// Redis refuses it for a client that must get one reply per command.
		x.Error(msgMonitorDenyBlocking)
		return
	}
	if x.S.monitor {
		return // already monitoring: Redis ignores it, with no reply
	}
	x.S.monitor = true
	x.C.SetInfoFlag(server.FlagMonitor, true)
	x.W.OK()
	// +OK goes out first; the lines then arrive through the client's
	// asynchronous output.
	x.C.StartAsync()
	x.Env.addMonitor(x.C)
}

// TIME (redis.io/commands/time)
func cmdTime(x *Ctx) {
	// Redis reads the clock itself here (gettimeofday), not the command's
	// time snapshot, which has only millisecond precision.
	now := time.Now()
	x.W.Array(2)
	x.W.BulkInt(now.Unix())
	x.W.BulkInt(int64(now.Nanosecond() / 1000))
}

// LASTSAVE (redis.io/commands/lastsave)
func cmdLastsave(x *Ctx) { x.W.Int(x.Env.LastSave.Load()) }

// ---- cluster, scripting and debugging probes ----

// clusterContainer is CLUSTER with every subcommand of Redis 7.0, each
// answering as a standalone server does.
func clusterContainer() *Command {
	var subs []*Command
	for name, m := range redisDocs {
		short, ok := strings.CutPrefix(name, "cluster|")
		if !ok {
			continue
		}
		subs = append(subs, &Command{
			Name:  short,
			Arity: int(m.info.elems[1].num),
			Flags: flagsFromNames(m.info.elems[2].strs()) | NoKeyspace,
			Run:   cmdClusterDisabled,
		})
	}
	return container("cluster", -2, NoKeyspace, subs...)
}

// flagsFromNames converts Redis command flag names to Flags.
func flagsFromNames(names []string) Flag {
	var f Flag
	for _, n := range names {
		for _, fn := range flagNames {
			if fn.name == n {
				f |= fn.f
			}
		}
	}
	return f
}

// CLUSTER <subcommand>, READONLY, READWRITE, ASKING
// (redis.io/commands/?group=cluster): cluster support is disabled.
func cmdClusterDisabled(x *Ctx) { x.Error(msgClusterDisabled) }

// cmdScriptingUnsupported answers the scripting commands that would need a
// Lua engine (FUNCTION LOAD, FUNCTION RESTORE, SCRIPT LOAD).
func cmdScriptingUnsupported(x *Ctx) { x.Error(msgScriptingUnsupported) }

// FUNCTION FLUSH [ASYNC|SYNC] (redis.io/commands/function-flush): there are
// never any libraries, but it counts as a change as in Redis.
func cmdFunctionFlush(x *Ctx) {
	if len(x.Args) > 3 {
		x.SubcommandSyntax()
		return
	}
	if len(x.Args) == 3 && !x.Is(2, "sync") && !x.Is(2, "async") {
		x.Error(msgFunctionFlushMode)
		return
	}
	x.Tx.AddDirty(1)
	x.W.OK()
}

// FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]
// (redis.io/commands/function-list)
func cmdFunctionList(x *Ctx) {
	withCode, libName := false, false
	for i := 2; i < len(x.Args); i++ {
		switch {
		case !withCode && x.Is(i, "withcode"):
			withCode = true
		case !libName && x.Is(i, "libraryname"):
			if i >= len(x.Args)-1 {
				x.Error(msgFunctionNoLibName)
				return
			}
			libName = true
			i++
		default:
			x.Errorf(msgFunctionUnknownArg, cString(x.Args[i]))
			return
		}
	}
	x.W.Array(0)
}

// FUNCTION DELETE library-name (redis.io/commands/function-delete)
func cmdFunctionDelete(x *Ctx) { x.Error(msgFunctionNoLibrary) }

// FUNCTION STATS (redis.io/commands/function-stats)
func cmdFunctionStats(x *Ctx) {
	x.W.Map(2)
	x.W.BulkString("running_script")
	x.W.Null()
	x.W.BulkString("engines")
	x.W.Map(1)
	x.W.BulkString("LUA")
	x.W.Map(2)
	x.W.BulkString("libraries_count")
	x.W.Int(0)
	x.W.BulkString("functions_count")
	x.W.Int(0)
}

// FUNCTION HELP
func cmdFunctionHelp(x *Ctx) {
	replyHelp(x,
		"LOAD [REPLACE] <FUNCTION CODE>",
		"    Create a new library with the given library name and code.",
		"DELETE <LIBRARY NAME>",
		"    Delete the given library.",
		"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
		"    Return general information on all the libraries:",
		"    * Library name",
		"    * The engine used to run the Library",
		"    * Library description",
		"    * Functions list",
		"    * Library code (if WITHCODE is given)",
		"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
		"STATS",
		"    Return information about the current function running:",
		"    * Function name",
		"    * Command used to run the function",
		"    * Duration in MS that the function is running",
		"    If no function is running, return nil",
		"    In addition, returns a list of available engines.",
		"KILL",
		"    Kill the current running function.",
		"FLUSH [ASYNC|SYNC]",
		"    Delete all the libraries.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the libraries.",
		"    * SYNC: Synchronously flush the libraries.",
		"DUMP",
		"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
		"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
		"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
		"    control how to handle existing libraries (default APPEND):",
		"    * FLUSH: delete all existing libraries.",
		"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
		"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
		"      libraries with the new libraries (notice that even on this option there is a chance of failure",
		"      in case of functions name collision with another library).",
	)
}

// SCRIPT FLUSH [ASYNC|SYNC] (redis.io/commands/script-flush)
func cmdScriptFlush(x *Ctx) {
	if len(x.Args) != 2 && (len(x.Args) != 3 || !x.Is(2, "sync") && !x.Is(2, "async")) {
		x.Error(msgScriptFlushMode)
		return
	}
	x.W.OK()
}

// SCRIPT EXISTS sha1 [sha1 ...] (redis.io/commands/script-exists): the
// script cache is always empty.
func cmdScriptExists(x *Ctx) {
	x.W.Array(len(x.Args) - 2)
	for range x.Args[2:] {
		x.W.Int(0)
	}
}

// SCRIPT KILL, FUNCTION KILL (redis.io/commands/script-kill): no script
// ever runs.
func cmdScriptKill(x *Ctx) { x.Error(msgNotBusy) }

// SCRIPT HELP
func cmdScriptHelp(x *Ctx) {
	replyHelp(x,
		"DEBUG (YES|SYNC|NO)",
		"    Set the debug mode for subsequent scripts executed.",
		"EXISTS <sha1> [<sha1> ...]",
		"    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
		"KILL",
		"    Kill the currently executing Lua script.",
		"LOAD <script>",
		"    Load a script into the scripts cache without executing it.",
	)
}

// DEBUG SLEEP seconds | DEBUG LOG message (redis.io/commands/debug): the two
// subcommands test harnesses use, as with enable-debug-command yes. DEBUG
// SLEEP pauses only the calling connection (Redis stops the whole server).
func cmdDebug(x *Ctx) {
	switch {
	case x.Is(1, "sleep") && len(x.Args) == 3:
		// strtod: a leading number, else 0.
		secs, _ := strconv.ParseFloat(leadingFloat(x.Args[2]), 64)
		if d := time.Duration(secs * float64(time.Second)); d > 0 {
			time.Sleep(d)
		}
		x.W.OK()
	case x.Is(1, "log") && len(x.Args) == 3:
		if x.Env.Log != nil {
			x.Env.Log.Warn("DEBUG LOG: " + x.Arg(2))
		}
		x.W.OK()
	default:
		x.Errorf(msgSubcmdSyntax, cString(truncate(x.Args[1], 128)), "DEBUG")
	}
}

// leadingFloat returns the longest prefix of b that strtod would read as a
// plain decimal number ("1.5s" -> "1.5"), or "0".
func leadingFloat(b []byte) string {
	i := 0
	for i < len(b) && isSpaceByte(b[i]) {
		i++
	}
	start := i
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	digits := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(b) && b[i] == '.' {
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return "0"
	}
	return string(b[start:i])
}
