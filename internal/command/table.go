package command

import (
	"fmt"
	"sort"
	"strings"

	"github.com/runnel-io/runnel/internal/resp"
)

// Flag describes how a command behaves; the names follow Redis's command
// flags (COMMAND INFO), plus Global, which is Runnel's own.
type Flag uint32

// Command flags.
const (
	Write        Flag = 1 << iota // modifies data
	ReadOnly                      // reads data only
	DenyOOM                       // may grow memory
	Admin                         // administrative
	PubSub                        // pub/sub related
	NoScript                      // not allowed in scripts
	Blocking                      // may block the client
	Loading                       // allowed while loading
	Stale                         // allowed on a stale replica
	SkipMonitor                   // not fed to MONITOR
	SkipSlowlog                   // not logged in SLOWLOG
	Fast                          // O(1) or O(log n)
	NoAuth                        // allowed before authentication
	MayReplicate                  // may produce replication traffic
	NoMulti                       // rejected inside MULTI
	AllowBusy                     // allowed while a script is busy
	// Global commands read or change whole databases (KEYS, FLUSHALL,
	// SWAPDB, ...): they run with the keyspace locked exclusively.
	Global
	// NoKeyspace commands never touch the keyspace, so they take no lock.
	NoKeyspace
)

var flagNames = []struct {
	f    Flag
	name string
}{
	{Write, "write"}, {ReadOnly, "readonly"}, {DenyOOM, "denyoom"}, {Admin, "admin"},
	{PubSub, "pubsub"}, {NoScript, "noscript"}, {Blocking, "blocking"}, {Loading, "loading"},
	{Stale, "stale"}, {SkipMonitor, "skip_monitor"}, {SkipSlowlog, "skip_slowlog"},
	{Fast, "fast"}, {NoAuth, "no_auth"}, {MayReplicate, "may_replicate"}, {NoMulti, "no_multi"},
	{AllowBusy, "allow_busy"},
}

// Names lists the Redis flag names set in f, in Redis's order.
func (f Flag) Names() []string {
	var out []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// Command is one entry of the command table.
type Command struct {
	Name     string // lower case; "client|list" style for subcommands
	Arity    int    // Redis arity: >0 exact argc, <0 at least -Arity
	Flags    Flag
	FirstKey int // key positions as in COMMAND INFO (0: no keys)
	LastKey  int // negative counts from the end
	Step     int
	// Keys, if set, finds the keys where positions cannot describe them.
	Keys func(args [][]byte) [][]byte
	Run  func(x *Ctx)

	Sub    map[string]*Command // subcommands of a container command
	Parent *Command

	stats cmdStats
}

// Table is the set of commands the server knows.
type Table struct {
	cmds map[string]*Command
	// canonical maps the registered names, unaffected by rename-command:
	// the log names commands this way (journal.go).
	canonical map[string]*Command
	// replayS and replayW run logged operations at startup (Replay).
	replayS *Session
	replayW resp.Writer
	env     *Env
}

func newTable() *Table {
	return &Table{cmds: make(map[string]*Command), canonical: make(map[string]*Command)}
}

// add registers commands.
func (t *Table) add(cmds ...*Command) {
	for _, c := range cmds {
		if _, dup := t.cmds[c.Name]; dup {
			panic("command: duplicate registration of " + c.Name)
		}
		t.cmds[c.Name] = c
		t.canonical[c.Name] = c
		for name, sc := range c.Sub {
			sc.Parent = c
			if !strings.Contains(sc.Name, "|") {
				sc.Name = c.Name + "|" + name
			}
		}
	}
}

// container makes a command that dispatches on its first argument.
func container(name string, arity int, flags Flag, subs ...*Command) *Command {
	c := &Command{Name: name, Arity: arity, Flags: flags, Sub: make(map[string]*Command)}
	for _, s := range subs {
		short := s.Name
		s.Name = name + "|" + short
		c.Sub[short] = s
	}
	return c
}

// lookup finds a command by name, ignoring ASCII case, without allocating.
func (t *Table) lookup(name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return nil
	}
	return t.cmds[string(lowerInto(buf[:0], name))]
}

func lookupSub(c *Command, name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return nil
	}
	return c.Sub[string(lowerInto(buf[:0], name))]
}

func lowerInto(dst, s []byte) []byte {
	for _, ch := range s {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		dst = append(dst, ch)
	}
	return dst
}

// keys appends the key arguments of a command to dst.
func (c *Command) keys(dst [][]byte, args [][]byte) [][]byte {
	if c.Keys != nil {
		return append(dst, c.Keys(args)...)
	}
	if c.FirstKey <= 0 {
		return dst
	}
	last := c.LastKey
	if last < 0 {
		last = len(args) + last
	}
	step := max(c.Step, 1)
	for i := c.FirstKey; i <= last && i < len(args); i += step {
		dst = append(dst, args[i])
	}
	return dst
}

// All returns every top-level command sorted by name.
func (t *Table) All() []*Command {
	out := make([]*Command, 0, len(t.cmds))
	for _, c := range t.cmds {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Get returns a command by lower-case name ("client" or "client|list").
func (t *Table) Get(name string) *Command {
	top, sub, ok := strings.Cut(strings.ToLower(name), "|")
	c := t.cmds[top]
	if c == nil || !ok {
		return c
	}
	return c.Sub[sub]
}

// Rename applies rename-command: the command from is served as to from now
// on, or disabled when to is empty.
func (t *Table) Rename(from, to string) error {
	from, to = strings.ToLower(from), strings.ToLower(to)
	c := t.cmds[from]
	if c == nil {
		return fmt.Errorf("no such command %q in rename-command", from)
	}
	if to != "" {
		if _, taken := t.cmds[to]; taken {
			return fmt.Errorf("rename-command %s %s: the target name is already taken", from, to)
		}
		t.cmds[to] = c
	}
	delete(t.cmds, from)
	return nil
}
