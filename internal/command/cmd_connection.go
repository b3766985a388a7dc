package command

// Commands from https://redis.io/commands/?group=connection

func init() { registrations = append(registrations, registerConnection) }

func registerConnection(t *Table) {
	t.add(
		&Command{Name: "ping", Arity: -1, Flags: Fast | Stale | Loading | NoKeyspace, Run: cmdPing},
		&Command{Name: "echo", Arity: 2, Flags: Fast | Stale | Loading | NoKeyspace, Run: cmdEcho},
		&Command{Name: "select", Arity: 2, Flags: Loading | Stale | Fast | NoKeyspace, Run: cmdSelect},
	)
}

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
	if !ok || n != int64(int32(n)) {
		x.Error(msgNotInt)
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
