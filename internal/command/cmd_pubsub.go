package command

// Commands from https://redis.io/commands/?group=pubsub

import (
	"github.com/runnel-io/runnel/internal/pubsub"
	"github.com/runnel-io/runnel/internal/resp"
	"github.com/runnel-io/runnel/internal/server"
)

func init() { registrations = append(registrations, registerPubSub) }

func registerPubSub(t *Table) {
	const sub = PubSub | NoScript | Loading | Stale | NoKeyspace
	t.add(
		&Command{Name: "subscribe", Arity: -2, Flags: sub, Run: cmdSubscribe},
		&Command{Name: "unsubscribe", Arity: -1, Flags: sub, Run: cmdUnsubscribe},
		&Command{Name: "psubscribe", Arity: -2, Flags: sub, Run: cmdPSubscribe},
		&Command{Name: "punsubscribe", Arity: -1, Flags: sub, Run: cmdPUnsubscribe},
		&Command{Name: "publish", Arity: 3, Flags: PubSub | Loading | Stale | Fast | MayReplicate | NoKeyspace, Run: cmdPublish},
		container("pubsub", -2, NoKeyspace,
			&Command{Name: "channels", Arity: -2, Flags: PubSub | Loading | Stale | NoKeyspace, Run: cmdPubsubChannels},
			&Command{Name: "numsub", Arity: -2, Flags: PubSub | Loading | Stale | NoKeyspace, Run: cmdPubsubNumsub},
			&Command{Name: "numpat", Arity: 2, Flags: PubSub | Loading | Stale | NoKeyspace, Run: cmdPubsubNumpat},
			&Command{Name: "help", Arity: 2, Flags: Loading | Stale | NoKeyspace, Run: cmdPubsubHelp},
		),
	)
}

// subscriptions are one client's channels and patterns.
type subscriptions struct {
	channels map[string]struct{}
	patterns map[string]struct{}
}

func (s *subscriptions) count() int { return len(s.channels) + len(s.patterns) }

// allowedInSubscribe lists what a RESP2 client may run while subscribed.
func allowedInSubscribe(c *Command) bool {
	switch c.Name {
	case "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe",
		"psubscribe", "punsubscribe", "quit", "reset":
		return true
	}
	return false
}

func (x *Ctx) updateSubCounts() {
	x.C.SetSubscriptions(len(x.S.subs.channels), len(x.S.subs.patterns), 0)
}

// pushSubscription writes a (p)(un)subscribe confirmation.
func pushSubscription(c *server.Client, kind string, name []byte, null bool, count int) {
	c.Push(func(w *resp.Writer) {
		w.Push(3)
		w.BulkString(kind)
		if null {
			w.Null()
		} else {
			w.Bulk(name)
		}
		w.Int(int64(count))
	})
}

// SUBSCRIBE channel [channel ...] (redis.io/commands/subscribe)
func cmdSubscribe(x *Ctx) { subscribe(x, false) }

// PSUBSCRIBE pattern [pattern ...] (redis.io/commands/psubscribe)
func cmdPSubscribe(x *Ctx) { subscribe(x, true) }

func subscribe(x *Ctx, pattern bool) {
	s := &x.S.subs
	if s.channels == nil {
		s.channels = make(map[string]struct{})
		s.patterns = make(map[string]struct{})
	}
	// Replies written so far go first; from now on all output is ordered
	// with the messages other clients publish.
	x.C.StartAsync()
	kind := "subscribe"
	set := s.channels
	if pattern {
		kind, set = "psubscribe", s.patterns
	}
	x.Env.PubSub.Locked(func(tx *pubsub.Tx) {
		for _, a := range x.Args[1:] {
			name := string(a)
			if _, ok := set[name]; !ok {
				set[name] = struct{}{}
				if pattern {
					tx.PSubscribe(x.C, name)
				} else {
					tx.Subscribe(x.C, name)
				}
			}
			pushSubscription(x.C, kind, a, false, s.count())
		}
	})
	x.updateSubCounts()
}

// UNSUBSCRIBE [channel ...] (redis.io/commands/unsubscribe)
func cmdUnsubscribe(x *Ctx) { unsubscribe(x, false) }

// PUNSUBSCRIBE [pattern ...] (redis.io/commands/punsubscribe)
func cmdPUnsubscribe(x *Ctx) { unsubscribe(x, true) }

func unsubscribe(x *Ctx, pattern bool) {
	s := &x.S.subs
	x.C.StartAsync()
	kind := "unsubscribe"
	set := s.channels
	if pattern {
		kind, set = "punsubscribe", s.patterns
	}
	x.Env.PubSub.Locked(func(tx *pubsub.Tx) {
		names := x.Args[1:]
		if len(names) == 0 {
			if len(set) == 0 {
				pushSubscription(x.C, kind, nil, true, s.count())
				return
			}
			for name := range set {
				names = append(names, []byte(name))
			}
		}
		for _, a := range names {
			name := string(a)
			if _, ok := set[name]; ok {
				delete(set, name)
				if pattern {
					tx.PUnsubscribe(x.C, name)
				} else {
					tx.Unsubscribe(x.C, name)
				}
			}
			pushSubscription(x.C, kind, a, false, s.count())
		}
	})
	x.updateSubCounts()
}

// unsubscribeAll drops a closing client's subscriptions.
func (e *Env) unsubscribeAll(c *server.Client, s *Session) {
	if s.subs.count() == 0 {
		return
	}
	e.PubSub.Locked(func(tx *pubsub.Tx) {
		for name := range s.subs.channels {
			tx.Unsubscribe(c, name)
		}
		for name := range s.subs.patterns {
			tx.PUnsubscribe(c, name)
		}
	})
	s.subs = subscriptions{}
}

// PUBLISH channel message (redis.io/commands/publish)
func cmdPublish(x *Ctx) {
	x.W.Int(int64(x.Env.PubSub.Publish(x.Args[1], x.Args[2])))
}

// PUBSUB CHANNELS [pattern]
func cmdPubsubChannels(x *Ctx) {
	if len(x.Args) > 3 {
		x.SubcommandSyntax()
		return
	}
	var pat []byte
	if len(x.Args) == 3 {
		pat = x.Args[2]
	}
	list := x.Env.PubSub.Channels(pat)
	x.W.Array(len(list))
	for _, ch := range list {
		x.W.BulkString(ch)
	}
}

// PUBSUB NUMSUB [channel ...]
func cmdPubsubNumsub(x *Ctx) {
	x.W.Map(len(x.Args) - 2)
	for _, ch := range x.Args[2:] {
		x.W.Bulk(ch)
		x.W.Int(int64(x.Env.PubSub.NumSub(string(ch))))
	}
}

// PUBSUB NUMPAT
func cmdPubsubNumpat(x *Ctx) { x.W.Int(int64(x.Env.PubSub.NumPat())) }

func cmdPubsubHelp(x *Ctx) {
	writeHelp(x, "PUBSUB",
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
	)
}

// writeHelp writes a HELP reply the way Redis's addReplyHelp does.
func writeHelp(x *Ctx, name string, lines ...string) {
	x.W.Array(len(lines) + 2)
	x.W.Simple(name + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		x.W.Simple(l)
	}
	x.W.Simple("HELP")
	x.W.Simple("    Print this help.")
}
