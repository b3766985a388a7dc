package command

import (
	"fmt"
	"strings"

	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/resp"
	"github.com/runnel-io/runnel/internal/server"
	"github.com/runnel-io/runnel/internal/store"
)

// Ctx is the context of one command being run. It is reused for every
// command of a connection; nothing in it may be kept after Run returns.
type Ctx struct {
	C    *server.Client
	W    *resp.Writer
	Args [][]byte
	Cmd  *Command
	Tx   *engine.Tx
	Env  *Env
	S    *Session
	DB   int   // selected database
	Now  int64 // the command's time snapshot, unix ms

	errored bool // the command replied with an error
	inExec  bool // running inside EXEC
	replay  bool // re-executing a logged operation at startup (journal.go)

	// params are the configuration values the command's effect depends
	// on, read once (Params) so that the log records what was used.
	params       store.Params
	paramsLoaded bool
}

// Error writes an error reply and counts it in the error statistics.
func (x *Ctx) Error(msg string) {
	x.errored = true
	x.Env.Stats.countError(msg)
	x.W.Error(msg)
}

// Errorf formats an error reply from one of the message templates.
func (x *Ctx) Errorf(format string, args ...any) { x.Error(fmt.Sprintf(format, args...)) }

// WrongArgs replies with the arity error of the running command.
func (x *Ctx) WrongArgs() { x.Errorf(msgWrongArgs, x.Cmd.Name) }

// SubcommandSyntax replies "unknown subcommand or wrong number of arguments"
// for the running subcommand.
func (x *Ctx) SubcommandSyntax() {
	parent := x.Cmd.Name
	if x.Cmd.Parent != nil {
		parent = x.Cmd.Parent.Name
	}
	x.Errorf(msgSubcmdSyntax, string(x.Args[1]), strings.ToUpper(parent))
}

// Int parses argument i as a Redis integer, replying with the integer error
// when it is not one.
func (x *Ctx) Int(i int) (int64, bool) {
	n, ok := parseInt(x.Args[i])
	if !ok {
		x.Error(msgNotInt)
	}
	return n, ok
}

// Arg returns argument i as a string (it allocates; use for rare paths).
func (x *Ctx) Arg(i int) string { return string(x.Args[i]) }

// Is reports whether argument i equals word, ignoring ASCII case.
func (x *Ctx) Is(i int, word string) bool { return equalFold(x.Args[i], word) }

// Notify raises a keyspace event for key in the current database.
func (x *Ctx) Notify(class engine.Event, event string, key []byte) {
	x.Env.Notify(class, event, x.DB, key)
}

// Get looks up key for reading, counting a hit or a miss.
func (x *Ctx) Get(key []byte) engine.Value { return x.Tx.Get(x.DB, key) }

// GetString returns the string at key. It replies WRONGTYPE and returns
// ok=false when key holds another type; exists is false when key is absent.
func (x *Ctx) GetString(key []byte, flags int) (s *engine.String, exists, ok bool) {
	var e engine.Entry
	var found bool
	if flags&engine.LookupWrite != 0 {
		e, found = x.Tx.Lookup(x.DB, key, flags)
	} else {
		e, found = lookupRead(x, key, flags)
	}
	if !found {
		return nil, false, true
	}
	s, isStr := e.Value().(*engine.String)
	if !isStr {
		x.Error(msgWrongType)
		return nil, true, false
	}
	return s, true, true
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c, d := b[i], s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// parseInt is Redis's string2ll: strict canonical decimal.
func parseInt(b []byte) (int64, bool) { return resp.ParseInt(b) }

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// lookupRead is lookupKeyReadWithFlags: it deletes an expired key, counts a
// keyspace hit or miss and raises "keymiss" on a miss.
func lookupRead(x *Ctx, key []byte, flags int) (engine.Entry, bool) {
	e, ok := x.Tx.Lookup(x.DB, key, flags)
	if !ok {
		x.Notify(engine.EventKeyMiss, "keymiss", key)
	}
	return e, ok
}
