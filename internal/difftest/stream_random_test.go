package difftest

// A randomized differential test of the stream commands: thousands of
// random, valid and invalid, stream commands over a few keys, groups and
// consumers, sent to Runnel and to redis-server, whose replies must agree.
//
// Determinism: IDs are explicit (or <ms>-*, or * only once a stream's last
// ID is far in the future, where it does not depend on the clock); idle
// thresholds and IDLE/TIME values are either 0 or far beyond the test's
// running time, and idle times in replies are compared within sxTol.
//
// Version differences (each cited where it is handled, in
// stream_helpers_test.go): reply-only error texts (sxNewerReply), the
// post-7.0 XINFO fields (sxInfo), eager consumer creation (sxGroupCall),
// and entries-read/lag after deletions, trims, XSETID or ENTRIESREAD
// (sxRandom.lagUnsure).
//
// RUNNEL_STREAM_SEED replays a run; RUNNEL_STREAM_STEPS sets its length
// (default 4000 commands per protocol, 500 with -short).

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/redistest"
)

var (
	sxRandKeys      = []string{"s1", "s2", "s3"}
	sxRandGroups    = []string{"g1", "g2"}
	sxRandConsumers = []string{"c1", "c2", "c3"}
	sxRandFields    = []string{"f", "g", "field", ""}
	// min-idle thresholds and IDLE values: far from any real idle time
	// (the run lasts seconds), so their outcome does not depend on timing.
	sxRandMinIdle = []string{"0", "0", "50000000", "-5"}
	sxRandIdle    = []string{"0", "100000000", "-1"}
)

// sxRandMode is how a random command's replies are compared.
type sxRandMode int

const (
	sxModeExact sxRandMode = iota
	sxModePending
	sxModeInfoStream
	sxModeInfoFull
	sxModeInfoGroups
	sxModeInfoConsumers
	sxModeGroupCall // XREADGROUP, XCLAIM, XAUTOCLAIM: sxGroupCall
	sxModeXSetID    // sxXSetID (not in MULTI: it reads Redis first)
)

// sxRandom generates commands and tracks what the comparisons need.
type sxRandom struct {
	r *rand.Rand
	p *redistest.Pair
	// lagUnsure marks keys on which entries-read and lag are not compared:
	// after an XDEL, a trim, XSETID, or ENTRIESREAD, 7.0 and the newer
	// rules differ (spec §5 and §11: 7.4 #13338 and #13473, 8.0 #13958,
	// 8.2 #14259 caps ENTRIESREAD at entries-added). Dedicated cases are
	// in TestStreamLag.
	lagUnsure map[string]bool
	inMulti   bool // commands are being queued: lastMs must not query
	clock     int  // the millisecond part XADD uses next: IDs mostly grow
}

func (g *sxRandom) pick(s []string) string { return s[g.r.IntN(len(s))] }
func (g *sxRandom) key() string {
	if g.r.IntN(25) == 0 {
		return g.pick([]string{"str", "nokey"})
	}
	return g.pick(sxRandKeys)
}
func (g *sxRandom) group() string {
	if g.r.IntN(20) == 0 {
		return "nogroup"
	}
	return g.pick(sxRandGroups)
}
func (g *sxRandom) consumer() string  { return g.pick(sxRandConsumers) }
func (g *sxRandom) chance(n int) bool { return g.r.IntN(n) == 0 }

// ms is a millisecond part near the IDs recently added.
func (g *sxRandom) ms() string {
	lo := max(1, g.clock-40)
	return strconv.Itoa(lo + g.r.IntN(g.clock-lo+3))
}

// nextMs is the millisecond part of a new entry: mostly after the last.
func (g *sxRandom) nextMs() string {
	g.clock += g.r.IntN(3)
	return strconv.Itoa(g.clock)
}

// id is a complete or incomplete ID, sometimes special or invalid.
func (g *sxRandom) id() string {
	switch n := g.r.IntN(40); {
	case n < 28:
		return g.ms() + "-" + strconv.Itoa(g.r.IntN(3))
	case n < 33:
		return g.ms()
	case n < 34:
		return "0-0"
	case n < 35:
		return sxMaxID
	case n < 36:
		return "99999999999999-" + strconv.Itoa(g.r.IntN(3))
	default:
		return g.pick([]string{"bad", "-1", "1-2-3", "", "1-x", "18446744073709551616"})
	}
}

// bound is an XRANGE/XPENDING bound.
func (g *sxRandom) bound(start bool) string {
	switch n := g.r.IntN(10); {
	case n < 3 && start:
		return "-"
	case n < 3:
		return "+"
	case n < 5:
		return "(" + g.id()
	default:
		return g.id()
	}
}

func (g *sxRandom) count() string {
	return g.pick([]string{"0", "1", "2", "3", "5", "10", "-1", "x"})
}

func (g *sxRandom) fields() []string {
	n := 1 + g.r.IntN(3)
	if g.chance(30) {
		n = 0 // arity
	}
	var out []string
	for range n {
		out = append(out, g.pick(sxRandFields), strconv.Itoa(g.r.IntN(100)))
	}
	if g.chance(40) {
		out = append(out, "odd")
	}
	return out
}

// trim returns a trimming clause for XADD or XTRIM.
func (g *sxRandom) trim(mustHave bool) []string {
	if !mustHave && g.r.IntN(3) != 0 {
		return nil
	}
	var out []string
	strategy := g.pick([]string{"MAXLEN", "MINID", "maxlen"})
	out = append(out, strategy)
	op := g.pick([]string{"", "=", "~", "~"})
	if op != "" {
		out = append(out, op)
	}
	if strings.EqualFold(strategy, "MAXLEN") {
		out = append(out, g.pick([]string{"0", "1", "2", "3", "5", "8", "20", "-1", "x"}))
	} else {
		out = append(out, g.id())
	}
	if g.chance(3) {
		out = append(out, "LIMIT", g.pick([]string{"0", "1", "2", "5", "100", "-1"}))
	}
	if g.chance(30) {
		out = append(out, g.pick([]string{"MAXLEN", "MINID", "LIMIT", "FOO"}), "1")
	}
	return out
}

// lastMs returns the millisecond part of key's last ID on Redis, or -1.
// Only used to decide whether '*' is deterministic; it reads Redis only.
func (g *sxRandom) lastMs(key string) int64 {
	v := g.p.Redis.DoValue("XINFO", "STREAM", key)
	f, ok := redistest.Field(v, "last-generated-id")
	if !ok {
		return -1
	}
	ms, _, _ := strings.Cut(f.Str, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// xaddID is the ID argument of an XADD.
func (g *sxRandom) xaddID(key string) string {
	switch n := g.r.IntN(30); {
	case n < 6:
		return g.nextMs() + "-*"
	case n < 8:
		// '*' uses the clock unless the last ID is in the future.
		if !g.inMulti && g.lastMs(key) > time.Now().UnixMilli()+86400000 {
			return "*"
		}
		return g.nextMs() + "-*"
	case n < 9:
		return g.nextMs() + "-18446744073709551615"
	case n < 22:
		return g.nextMs() + "-" + strconv.Itoa(g.r.IntN(3))
	default:
		return g.id()
	}
}

// sxRandGen is one generator: weight, whether it may be queued in MULTI,
// and the command with its comparison mode.
type sxRandGen struct {
	weight int
	multi  bool
	gen    func(g *sxRandom) ([]string, sxRandMode)
}

var sxRandGens = []sxRandGen{
	{30, true, func(g *sxRandom) ([]string, sxRandMode) {
		k := g.key()
		args := []string{"XADD", k}
		if g.chance(8) {
			args = append(args, "NOMKSTREAM")
		}
		args = append(args, g.trim(false)...)
		args = append(args, g.xaddID(k))
		return append(args, g.fields()...), sxModeExact
	}},
	{6, true, func(g *sxRandom) ([]string, sxRandMode) {
		args := []string{"XDEL", g.key()}
		for range 1 + g.r.IntN(3) {
			args = append(args, g.id())
		}
		return args, sxModeExact
	}},
	{5, true, func(g *sxRandom) ([]string, sxRandMode) {
		return append([]string{"XTRIM", g.key()}, g.trim(!g.chance(20))...), sxModeExact
	}},
	{4, true, func(g *sxRandom) ([]string, sxRandMode) { return []string{"XLEN", g.key()}, sxModeExact }},
	{8, true, func(g *sxRandom) ([]string, sxRandMode) {
		args := []string{g.pick([]string{"XRANGE", "XREVRANGE"}), g.key(), g.bound(true), g.bound(false)}
		if args[0] == "XREVRANGE" {
			args[2], args[3] = g.bound(false), g.bound(true)
		}
		if g.chance(2) {
			args = append(args, "COUNT", g.count())
		}
		return args, sxModeExact
	}},
	{6, true, func(g *sxRandom) ([]string, sxRandMode) {
		args := []string{"XREAD"}
		if g.chance(2) {
			args = append(args, "COUNT", g.count())
		}
		if g.chance(10) {
			args = append(args, "BLOCK", "1")
		}
		args = append(args, "STREAMS")
		n := 1 + g.r.IntN(3)
		for range n {
			args = append(args, g.key())
		}
		for range n {
			args = append(args, g.pick([]string{g.id(), "0", "$", g.ms()}))
		}
		if g.chance(25) {
			args = args[:len(args)-1] // unbalanced
		}
		return args, sxModeExact
	}},
	{3, false, func(g *sxRandom) ([]string, sxRandMode) {
		args := []string{"XSETID", g.key(), g.id()}
		if g.chance(3) {
			args = append(args, "ENTRIESADDED", g.pick([]string{"0", "3", "10", "100", "-1"}))
		}
		if g.chance(3) {
			args = append(args, "MAXDELETEDID", g.id())
		}
		return args, sxModeXSetID
	}},
	{5, true, func(g *sxRandom) ([]string, sxRandMode) {
		args := []string{"XGROUP", "CREATE", g.key(), g.group(), g.pick([]string{"$", "0", g.id()})}
		if g.chance(2) {
			args = append(args, "MKSTREAM")
		}
		if g.chance(5) {
			args = append(args, "ENTRIESREAD", g.pick([]string{"0", "2", "5", "-1", "-2"}))
		}
		return args, sxModeExact
	}},
	{3, true, func(g *sxRandom) ([]string, sxRandMode) {
		args := []string{"XGROUP", "SETID", g.key(), g.group(), g.pick([]string{"$", "0", "-", "+", g.id()})}
		if g.chance(4) {
			args = append(args, "ENTRIESREAD", g.pick([]string{"0", "3", "-1"}))
		}
		return args, sxModeExact
	}},
	{1, true, func(g *sxRandom) ([]string, sxRandMode) {
		return []string{"XGROUP", "DESTROY", g.key(), g.group()}, sxModeExact
	}},
	{2, true, func(g *sxRandom) ([]string, sxRandMode) {
		return []string{"XGROUP", "CREATECONSUMER", g.key(), g.group(), g.consumer()}, sxModeExact
	}},
	{2, true, func(g *sxRandom) ([]string, sxRandMode) {
		return []string{"XGROUP", "DELCONSUMER", g.key(), g.group(), g.consumer()}, sxModeExact
	}},
	{14, false, func(g *sxRandom) ([]string, sxRandMode) {
		args := []string{"XREADGROUP", "GROUP", g.group(), g.consumer()}
		if g.chance(2) {
			args = append(args, "COUNT", g.count())
		}
		if g.chance(6) {
			args = append(args, "NOACK")
		}
		if g.chance(12) {
			args = append(args, "BLOCK", "1")
		}
		args = append(args, "STREAMS")
		n := 1 + g.r.IntN(2)
		for range n {
			args = append(args, g.key())
		}
		for range n {
			if g.r.IntN(3) == 0 {
				args = append(args, g.pick([]string{"0", g.id(), g.ms()}))
			} else {
				args = append(args, ">")
			}
		}
		if n == 1 && g.chance(30) {
			args[len(args)-1] = g.pick([]string{"$", "+"})
		}
		if g.chance(30) {
			args = args[:len(args)-1]
		}
		return args, sxModeGroupCall
	}},
	{6, true, func(g *sxRandom) ([]string, sxRandMode) {
		args := []string{"XACK", g.key(), g.group()}
		for range 1 + g.r.IntN(3) {
			args = append(args, g.id())
		}
		return args, sxModeExact
	}},
	{6, true, func(g *sxRandom) ([]string, sxRandMode) {
		args := []string{"XPENDING", g.key(), g.group()}
		if g.chance(3) {
			return args, sxModeExact
		}
		if g.chance(4) {
			args = append(args, "IDLE", g.pick(sxRandMinIdle))
		}
		args = append(args, g.bound(true), g.bound(false), g.count())
		if g.chance(3) {
			args = append(args, g.consumer())
		}
		return args, sxModePending
	}},
	{6, false, func(g *sxRandom) ([]string, sxRandMode) {
		args := []string{"XCLAIM", g.key(), g.group(), g.consumer(), g.pick(sxRandMinIdle)}
		for range 1 + g.r.IntN(3) {
			args = append(args, g.id())
		}
		for range g.r.IntN(3) {
			switch g.r.IntN(7) {
			case 0:
				args = append(args, "IDLE", g.pick(sxRandIdle))
			case 1:
				args = append(args, "TIME", g.pick([]string{"1", "99999999999999"}))
			case 2:
				args = append(args, "RETRYCOUNT", g.pick([]string{"0", "3", "-1"}))
			case 3:
				args = append(args, "FORCE")
			case 4:
				args = append(args, "JUSTID")
			case 5:
				args = append(args, "LASTID", g.id())
			default:
				args = append(args, g.pick([]string{"FOO", "IDLE"}))
			}
		}
		return args, sxModeGroupCall
	}},
	{4, false, func(g *sxRandom) ([]string, sxRandMode) {
		args := []string{"XAUTOCLAIM", g.key(), g.group(), g.consumer(), g.pick(sxRandMinIdle), g.bound(true)}
		if g.chance(2) {
			args = append(args, "COUNT", g.pick([]string{"1", "2", "3", "100", "0", "-1"}))
		}
		if g.chance(3) {
			args = append(args, "JUSTID")
		}
		return args, sxModeGroupCall
	}},
	{3, true, func(g *sxRandom) ([]string, sxRandMode) {
		return []string{"XINFO", "STREAM", g.key()}, sxModeInfoStream
	}},
	{3, false, func(g *sxRandom) ([]string, sxRandMode) {
		args := []string{"XINFO", "STREAM", g.key(), "FULL"}
		if g.chance(2) {
			args = append(args, "COUNT", g.pick([]string{"0", "1", "2", "5"}))
		}
		return args, sxModeInfoFull
	}},
	{3, false, func(g *sxRandom) ([]string, sxRandMode) {
		return []string{"XINFO", "GROUPS", g.key()}, sxModeInfoGroups
	}},
	{3, false, func(g *sxRandom) ([]string, sxRandMode) {
		return []string{"XINFO", "CONSUMERS", g.key(), g.group()}, sxModeInfoConsumers
	}},
	{2, true, func(g *sxRandom) ([]string, sxRandMode) {
		return []string{g.pick([]string{"DEL", "UNLINK", "EXISTS", "TYPE"}), g.key()}, sxModeExact
	}},
	{1, true, func(g *sxRandom) ([]string, sxRandMode) {
		return []string{"RENAME", g.key(), g.key()}, sxModeExact
	}},
	{1, true, func(g *sxRandom) ([]string, sxRandMode) {
		args := []string{"COPY", g.key(), g.key()}
		if g.chance(2) {
			args = append(args, "REPLACE")
		}
		return args, sxModeExact
	}},
	{1, true, func(g *sxRandom) ([]string, sxRandMode) { return []string{"SET", "str", "x"}, sxModeExact }},
}

// note updates lagUnsure for a command that was sent (whether or not it
// succeeded: a failed one changes nothing, so marking is only
// conservative).
func (g *sxRandom) note(args []string) {
	cmd := strings.ToUpper(args[0])
	switch cmd {
	case "XDEL", "XTRIM", "XSETID":
		g.lagUnsure[args[1]] = true
	case "XADD":
		for _, a := range args {
			if u := strings.ToUpper(a); u == "MAXLEN" || u == "MINID" {
				g.lagUnsure[args[1]] = true
			}
		}
	case "XGROUP":
		for _, a := range args {
			if strings.EqualFold(a, "ENTRIESREAD") {
				g.lagUnsure[args[2]] = true
			}
		}
	case "DEL", "UNLINK", "SET":
		delete(g.lagUnsure, args[1])
	case "RENAME", "COPY":
		g.lagUnsure[args[2]] = g.lagUnsure[args[2]] || g.lagUnsure[args[1]]
	}
}

// resyncNodes follows a MINID trim. Redis 7.0 keeps a node whose live
// entries an exact MINID trim deleted when a tombstone at its end is at or
// after the threshold; Runnel drops it, as Redis does since #15815 (8.x:
// the 7.0 node cannot even be saved and loaded). The node layouts then
// differ, and with them later node fills and "~" trims, so the key is
// deleted on both servers when their node counts disagree.
func (g *sxRandom) resyncNodes(args []string) {
	trimsByID := false
	for _, a := range args {
		trimsByID = trimsByID || strings.EqualFold(a, "MINID")
	}
	if !trimsByID || len(args) < 2 {
		return
	}
	key := args[1]
	nodes := func(c *redistest.Conn) int64 {
		v, ok := redistest.Field(c.DoValue("XINFO", "STREAM", key), "radix-tree-keys")
		if !ok {
			return -1
		}
		return v.Int
	}
	if r, s := nodes(g.p.Runnel), nodes(g.p.Redis); r != s {
		g.p.Runnel.DoValue("DEL", key)
		g.p.Redis.DoValue("DEL", key)
		delete(g.lagUnsure, key)
	}
}

// comparison returns the comparison for mode on key.
func (g *sxRandom) comparison(mode sxRandMode, args []string) redistest.Comparison {
	maskLag := len(args) > 2 && g.lagUnsure[args[2]]
	switch mode {
	case sxModePending:
		return sxPendingTimes
	case sxModeInfoStream:
		return sxInfo(sxInfoStream, maskLag)
	case sxModeInfoFull:
		return sxInfo(sxInfoFull, maskLag)
	case sxModeInfoGroups:
		return sxInfo(sxInfoGroups, maskLag)
	case sxModeInfoConsumers:
		return sxInfo(sxInfoConsumers, maskLag)
	}
	return redistest.CompareExact
}

func TestStreamRandomized(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("RUNNEL_STREAM_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("RUNNEL_STREAM_SEED: %v", err)
		}
		seed = n
	}
	steps := 4000
	if testing.Short() {
		steps = 500
	}
	if v := os.Getenv("RUNNEL_STREAM_STEPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("RUNNEL_STREAM_STEPS: %v", err)
		}
		steps = n
	}
	t.Logf("seed %d (replay with RUNNEL_STREAM_SEED=%d), %d steps", seed, seed, steps)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d (replay with RUNNEL_STREAM_SEED=%d)", seed, seed)
		}
	})
	total := 0
	for _, gen := range sxRandGens {
		total += gen.weight
	}
	s := sxStart(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		g := &sxRandom{r: rand.New(rand.NewPCG(seed, uint64(sxProto(t)))), p: p, lagUnsure: map[string]bool{}, clock: 1}
		sxConfig(t, p, "stream-node-max-entries", g.pick([]string{"1", "2", "3", "5", "10", "100"}))
		next := func(inMulti bool) ([]string, sxRandMode) {
			for {
				n := g.r.IntN(total)
				for _, gen := range sxRandGens {
					if n -= gen.weight; n < 0 {
						if inMulti && !gen.multi {
							break
						}
						return gen.gen(g)
					}
				}
			}
		}
		var history []string
		record := func(cmd string) {
			if len(history) == 40 {
				history = history[1:]
			}
			history = append(history, cmd)
		}
		fail := func(step int) {
			t.Fatalf("seed %d: diverged at step %d; last commands:\n%s", seed, step, strings.Join(history, "\n"))
		}
		for step := 0; step < steps; step++ {
			if g.chance(60) {
				// A short transaction of commands whose replies are compared
				// exactly.
				p.Do("MULTI")
				g.inMulti = true
				var queued []string
				var all [][]string
				for range 1 + g.r.IntN(4) {
					args, mode := next(true)
					for mode != sxModeExact {
						args, mode = next(true)
					}
					g.note(args)
					p.Do(args...)
					queued = append(queued, redistest.FormatCommand(args))
					all = append(all, args)
				}
				g.inMulti = false
				record("MULTI; " + strings.Join(queued, "; ") + "; EXEC")
				names := make([]string, len(all))
				for i := range all {
					names[i] = all[i][0]
				}
				if !p.DoMatch(sxMultiExec(names, all), "EXEC") {
					fail(step)
				}
				for _, args := range all {
					g.resyncNodes(args)
				}
				continue
			}
			args, mode := next(false)
			record(redistest.FormatCommand(args))
			g.note(args)
			var ok bool
			switch mode {
			case sxModeGroupCall:
				ok = sxGroupCall(p, redistest.CompareExact, args...)
			case sxModeXSetID:
				ok = sxXSetID(p, args...)
			default:
				ok = sxDoMatch(p, g.comparison(mode, args), args...)
			}
			if !ok {
				fail(step)
			}
			g.resyncNodes(args)
		}
		// The final state matches too.
		for _, k := range append(sxRandKeys, "str") {
			for _, args := range [][]string{
				{"TYPE", k}, {"XRANGE", k, "-", "+"},
			} {
				if !sxDo(p, args...) {
					fail(steps)
				}
			}
			if !p.DoMatch(g.comparison(sxModeInfoFull, []string{"XINFO", "STREAM", k}), "XINFO", "STREAM", k, "FULL", "COUNT", "0") {
				fail(steps)
			}
			for _, gr := range sxRandGroups {
				if !sxPending(p, k, gr, "-", "+", "1000") {
					fail(steps)
				}
			}
		}
	})
}
