package command

// Commands from https://redis.io/commands/?group=connection (CLIENT is in
// cmd_client.go). QUIT is answered by the dispatcher before the command
// lookup, as Redis 7.0 does.

import (
	"bytes"

	"github.com/runnel-io/runnel/internal/server"
)

func init() { registrations = append(registrations, registerConnection) }

func registerConnection(t *Table) {
	t.add(
		&Command{Name: "ping", Arity: -1, Flags: Fast | NoKeyspace, Run: cmdPing},
		&Command{Name: "echo", Arity: 2, Flags: Fast | Stale | Loading | NoKeyspace, Run: cmdEcho},
		&Command{Name: "select", Arity: 2, Flags: Loading | Stale | Fast | NoKeyspace, Run: cmdSelect},
		&Command{Name: "auth", Arity: -2, Flags: NoScript | Loading | Stale | Fast | NoAuth | AllowBusy | NoKeyspace, Run: cmdAuth},
		&Command{Name: "hello", Arity: -1, Flags: NoScript | Loading | Stale | Fast | NoAuth | AllowBusy | NoKeyspace, Run: cmdHello},
		&Command{Name: "reset", Arity: 1, Flags: NoScript | Loading | Stale | Fast | NoAuth | AllowBusy | NoKeyspace, Run: cmdReset},
	)
}

// quitCommand describes QUIT for COMMAND and COMMAND INFO: the dispatcher
// answers QUIT itself, so it is not in the table.
var quitCommand = &Command{Name: "quit", Arity: -1, Flags: AllowBusy | NoScript | Loading | Stale | Fast | NoAuth | NoKeyspace}

// PING [message] (redis.io/commands/ping)
func cmdPing(x *Ctx) {
	if len(x.Args) > 2 {
		x.WrongArgs()
		return
	}
	if x.W.Proto == 2 && x.S.subs.count() > 0 {
		// In RESP2 subscribe mode PING answers with a pong message.
		x.W.Array(2)
		x.W.BulkString("pong")
		if len(x.Args) == 2 {
			x.W.Bulk(x.Args[1])
		} else {
			x.W.BulkString("")
		}
		return
	}
	if len(x.Args) == 2 {
		x.W.Bulk(x.Args[1])
		return
	}
	x.W.Simple("PONG")
}

// ECHO message (redis.io/commands/echo)
func cmdEcho(x *Ctx) { x.W.Bulk(x.Args[1]) }

// SELECT index (redis.io/commands/select)
func cmdSelect(x *Ctx) {
	n, ok := parseInt(x.Args[1])
	if !ok {
		x.Error(msgNotInt)
		return
	}
	if n != int64(int32(n)) {
		x.Error(msgIntRange)
		return
	}
	if n < 0 || n >= int64(x.Env.KS.Databases()) {
		x.Error(msgDBIndex)
		return
	}
	x.DB = int(n)
	x.C.SetDB(int(n))
	x.W.OK()
}

// redactedArg replaces what MONITOR and SLOWLOG show of a secret argument.
var redactedArg = []byte("(redacted)")

// redact hides argument i from MONITOR and SLOWLOG, as Redis's
// redactClientCommandArgument: they read the same argument slice after the
// handler returns.
func (x *Ctx) redact(i int) { x.Args[i] = redactedArg }

// authenticate checks a username and password against the default user,
// the only user Runnel has: it is "nopass" (any password) when requirepass
// is empty. It reports whether the client is now authenticated.
func (x *Ctx) authenticate(user, pass []byte) bool {
	if string(user) != "default" {
		return false
	}
	if want := x.Env.RequirePass(); want != "" && string(pass) != want {
		return false
	}
	x.C.Authenticated = true
	return true
}

// AUTH [username] password (redis.io/commands/auth)
func cmdAuth(x *Ctx) {
	if len(x.Args) > 3 {
		x.Error(msgSyntax)
		return
	}
	var user, pass []byte
	if len(x.Args) == 2 {
		if x.Env.RequirePass() == "" {
			x.redact(1)
			x.Error(msgAuthNoPassword)
			return
		}
		user, pass = []byte("default"), x.Args[1]
	} else {
		user, pass = x.Args[1], x.Args[2]
	}
	ok := x.authenticate(user, pass)
	for i := 1; i < len(x.Args); i++ {
		x.redact(i)
	}
	if !ok {
		x.Error(msgWrongPass)
		return
	}
	x.W.OK()
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]
// (redis.io/commands/hello)
func cmdHello(x *Ctx) {
	args := x.Args
	var ver int64
	next := 1
	if len(args) >= 2 {
		v, ok := parseInt(args[1])
		if !ok {
			x.Error(msgHelloProtoNotInt)
			return
		}
		if v < 2 || v > 3 {
			x.Error(msgNoProto)
			return
		}
		ver, next = v, 2
	}
	// Redis 7.0 applies the options in order as it parses them: a name
	// set or an authentication done before a failing option stays.
	for j := next; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case equalFold(args[j], "auth") && more >= 2:
			ok := x.authenticate(args[j+1], args[j+2])
			x.redact(j + 1)
			x.redact(j + 2)
			if !ok {
				x.Error(msgWrongPass)
				return
			}
			j += 2
		case equalFold(args[j], "setname") && more >= 1:
			if !validClientName(args[j+1]) {
				x.Error(msgClientName)
				return
			}
			x.C.SetName(string(args[j+1]))
			j++
		default:
			x.Errorf(msgHelloSyntax, cString(args[j]))
			return
		}
	}
	if !x.C.Authenticated {
		x.Error(msgHelloNoAuth)
		return
	}
	if ver != 0 {
		x.C.SetProto(int(ver))
	}
	x.W.Map(7)
	x.W.BulkString("server")
	x.W.BulkString("redis")
	x.W.BulkString("version")
	x.W.BulkString(RedisVersion)
	x.W.BulkString("proto")
	x.W.Int(int64(x.W.Proto))
	x.W.BulkString("id")
	x.W.Int(x.C.ID)
	x.W.BulkString("mode")
	x.W.BulkString("standalone")
	x.W.BulkString("role")
	x.W.BulkString("master")
	x.W.BulkString("modules")
	x.W.Array(0)
}

// cString is an argument as C's printf("%s") shows it: up to its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// validClientName is Redis's validateClientName: every byte printable ASCII
// other than space ('!' to '~').
func validClientName(b []byte) bool {
	for _, c := range b {
		if c < '!' || c > '~' {
			return false
		}
	}
	return true
}

// RESET (redis.io/commands/reset): back to the state of a new connection,
// as Redis's clearClientConnectionState.
func cmdReset(x *Ctx) {
	s, c := x.S, x.C
	if s.monitor {
		x.Env.removeMonitor(c)
		s.monitor = false
		c.SetInfoFlag(server.FlagMonitor, false)
	}
	x.DB = 0
	c.SetDB(0)
	c.SetProto(2)
	c.Authenticated = x.Env.RequirePass() == ""
	if s.multi != nil {
		s.endMulti(x)
	}
	x.Env.KS.Unwatch(&s.watch)
	x.Env.unsubscribeAll(c, s)
	x.updateSubCounts()
	c.SetName("")
	s.NoEvict, s.NoTouch = false, false
	c.SetInfoFlag(server.FlagNoEvict|server.FlagNoTouch, false)
	// REPLY OFF and a pending REPLY SKIP end; a SKIP already applying to
	// this command stays, so its reply is dropped.
	c.SetReplyMode(c.ReplyMode() &^ (server.ReplyOff | server.ReplySkipNext))
	x.W.Simple("RESET")
}
