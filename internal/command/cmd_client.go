package command

// CLIENT and its subcommands (redis.io/commands/?group=connection).
//
// Runnel-only subcommands, from Redis 7.2: CLIENT SETINFO and CLIENT
// NO-TOUCH (clients send SETINFO on connect). CLIENT LIST and CLIENT INFO
// lines carry the 7.2 fields lib-name and lib-ver after the 7.0 ones.
// Server-assisted client-side caching is not implemented: CLIENT TRACKING
// ON is refused with msgTrackingUnsupported, and the other tracking
// subcommands answer as a Redis whose client has tracking off.
// CLIENT MAINT_NOTIFICATIONS (sent by recent go-redis and redis-py) is
// deliberately absent: it gets Redis 7.0's unknown-subcommand error.

import (
	"strings"
	"time"

	"github.com/runnel-io/runnel/internal/server"
)

func init() { registrations = append(registrations, registerClient) }

func registerClient(t *Table) {
	const (
		conn  = NoScript | Loading | Stale | NoKeyspace
		admin = Admin | conn
	)
	t.add(container("client", -2, NoKeyspace,
		&Command{Name: "id", Arity: 2, Flags: conn, Run: cmdClientID},
		&Command{Name: "info", Arity: 2, Flags: conn, Run: cmdClientInfo},
		&Command{Name: "list", Arity: -2, Flags: admin, Run: cmdClientList},
		&Command{Name: "kill", Arity: -3, Flags: admin, Run: cmdClientKill},
		&Command{Name: "setname", Arity: 3, Flags: conn, Run: cmdClientSetname},
		&Command{Name: "getname", Arity: 2, Flags: conn, Run: cmdClientGetname},
		&Command{Name: "setinfo", Arity: 4, Flags: conn, Run: cmdClientSetinfo},
		&Command{Name: "pause", Arity: -3, Flags: admin, Run: cmdClientPause},
		&Command{Name: "unpause", Arity: 2, Flags: admin, Run: cmdClientUnpause},
		&Command{Name: "unblock", Arity: -3, Flags: admin, Run: cmdClientUnblock},
		&Command{Name: "reply", Arity: 3, Flags: conn, Run: cmdClientReply},
		&Command{Name: "no-evict", Arity: 3, Flags: admin, Run: cmdClientNoEvict},
		&Command{Name: "no-touch", Arity: 3, Flags: conn, Run: cmdClientNoTouch},
		&Command{Name: "tracking", Arity: -3, Flags: conn, Run: cmdClientTracking},
		&Command{Name: "trackinginfo", Arity: 2, Flags: conn, Run: cmdClientTrackinginfo},
		&Command{Name: "getredir", Arity: 2, Flags: conn, Run: cmdClientGetredir},
		&Command{Name: "caching", Arity: 3, Flags: conn, Run: cmdClientCaching},
		&Command{Name: "help", Arity: 2, Flags: Loading | Stale | NoKeyspace, Run: cmdClientHelp},
	))
}

// clientHelp is Redis 7.0's CLIENT HELP text plus the lines Redis 7.2 has
// for SETINFO and NO-TOUCH.
var clientHelp = []string{
	"CACHING (YES|NO)",
	"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
	"GETREDIR",
	"    Return the client ID we are redirecting to when tracking is enabled.",
	"GETNAME",
	"    Return the name of the current connection.",
	"ID",
	"    Return the ID of the current connection.",
	"INFO",
	"    Return information about the current client connection.",
	"KILL <ip:port>",
	"    Kill connection made from <ip:port>.",
	"KILL <option> <value> [<option> <value> [...]]",
	"    Kill connections. Options are:",
	"    * ADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made from the specified address",
	"    * LADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made to specified local address",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Kill connections by type.",
	"    * USER <username>",
	"      Kill connections authenticated by <username>.",
	"    * SKIPME (YES|NO)",
	"      Skip killing current connection (default: yes).",
	"LIST [options ...]",
	"    Return information about client connections. Options:",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Return clients of specified type.",
	"UNPAUSE",
	"    Stop the current client pause, resuming traffic.",
	"PAUSE <timeout> [WRITE|ALL]",
	"    Suspend all, or just write, clients for <timeout> milliseconds.",
	"REPLY (ON|OFF|SKIP)",
	"    Control the replies sent to the current connection.",
	"SETNAME <name>",
	"    Assign the name <name> to the current connection.",
	"SETINFO <option> <value>", // Redis 7.2
	"    Set client meta attr. Options are:",
	"    * LIB-NAME: the client lib name.",
	"    * LIB-VER: the client lib version.",
	"UNBLOCK <clientid> [TIMEOUT|ERROR]",
	"    Unblock the specified blocked client.",
	"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
	"         [OPTIN] [OPTOUT] [NOLOOP]",
	"    Control server assisted client side caching.",
	"TRACKINGINFO",
	"    Report tracking status for the current connection.",
	"NO-EVICT (ON|OFF)",
	"    Protect current client connection from eviction.",
	"NO-TOUCH (ON|OFF)", // Redis 7.2
	"    Will not touch LRU/LFU stats when this mode is on.",
}

// CLIENT HELP
func cmdClientHelp(x *Ctx) { replyHelp(x, clientHelp...) }

// replyHelp writes a HELP reply as Redis's addReplyHelp: a header naming
// the command as typed, upper-cased, the lines, and the HELP entry.
func replyHelp(x *Ctx, lines ...string) {
	x.W.Array(len(lines) + 3)
	x.W.Simple(strings.ToUpper(string(x.Args[0])) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		x.W.Simple(l)
	}
	x.W.Simple("HELP")
	x.W.Simple("    Prints this help.")
}

// CLIENT ID (redis.io/commands/client-id)
func cmdClientID(x *Ctx) { x.W.Int(x.C.ID) }

// CLIENT INFO (redis.io/commands/client-info)
func cmdClientInfo(x *Ctx) {
	x.W.Verbatim("txt", x.C.Info(time.UnixMilli(x.Now))+"\n")
}

// clientType is a client's type for CLIENT LIST TYPE and CLIENT KILL TYPE.
type clientType int

const (
	typeNormal clientType = iota
	typeReplica
	typePubSub
	typeMaster
)

// parseClientType is Redis's getClientTypeByName.
func parseClientType(b []byte) (clientType, bool) {
	switch {
	case equalFold(b, "normal"):
		return typeNormal, true
	case equalFold(b, "slave"), equalFold(b, "replica"):
		return typeReplica, true
	case equalFold(b, "pubsub"):
		return typePubSub, true
	case equalFold(b, "master"):
		return typeMaster, true
	}
	return 0, false
}

// typeOf is Redis's getClientType: Runnel has neither replicas nor a
// master, and a MONITOR client counts as normal.
func typeOf(c *server.Client) clientType {
	if c.IsPubSub() {
		return typePubSub
	}
	return typeNormal
}

// CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id ...]
// (redis.io/commands/client-list)
func cmdClientList(x *Ctx) {
	now := time.UnixMilli(x.Now)
	var b strings.Builder
	switch {
	case len(x.Args) == 4 && x.Is(2, "type"):
		typ, ok := parseClientType(x.Args[3])
		if !ok {
			x.Errorf(msgUnknownClientType, cString(x.Args[3]))
			return
		}
		for _, c := range x.Env.Srv.Clients() {
			if typeOf(c) == typ {
				b.WriteString(c.Info(now))
				b.WriteByte('\n')
			}
		}
	case len(x.Args) > 3 && x.Is(2, "id"):
		ids := make([]int64, 0, len(x.Args)-3)
		for _, a := range x.Args[3:] {
			id, ok := parseInt(a)
			if !ok {
				x.Error(msgInvalidClientID)
				return
			}
			ids = append(ids, id)
		}
		byID := clientsByID(x.Env.Srv)
		for _, id := range ids {
			if c := byID[id]; c != nil {
				b.WriteString(c.Info(now))
				b.WriteByte('\n')
			}
		}
	case len(x.Args) != 2:
		x.Error(msgSyntax)
		return
	default:
		for _, c := range x.Env.Srv.Clients() {
			b.WriteString(c.Info(now))
			b.WriteByte('\n')
		}
	}
	x.W.Verbatim("txt", b.String())
}

func clientsByID(srv *server.Server) map[int64]*server.Client {
	list := srv.Clients()
	m := make(map[int64]*server.Client, len(list))
	for _, c := range list {
		m[c.ID] = c
	}
	return m
}

// CLIENT KILL ip:port
// CLIENT KILL [ID client-id] [TYPE NORMAL|MASTER|SLAVE|REPLICA|PUBSUB]
// [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no]
// (redis.io/commands/client-kill)
func cmdClientKill(x *Ctx) {
	var (
		addr, laddr []byte
		typ         = clientType(-1)
		id          int64
		skipMe      = true
	)
	args := x.Args
	if len(args) == 3 {
		// The old form: CLIENT KILL addr, which can kill the caller.
		addr, skipMe = args[2], false
	} else {
		for i := 2; i < len(args); i += 2 {
			more := i+1 < len(args)
			switch {
			case x.Is(i, "id") && more:
				n, ok := parseInt(args[i+1])
				if !ok || n < 1 {
					x.Error(msgClientIDPositive)
					return
				}
				id = n
			case x.Is(i, "type") && more:
				t, ok := parseClientType(args[i+1])
				if !ok {
					x.Errorf(msgUnknownClientType, cString(args[i+1]))
					return
				}
				typ = t
			case x.Is(i, "addr") && more:
				addr = args[i+1]
			case x.Is(i, "laddr") && more:
				laddr = args[i+1]
			case x.Is(i, "user") && more:
				if string(args[i+1]) != "default" {
					x.Errorf(msgNoSuchUser, cString(args[i+1]))
					return
				}
			case x.Is(i, "skipme") && more:
				switch {
				case x.Is(i+1, "yes"):
					skipMe = true
				case x.Is(i+1, "no"):
					skipMe = false
				default:
					x.Error(msgSyntax)
					return
				}
			default:
				x.Error(msgSyntax)
				return
			}
		}
	}
	killed, self := 0, false
	for _, c := range x.Env.Srv.Clients() {
		if addr != nil && c.Addr() != string(addr) ||
			laddr != nil && c.LocalAddr() != string(laddr) ||
			typ != -1 && typeOf(c) != typ ||
			id != 0 && c.ID != id ||
			c == x.C && skipMe {
			continue
		}
		if c == x.C {
			self = true
		} else {
			c.Kill()
		}
		killed++
	}
	if len(args) == 3 {
		if killed == 0 {
			x.Error(msgNoSuchClient)
		} else {
			x.W.OK()
		}
	} else {
		x.W.Int(int64(killed))
	}
	if self {
		// Closed once the reply is sent, as Redis's CLIENT_CLOSE_AFTER_REPLY.
		x.C.CloseAfterReply()
	}
}

// CLIENT SETNAME connection-name (redis.io/commands/client-setname)
func cmdClientSetname(x *Ctx) {
	if !validClientName(x.Args[2]) {
		x.Error(msgClientName)
		return
	}
	x.C.SetName(string(x.Args[2]))
	x.W.OK()
}

// CLIENT GETNAME (redis.io/commands/client-getname)
func cmdClientGetname(x *Ctx) {
	if name := x.C.Name(); name != "" {
		x.W.BulkString(name)
		return
	}
	x.W.Null()
}

// CLIENT SETINFO <LIB-NAME libname | LIB-VER libver>
// (redis.io/commands/client-setinfo; Redis 7.2, which 7.0 lacks: Runnel
// implements it because clients send it on connect.)
func cmdClientSetinfo(x *Ctx) {
	var i int
	switch {
	case x.Is(2, "lib-name"):
		i = 0
	case x.Is(2, "lib-ver"):
		i = 1
	default:
		x.Errorf(msgSetinfoOption, cString(x.Args[2]))
		return
	}
	if !validClientName(x.Args[3]) {
		x.Errorf(msgSetinfoInvalid, cString(x.Args[2]))
		return
	}
	x.C.SetLib(i, string(x.Args[3]))
	x.W.OK()
}

// CLIENT PAUSE timeout [WRITE|ALL] (redis.io/commands/client-pause)
func cmdClientPause(x *Ctx) {
	if len(x.Args) > 4 {
		x.SubcommandSyntax()
		return
	}
	all := true
	if len(x.Args) == 4 {
		switch {
		case x.Is(3, "write"):
			all = false
		case x.Is(3, "all"):
		default:
			x.Error(msgPauseMode)
			return
		}
	}
	ms, ok := parseInt(x.Args[2])
	if !ok {
		x.Error(msgTimeoutNotInt)
		return
	}
	if ms < 0 {
		x.Error(msgTimeoutNegative)
		return
	}
	// The pause ends at now+timeout. As in Redis 7.0, a zero timeout ends at
	// once and one so large that the sum overflows ends in the past.
	if end := x.Now + ms; ms > 0 && end > x.Now {
		x.Env.Srv.Pause(time.Until(time.UnixMilli(end)), all)
	}
	x.W.OK()
}

// CLIENT UNPAUSE (redis.io/commands/client-unpause)
func cmdClientUnpause(x *Ctx) {
	x.Env.Srv.Unpause()
	x.W.OK()
}

// CLIENT UNBLOCK client-id [TIMEOUT|ERROR] (redis.io/commands/client-unblock)
//
// It ends the wait of a client blocked in a blocking command (Ctx.Block)
// with the timeout reply, or the UNBLOCKED error, counted in the command's
// statistics; it answers 0 for any other client. Inside EXEC too: ending a
// wait takes no keyspace lock (blocking.go).
func cmdClientUnblock(x *Ctx) {
	if len(x.Args) > 4 {
		x.SubcommandSyntax()
		return
	}
	withError := false
	if len(x.Args) == 4 {
		switch {
		case x.Is(3, "timeout"):
		case x.Is(3, "error"):
			withError = true
		default:
			x.Error(msgUnblockReason)
			return
		}
	}
	id, ok := x.Int(2)
	if !ok {
		return
	}
	if c := clientsByID(x.Env.Srv)[id]; c != nil && c.Unblock(withError) {
		x.W.Int(1)
		return
	}
	x.W.Int(0)
}

// CLIENT REPLY ON|OFF|SKIP (redis.io/commands/client-reply). The server
// drops what a command writes while OFF or SKIP is set when it ends.
func cmdClientReply(x *Ctx) {
	m := x.C.ReplyMode()
	switch {
	case x.Is(2, "on"):
		x.C.SetReplyMode(m &^ (server.ReplyOff | server.ReplySkip))
		x.W.OK()
	case x.Is(2, "off"):
		x.C.SetReplyMode(m | server.ReplyOff)
	case x.Is(2, "skip"):
		if m&server.ReplyOff == 0 {
			x.C.SetReplyMode(m | server.ReplySkipNext)
		}
	default:
		x.Error(msgSyntax)
	}
}

// onOff parses argument i as ON or OFF, replying with a syntax error when it
// is neither.
func (x *Ctx) onOff(i int) (on, ok bool) {
	switch {
	case x.Is(i, "on"):
		return true, true
	case x.Is(i, "off"):
		return false, true
	}
	x.Error(msgSyntax)
	return false, false
}

// CLIENT NO-EVICT ON|OFF (redis.io/commands/client-no-evict)
func cmdClientNoEvict(x *Ctx) {
	on, ok := x.onOff(2)
	if !ok {
		return
	}
	x.S.NoEvict = on
	x.C.SetInfoFlag(server.FlagNoEvict, on)
	x.W.OK()
}

// CLIENT NO-TOUCH ON|OFF (redis.io/commands/client-no-touch; Redis 7.2)
func cmdClientNoTouch(x *Ctx) {
	on, ok := x.onOff(2)
	if !ok {
		return
	}
	x.S.NoTouch = on
	x.C.SetInfoFlag(server.FlagNoTouch, on)
	x.W.OK()
}

// CLIENT TRACKING ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix
// ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP] (redis.io/commands/client-tracking)
//
// The options are checked as Redis does; OFF succeeds (tracking is never
// on) and ON is refused: Runnel has no client-side caching.
func cmdClientTracking(x *Ctx) {
	args := x.Args
	redirect := false
	for j := 3; j < len(args); j++ {
		more := j+1 < len(args)
		switch {
		case x.Is(j, "redirect") && more:
			j++
			if redirect {
				x.Error(msgTrackingOneRedirect)
				return
			}
			id, ok := x.Int(j)
			if !ok {
				return
			}
			if clientsByID(x.Env.Srv)[id] == nil {
				x.Error(msgTrackingNoRedirect)
				return
			}
			redirect = true
		case x.Is(j, "prefix") && more:
			j++
		case x.Is(j, "bcast"), x.Is(j, "optin"), x.Is(j, "optout"), x.Is(j, "noloop"):
		default:
			x.Error(msgSyntax)
			return
		}
	}
	switch {
	case x.Is(2, "on"):
		x.Error(msgTrackingUnsupported)
	case x.Is(2, "off"):
		x.W.OK()
	default:
		x.Error(msgSyntax)
	}
}

// CLIENT TRACKINGINFO (redis.io/commands/client-trackinginfo): tracking is
// always off.
func cmdClientTrackinginfo(x *Ctx) {
	x.W.Map(3)
	x.W.BulkString("flags")
	x.W.Set(1)
	x.W.BulkString("off")
	x.W.BulkString("redirect")
	x.W.Int(-1)
	x.W.BulkString("prefixes")
	x.W.Array(0)
}

// CLIENT GETREDIR (redis.io/commands/client-getredir): -1, tracking is off.
func cmdClientGetredir(x *Ctx) { x.W.Int(-1) }

// CLIENT CACHING YES|NO (redis.io/commands/client-caching): only valid with
// tracking on, which Runnel never is.
func cmdClientCaching(x *Ctx) { x.Error(msgCachingNoTracking) }
