package command

// Commands from https://redis.io/commands/?group=transactions

import (
	"strings"
	"time"
)

func init() { registrations = append(registrations, registerTransactions) }

func registerTransactions(t *Table) {
	const f = NoScript | Loading | Stale | Fast | AllowBusy | NoKeyspace
	t.add(
		&Command{Name: "multi", Arity: 1, Flags: f, Run: cmdMulti},
		&Command{Name: "exec", Arity: 1, Flags: NoScript | Loading | Stale | SkipSlowlog | NoKeyspace, Run: t.cmdExec},
		&Command{Name: "discard", Arity: 1, Flags: f, Run: cmdDiscard},
		&Command{Name: "watch", Arity: -2, Flags: NoScript | Loading | Stale | Fast | AllowBusy, FirstKey: 1, LastKey: -1, Step: 1, Run: cmdWatch},
		&Command{Name: "unwatch", Arity: 1, Flags: f, Run: cmdUnwatch},
	)
}

// multiState is a client's open transaction (Redis's CLIENT_MULTI and
// mstate).
type multiState struct {
	cmds []queued
	// failed is CLIENT_DIRTY_EXEC: a command was rejected while queueing
	// (unknown, wrong arity, not allowed...), so EXEC answers EXECABORT.
	failed bool
	// write is set when a queued command may write or replicate: EXEC then
	// waits out a CLIENT PAUSE WRITE, as Redis checks mstate.cmd_flags.
	write bool
}

type queued struct {
	cmd  *Command
	args [][]byte
}

// queue copies a command into the transaction (its arguments alias the read
// buffer). As Redis's queueMultiCommand, a transaction that can no longer
// run (a rejected command, or a WATCHed key already touched) stores nothing
// more; the command is still answered QUEUED.
func (s *Session) queue(cmd *Command, args [][]byte) {
	m := s.multi
	if m.failed || s.watch.Dirty.Load() {
		return
	}
	if cmd.Flags&(Write|MayReplicate) != 0 {
		m.write = true
	}
	// The read buffer the arguments point into moves on: keep a copy.
	m.cmds = append(m.cmds, queued{cmd: cmd, args: copyArgs(args)})
}

// execAbortBecause is the EXECABORT error for an EXEC rejected with msg:
// Redis quotes the rejection without its leading "ERR " (its texts come
// without one and get "-ERR " only when sent), but keeps other codes.
func execAbortBecause(msg string) string {
	return msgExecAbortBecause + strings.TrimPrefix(msg, "ERR ")
}

// runsInMulti reports the commands that run at once inside MULTI instead of
// being queued (the exceptions in Redis's processCommand).
func runsInMulti(c *Command) bool {
	switch c.Name {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return true
	}
	return false
}

// MULTI (redis.io/commands/multi)
func cmdMulti(x *Ctx) {
	if x.S.multi != nil {
		// A plain error: unlike a rejected command it does not doom the
		// transaction.
		x.Error(msgNestedMulti)
		return
	}
	x.S.multi = &multiState{}
	x.C.SetFlags("x")
	x.W.OK()
}

// DISCARD (redis.io/commands/discard)
func cmdDiscard(x *Ctx) {
	if x.S.multi == nil {
		x.Error(msgDiscardNoMulti)
		return
	}
	x.S.discard(x)
	x.W.OK()
}

// discard ends the transaction and forgets the WATCHed keys (Redis's
// discardTransaction). The caller must hold no keyspace lock.
func (s *Session) discard(x *Ctx) {
	s.endMulti(x)
	x.Env.KS.Unwatch(&s.watch)
}

// endMulti leaves the MULTI state without touching the WATCHed keys.
func (s *Session) endMulti(x *Ctx) {
	s.multi = nil
	x.C.SetFlags("")
}

// WATCH key [key ...] (redis.io/commands/watch)
func cmdWatch(x *Ctx) {
	if x.S.multi != nil {
		x.Error(msgWatchInMulti)
		return
	}
	// Once a watched key was touched EXEC will fail anyway: Redis does not
	// watch more keys then.
	if !x.S.watch.Dirty.Load() {
		for _, k := range x.Args[1:] {
			x.Tx.Watch(&x.S.watch, x.DB, k)
		}
	}
	x.W.OK()
}

// UNWATCH (redis.io/commands/unwatch)
func cmdUnwatch(x *Ctx) {
	// Inside EXEC the watch set is already empty, so this takes no lock.
	x.Env.KS.Unwatch(&x.S.watch)
	x.W.OK()
}

// EXEC (redis.io/commands/exec) runs the queued commands atomically: under
// one lock scope covering every key they and the WATCHed keys name (the
// whole keyspace if one of them is a Global command) and one time snapshot.
// A queued command's error is its element of the reply and the following
// commands still run; a rejected command (while queueing) aborts the whole
// transaction with EXECABORT; a touched or expired WATCHed key makes EXEC
// answer a null array. Blocking commands do not block inside it (CanBlock);
// the clients blocked on keys it modified are served once it has ended, on
// the final state (Table.call), so SET then DEL of a key wakes nobody.
func (t *Table) cmdExec(x *Ctx) {
	s := x.S
	m := s.multi
	if m == nil {
		x.Error(msgExecNoMulti)
		return
	}
	// Redis holds EXEC back while clients are paused (any pause if ALL,
	// a WRITE pause if a queued command may write) before looking at it.
	x.Env.Srv.WaitPause(m.write)
	s.endMulti(x)
	if m.failed {
		x.Env.KS.Unwatch(&s.watch)
		x.Error(msgExecAbort)
		return
	}
	global := false
	keys := s.keys[:0]
	for _, q := range m.cmds {
		if q.cmd.Flags&Global != 0 {
			global = true
		}
		if q.cmd.Flags&NoKeyspace == 0 {
			// (Shard channels are "keys" of NoKeyspace commands.)
			keys = q.cmd.keys(keys, q.args)
		}
	}
	keys = s.watch.Keys(keys)
	s.keys = keys
	x.Tx = &s.tx
	x.Tx.NoTouch = s.NoTouch
	x.Now = time.Now().UnixMilli()
	x.Env.KS.Lock(x.Tx, keys, global, x.Now)
	if s.watch.Dirty.Load() || x.Tx.WatchedKeyExpired(&s.watch) {
		x.Tx.UnwatchLocked(&s.watch)
		x.Tx.Unlock()
		x.W.NullArray()
		return
	}
	x.Tx.UnwatchLocked(&s.watch)
	x.W.Array(len(m.cmds))
	x.inExec = true
	s.journalBegin()
	for _, q := range m.cmds {
		start := time.Now()
		x.Cmd, x.Args, x.errored = q.cmd, q.args, false
		db, changes := x.DB, x.Tx.Changes()
		q.cmd.Run(x)
		if x.Tx.Changes() != changes {
			s.journalAdd(db, q.cmd, q.args)
		}
		dur := time.Since(start)
		q.cmd.stats.record(dur, x.errored)
		if q.cmd.Flags&SkipMonitor == 0 {
			x.Env.feedMonitors(x, q.args, start)
		}
		if q.cmd.Flags&SkipSlowlog == 0 {
			x.Env.Slowlog.maybeAdd(x, q.args, start, dur)
		}
	}
	x.inExec = false
	x.journalCommit() // the whole transaction is one record: all or nothing
	x.evictStreams()
	x.Tx.Unlock()
	// EXEC itself fails only for its own errors, not its commands'.
	x.errored = false
}
