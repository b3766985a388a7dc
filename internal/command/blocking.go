package command

// Blocking commands (XREAD and XREADGROUP with BLOCK; spec §7).
//
// A blocking command that finds nothing to serve calls Ctx.Block while it
// still holds its keys' shard locks. Block registers a blocker on each key
// (engine.Tx.AddWaiter), so no write can come between the command's check
// and its registration, and parks the client (server.Client.Block). Any
// write to such a key records it as ready in the writer's Tx; when the
// writer's command, or its whole EXEC, has unlocked, serveReady runs on the
// writer's goroutine: for each ready key, first blocked first, it takes the
// blocker and re-executes its command on the blocked client's own Session
// (Redis 7.2+ re-executes blocked commands). The command then either writes
// its reply, and the client is done, or calls Block again and stays blocked
// with its original keys, deadline and place in line. Re-executions that
// write signal their keys in turn; those are served in the same loop.
//
// A blocker belongs to one goroutine at a time, through its phase:
//
//	parking --Park--> blocked --signal/timeout/unblock--> serving --> blocked
//	                                                              \-> done
//
// While parking (the client's goroutine is still finishing the command and
// sending earlier replies) and while serving, requests are queued on the
// blocker (signalled keys, pending timeout or CLIENT UNBLOCK) and the
// goroutine that owns it handles them before it lets go. Only the owner of
// a serving blocker touches the client's W and Session; it calls
// server.Client.Wake once the final reply is written.

import (
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/server"
)

// blockState is the blocking state of the command running on a Session.
// It is reset for every command.
type blockState struct {
	wake      *blocker // re-executing this blocked command
	blocked   *blocker // Block registered this (first) execution
	reblocked bool     // a re-execution called Block again
	valueType string   // BlockFor
	onNoKey   bool     // BlockOnNoKey
	recheck   int64    // BlockRecheck
}

// CanBlock reports whether the running command may block: not inside
// MULTI/EXEC (where blocking commands answer at once as if timed out).
func (x *Ctx) CanBlock() bool { return !x.inExec && x.S != nil && x.C != nil }

// Blocked returns the state a blocked command saved with Block when it is
// being re-executed after its client was woken (a key it waits on was
// signalled), or nil on a first execution.
func (x *Ctx) Blocked() any {
	if x.S == nil || x.S.block.wake == nil {
		return nil
	}
	return x.S.block.wake.state
}

// BlockFor sets the type of value the next Block waits for, as a Value's
// Type names it ("stream"): a signalled key re-executes the command only
// if it then holds a value of that type, as Redis serves a blocked client
// only from a key of its type (XREAD stays blocked, without a reply, when
// its key is deleted or set to a string). Without BlockFor any value
// re-executes it.
func (x *Ctx) BlockFor(valueType string) {
	if x.S != nil {
		x.S.block.valueType = valueType
	}
}

// BlockOnNoKey makes the next Block also re-execute the command when a key
// it waits on is deleted or holds another type, whatever BlockFor says
// (XREADGROUP, which then answers NOGROUP or WRONGTYPE). Its keys count in
// INFO total_blocking_keys_on_nokey.
func (x *Ctx) BlockOnNoKey() {
	if x.S != nil {
		x.S.block.onNoKey = true
	}
}

// BlockRecheck makes the next Block (or the re-block of a re-execution)
// also re-execute the command at atMs (unix ms) without a signal: XREADGROUP
// ... CLAIM waits for a pending entry to become idle enough (8.4, spec §7).
func (x *Ctx) BlockRecheck(atMs int64) {
	if x.S != nil {
		x.S.block.recheck = atMs
	}
}

// Block parks the client until one of keys (in the current database) is
// signalled or deadlineMs (unix ms; 0 waits forever) passes. The command
// must not have written a reply. state is what Blocked returns when the
// command is re-executed. On a re-execution that finds nothing to serve,
// calling Block again keeps the client blocked with its original deadline
// and keys (the arguments are then ignored). On timeout the client gets a
// null array; CLIENT UNBLOCK gives the same, or the UNBLOCKED error.
//
// keys must be keys of the command (the dispatcher holds their locks). Call
// Block only when CanBlock is true, at most once per execution. state must
// not keep slices of Args: a re-execution gets the arguments in fresh
// memory, because the read buffer they came from moves on while the client
// waits.
func (x *Ctx) Block(keys [][]byte, deadlineMs int64, state any) {
	bs := &x.S.block
	if bs.wake != nil {
		bs.reblocked = true
		if bs.recheck != 0 {
			bs.wake.c.SetRecheck(time.UnixMilli(bs.recheck))
		}
		return
	}
	if !x.CanBlock() || bs.blocked != nil {
		panic("command: Block where the command cannot block")
	}
	b := &blocker{
		t: x.Env.table, c: x.C, s: x.S, cmd: x.Cmd, db: x.DB,
		args: copyArgs(x.Args), deadline: deadlineMs, state: state,
		valueType: bs.valueType, onNoKey: bs.onNoKey,
	}
	b.cond.L = &b.mu
	for _, k := range keys {
		if b.waitsOn(k) {
			continue // a key named twice waits once
		}
		x.Tx.AddWaiter(x.DB, k, b, b.onNoKey)
		b.keys = append(b.keys, string(k))
	}
	bs.blocked = b
	x.Env.BlockedClients.Add(1)
	var dl time.Time
	if deadlineMs != 0 {
		x.Env.timeoutClients.Add(1)
		dl = time.UnixMilli(deadlineMs)
	}
	x.C.Block(dl, b)
	if bs.recheck != 0 {
		x.C.SetRecheck(time.UnixMilli(bs.recheck))
	}
}

// copyArgs copies arguments into one arena (a blocked or queued command
// outlives the read buffer they point into).
func copyArgs(args [][]byte) [][]byte {
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
	return cp
}

// Blocker phases.
const (
	phaseParking = iota // registered; its client's goroutine still owns it
	phaseBlocked        // waiting: the first to take it serves it
	phaseServing        // one goroutine re-executes it or ends its wait
	phaseDone           // the final reply is written, or the client left
)

// Requests queued while a blocker is parking or serving.
const (
	reqTimeout = 1 << iota
	reqUnblock
	reqUnblockError
	reqRecheck // BlockRecheck's time has come
)

// blocker is one blocked command: server.Waiter for its client, and the
// waiter registered on its keys in the engine.
type blocker struct {
	t         *Table
	c         *server.Client
	s         *Session
	cmd       *Command
	args      [][]byte // a copy: the read buffer moves on while waiting
	db        int
	keys      []string
	deadline  int64 // unix ms, 0 for none
	state     any
	valueType string
	onNoKey   bool

	// Statistics, recorded once when the command completes (Redis counts
	// a blocked command as one call, with the time of its executions).
	// Written by the owner of the blocker.
	start  time.Time
	dur    time.Duration
	failed bool

	mu        sync.Mutex
	cond      sync.Cond // on mu: signalled when a serving phase ends
	phase     int
	pending   int               // req* bits
	signalled []engine.ReadyKey // keys signalled while parking or serving
	work      []engine.ReadyKey // the owner's copy of signalled
}

func (b *blocker) waitsOn(key []byte) bool {
	for _, k := range b.keys {
		if k == string(key) {
			return true
		}
	}
	return false
}

// Park implements server.Waiter: the client's goroutine lets go of the
// blocker, unless something happened while it was parking.
func (b *blocker) Park() {
	b.mu.Lock()
	if b.pending == 0 && len(b.signalled) == 0 {
		b.phase = phaseBlocked
		b.mu.Unlock()
		return
	}
	b.phase = phaseServing
	b.mu.Unlock()
	b.t.serveReady(b.c, b.serve(nil), nil)
}

// Timeout implements server.Waiter.
func (b *blocker) Timeout() { b.request(reqTimeout) }

// Recheck implements server.Rechecker: the command runs again as if its
// keys were signalled.
func (b *blocker) Recheck() { b.request(reqRecheck) }

// Unblock implements server.Waiter (CLIENT UNBLOCK).
func (b *blocker) Unblock(withError bool) bool {
	if withError {
		return b.request(reqUnblockError)
	}
	return b.request(reqUnblock)
}

// request ends the wait (timeout or CLIENT UNBLOCK), now if the blocker is
// free, else through its owner. It reports false if the wait was over.
func (b *blocker) request(req int) bool {
	b.mu.Lock()
	switch b.phase {
	case phaseDone:
		b.mu.Unlock()
		return false
	case phaseBlocked:
		// Serving a request only writes the reply: no keyspace lock is
		// taken, so CLIENT UNBLOCK may do it inside EXEC. (A timeout may
		// re-execute for keys signalled meanwhile; it runs on the
		// client's own goroutine, which holds no lock.)
		b.pending |= req
		b.phase = phaseServing
		b.mu.Unlock()
		if ready := b.serve(nil); len(ready) > 0 {
			b.t.serveReady(b.c, ready, nil)
		}
	default:
		b.pending |= req
		b.mu.Unlock()
	}
	return true
}

// signal tells the blocker that key was modified: it re-executes the
// command now if the blocker is free, else its owner will. It returns ready
// with the keys the re-execution signalled appended.
func (b *blocker) signal(key engine.ReadyKey, ready []engine.ReadyKey) []engine.ReadyKey {
	b.mu.Lock()
	switch b.phase {
	case phaseDone:
		b.mu.Unlock()
		return ready
	case phaseBlocked:
		b.phase = phaseServing
		b.signalled = append(b.signalled, key)
		b.mu.Unlock()
		return b.serve(ready)
	}
	for _, k := range b.signalled {
		if k == key {
			b.mu.Unlock()
			return ready
		}
	}
	b.signalled = append(b.signalled, key)
	b.mu.Unlock()
	return ready
}

// Abort implements server.Waiter: the client is gone. It waits for a
// goroutine serving the blocker to finish with the client's W and Session,
// then takes the blocker off its keys.
func (b *blocker) Abort() {
	b.mu.Lock()
	for b.phase == phaseServing {
		b.cond.Wait()
	}
	b.phase = phaseDone
	b.mu.Unlock()
	b.unregister()
}

// serve handles what was asked of the blocker until the command is done or
// blocked again. The caller owns it (phaseServing). Explicit requests
// (CLIENT UNBLOCK) go first, then signalled keys, then the timeout: a
// reader whose data arrived as its deadline passed gets the data.
func (b *blocker) serve(ready []engine.ReadyKey) []engine.ReadyKey {
	for {
		b.mu.Lock()
		req := b.pending
		b.pending = 0
		b.work, b.signalled = b.signalled, b.work[:0]
		if req == 0 && len(b.work) == 0 {
			b.phase = phaseBlocked
			b.cond.Broadcast()
			b.mu.Unlock()
			return ready
		}
		b.mu.Unlock()
		done := true
		switch {
		case req&reqUnblockError != 0:
			b.ctx().Error(msgUnblocked)
			b.failed = true
		case req&reqUnblock != 0:
			b.c.W.NullArray()
		default:
			done = false
			if req&reqRecheck != 0 && len(b.work) == 0 {
				for _, k := range b.keys {
					b.work = append(b.work, engine.ReadyKey{DB: b.db, Key: k})
				}
			}
			if len(b.work) > 0 {
				done, ready = b.reexec(b.work, ready)
			}
			if !done && req&reqTimeout != 0 {
				b.c.W.NullArray()
				done = true
			}
		}
		if done {
			b.complete()
			return ready
		}
	}
}

// ctx resets the blocked client's Ctx for work done on its behalf.
func (b *blocker) ctx() *Ctx {
	x := &b.s.ctx
	*x = Ctx{C: b.c, W: &b.c.W, Args: b.args, Cmd: b.cmd, Env: b.t.env, S: b.s, DB: b.db}
	return x
}

// reexec runs the blocked command again because keys were signalled, on
// the blocked client's own Session, as the dispatcher runs a command, and
// reports whether it completed (its reply is in W) or blocked again. It
// runs only if a signalled key may serve it (wakes). The caller owns b.
func (b *blocker) reexec(keys []engine.ReadyKey, ready []engine.ReadyKey) (done bool, _ []engine.ReadyKey) {
	env := b.t.env
	s := b.s
	x := b.ctx()
	start := time.Now()
	x.Now = start.UnixMilli()
	x.Tx = &s.tx
	x.Tx.NoTouch = s.NoTouch
	s.block = blockState{wake: b}
	s.keys = b.cmd.keys(s.keys[:0], b.args)
	mark := len(x.W.B)
	defer func() {
		if r := recover(); r != nil {
			// As the server does for a panic in a command: the client gets
			// an error and is closed; the other clients go on.
			releaseOnPanic(x.Tx)
			env.logError("panic re-executing a blocked command", b.c, r)
			x.W.B = x.W.B[:mark]
			x.W.Error("ERR internal error")
			b.c.CloseAfterReply()
			b.failed = true
			done = true
		}
		s.block = blockState{}
	}()
	env.KS.Lock(x.Tx, s.keys, b.cmd.Flags&Global != 0, x.Now)
	run := b.wakes(x, keys)
	if run {
		b.cmd.Run(x)
		x.journalOne(b.db, b.cmd, b.args)
	}
	x.evictStreams()
	x.Tx.Unlock()
	b.dur += time.Since(start)
	ready = x.Tx.TakeReady(ready)
	if !run || s.block.reblocked {
		x.W.B = x.W.B[:mark] // nothing may be written before Block
		return false, ready
	}
	b.failed = x.errored
	return true, ready
}

// wakes reports whether one of the signalled keys lets the command run
// again, as Redis's handleClientsBlockedOnKey decides: the key holds a
// value of the type the command waits for, or the command must also learn
// that its key is gone (BlockOnNoKey). The keys' shards are locked.
func (b *blocker) wakes(x *Ctx, keys []engine.ReadyKey) bool {
	if b.onNoKey {
		return true
	}
	for _, k := range keys {
		e, ok := x.Tx.Lookup(b.db, []byte(k.Key), engine.LookupNoStats|engine.LookupNoTouch)
		if ok && (b.valueType == "" || e.Value().Type() == b.valueType) {
			return true
		}
	}
	return false
}

// complete ends the wait once the final reply is in W: the command's
// statistics are recorded once and the client's goroutine is woken to send
// the reply (it then unregisters the blocker, Resume). It takes no keyspace
// lock: CLIENT UNBLOCK may run it inside EXEC. The caller owns b.
func (b *blocker) complete() {
	env := b.t.env
	b.cmd.stats.record(b.dur, b.failed)
	if b.cmd.Flags&SkipSlowlog == 0 {
		env.Slowlog.maybeAdd(b.ctx(), b.args, b.start, b.dur)
	}
	b.mu.Lock()
	b.phase = phaseDone
	b.cond.Broadcast()
	b.mu.Unlock()
	b.c.Wake()
}

// Resume implements server.Waiter: the wait is over and the client's
// goroutine, which holds no lock, takes the blocker off its keys.
func (b *blocker) Resume() { b.unregister() }

// unregister removes the blocker from its keys and the blocked counts. It
// runs once, on the client's goroutine (Resume or Abort).
func (b *blocker) unregister() {
	env := b.t.env
	for _, k := range b.keys {
		env.KS.RemoveWaiter(b.db, k, b, b.onNoKey)
	}
	env.BlockedClients.Add(-1)
	if b.deadline != 0 {
		env.timeoutClients.Add(-1)
	}
}

// serveReady serves the clients blocked on the ready keys, key by key in
// the order they were signalled and, on each key, first blocked first
// served (Redis's handleClientsBlockedOnKeys). Keys signalled by the
// re-executed commands join the queue. self is the client whose command
// signalled the keys: it never wakes itself, having blocked after seeing
// its own writes. It runs with no keyspace lock held and returns its
// scratch slices, emptied, for reuse.
func (t *Table) serveReady(self *server.Client, queue []engine.ReadyKey, ws []any) ([]engine.ReadyKey, []any) {
	for i := 0; i < len(queue); i++ {
		rk := queue[i]
		ws = t.env.KS.Waiters(rk.DB, rk.Key, ws[:0])
		for _, w := range ws {
			b := w.(*blocker)
			if b.c == self {
				continue
			}
			queue = b.signal(rk, queue)
		}
	}
	clear(ws) // let finished blockers go
	clear(queue)
	return queue[:0], ws[:0]
}

// serveExpired serves the clients blocked on keys that active expiry
// deleted (engine.Keyspace.OnReady).
func (t *Table) serveExpired(keys []engine.ReadyKey) {
	t.serveReady(nil, append([]engine.ReadyKey(nil), keys...), nil)
}

// logError logs a recovered panic with its stack.
func (e *Env) logError(msg string, c *server.Client, r any) {
	if e.Log != nil {
		e.Log.Error(msg, "client", c.Addr(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	}
}
