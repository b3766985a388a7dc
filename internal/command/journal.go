package command

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/runnel-io/runnel/internal/server"
	"github.com/runnel-io/runnel/internal/store"
	"github.com/runnel-io/runnel/internal/stream"
)

// Durability. Every command that changed the keyspace (it counted a
// change, as Redis's dirty counter, which decides what Redis propagates)
// is appended to the write-ahead log while its locks are still held, so the
// log orders the writes to each key as they happened; a whole EXEC is one
// record. The record holds the canonical command name and arguments, the
// database, the command's time snapshot and the configuration values its
// effect depends on: every handler is deterministic given those and the
// state, so replaying the log rebuilds the state exactly.
//
// A connection's replies wait, before they are written (Server.BeforeFlush),
// until the newest record they may reflect is durable: the record of a write
// it made, and for reads the last record logged for the shards it read
// (engine.Tx.LoggedSeq), so no client ever sees data a crash could take
// back. Under appendfsync always one fsync covers every connection's
// pending batch (group commit).

// Journal is the write-ahead log as the command layer uses it
// (implemented by *store.Store).
type Journal interface {
	// Append logs one operation payload and returns its sequence.
	Append(payload []byte) (uint64, error)
	// WaitDurable waits until record seq is durable under the fsync
	// policy and returns the sync's error.
	WaitDurable(seq uint64) error
	// WriteErr is non-nil while log syncs are failing: writes are
	// refused with MISCONF meanwhile.
	WriteErr() error
}

// Checkpointer writes checkpoints (implemented by internal/app).
type Checkpointer interface {
	// Save writes a checkpoint now and returns when it is durable.
	Save() error
	// BackgroundSave starts a checkpoint; it reports false when one is
	// already running.
	BackgroundSave() bool
	// InProgress reports whether a checkpoint is running.
	InProgress() bool
}

// sessionJournal is a connection's durability state.
type sessionJournal struct {
	// waitSeq is the newest log record the connection's pending replies
	// reflect; BeforeFlush waits for it.
	waitSeq uint64
	// err is set when a record could not be logged: the replies that
	// depend on it must not be sent.
	err error
	// buf and cmds are scratch for building records.
	buf, cmds []byte
	ncmds     int
}

// Params returns the configuration values the command's effect depends on,
// read once per command (or EXEC) and logged with it.
func (x *Ctx) Params() store.Params {
	if !x.paramsLoaded {
		x.params = x.Env.currentParams()
		x.paramsLoaded = true
	}
	return x.params
}

func (e *Env) currentParams() store.Params {
	if e.Cfg == nil {
		d := stream.DefaultIDMPConfig
		return store.Params{NodeMaxEntries: 100, NodeMaxBytes: 4096, IDMPDuration: d.Duration, IDMPMaxSize: d.MaxSize}
	}
	return store.Params{
		NodeMaxEntries: e.Cfg.StreamNodeMaxEntries(),
		NodeMaxBytes:   e.Cfg.StreamNodeMaxBytes(),
		IDMPDuration:   e.Cfg.StreamIDMPDuration(),
		IDMPMaxSize:    e.Cfg.StreamIDMPMaxSize(),
	}
}

// canonicalName is the name a command is logged under: its registered
// name, or its parent's for a subcommand (whose own name is args[1]).
func canonicalName(cmd *Command) string {
	if cmd.Parent != nil {
		return cmd.Parent.Name
	}
	return cmd.Name
}

// journalBegin starts collecting the commands of one operation.
func (s *Session) journalBegin() {
	s.journal.cmds = s.journal.cmds[:0]
	s.journal.ncmds = 0
}

// journalAdd adds a command that changed the keyspace to the operation.
func (s *Session) journalAdd(db int, cmd *Command, args [][]byte) {
	s.journal.cmds = store.AppendOpCmd(s.journal.cmds, db, canonicalName(cmd), args[1:])
	s.journal.ncmds++
}

// journalCommit logs the operation collected since journalBegin, if any,
// and notes what the connection's replies must wait for. It runs with the
// operation's locks held.
func (x *Ctx) journalCommit() {
	j := x.Env.Journal
	if j == nil || x.replay {
		return
	}
	s, tx := x.S, x.Tx
	sj := &s.journal
	if sj.ncmds == 0 {
		sj.waitSeq = max(sj.waitSeq, tx.LoggedSeq())
		return
	}
	buf := store.AppendOpHeader(sj.buf[:0], x.Now, x.Params(), sj.ncmds)
	buf = append(buf, sj.cmds...)
	seq, err := j.Append(buf)
	if cap(buf) <= 64<<10 {
		sj.buf = buf[:0]
	} else {
		sj.buf = nil // do not keep a huge record's buffer
	}
	if cap(sj.cmds) > 64<<10 {
		sj.cmds = nil
	}
	sj.ncmds = 0
	if err != nil {
		sj.err = err
		return
	}
	tx.NoteLogged(seq)
	sj.waitSeq = max(sj.waitSeq, seq)
}

// journalOne logs a single command if it changed the keyspace; db is the
// database it started in.
func (x *Ctx) journalOne(db int, cmd *Command, args [][]byte) {
	if x.Env.Journal == nil || x.replay {
		return
	}
	x.S.journalBegin()
	if x.Tx.Changes() > 0 {
		x.S.journalAdd(db, cmd, args)
	}
	x.journalCommit()
}

// BeforeFlush is the server's hook before a connection's replies are
// written: it waits until every record they reflect is durable. It reports
// false when that failed (the log could not be written or synced): the
// replies are then dropped and the connection closed, so that no write is
// acknowledged that a crash could lose. The outcome is unknown to that
// client, as after a crash; later writes get MISCONF until the log heals.
func (t *Table) BeforeFlush(c *server.Client) bool {
	if t.env.Loading() {
		return true // no write ran; Journal is not published yet
	}
	j := t.env.Journal
	s, ok := c.Session.(*Session)
	if j == nil || !ok {
		return true
	}
	sj := &s.journal
	if sj.err != nil {
		t.env.logDurability(c, sj.err)
		sj.err = nil
		return false
	}
	if sj.waitSeq == 0 {
		return true
	}
	seq := sj.waitSeq
	sj.waitSeq = 0
	if err := j.WaitDurable(seq); err != nil {
		t.env.logDurability(c, err)
		return false
	}
	return true
}

func (e *Env) logDurability(c *server.Client, err error) {
	if e.Log != nil {
		e.Log.Warn("closing a connection whose replies could not be made durable", "client", c.Addr(), "err", err)
	}
}

// diskErrorMsg is the MISCONF reply while the log cannot be written, or ""
// when writes are accepted.
func (e *Env) diskErrorMsg() string {
	if e.Loading() || e.Journal == nil {
		return ""
	}
	err := e.Journal.WriteErr()
	if err == nil {
		return ""
	}
	return fmt.Sprintf(msgMisconfAOF, strerror(err))
}

// strerror renders an error as C's strerror does for an errno (Redis puts
// strerror(errno) in its MISCONF reply), and as Go does otherwise.
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		if msg != "" {
			return strings.ToUpper(msg[:1]) + msg[1:]
		}
	}
	return err.Error()
}

// deniedByDiskError reports whether cmd must be refused while the log
// cannot be written: writes, EXEC of queued writes and PING, as Redis's
// writeCommandsDeniedByDiskError.
func deniedByDiskError(cmd *Command, s *Session) bool {
	if cmd.Flags&Write != 0 || cmd.Name == "ping" {
		return true
	}
	return cmd.Name == "exec" && s.multi != nil && s.multi.write
}

// Replay re-executes one logged operation at startup, before the server
// serves clients: its commands run under the whole keyspace's lock with the
// logged time and parameters, and their replies are discarded. Replay
// never blocks and logs nothing.
func (t *Table) Replay(op *store.Op) (err error) {
	if t.replayS == nil {
		t.replayS = &Session{}
		t.replayW.Proto = 2
	}
	s := t.replayS
	x := &s.ctx
	*x = Ctx{W: &t.replayW, Env: t.env, S: s, Now: op.Now, replay: true, params: op.Params, paramsLoaded: true}
	x.Tx = &s.tx
	t.env.KS.Lock(x.Tx, nil, true, op.Now)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("command panicked: %v", r)
		}
		releaseOnPanic(x.Tx)
		t.replayW.B = t.replayW.B[:0]
		s.readyq = x.Tx.TakeReady(s.readyq[:0])
	}()
	for i := range op.Cmds {
		c := &op.Cmds[i]
		cmd := t.canonical[string(c.Args[0])]
		if cmd != nil && cmd.Sub != nil && len(c.Args) >= 2 {
			cmd = lookupSub(cmd, c.Args[1])
		}
		if cmd == nil {
			x.Tx.Unlock()
			return fmt.Errorf("unknown command %q", c.Args[0])
		}
		if c.DB < 0 || c.DB >= t.env.KS.Databases() {
			x.Tx.Unlock()
			return fmt.Errorf("database %d out of range", c.DB)
		}
		x.DB, x.Cmd, x.Args, x.errored = c.DB, cmd, c.Args, false
		cmd.Run(x)
		t.replayW.B = t.replayW.B[:0]
	}
	x.evictStreams() // a long log replays within the memory budget too
	x.Tx.Unlock()
	return nil
}

// logExpired logs the deletion of a key by active expiry as a DEL with the
// expiry cycle's time (engine.Keyspace.OnExpire): on replay the key has
// expired at that time too, so the deletion is the same.
func (t *Table) logExpired(db int, key string, now int64) uint64 {
	j := t.env.Journal
	if j == nil {
		return 0
	}
	e := t.env
	buf := store.AppendOpHeader(e.expireBuf[:0], now, e.currentParams(), 1)
	buf = store.AppendOpCmd(buf, db, "del", [][]byte{[]byte(key)})
	e.expireBuf = buf[:0]
	seq, err := j.Append(buf)
	if err != nil {
		return 0
	}
	return seq
}
