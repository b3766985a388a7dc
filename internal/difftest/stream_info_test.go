package difftest

// Differential tests of XINFO (spec §4 XINFO), entries-read and lag (§5),
// and the INFO counters stream commands move (§9): dirty, errorstats,
// commandstats, keyspace; plus COMMAND metadata of the stream commands.

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/runnel-io/runnel/internal/redistest"
)

func TestStreamXInfo(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "XINFO")
		sxDo(p, "XINFO", "HELP")
		sxDo(p, "xinfo", "help")
		sxDo(p, "XINFO", "HELP", "x")
		sxDo(p, "XINFO", "FOO")
		sxDo(p, "XINFO", "FOO", "k")
		sxDo(p, "XINFO", "STREAM")
		sxDo(p, "XINFO", "STREAM", "nokey")
		sxDo(p, "XINFO", "STREAM", "nokey", "FULL")
		sxDo(p, "XINFO", "GROUPS")
		sxDo(p, "XINFO", "GROUPS", "nokey")
		sxDo(p, "XINFO", "GROUPS", "nokey", "x")
		sxDo(p, "XINFO", "CONSUMERS", "nokey")
		sxDo(p, "XINFO", "CONSUMERS", "nokey", "g")
		sxDo(p, "XINFO", "CONSUMERS", "nokey", "g", "x")

		// An empty stream, then one with entries, groups and consumers.
		sxDo(p, "XGROUP", "CREATE", "s", "g1", "$", "MKSTREAM")
		sxXInfo(p, "s")
		sxXInfo(p, "s", "FULL")
		sxGroups(p, "s")
		sxConsumers(p, "s", "g1")
		sxDo(p, "XINFO", "CONSUMERS", "s", "nogroup")
		sxFill(p, "s", 1, 15)
		sxDo(p, "XADD", "s", "16-1", "a", "1", "b", "2")
		sxDo(p, "XGROUP", "CREATE", "s", "g2", "3-1")
		sxDo(p, "XGROUP", "CREATE", "s", "g0", "0", "ENTRIESREAD", "0")
		sxG(p, "XREADGROUP", "GROUP", "g1", "alice", "COUNT", "12", "STREAMS", "s", ">")
		sxG(p, "XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", "s", ">")
		sxG(p, "XREADGROUP", "GROUP", "g2", "carol", "NOACK", "COUNT", "3", "STREAMS", "s", ">")
		sxG(p, "XREADGROUP", "GROUP", "g2", "dave", "COUNT", "1", "STREAMS", "s", ">")
		sxDo(p, "XGROUP", "CREATECONSUMER", "s", "g2", "erin")
		sxDo(p, "XACK", "s", "g1", "2-1", "4-1")
		sxXInfo(p, "s")
		sxXInfo(p, "s", "FULL")
		for _, count := range []string{"0", "1", "3", "11", "-1", "-100", "100"} {
			sxXInfo(p, "s", "FULL", "COUNT", count)
		}
		sxXInfo(p, "s", "full", "count", "2")
		for _, bad := range [][]string{
			{"FOO"}, {"FULL", "FOO"}, {"FULL", "COUNT"}, {"FULL", "COUNT", "x"}, {"COUNT", "1"},
			{"FULL", "COUNT", "1", "x"}, {"FULL", "COUNT", "1", "COUNT", "2"}, {"FULL", "FULL"},
			{"FULL", "COUNT", "9223372036854775808"},
		} {
			sxDo(p, append([]string{"XINFO", "STREAM", "s"}, bad...)...)
			sxDo(p, append([]string{"XINFO", "STREAM", "nokey"}, bad...)...)
		}
		sxGroups(p, "s")
		sxConsumers(p, "s", "g1")
		sxConsumers(p, "s", "g2")
		sxConsumers(p, "s", "g0")

		// Deleted entries, first and last entries, max-deleted. Lag after
		// deletions follows rules newer than 7.0 (spec §5; TestStreamLag
		// checks them), so it is not compared here.
		lagMasked := func(kind sxInfoKind, args ...string) {
			t.Helper()
			p.DoMatch(sxInfo(kind, true), args...)
		}
		sxDo(p, "XDEL", "s", "1-1", "16-1", "8-1")
		lagMasked(sxInfoStream, "XINFO", "STREAM", "s")
		lagMasked(sxInfoFull, "XINFO", "STREAM", "s", "FULL", "COUNT", "3")
		lagMasked(sxInfoGroups, "XINFO", "GROUPS", "s")
		sxDo(p, "XTRIM", "s", "MAXLEN", "0")
		lagMasked(sxInfoStream, "XINFO", "STREAM", "s")
		lagMasked(sxInfoFull, "XINFO", "STREAM", "s", "FULL")
		lagMasked(sxInfoGroups, "XINFO", "GROUPS", "s")

		// Many groups and consumers: order is by name.
		for _, g := range []string{"zz", "aa", "m", "B", "b", "a1"} {
			sxDo(p, "XGROUP", "CREATE", "o", g, "0", "MKSTREAM")
			sxDo(p, "XGROUP", "CREATECONSUMER", "o", g, "y")
			sxDo(p, "XGROUP", "CREATECONSUMER", "o", g, "Y")
			sxDo(p, "XGROUP", "CREATECONSUMER", "o", g, "x1")
		}
		sxGroups(p, "o")
		sxConsumers(p, "o", "m")
		sxXInfo(p, "o", "FULL")

		sxDo(p, "SET", "str", "x")
		sxDo(p, "XINFO", "STREAM", "str")
		sxDo(p, "XINFO", "STREAM", "str", "FULL")
		sxDo(p, "XINFO", "STREAM", "str", "FOO")
		sxDo(p, "XINFO", "GROUPS", "str")
		sxDo(p, "XINFO", "CONSUMERS", "str", "g")
	})
}

// sxGroupLag compares XINFO GROUPS replies whose first group's
// entries-read and lag legitimately differ between 7.0 and the newer
// target (the caller cites the fix): Runnel must report want, Redis 7.0
// old ("" for nil); everything else must match.
func sxGroupLag(want, old [2]string) redistest.Comparison {
	get := func(v redistest.Value) ([2]string, error) {
		var out [2]string
		if len(v.Elems) == 0 {
			return out, fmt.Errorf("no group in %s", v)
		}
		for i, name := range []string{"entries-read", "lag"} {
			f, ok := redistest.Field(v.Elems[0], name)
			switch {
			case !ok:
				return out, fmt.Errorf("no %s", name)
			case f.IsNull():
				out[i] = ""
			case f.Kind == redistest.KindInt:
				out[i] = strconv.FormatInt(f.Int, 10)
			default:
				return out, fmt.Errorf("%s is %s", name, f)
			}
		}
		return out, nil
	}
	return func(r, s redistest.Value) error {
		if err := sxInfo(sxInfoGroups, true)(r, s); err != nil {
			return err
		}
		sv, err := get(s)
		if err != nil {
			return fmt.Errorf("redis: %v", err)
		}
		if sv != old {
			return fmt.Errorf("redis 7.0 was expected to report entries-read/lag %q, reported %q", old, sv)
		}
		rv, err := get(r)
		if err != nil {
			return fmt.Errorf("runnel: %v", err)
		}
		if sxSelfCheck {
			want = old
		}
		if rv != want {
			return fmt.Errorf("runnel must report entries-read/lag %q (newer than 7.0, see the spec §5), reported %q", want, rv)
		}
		return nil
	}
}

// The scenarios of the Redis tests on entries-read and lag (spec §5).
// Where 7.0.15 already gives the values the newer tests assert, replies
// are compared exactly; the 7.4 fixes are checked with sxGroupLag.
func TestStreamLag(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		full := func() { sxXInfo(p, "x", "FULL") }

		// "Consumer group read counter and lag in empty streams"
		sxDo(p, "XGROUP", "CREATE", "x", "g1", "0", "MKSTREAM")
		full()
		sxDo(p, "XADD", "x", "1-0", "data", "a")
		sxDo(p, "XDEL", "x", "1-0")
		full()

		// "Consumer group read counter and lag sanity"
		sxDo(p, "DEL", "x")
		for i := 1; i <= 5; i++ {
			sxDo(p, "XADD", "x", strconv.Itoa(i)+"-0", "data", "v")
		}
		sxDo(p, "XGROUP", "CREATE", "x", "g1", "0")
		full()
		sxG(p, "XREADGROUP", "GROUP", "g1", "c11", "COUNT", "1", "STREAMS", "x", ">")
		full()
		sxG(p, "XREADGROUP", "GROUP", "g1", "c12", "COUNT", "10", "STREAMS", "x", ">")
		full()
		sxDo(p, "XADD", "x", "6-0", "data", "f")
		full()

		// "Consumer group lag with XDELs"
		sxDo(p, "DEL", "x")
		for i := 1; i <= 5; i++ {
			sxDo(p, "XADD", "x", strconv.Itoa(i)+"-0", "data", "v")
		}
		sxDo(p, "XDEL", "x", "3-0")
		sxDo(p, "XGROUP", "CREATE", "x", "g1", "0")
		sxDo(p, "XGROUP", "CREATE", "x", "g2", "0")
		full()
		for range 4 {
			sxG(p, "XREADGROUP", "GROUP", "g1", "c11", "COUNT", "1", "STREAMS", "x", ">")
			full()
		}
		sxDo(p, "XADD", "x", "6-0", "data", "f")
		full()
		sxDo(p, "XTRIM", "x", "MINID", "=", "3-0")
		full()
		sxDo(p, "XTRIM", "x", "MINID", "=", "5-0")
		full()

		// ENTRIESREAD and SETID within entries_added.
		sxDo(p, "DEL", "x")
		for i := 1; i <= 5; i++ {
			sxDo(p, "XADD", "x", strconv.Itoa(i)+"-0", "data", "v")
		}
		sxDo(p, "XGROUP", "CREATE", "x", "g1", "2-0", "ENTRIESREAD", "2")
		sxDo(p, "XGROUP", "CREATE", "x", "g2", "$")
		sxDo(p, "XGROUP", "CREATE", "x", "g3", "3-0")
		sxDo(p, "XGROUP", "CREATE", "x", "g4", "1-0")
		sxDo(p, "XGROUP", "CREATE", "x", "g5", "0-1")
		sxDo(p, "XGROUP", "CREATE", "x", "g6", "99-0")
		sxGroups(p, "x")
		sxDo(p, "XGROUP", "SETID", "x", "g2", "4-0", "ENTRIESREAD", "4")
		sxDo(p, "XGROUP", "SETID", "x", "g1", "5-0")
		sxGroups(p, "x")
		sxG(p, "XREADGROUP", "GROUP", "g3", "c", "COUNT", "1", "STREAMS", "x", ">")
		sxG(p, "XREADGROUP", "GROUP", "g4", "c", "STREAMS", "x", ">")
		sxGroups(p, "x")
		sxDo(p, "XSETID", "x", "10-0", "ENTRIESADDED", "20")
		sxGroups(p, "x")

		// "Consumer Group Lag with XDELs and tombstone after the last_id of
		// consume group": fixed in 7.4 (#13338).
		sxDo(p, "DEL", "x")
		sxDo(p, "XGROUP", "CREATE", "x", "g1", "$", "MKSTREAM")
		sxDo(p, "XADD", "x", "1-0", "data", "a")
		sxG(p, "XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "x", ">")
		sxDo(p, "XADD", "x", "2-0", "data", "c")
		sxDo(p, "XADD", "x", "3-0", "data", "d")
		sxDo(p, "XDEL", "x", "2-0")
		sxGroups(p, "x") // 1, nil on both
		sxDo(p, "XDEL", "x", "1-0")
		p.DoMatch(sxGroupLag([2]string{"1", "1"}, [2]string{"1", "2"}), "XINFO", "GROUPS", "x")
		sxG(p, "XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "x", ">")
		p.DoMatch(sxGroupLag([2]string{"3", "0"}, [2]string{"2", "1"}), "XINFO", "GROUPS", "x")

		// "Consumer group lag with XTRIM": fixed in 7.4 (#13473).
		sxDo(p, "DEL", "x")
		sxDo(p, "XGROUP", "CREATE", "x", "mygroup", "$", "MKSTREAM")
		for i := 1; i <= 5; i++ {
			sxDo(p, "XADD", "x", strconv.Itoa(i)+"-0", "data", "v")
		}
		sxG(p, "XREADGROUP", "GROUP", "mygroup", "alice", "COUNT", "1", "STREAMS", "x", ">")
		sxGroups(p, "x") // 1, 4 on both
		sxDo(p, "XTRIM", "x", "MAXLEN", "1")
		p.DoMatch(sxGroupLag([2]string{"1", "1"}, [2]string{"1", "4"}), "XINFO", "GROUPS", "x")
		sxG(p, "XREADGROUP", "GROUP", "mygroup", "alice", "STREAMS", "x", ">")
		p.DoMatch(sxGroupLag([2]string{"5", "0"}, [2]string{"2", "3"}), "XINFO", "GROUPS", "x")
		sxDo(p, "XADD", "x", "6-0", "data", "f")
		p.DoMatch(sxGroupLag([2]string{"5", "1"}, [2]string{"2", "4"}), "XINFO", "GROUPS", "x")
		sxDo(p, "XTRIM", "x", "MAXLEN", "0")
		p.DoMatch(sxGroupLag([2]string{"5", "0"}, [2]string{"2", "4"}), "XINFO", "GROUPS", "x")
	})
}

// sxDirtyStep is one command of TestStreamDirty with the dirty increment
// it must cause: the same as Redis's, or for XREADGROUP the newer values
// with 7.0's for reference.
type sxDirtyStep struct {
	args       []string
	newer, old int64 // used when newer >= 0
}

// TestStreamDirty compares rdb_changes_since_last_save increments (spec
// §9): a read that delivers new entries adds 1 however many it delivers
// (Redis test "XREADGROUP of multiple entries changes dirty by one"; 7.0
// agrees). History reads differ from 7.0: since 7.4 they add 0 (#13251;
// test "XREADGROUP from PEL does not change dirty"), where 7.0 added 1.
func TestStreamDirty(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		exact := func(args ...string) sxDirtyStep { return sxDirtyStep{args: args, newer: -1} }
		newer := func(n, old int64, args ...string) sxDirtyStep {
			return sxDirtyStep{args: args, newer: n, old: old}
		}
		steps := []sxDirtyStep{
			exact("XADD", "s", "1-0", "data", "a"),
			exact("XADD", "s", "2-0", "data", "b"),
			exact("XADD", "s", "3-0", "data", "c"),
			exact("XADD", "s", "4-0", "data", "d"),
			exact("XADD", "s", "4-0", "data", "d"), // error
			exact("XADD", "n", "NOMKSTREAM", "1-0", "data", "a"),
			exact("XADD", "s", "MAXLEN", "10", "5-0", "data", "e"),
			exact("XGROUP", "CREATE", "s", "g1", "0"),
			exact("XGROUP", "CREATE", "s", "g1", "0"), // BUSYGROUP
			exact("XGROUP", "CREATE", "m", "g1", "$", "MKSTREAM"),
			exact("XGROUP", "CREATECONSUMER", "s", "g1", "Alice"),
			exact("XGROUP", "CREATECONSUMER", "s", "g1", "Alice"),
			exact("XGROUP", "CREATECONSUMER", "s", "g1", "Bob"),
			exact("XREADGROUP", "GROUP", "g1", "Alice", "COUNT", "2", "STREAMS", "s", ">"),
			exact("XREADGROUP", "GROUP", "g1", "Alice", "NOACK", "COUNT", "2", "STREAMS", "s", ">"),
			newer(0, 1, "XREADGROUP", "GROUP", "g1", "Alice", "COUNT", "2", "STREAMS", "s", "0"),
			newer(0, 1, "XREADGROUP", "GROUP", "g1", "Alice", "COUNT", "2", "STREAMS", "s", "9000"),
			exact("XREADGROUP", "GROUP", "g1", "Bob", "STREAMS", "s", ">"), // delivers 5-0
			exact("XREADGROUP", "GROUP", "g1", "Bob", "STREAMS", "s", ">"), // nothing
			exact("XACK", "s", "g1", "1-0", "2-0"),
			exact("XACK", "s", "g1", "1-0"),
			exact("XCLAIM", "s", "g1", "Bob", "0", "5-0"),
			exact("XCLAIM", "s", "g1", "Alice", "0", "5-0", "JUSTID"),
			exact("XCLAIM", "s", "g1", "Alice", "0", "5-0", "FORCE", "LASTID", "9-0"),
			exact("XGROUP", "SETID", "s", "g1", "0"),
			exact("XREADGROUP", "GROUP", "g1", "Alice", "COUNT", "1", "STREAMS", "s", ">"), // redelivers 1-0? no: acked
			exact("XAUTOCLAIM", "s", "g1", "Bob", "0", "0"),
			exact("XAUTOCLAIM", "s", "g1", "Bob", "0", "0", "JUSTID"),
			exact("XGROUP", "DELCONSUMER", "s", "g1", "Alice"),
			exact("XGROUP", "DELCONSUMER", "s", "g1", "Nobody"),
			exact("XDEL", "s", "1-0", "2-0"),
			exact("XDEL", "s", "1-0"),
			exact("XAUTOCLAIM", "s", "g1", "Bob", "0", "0"), // Bob still owns deleted ones? none
			exact("XTRIM", "s", "MAXLEN", "10"),
			exact("XTRIM", "s", "MAXLEN", "1"),
			exact("XSETID", "s", "10-0"),
			exact("XSETID", "s", "10-0", "ENTRIESADDED", "100", "MAXDELETEDID", "3-0"),
			exact("XGROUP", "DESTROY", "s", "g1"),
			exact("XGROUP", "DESTROY", "s", "g1"),
			exact("XADD", "s", "MAXLEN", "0", "11-0", "f", "v"),
			exact("XLEN", "s"),
			exact("XRANGE", "s", "-", "+"),
			exact("XREAD", "STREAMS", "s", "0"),
			exact("XINFO", "STREAM", "s"),
			exact("DEL", "s"),
		}
		dirty := func(c *redistest.Conn) int64 {
			return sxInfoInt(t, c, "persistence", "rdb_changes_since_last_save")
		}
		for _, st := range steps {
			rb, sb := dirty(p.Runnel), dirty(p.Redis)
			cmp := redistest.CompareExact
			switch strings.ToUpper(st.args[0]) {
			case "XINFO":
				cmp = sxInfo(sxInfoStream, false)
			}
			p.DoMatch(sxCompare(st.args, cmp), st.args...)
			rd, sd := dirty(p.Runnel)-rb, dirty(p.Redis)-sb
			what := redistest.FormatCommand(st.args)
			switch {
			case st.newer < 0 && rd != sd:
				t.Errorf("%s: dirty grew by %d on runnel, %d on redis", what, rd, sd)
			case st.newer >= 0 && sd != st.old:
				t.Errorf("%s: redis 7.0 was expected to add %d to dirty, added %d", what, st.old, sd)
			case st.newer >= 0 && !sxSelfCheck && rd != st.newer:
				t.Errorf("%s: dirty grew by %d on runnel; spec §9 says %d (7.0 adds %d)", what, rd, st.newer, st.old)
			case st.newer >= 0 && sxSelfCheck && rd != sd:
				t.Errorf("%s: dirty grew by %d and %d", what, rd, sd)
			}
		}
	})
}

// sxInfoLines returns the "name:value" lines of an INFO section whose names
// start with prefix, with the timing fields of commandstats removed.
func sxInfoLines(t *testing.T, c *redistest.Conn, section, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, fields := range info(t, c, section) {
		for k, v := range fields {
			if strings.HasPrefix(k, prefix) {
				out[k] = stripUsec(v)
			}
		}
	}
	return out
}

// TestStreamInfoStats compares errorstats, commandstats and the error and
// keyspace counters after stream commands that succeed, fail at run time
// and are rejected (spec §9).
func TestStreamInfoStats(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "CONFIG", "RESETSTAT")
		sxDo(p, "XADD", "s", "1", "f")             // rejected (arity)
		sxDo(p, "XGROUP", "CREATE", "s", "g", "0") // ERR
		sxDo(p, "XGROUP", "CREATE", "s", "g", "0", "MKSTREAM")
		sxDo(p, "XGROUP", "CREATE", "s", "g", "0") // BUSYGROUP
		sxDo(p, "SET", "str", "x")
		sxDo(p, "XADD", "str", "*", "f", "v")                         // WRONGTYPE
		sxDo(p, "XREADGROUP", "GROUP", "x", "c", "STREAMS", "s", ">") // NOGROUP
		sxDo(p, "XINFO", "STREAM", "nokey")                           // ERR
		sxDo(p, "XINFO", "FOO")                                       // unknown subcommand
		sxDo(p, "XGROUP", "HELP", "x")                                // subcommand arity
		sxDo(p, "XADD", "s", "1-1", "f", "v")
		sxDo(p, "XADD", "s", "2-1", "f", "v")
		sxDo(p, "XGROUP", "CREATECONSUMER", "s", "g", "c")
		sxDo(p, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
		sxDo(p, "XACK", "s", "g", "1-1")
		sxPending(p, "s", "g", "-", "+", "10")
		sxDo(p, "XCLAIM", "s", "g", "c", "x", "2-1")                 // ERR
		sxDo(p, "XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "0") // ERR
		sxDo(p, "XRANGE", "s", "-", "+")
		sxDo(p, "XREAD", "STREAMS", "s", "0")
		sxDo(p, "XLEN", "s")
		sxDo(p, "XLEN", "nokey")
		sxDo(p, "XRANGE", "nokey", "-", "+")
		sxDo(p, "XDEL", "s", "1-1")
		sxDo(p, "XTRIM", "s", "MAXLEN", "0")
		sxDo(p, "XSETID", "nokey", "1-1") // ERR
		sxDo(p, "XGROUP", "DESTROY", "s", "g")
		sxDo(p, "XGROUP", "SETID", "s", "g", "0") // NOGROUP

		want := [2]map[string]string{}
		for i, c := range []*redistest.Conn{p.Runnel, p.Redis} {
			m := sxInfoLines(t, c, "errorstats", "errorstat_")
			for k, v := range sxInfoLines(t, c, "commandstats", "cmdstat_x") {
				m[k] = v
			}
			for _, f := range []string{"total_error_replies", "keyspace_hits", "keyspace_misses"} {
				m[f] = strconv.FormatInt(sxInfoInt(t, c, "stats", f), 10)
			}
			for k, v := range info(t, c, "keyspace")["keyspace"] {
				m[k] = v
			}
			want[i] = m
		}
		for k, s := range want[1] {
			if r := want[0][k]; r != s {
				t.Errorf("INFO %s: runnel %q, redis %q", k, r, s)
			}
		}
		for k, r := range want[0] {
			if _, ok := want[1][k]; !ok && (strings.HasPrefix(k, "cmdstat_x") || strings.HasPrefix(k, "errorstat_")) {
				t.Errorf("INFO %s: runnel %q, redis has none", k, r)
			}
		}
	})
}

// The registrations of the 7.0 stream commands (name, arity, flags, key
// positions) and COMMAND GETKEYS for their key layouts.
func TestStreamCommandInfo(t *testing.T) {
	s := sxStart(t)
	p := s.pair(t, 2)
	defer p.Close()
	for _, name := range []string{"xadd", "xlen", "xrange", "xrevrange", "xdel", "xtrim", "xsetid",
		"xread", "xreadgroup", "xack", "xpending", "xclaim", "xautoclaim", "xgroup|create",
		"xgroup|setid", "xgroup|destroy", "xgroup|createconsumer", "xgroup|delconsumer", "xgroup|help",
		"xinfo|stream", "xinfo|groups", "xinfo|consumers", "xinfo|help"} {
		p.DoMatch(strCommandHead, "COMMAND", "INFO", name)
	}
	for _, args := range [][]string{
		{"XADD", "k", "*", "f", "v"}, {"XLEN", "k"}, {"XRANGE", "k", "-", "+"}, {"XDEL", "k", "1"},
		{"XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"}, {"XREAD", "STREAMS", "a", "0"},
		{"XREAD", "BLOCK", "0", "STREAMS", "streams", "0"},
		{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", ">", ">"},
		{"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "NOACK", "STREAMS", "a", ">"},
		{"XGROUP", "CREATE", "key", "groupname", "$"}, {"XGROUP", "DESTROY", "key", "g"},
		{"XINFO", "STREAM", "k"}, {"XINFO", "CONSUMERS", "k", "g"}, {"XACK", "k", "g", "1"},
		{"XPENDING", "k", "g"}, {"XCLAIM", "k", "g", "c", "0", "1"}, {"XAUTOCLAIM", "k", "g", "c", "0", "0"},
		{"XSETID", "k", "1"}, {"XTRIM", "k", "MAXLEN", "1"},
		{"XREAD", "STREAMS", "a", "b", "0"}, {"XREAD", "STREAMS"},
	} {
		p.Do(append([]string{"COMMAND", "GETKEYS"}, args...)...)
	}
}
