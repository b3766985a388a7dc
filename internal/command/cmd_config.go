package command

// CONFIG (redis.io/commands/config): GET, SET, RESETSTAT, REWRITE, HELP over
// internal/config, which owns the parameters and their exact semantics.

import (
	"errors"
	"net"

	"github.com/runnel-io/runnel/internal/config"
)

func init() { registrations = append(registrations, registerConfig) }

func registerConfig(t *Table) {
	t.add(container("config", -2, NoKeyspace,
		&Command{Name: "get", Arity: -3, Flags: Admin | NoScript | Loading | Stale | NoKeyspace, Run: cmdConfigGet},
		&Command{Name: "set", Arity: -4, Flags: Admin | NoScript | Loading | Stale | NoKeyspace, Run: cmdConfigSet},
		&Command{Name: "resetstat", Arity: 2, Flags: Admin | NoScript | Loading | Stale | NoKeyspace, Run: cmdConfigResetstat},
		&Command{Name: "rewrite", Arity: 2, Flags: Admin | NoScript | Loading | Stale | NoKeyspace, Run: cmdConfigRewrite},
		&Command{Name: "help", Arity: 2, Flags: Loading | Stale | NoKeyspace, Run: cmdConfigHelp},
	))
}

// CONFIG GET parameter [parameter ...]
func cmdConfigGet(x *Ctx) {
	pats := make([]string, len(x.Args)-2)
	for i, a := range x.Args[2:] {
		pats[i] = string(a)
	}
	pairs := x.Env.Cfg.Get(pats...)
	x.W.Map(len(pairs))
	for _, p := range pairs {
		x.W.BulkString(p.Name)
		x.W.BulkString(p.Value)
	}
}

// CONFIG SET parameter value [parameter value ...]
func cmdConfigSet(x *Ctx) {
	args := make([]string, len(x.Args)-2)
	for i, a := range x.Args[2:] {
		args[i] = string(a)
	}
	err := x.Env.Cfg.Set(args, config.SetOptions{Local: isLocalAddr(x.C.Addr()), Loading: x.Env.Loading()})
	var re *config.ReplyError
	switch {
	case err == nil:
		x.W.OK()
	case errors.As(err, &re):
		x.Error(re.Msg)
	default:
		x.Error("ERR " + err.Error())
	}
}

func isLocalAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CONFIG RESETSTAT
func cmdConfigResetstat(x *Ctx) {
	x.Env.resetStats()
	x.W.OK()
}

// CONFIG REWRITE
func cmdConfigRewrite(x *Ctx) {
	if x.Env.Cfg.ConfigFile() == "" {
		x.Error("ERR The server is running without a config file")
		return
	}
	if err := x.Env.Cfg.Rewrite(""); err != nil {
		x.Env.Log.Warn("CONFIG REWRITE failed", "err", err)
		var re *config.ReplyError
		if errors.As(err, &re) {
			x.Error(re.Msg)
			return
		}
		x.Error("ERR Rewriting config file: " + err.Error())
		return
	}
	x.W.OK()
}

// CONFIG HELP
func cmdConfigHelp(x *Ctx) {
	lines := []string{
		"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
		"HELP",
		"    Prints this help.",
	}
	x.W.Array(len(lines))
	for _, l := range lines {
		x.W.Simple(l)
	}
}
