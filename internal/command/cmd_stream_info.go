package command

// XINFO STREAM / GROUPS / CONSUMERS / HELP (redis.io/commands/xinfo-stream
// and siblings; spec §4 XINFO, §5). Replies are maps in RESP3 and flat
// key/value arrays in RESP2, as redis-server 7.0.15 writes them, with the
// fields newer Redis adds: XINFO CONSUMERS "inactive" and XINFO STREAM FULL
// "active-time" (7.2), the IDMP fields (8.6) and "nacked-count" (8.8).

import (
	"github.com/runnel-io/runnel/internal/stream"
)

func init() { registrations = append(registrations, registerStreamInfo) }

func registerStreamInfo(t *Table) {
	key2 := func(name string, arity int, run func(*Ctx)) *Command {
		return &Command{Name: name, Arity: arity, Flags: ReadOnly, FirstKey: 2, LastKey: 2, Step: 1, Run: run}
	}
	t.add(container("xinfo", -2, 0,
		key2("stream", -3, cmdXInfoStream),
		key2("groups", 3, cmdXInfoGroups),
		key2("consumers", 4, cmdXInfoConsumers),
		&Command{Name: "help", Arity: 2, Flags: Loading | Stale | NoKeyspace, Run: cmdXInfoHelp},
	))
}

// xinfoHelp is XINFO HELP of redis-server 7.0.15 (the missing "]" is
// Redis's).
var xinfoHelp = []string{
	"CONSUMERS <key> <groupname>",
	"    Show consumers of <groupname>.",
	"GROUPS <key>",
	"    Show the stream consumer groups.",
	"STREAM <key> [FULL [COUNT <count>]",
	"    Show information about the stream.",
}

// XINFO HELP (redis.io/commands/xinfo-help)
func cmdXInfoHelp(x *Ctx) { replyHelp(x, xinfoHelp...) }

// xinfoLookup is lookupKeyReadOrReply with "no such key", then the type
// check: every XINFO subcommand but HELP starts with it, before looking at
// its other arguments.
func xinfoLookup(x *Ctx) (*stream.Stream, bool) { return x.existingStream(x.Args[2], false) }

// XINFO STREAM key [FULL [COUNT count]] (redis.io/commands/xinfo-stream).
// COUNT (default 10, 0 for all, negative as 10) caps the entries and each
// PEL listed.
func cmdXInfoStream(x *Ctx) {
	s, ok := xinfoLookup(x)
	if !ok {
		return
	}
	opts := x.Args[3:]
	full, count := false, int64(10)
	switch len(opts) {
	case 0:
	case 1, 3:
		if !x.Is(3, "full") || len(opts) == 3 && !x.Is(4, "count") {
			x.Errorf(msgXInfoHelp, x.Args[1])
			return
		}
		full = true
		if len(opts) == 3 {
			if count, ok = x.Int(5); !ok {
				return
			}
			if count < 0 {
				count = 10
			}
		}
	default:
		x.Errorf(msgXInfoHelp, x.Args[1])
		return
	}
	if full {
		x.W.Map(9 + 6)
	} else {
		x.W.Map(10 + 6)
	}
	x.W.BulkString("length")
	x.W.Int(s.Len())
	x.W.BulkString("radix-tree-keys")
	x.W.Int(s.Nodes())
	x.W.BulkString("radix-tree-nodes")
	x.W.Int(s.RadixNodes())
	x.W.BulkString("last-generated-id")
	x.writeStreamID(s.LastID())
	x.W.BulkString("max-deleted-entry-id")
	x.writeStreamID(s.MaxDeletedID())
	x.W.BulkString("entries-added")
	x.W.Int(int64(s.EntriesAdded()))
	x.W.BulkString("recorded-first-entry-id")
	x.writeStreamID(s.FirstID())
	writeIDMPInfo(x, s)
	if !full {
		x.W.BulkString("groups")
		x.W.Int(int64(s.GroupCount()))
		x.W.BulkString("first-entry")
		writeEdgeEntry(x, s, false)
		x.W.BulkString("last-entry")
		writeEdgeEntry(x, s, true)
		return
	}
	x.W.BulkString("entries")
	n := s.Len()
	if count > 0 && count < n {
		n = count
	}
	x.W.Array(int(n))
	it := x.iterator()
	s.RangeInto(it, stream.MinID, stream.MaxID, false)
	for i := int64(0); i < n && it.Next(); i++ {
		x.writeEntry(it.Entry())
	}
	x.W.BulkString("groups")
	x.W.Array(s.GroupCount())
	s.Groups(func(g *stream.Group) bool {
		writeFullGroup(x, s, g, count)
		return true
	})
}

// writeIDMPInfo writes the IDMP fields (Redis 8.6), always present: the
// stream's configuration, or the server defaults when XCFGSET never set
// it, and its counters (0 when IDMP is unused).
func writeIDMPInfo(x *Ctx, s *stream.Stream) {
	cfg, set := s.IDMP()
	if !set {
		cfg = idmpDefaults(x)
	}
	pids, iids, added, dups := s.IDMPStats()
	x.W.BulkString("idmp-duration")
	x.W.Int(cfg.Duration)
	x.W.BulkString("idmp-maxsize")
	x.W.Int(cfg.MaxSize)
	x.W.BulkString("pids-tracked")
	x.W.Int(pids)
	x.W.BulkString("iids-tracked")
	x.W.Int(iids)
	x.W.BulkString("iids-added")
	x.W.Int(added)
	x.W.BulkString("iids-duplicates")
	x.W.Int(dups)
}

// writeEdgeEntry writes the first (or last) entry of s, or nil when it is
// empty.
func writeEdgeEntry(x *Ctx, s *stream.Stream, last bool) {
	it := x.iterator()
	s.RangeInto(it, stream.MinID, stream.MaxID, last)
	if !it.Next() {
		x.W.Null()
		return
	}
	x.writeEntry(it.Entry())
}

// writeFullGroup writes one group of XINFO STREAM FULL.
func writeFullGroup(x *Ctx, s *stream.Stream, g *stream.Group, count int64) {
	x.W.Map(8)
	x.W.BulkString("name")
	x.W.Bulk(g.Name())
	writeGroupPosition(x, s, g)
	x.W.BulkString("pel-count")
	pending := g.PendingCount()
	x.W.Int(pending)
	x.W.BulkString("pending")
	left := capCount(pending, count)
	x.W.Array(int(left))
	if left > 0 {
		g.PendingRange(stream.MinID, stream.MaxID, nil, func(p stream.Pending) bool {
			x.W.Array(4)
			x.writeStreamID(p.ID)
			if p.Consumer == nil {
				x.W.Bulk(nil) // XNACKed: unowned, delivery time 0 (8.8)
			} else {
				x.W.Bulk(p.Consumer.Name())
			}
			x.W.Int(p.DeliveryTime)
			x.W.Int(p.DeliveryCount)
			left--
			return left > 0
		})
	}
	x.W.BulkString("consumers")
	x.W.Array(g.ConsumerCount())
	g.Consumers(func(c *stream.Consumer) bool {
		x.W.Map(5)
		x.W.BulkString("name")
		x.W.Bulk(c.Name())
		x.W.BulkString("seen-time")
		x.W.Int(c.SeenTime())
		x.W.BulkString("active-time")
		x.W.Int(c.ActiveTime())
		x.W.BulkString("pel-count")
		cp := c.PendingCount()
		x.W.Int(cp)
		x.W.BulkString("pending")
		cleft := capCount(cp, count)
		x.W.Array(int(cleft))
		if cleft > 0 {
			g.ConsumerPendingRange(c, stream.MinID, func(p stream.Pending) bool {
				x.W.Array(3)
				x.writeStreamID(p.ID)
				x.W.Int(p.DeliveryTime)
				x.W.Int(p.DeliveryCount)
				cleft--
				return cleft > 0
			})
		}
		return true
	})
	x.W.BulkString("nacked-count")
	x.W.Int(g.NackedCount())
}

// capCount is how many of n items a COUNT shows (0: all).
func capCount(n, count int64) int64 {
	if count > 0 && count < n {
		return count
	}
	return n
}

// writeEntriesRead writes a group's entries-read, nil when it is invalid.
func writeEntriesRead(x *Ctx, g *stream.Group) {
	if n := g.EntriesRead(); n != -1 {
		x.W.Int(n)
	} else {
		x.W.Null()
	}
}

// writeLag writes a group's lag (spec §5), nil when it cannot be known.
func writeLag(x *Ctx, s *stream.Stream, g *stream.Group) {
	if lag, ok := s.Lag(g); ok {
		x.W.Int(lag)
	} else {
		x.W.Null()
	}
}

// XINFO GROUPS key (redis.io/commands/xinfo-groups)
func cmdXInfoGroups(x *Ctx) {
	s, ok := xinfoLookup(x)
	if !ok {
		return
	}
	x.W.Array(s.GroupCount())
	s.Groups(func(g *stream.Group) bool {
		x.W.Map(6)
		x.W.BulkString("name")
		x.W.Bulk(g.Name())
		x.W.BulkString("consumers")
		x.W.Int(int64(g.ConsumerCount()))
		x.W.BulkString("pending")
		x.W.Int(g.PendingCount())
		writeGroupPosition(x, s, g)
		return true
	})
}

// XINFO CONSUMERS key group (redis.io/commands/xinfo-consumers). Redis 7.2+
// shape: "idle" is the time since the last attempted interaction (clamped
// at 0) and "inactive" the time since the last successful one, -1 if never.
func cmdXInfoConsumers(x *Ctx) {
	s, ok := xinfoLookup(x)
	if !ok {
		return
	}
	g := s.Group(x.Args[3])
	if g == nil {
		x.Errorf(msgNoGroupForKey, asCString(x.Args[3]), asCString(x.Args[2]))
		return
	}
	x.W.Array(g.ConsumerCount())
	g.Consumers(func(c *stream.Consumer) bool {
		inactive := int64(-1)
		if at := c.ActiveTime(); at != -1 {
			inactive = x.Now - at
		}
		x.W.Map(4)
		x.W.BulkString("name")
		x.W.Bulk(c.Name())
		x.W.BulkString("pending")
		x.W.Int(c.PendingCount())
		x.W.BulkString("idle")
		x.W.Int(max(x.Now-c.SeenTime(), 0))
		x.W.BulkString("inactive")
		x.W.Int(inactive)
		return true
	})
}

// writeGroupPosition writes the last-delivered-id, entries-read and lag
// fields of a group (XINFO GROUPS and STREAM FULL).
func writeGroupPosition(x *Ctx, s *stream.Stream, g *stream.Group) {
	x.W.BulkString("last-delivered-id")
	x.writeStreamID(g.LastID())
	x.W.BulkString("entries-read")
	writeEntriesRead(x, g)
	x.W.BulkString("lag")
	writeLag(x, s, g)
}
