package command

// Commands from https://redis.io/commands/?group=string

import "github.com/runnel-io/runnel/internal/engine"

func init() { registrations = append(registrations, registerStrings) }

func registerStrings(t *Table) {
	t.add(
		&Command{Name: "get", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdGet},
		&Command{Name: "set", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSet},
	)
}

// GET key (redis.io/commands/get)
func cmdGet(x *Ctx) {
	s, exists, ok := x.GetString(x.Args[1], 0)
	if !ok {
		return
	}
	if !exists {
		x.W.Null()
		return
	}
	x.W.Bulk(s.B)
}

// SET key value (redis.io/commands/set); options are parsed in full by the
// strings group.
func cmdSet(x *Ctx) {
	x.Tx.Set(x.DB, x.Args[1], engine.NewString(x.Args[2]), 0, false)
	x.Tx.AddDirty(1)
	x.Notify(engine.EventString, "set", x.Args[1])
	x.W.OK()
}
