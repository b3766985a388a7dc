package command

// Commands from https://redis.io/commands/?group=transactions

import "time"

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

// multiState is a client's open transaction.
type multiState struct {
	cmds   []queued
	failed bool // a command was rejected while queueing: EXEC aborts
}

type queued struct {
	cmd  *Command
	args [][]byte
}

// queue copies a command into the transaction (its arguments alias the
// read buffer).
func (m *multiState) queue(cmd *Command, args [][]byte) {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	arena := make([]byte, 0, n)
	cp := make([][]byte, len(args))
	for i, a := range args {
		arena = append(arena, a...)
		cp[i] = arena[len(arena)-len(a) : len(arena) : len(arena)]
	}
	m.cmds = append(m.cmds, queued{cmd: cmd, args: cp})
}

// runsInMulti reports the commands that run at once inside MULTI instead of
// being queued (Redis's processCommand exception list).
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
	x.S.endMulti(x)
	x.Env.KS.Unwatch(&x.S.watch)
	x.W.OK()
}

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
	for _, k := range x.Args[1:] {
		x.Tx.Watch(&x.S.watch, x.DB, k)
	}
	x.W.OK()
}

// UNWATCH (redis.io/commands/unwatch)
func cmdUnwatch(x *Ctx) {
	// Inside EXEC the watch set is already empty, so this takes no lock.
	x.Env.KS.Unwatch(&x.S.watch)
	x.W.OK()
}

// EXEC (redis.io/commands/exec): runs the queued commands atomically, under
// one lock scope covering every key they and the watched keys name, and one
// time snapshot.
func (t *Table) cmdExec(x *Ctx) {
	s := x.S
	m := s.multi
	if m == nil {
		x.Error(msgExecNoMulti)
		return
	}
	s.endMulti(x)
	if m.failed {
		x.Env.KS.Unwatch(&s.watch)
		x.Error(msgExecAbort)
		return
	}
	global := false
	write := false
	keys := s.keys[:0]
	for _, q := range m.cmds {
		if q.cmd.Flags&Global != 0 {
			global = true
		}
		if q.cmd.Flags&(Write|MayReplicate) != 0 {
			write = true
		}
		keys = q.cmd.keys(keys, q.args)
	}
	keys = s.watch.Keys(keys)
	s.keys = keys
	if write {
		x.Env.Srv.WaitPause(true)
	}
	x.Tx = &s.tx
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
	for _, q := range m.cmds {
		start := time.Now()
		x.Cmd, x.Args, x.errored = q.cmd, q.args, false
		q.cmd.Run(x)
		q.cmd.stats.record(time.Since(start), x.errored)
		if q.cmd.Flags&SkipMonitor == 0 {
			x.Env.feedMonitors(x, q.args, start)
		}
	}
	x.inExec = false
	x.Tx.Unlock()
	// EXEC itself is not counted as failed by its commands' errors.
	x.errored = false
}
