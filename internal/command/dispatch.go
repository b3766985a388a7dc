package command

import (
	"strings"
	"time"

	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/server"
)

// Session is the command layer's state for one connection.
type Session struct {
	ctx   Ctx
	tx    engine.Tx
	keys  [][]byte // scratch for key extraction
	multi *multiState
	watch engine.WatchSet
	// NoTouch is CLIENT NO-TOUCH; NoEvict is CLIENT NO-EVICT.
	NoTouch, NoEvict bool
	// subscriptions, owned by the pub/sub commands
	subs    subscriptions
	monitor bool
	// block is the blocking state of the running command (blocking.go);
	// readyq and waitq are scratch for serving the clients blocked on the
	// keys a command modified.
	block  blockState
	readyq []engine.ReadyKey
	waitq  []any
	// stream is scratch for the stream commands (stream_util.go).
	stream streamScratch
	// journal is the durability state of the connection (journal.go).
	journal sessionJournal
}

func (t *Table) session(c *server.Client) *Session {
	if s, ok := c.Session.(*Session); ok {
		return s
	}
	s := &Session{}
	c.Session = s
	return s
}

// Serve implements server.Handler: it runs one command for c.
func (t *Table) Serve(c *server.Client, args [][]byte) {
	env := t.env
	s := t.session(c)
	x := &s.ctx
	*x = Ctx{C: c, W: &c.W, Args: args, Env: env, S: s, DB: c.DB()}

	cmd := t.lookup(args[0])
	if cmd == nil {
		if equalFold(args[0], "quit") {
			// Handled before lookup, as Redis 7.0 does: even inside MULTI
			// and before AUTH.
			c.W.OK()
			c.CloseAfterReply()
			return
		}
		t.rejectUnknown(x)
		return
	}
	if cmd.Sub != nil && len(args) >= 2 {
		sub := lookupSub(cmd, args[1])
		if sub == nil {
			// No command is charged: Redis's lookupCommand finds none, so
			// rejectCommand counts no rejected_calls.
			t.reject(x, nil, formatMsg(msgUnknownSubcmd, truncate(args[1], 128), strings.ToUpper(cmd.Name)))
			return
		}
		cmd = sub
	}
	x.Cmd = cmd
	if (cmd.Arity > 0 && cmd.Arity != len(args)) || len(args) < -cmd.Arity {
		t.reject(x, cmd, formatMsg(msgWrongArgs, cmd.Name))
		return
	}
	if !c.Authenticated && cmd.Flags&NoAuth == 0 {
		t.reject(x, cmd, msgNoAuth)
		return
	}
	if s.multi != nil && cmd.Flags&NoMulti != 0 {
		t.reject(x, cmd, msgNoMulti)
		return
	}
	if deniedByDiskError(cmd, s) {
		if msg := env.diskErrorMsg(); msg != "" {
			t.reject(x, cmd, msg)
			return
		}
	}
	if c.W.Proto == 2 && s.subs.count() > 0 && !allowedInSubscribe(cmd) {
		t.reject(x, cmd, formatMsg(msgPubSubContext, cmd.Name))
		return
	}
	if cmd.Flags&Loading == 0 && env.Loading() {
		t.reject(x, cmd, msgLoading)
		return
	}
	// CLIENT PAUSE holds a command back before it is queued in MULTI too,
	// as in Redis; EXEC waits in its handler, by the flags of what it runs.
	if cmd.Flags&NoKeyspace == 0 || cmd.Flags&(Write|MayReplicate) != 0 {
		env.Srv.WaitPause(cmd.Flags&(Write|MayReplicate) != 0)
	}
	if s.multi != nil && !runsInMulti(cmd) {
		c.SetLastCommand(&cmd.Name, time.Now()) // CLIENT LIST cmd=, as Redis
		s.queue(cmd, args)
		c.W.Simple("QUEUED")
		return
	}
	t.call(x, cmd, args)
}

// call runs a command with its locks held and records its statistics; then
// it serves the clients blocked on keys the command modified.
func (t *Table) call(x *Ctx, cmd *Command, args [][]byte) {
	env := t.env
	start := time.Now()
	x.Now = start.UnixMilli()
	x.C.SetLastCommand(&cmd.Name, start)
	s := x.S
	x.Tx = &s.tx
	x.Tx.NoTouch = s.NoTouch
	defer releaseOnPanic(x.Tx)
	locked := false
	if cmd.Flags&NoKeyspace == 0 {
		global := cmd.Flags&Global != 0
		s.keys = cmd.keys(s.keys[:0], args)
		env.KS.Lock(x.Tx, s.keys, global, x.Now)
		locked = true
	}
	s.block = blockState{}
	db := x.DB
	cmd.Run(x)
	if locked {
		x.journalOne(db, cmd, args)
		x.evictStreams()
		x.Tx.Unlock()
	}
	dur := time.Since(start)
	blocked := s.block.blocked
	if blocked != nil {
		// Counted once, with this time, when it completes (Redis 7.2+
		// feeds MONITOR now, the statistics and SLOWLOG then).
		blocked.start, blocked.dur = start, dur
	} else {
		cmd.stats.record(dur, x.errored)
	}
	s.block = blockState{}
	if cmd.Flags&SkipMonitor == 0 {
		env.feedMonitors(x, args, start)
	}
	if blocked == nil && cmd.Flags&SkipSlowlog == 0 {
		env.Slowlog.maybeAdd(x, args, start, dur)
	}
	if x.Tx.HasReady() {
		// After the command, or the whole EXEC, has unlocked.
		s.readyq = x.Tx.TakeReady(s.readyq[:0])
		s.readyq, s.waitq = t.serveReady(x.C, s.readyq, s.waitq)
	}
}

// releaseOnPanic frees the locks of a command (or EXEC) whose handler
// panicked, so that the other clients go on; the server recovers the panic
// and closes the client. After a normal return the Tx holds nothing.
func releaseOnPanic(tx *engine.Tx) {
	if tx.Held() {
		tx.Unlock()
	}
}

// rejectUnknown replies to an unknown command, listing its first arguments
// as Redis does.
func (t *Table) rejectUnknown(x *Ctx) {
	args := x.Args
	var b strings.Builder
	for i := 1; i < len(args) && b.Len() < 128; i++ {
		b.WriteByte('\'')
		b.Write(truncate(args[i], 128-b.Len()))
		b.WriteString("' ")
	}
	t.reject(x, nil, formatMsg(msgUnknownCommand, truncate(args[0], 128), b.String()))
}

// reject refuses a command before it runs: the error counts as a rejected
// call, and inside MULTI it dooms the transaction.
func (t *Table) reject(x *Ctx, cmd *Command, msg string) {
	if cmd != nil {
		cmd.stats.rejected.Add(1)
	}
	if x.S.multi != nil {
		x.S.multi.failed = true
	}
	if cmd != nil && cmd.Name == "exec" {
		// A rejected EXEC (wrong arity, NOAUTH, Pub/Sub context...) ends
		// the transaction, even outside MULTI where that only forgets the
		// WATCHed keys (Redis's execCommandAbort).
		x.S.discard(x)
		x.Error(execAbortBecause(msg))
		return
	}
	x.Error(msg)
}

func truncate(b []byte, n int) []byte {
	if n < 0 {
		n = 0
	}
	if len(b) > n {
		return b[:n]
	}
	return b
}

// Closed implements server.Handler.
func (t *Table) Closed(c *server.Client) {
	s, ok := c.Session.(*Session)
	if !ok {
		return
	}
	t.env.KS.Unwatch(&s.watch)
	t.env.unsubscribeAll(c, s)
	if s.monitor {
		t.env.removeMonitor(c)
	}
}
