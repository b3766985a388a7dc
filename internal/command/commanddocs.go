package command

import (
	"sort"

	"github.com/runnel-io/runnel/internal/resp"
)

// Command metadata for COMMAND, COMMAND INFO, COMMAND DOCS and COMMAND
// GETKEYS. The replies of Redis are kept as data trees: commanddocs_gen.go
// is generated from a running redis-server by ./gendocs; commands Runnel has
// that Redis 7.0 lacks are described by hand in commanddocs_extra.go. A
// command's entry holds neither its subcommand list nor its "subcommands"
// docs: those are assembled from the subcommands Runnel implements.

//go:generate go run ./gendocs -addr 127.0.0.1:7777 -o commanddocs_gen.go

// cmdMeta is one command's COMMAND INFO entry (its first nine elements:
// name, arity, flags, first key, last key, step, ACL categories, tips, key
// specs) and its COMMAND DOCS map.
type cmdMeta struct {
	info docNode
	docs docNode
}

// docNode is one value of a COMMAND INFO or COMMAND DOCS reply.
type docNode struct {
	kind  byte // '$' bulk, '+' simple, ':' integer, '*' array, '~' set, '%' map, '_' null
	str   string
	num   int64
	elems []docNode // a map's are key, value, key, value, ...
}

// Constructors used by the generated data.
func dB(s string) docNode           { return docNode{kind: '$', str: s} }
func dS(s string) docNode           { return docNode{kind: '+', str: s} }
func dI(n int64) docNode            { return docNode{kind: ':', num: n} }
func dNull() docNode                { return docNode{kind: '_'} }
func dA(e ...docNode) docNode       { return docNode{kind: '*', elems: e} }
func dSet(e ...docNode) docNode     { return docNode{kind: '~', elems: e} }
func dM(kv ...docNode) docNode      { return docNode{kind: '%', elems: kv} }
func (n docNode) get(i int) docNode { return n.elems[i] }

// write emits the node; sets and maps fall back to arrays in RESP2 as
// Redis's do.
func (n *docNode) write(w *resp.Writer) {
	switch n.kind {
	case '$':
		w.BulkString(n.str)
	case '+':
		w.Simple(n.str)
	case ':':
		w.Int(n.num)
	case '_':
		w.Null()
	case '*', '~', '%':
		switch n.kind {
		case '*':
			w.Array(len(n.elems))
		case '~':
			w.Set(len(n.elems))
		default:
			w.Map(len(n.elems) / 2)
		}
		for i := range n.elems {
			n.elems[i].write(w)
		}
	}
}

// field returns the value of key in a map node.
func (n docNode) field(key string) (docNode, bool) {
	for i := 0; i+1 < len(n.elems); i += 2 {
		if n.elems[i].str == key {
			return n.elems[i+1], true
		}
	}
	return docNode{}, false
}

// strs returns the strings of an aggregate of strings.
func (n docNode) strs() []string {
	out := make([]string, len(n.elems))
	for i, e := range n.elems {
		out[i] = e.str
	}
	return out
}

// metaFor returns the metadata of a command or subcommand ("client|list").
func metaFor(name string) *cmdMeta {
	if m, ok := extraDocs[name]; ok {
		return m
	}
	return redisDocs[name]
}

// subcommands returns c's subcommands sorted by name.
func (c *Command) subcommands() []*Command {
	subs := make([]*Command, 0, len(c.Sub))
	for _, s := range c.Sub {
		subs = append(subs, s)
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].Name < subs[j].Name })
	return subs
}

// writeCommandInfo writes c's COMMAND INFO entry.
func writeCommandInfo(w *resp.Writer, c *Command) {
	w.Array(10)
	if m := metaFor(c.Name); m != nil {
		for i := range m.info.elems {
			m.info.elems[i].write(w)
		}
	} else {
		// Not in the metadata (a test reports it): what the table knows.
		w.BulkString(c.Name)
		w.Int(int64(c.Arity))
		names := c.Flags.Names()
		w.Set(len(names))
		for _, f := range names {
			w.Simple(f)
		}
		w.Int(int64(c.FirstKey))
		w.Int(int64(c.LastKey))
		w.Int(int64(c.Step))
		w.Set(0)
		w.Set(0)
		w.Array(0)
	}
	// Like Redis: the subcommands in an array, or an empty set for a command
	// that cannot have any.
	if c.Sub == nil {
		w.Set(0)
		return
	}
	subs := c.subcommands()
	w.Array(len(subs))
	for _, s := range subs {
		writeCommandInfo(w, s)
	}
}

// writeCommandDocs writes c's COMMAND DOCS map.
func writeCommandDocs(w *resp.Writer, c *Command) {
	var docs docNode
	if m := metaFor(c.Name); m != nil {
		docs = m.docs
	}
	subs := c.subcommands()
	n := len(docs.elems) / 2
	if c.Sub != nil {
		n++
	}
	w.Map(n)
	for i := range docs.elems {
		docs.elems[i].write(w)
	}
	if c.Sub != nil {
		w.BulkString("subcommands")
		w.Map(len(subs))
		for _, s := range subs {
			w.BulkString(s.Name)
			writeCommandDocs(w, s)
		}
	}
}
