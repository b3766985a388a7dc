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
	const intro = PubSub | Loading | Stale | NoKeyspace
	t.add(
		&Command{Name: "subscribe", Arity: -2, Flags: sub, Run: cmdSubscribe},
		&Command{Name: "unsubscribe", Arity: -1, Flags: sub, Run: cmdUnsubscribe},
		&Command{Name: "psubscribe", Arity: -2, Flags: sub, Run: cmdPSubscribe},
		&Command{Name: "punsubscribe", Arity: -1, Flags: sub, Run: cmdPUnsubscribe},
		// Shard channels are keys for the cluster's slot routing only
		// (COMMAND INFO shows them, flagged not_key); they take no lock.
		&Command{Name: "ssubscribe", Arity: -2, Flags: sub, FirstKey: 1, LastKey: -1, Step: 1, Run: cmdSSubscribe},
		&Command{Name: "sunsubscribe", Arity: -1, Flags: sub, FirstKey: 1, LastKey: -1, Step: 1, Run: cmdSUnsubscribe},
		&Command{Name: "publish", Arity: 3, Flags: PubSub | Loading | Stale | Fast | MayReplicate | NoKeyspace, Run: cmdPublish},
		&Command{Name: "spublish", Arity: 3, Flags: PubSub | Loading | Stale | Fast | MayReplicate | NoKeyspace, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSPublish},
		container("pubsub", -2, NoKeyspace,
			&Command{Name: "channels", Arity: -2, Flags: intro, Run: cmdPubsubChannels},
			&Command{Name: "numsub", Arity: -2, Flags: intro, Run: cmdPubsubNumsub},
			&Command{Name: "numpat", Arity: 2, Flags: intro, Run: cmdPubsubNumpat},
			&Command{Name: "shardchannels", Arity: -2, Flags: intro, Run: cmdPubsubShardChannels},
			&Command{Name: "shardnumsub", Arity: -2, Flags: intro, Run: cmdPubsubShardNumsub},
			&Command{Name: "help", Arity: 2, Flags: Loading | Stale | NoKeyspace, Run: cmdPubsubHelp},
		),
	)
}

// subscriptions are one client's channels, patterns and shard channels.
// Patterns keep their subscription order: Redis keeps them in a list, and
// PUNSUBSCRIBE without arguments answers in that order.
type subscriptions struct {
	channels map[string]struct{}
	patterns []string
	patSet   map[string]struct{}
	shard    map[string]struct{}
}

// count is the number of subscriptions of every kind. The client is in
// Pub/Sub mode (Redis's CLIENT_PUBSUB flag, which (P|S)SUBSCRIBE set and the
// unsubscribe commands clear when this drops to zero) exactly while it is
// not zero: then a RESP2 client may only run the subscribe commands, PING,
// QUIT and RESET, and PING answers ["pong", message].
func (s *subscriptions) count() int { return len(s.channels) + len(s.patterns) + len(s.shard) }

// regular is what (P)(UN)SUBSCRIBE confirmations report: channels plus
// patterns (clientSubscriptionsCount).
func (s *subscriptions) regular() int { return len(s.channels) + len(s.patterns) }

func (s *subscriptions) init() {
	if s.channels == nil {
		s.channels = make(map[string]struct{})
		s.patSet = make(map[string]struct{})
		s.shard = make(map[string]struct{})
	}
}

// allowedInSubscribe lists what a RESP2 client may run in Pub/Sub mode.
func allowedInSubscribe(c *Command) bool {
	switch c.Name {
	case "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe",
		"psubscribe", "punsubscribe", "quit", "reset":
		return true
	}
	return false
}

func (x *Ctx) updateSubCounts() {
	s := &x.S.subs
	x.C.SetSubscriptions(len(s.channels), len(s.patterns), len(s.shard))
}

// Confirmation kinds, as Redis's shared.*bulk objects.
const (
	kindSubscribe    = "subscribe"
	kindUnsubscribe  = "unsubscribe"
	kindPSubscribe   = "psubscribe"
	kindPUnsubscribe = "punsubscribe"
	kindSSubscribe   = "ssubscribe"
	kindSUnsubscribe = "sunsubscribe"
)

// confirm pushes a (p|s)(un)subscribe confirmation (a push in RESP3, an
// array in RESP2; name nil writes a null, for an unsubscribe from nothing).
// Confirmations go through the client's asynchronous output, ordered with
// the messages that other clients publish, and are sent even under CLIENT
// REPLY OFF, as Redis's CLIENT_PUSHING replies are.
func confirm(c *server.Client, kind string, name []byte, count int) {
	c.Push(func(w *resp.Writer) {
		w.Push(3)
		w.BulkString(kind)
		if name == nil {
			w.Null()
		} else {
			w.Bulk(name)
		}
		w.Int(int64(count))
	})
}

// startPushing switches the client to asynchronous output; replies written
// so far (earlier replies of a pipeline or of the same EXEC) go first.
func startPushing(x *Ctx) { x.C.StartAsync() }

// SUBSCRIBE channel [channel ...] (redis.io/commands/subscribe)
func cmdSubscribe(x *Ctx) {
	s := &x.S.subs
	s.init()
	startPushing(x)
	x.Env.PubSub.Locked(func(tx *pubsub.Tx) {
		for _, a := range x.Args[1:] {
			if _, ok := s.channels[string(a)]; !ok {
				name := string(a)
				s.channels[name] = struct{}{}
				tx.Subscribe(x.C, name)
			}
			confirm(x.C, kindSubscribe, a, s.regular())
		}
	})
	x.updateSubCounts()
}

// PSUBSCRIBE pattern [pattern ...] (redis.io/commands/psubscribe)
func cmdPSubscribe(x *Ctx) {
	s := &x.S.subs
	s.init()
	startPushing(x)
	x.Env.PubSub.Locked(func(tx *pubsub.Tx) {
		for _, a := range x.Args[1:] {
			if _, ok := s.patSet[string(a)]; !ok {
				name := string(a)
				s.patSet[name] = struct{}{}
				s.patterns = append(s.patterns, name)
				tx.PSubscribe(x.C, name)
			}
			confirm(x.C, kindPSubscribe, a, s.regular())
		}
	})
	x.updateSubCounts()
}

// SSUBSCRIBE shardchannel [shardchannel ...] (redis.io/commands/ssubscribe)
func cmdSSubscribe(x *Ctx) {
	if x.inExec {
		// Redis refuses it to a client that expects one reply per command
		// (CLIENT_DENY_BLOCKING, set during EXEC); SUBSCRIBE and
		// PSUBSCRIBE are let through inside MULTI for compatibility.
		x.Error(msgSSubscribeDenyBlocking)
		return
	}
	s := &x.S.subs
	s.init()
	startPushing(x)
	x.Env.PubSub.Locked(func(tx *pubsub.Tx) {
		for _, a := range x.Args[1:] {
			if _, ok := s.shard[string(a)]; !ok {
				name := string(a)
				s.shard[name] = struct{}{}
				tx.SSubscribe(x.C, name)
			}
			confirm(x.C, kindSSubscribe, a, len(s.shard))
		}
	})
	x.updateSubCounts()
}

// UNSUBSCRIBE [channel [channel ...]] (redis.io/commands/unsubscribe)
func cmdUnsubscribe(x *Ctx) {
	s := &x.S.subs
	startPushing(x)
	x.Env.PubSub.Locked(func(tx *pubsub.Tx) {
		names := x.Args[1:]
		if len(names) == 0 {
			// Redis walks its hash table of the client's channels; the
			// order is unspecified.
			if len(s.channels) == 0 {
				confirm(x.C, kindUnsubscribe, nil, s.regular())
				return
			}
			for name := range s.channels {
				delete(s.channels, name)
				tx.Unsubscribe(x.C, name)
				confirm(x.C, kindUnsubscribe, []byte(name), s.regular())
			}
			return
		}
		for _, a := range names {
			if _, ok := s.channels[string(a)]; ok {
				delete(s.channels, string(a))
				tx.Unsubscribe(x.C, string(a))
			}
			confirm(x.C, kindUnsubscribe, a, s.regular())
		}
	})
	x.updateSubCounts()
}

// PUNSUBSCRIBE [pattern [pattern ...]] (redis.io/commands/punsubscribe)
func cmdPUnsubscribe(x *Ctx) {
	s := &x.S.subs
	startPushing(x)
	x.Env.PubSub.Locked(func(tx *pubsub.Tx) {
		names := x.Args[1:]
		if len(names) == 0 {
			if len(s.patterns) == 0 {
				confirm(x.C, kindPUnsubscribe, nil, s.regular())
				return
			}
			// In subscription order, as Redis walks its list.
			for len(s.patterns) > 0 {
				name := s.patterns[0]
				s.removePattern(name)
				tx.PUnsubscribe(x.C, name)
				confirm(x.C, kindPUnsubscribe, []byte(name), s.regular())
			}
			return
		}
		for _, a := range names {
			if _, ok := s.patSet[string(a)]; ok {
				s.removePattern(string(a))
				tx.PUnsubscribe(x.C, string(a))
			}
			confirm(x.C, kindPUnsubscribe, a, s.regular())
		}
	})
	x.updateSubCounts()
}

func (s *subscriptions) removePattern(name string) {
	delete(s.patSet, name)
	for i, p := range s.patterns {
		if p == name {
			s.patterns = append(s.patterns[:i], s.patterns[i+1:]...)
			return
		}
	}
}

// SUNSUBSCRIBE [shardchannel [shardchannel ...]] (redis.io/commands/sunsubscribe)
func cmdSUnsubscribe(x *Ctx) {
	s := &x.S.subs
	startPushing(x)
	x.Env.PubSub.Locked(func(tx *pubsub.Tx) {
		names := x.Args[1:]
		if len(names) == 0 {
			if len(s.shard) == 0 {
				confirm(x.C, kindSUnsubscribe, nil, 0)
				return
			}
			for name := range s.shard {
				delete(s.shard, name)
				tx.SUnsubscribe(x.C, name)
				confirm(x.C, kindSUnsubscribe, []byte(name), len(s.shard))
			}
			return
		}
		for _, a := range names {
			if _, ok := s.shard[string(a)]; ok {
				delete(s.shard, string(a))
				tx.SUnsubscribe(x.C, string(a))
			}
			confirm(x.C, kindSUnsubscribe, a, len(s.shard))
		}
	})
	x.updateSubCounts()
}

// unsubscribeAll drops every subscription of a client without telling it
// (a closing connection, RESET).
func (e *Env) unsubscribeAll(c *server.Client, s *Session) {
	if s.subs.count() == 0 {
		return
	}
	e.PubSub.Locked(func(tx *pubsub.Tx) {
		for name := range s.subs.channels {
			tx.Unsubscribe(c, name)
		}
		for _, name := range s.subs.patterns {
			tx.PUnsubscribe(c, name)
		}
		for name := range s.subs.shard {
			tx.SUnsubscribe(c, name)
		}
	})
	s.subs = subscriptions{}
}

// PUBLISH channel message (redis.io/commands/publish)
func cmdPublish(x *Ctx) {
	x.W.Int(int64(x.Env.PubSub.Publish(x.Args[1], x.Args[2])))
}

// SPUBLISH shardchannel message (redis.io/commands/spublish)
func cmdSPublish(x *Ctx) {
	x.W.Int(int64(x.Env.PubSub.SPublish(x.Args[1], x.Args[2])))
}

// PUBSUB CHANNELS [pattern] (redis.io/commands/pubsub-channels)
func cmdPubsubChannels(x *Ctx) {
	if len(x.Args) > 3 {
		x.SubcommandSyntax()
		return
	}
	writeChannels(x, x.Env.PubSub.Channels(optPattern(x)))
}

// PUBSUB SHARDCHANNELS [pattern] (redis.io/commands/pubsub-shardchannels)
func cmdPubsubShardChannels(x *Ctx) {
	if len(x.Args) > 3 {
		x.SubcommandSyntax()
		return
	}
	writeChannels(x, x.Env.PubSub.ShardChannels(optPattern(x)))
}

func optPattern(x *Ctx) []byte {
	if len(x.Args) == 3 {
		return x.Args[2]
	}
	return nil
}

func writeChannels(x *Ctx, list []string) {
	x.W.Array(len(list))
	for _, ch := range list {
		x.W.BulkString(ch)
	}
}

// PUBSUB NUMSUB [channel ...] (redis.io/commands/pubsub-numsub): a flat
// array of channel, count pairs, in RESP3 too.
func cmdPubsubNumsub(x *Ctx) {
	x.W.Array(2 * (len(x.Args) - 2))
	for _, ch := range x.Args[2:] {
		x.W.Bulk(ch)
		x.W.Int(int64(x.Env.PubSub.NumSub(string(ch))))
	}
}

// PUBSUB SHARDNUMSUB [shardchannel ...] (redis.io/commands/pubsub-shardnumsub)
func cmdPubsubShardNumsub(x *Ctx) {
	x.W.Array(2 * (len(x.Args) - 2))
	for _, ch := range x.Args[2:] {
		x.W.Bulk(ch)
		x.W.Int(int64(x.Env.PubSub.ShardNumSub(string(ch))))
	}
}

// PUBSUB NUMPAT (redis.io/commands/pubsub-numpat)
func cmdPubsubNumpat(x *Ctx) { x.W.Int(int64(x.Env.PubSub.NumPat())) }

// PUBSUB HELP (redis.io/commands/pubsub-help)
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

// writeHelp writes a HELP reply as Redis 7.0's addReplyHelp does: a header
// naming the command, the lines, and a HELP footer, all simple strings.
func writeHelp(x *Ctx, name string, lines ...string) {
	x.W.Array(len(lines) + 3)
	x.W.Simple(name + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		x.W.Simple(l)
	}
	x.W.Simple("HELP")
	x.W.Simple("    Prints this help.")
}
