package difftest

// Differential tests of the consumer-group commands: XGROUP, XREADGROUP
// (non-blocking), XACK, XPENDING, XCLAIM and XAUTOCLAIM (spec §4).
//
// XREADGROUP, XCLAIM and XAUTOCLAIM go through sxGroupCall: since 7.2 they
// create their consumer up front, 7.0 only when it serves or claims
// something (see sxTouchConsumer).

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/redistest"
)

// sxG runs a group command (XREADGROUP, XCLAIM, XAUTOCLAIM) with exact
// comparison.
func sxG(p *redistest.Pair, args ...string) bool {
	return sxGroupCall(p, redistest.CompareExact, args...)
}

// sxGroups compares XINFO GROUPS key.
func sxGroups(p *redistest.Pair, key string) bool {
	return p.DoMatch(sxInfo(sxInfoGroups, false), "XINFO", "GROUPS", key)
}

// sxConsumers compares XINFO CONSUMERS key group.
func sxConsumers(p *redistest.Pair, key, group string) bool {
	return p.DoMatch(sxInfo(sxInfoConsumers, false), "XINFO", "CONSUMERS", key, group)
}

// sxPending compares an XPENDING (idle times within sxTol).
func sxPending(p *redistest.Pair, args ...string) bool {
	return p.DoMatch(sxPendingTimes, append([]string{"XPENDING"}, args...)...)
}

func TestStreamXGroup(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		// The container and HELP.
		sxDo(p, "XGROUP")
		sxDo(p, "XGROUP", "HELP")
		sxDo(p, "xgroup", "help")
		sxDo(p, "XGROUP", "HELP", "x")
		sxDo(p, "XGROUP", "FOO")
		sxDo(p, "XGROUP", "FOO", "k", "g")

		// CREATE.
		sxDo(p, "XGROUP", "CREATE")
		sxDo(p, "XGROUP", "CREATE", "s")
		sxDo(p, "XGROUP", "CREATE", "s", "g")
		sxDo(p, "XGROUP", "CREATE", "s", "g", "$")
		sxDo(p, "XGROUP", "CREATE", "s", "g", "0")
		sxDo(p, "EXISTS", "s")
		sxDo(p, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
		sxDo(p, "TYPE", "s")
		sxXInfo(p, "s")
		sxDo(p, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM") // BUSYGROUP
		sxDo(p, "XGROUP", "CREATE", "s", "g", "0")
		sxFill(p, "s", 1, 5)
		sxDo(p, "XGROUP", "CREATE", "s", "g2", "$")
		sxDo(p, "XGROUP", "CREATE", "s", "g3", "3")   // incomplete: 3-0
		sxDo(p, "XGROUP", "CREATE", "s", "g4", "0-0") // the first entry onward
		sxDo(p, "XGROUP", "CREATE", "s", "g5", "99-0")
		sxDo(p, "XGROUP", "CREATE", "s", "g6", "2-1", "ENTRIESREAD", "2")
		sxDo(p, "XGROUP", "CREATE", "s", "g7", "0", "ENTRIESREAD", "0")
		sxDo(p, "XGROUP", "CREATE", "s", "g8", "$", "ENTRIESREAD", "-1")
		sxDo(p, "XGROUP", "CREATE", "s", "g9", "$", "entriesread", "5", "mkstream")
		sxDo(p, "XGROUP", "CREATE", "s", "", "$") // an empty name is allowed
		sxDo(p, "XGROUP", "CREATE", "s", "bin\x00\r\n", "$")
		for _, bad := range [][]string{
			{"-"}, {"+"}, {"bad"}, {"(1"}, {"*"}, {">"}, {"-1"}, {"1-2-3"},
			{"$", "ENTRIESREAD", "-2"}, {"$", "ENTRIESREAD", "x"}, {"$", "ENTRIESREAD"},
			{"$", "ENTRIESREAD", "1.5"}, {"$", "MKSTREAM", "FOO"}, {"$", "FOO"},
			{"$", "ENTRIESREAD", "9223372036854775808"}, {"bad", "FOO"}, {"bad", "ENTRIESREAD", "-2"},
			{"$", "ENTRIESREAD", "-2", "FOO"},
		} {
			sxDo(p, append([]string{"XGROUP", "CREATE", "s", "gx"}, bad...)...)
			sxDo(p, append([]string{"XGROUP", "CREATE", "nokey", "gx"}, bad...)...)
			sxDo(p, append([]string{"XGROUP", "CREATE", "nokey", "gx"}, append(bad, "MKSTREAM")...)...)
		}
		sxDo(p, "EXISTS", "nokey")
		sxGroups(p, "s")

		// SETID.
		sxDo(p, "XGROUP", "SETID")
		sxDo(p, "XGROUP", "SETID", "s", "g")
		sxDo(p, "XGROUP", "SETID", "nokey", "g", "0")
		sxDo(p, "XGROUP", "SETID", "s", "nogroup", "0")
		sxDo(p, "XGROUP", "SETID", "s", "g", "3-1")
		sxDo(p, "XGROUP", "SETID", "s", "g2", "0", "ENTRIESREAD", "0")
		sxDo(p, "XGROUP", "SETID", "s", "g3", "$")
		sxDo(p, "XGROUP", "SETID", "s", "g4", "-") // the non-strict parser
		sxDo(p, "XGROUP", "SETID", "s", "g5", "+")
		sxDo(p, "XGROUP", "SETID", "s", "g6", "4", "ENTRIESREAD", "4")
		sxDo(p, "XGROUP", "SETID", "s", "g7", "(2")
		sxDo(p, "XGROUP", "SETID", "s", "g7", "bad")
		sxDo(p, "XGROUP", "SETID", "s", "g7", "0", "ENTRIESREAD", "-2")
		sxDo(p, "XGROUP", "SETID", "s", "g7", "0", "ENTRIESREAD")
		sxDo(p, "XGROUP", "SETID", "s", "g7", "0", "FOO")
		sxDo(p, "XGROUP", "SETID", "s", "g7", "0", "MKSTREAM")
		sxDo(p, "XGROUP", "SETID", "nokey", "g7", "bad")
		sxDo(p, "XGROUP", "SETID", "s", "nogroup", "bad")
		sxGroups(p, "s")

		// CREATECONSUMER and DELCONSUMER.
		sxDo(p, "XGROUP", "CREATECONSUMER", "s", "g", "alice")
		sxDo(p, "XGROUP", "CREATECONSUMER", "s", "g", "alice")
		sxDo(p, "XGROUP", "CREATECONSUMER", "s", "g", "bob")
		sxDo(p, "XGROUP", "CREATECONSUMER", "s", "nogroup", "alice")
		sxDo(p, "XGROUP", "CREATECONSUMER", "nokey", "g", "alice")
		sxDo(p, "XGROUP", "CREATECONSUMER", "s", "g")
		sxDo(p, "XGROUP", "CREATECONSUMER", "s", "g", "a", "b")
		sxConsumers(p, "s", "g")
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">")
		sxG(p, "XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">")
		sxDo(p, "XGROUP", "DELCONSUMER", "s", "g", "bob") // its pending count
		sxDo(p, "XGROUP", "DELCONSUMER", "s", "g", "bob")
		sxDo(p, "XGROUP", "DELCONSUMER", "s", "g", "nobody")
		sxDo(p, "XGROUP", "DELCONSUMER", "s", "nogroup", "alice")
		sxDo(p, "XGROUP", "DELCONSUMER", "nokey", "g", "alice")
		sxDo(p, "XGROUP", "DELCONSUMER", "s", "g")
		sxPending(p, "s", "g")
		sxConsumers(p, "s", "g")
		sxGroups(p, "s")

		// DESTROY.
		sxDo(p, "XGROUP", "DESTROY", "s", "g2")
		sxDo(p, "XGROUP", "DESTROY", "s", "g2")
		sxDo(p, "XGROUP", "DESTROY", "nokey", "g2")
		sxDo(p, "XGROUP", "DESTROY", "s")
		sxDo(p, "XGROUP", "DESTROY", "s", "g", "x")
		sxDo(p, "XGROUP", "DESTROY", "s", "g")
		sxGroups(p, "s")
		sxDo(p, "XGROUP", "CREATE", "s", "g", "0")
		sxPending(p, "s", "g")

		// Wrong type, and the order of checks.
		sxDo(p, "SET", "str", "x")
		for _, sub := range [][]string{
			{"CREATE", "str", "g", "$"}, {"CREATE", "str", "g", "$", "MKSTREAM"}, {"CREATE", "str", "g", "bad"},
			{"SETID", "str", "g", "0"}, {"DESTROY", "str", "g"}, {"CREATECONSUMER", "str", "g", "c"},
			{"DELCONSUMER", "str", "g", "c"}, {"CREATE", "str", "g", "$", "FOO"},
		} {
			sxDo(p, append([]string{"XGROUP"}, sub...)...)
		}
		sxDo(p, "xgroup", "create", "s", "lower", "$")
		sxDo(p, "XGROUP", "create", "s", "lower", "$")
	})
}

func TestStreamXReadGroup(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "XGROUP", "CREATE", "s", "g", "0", "MKSTREAM")
		sxFill(p, "s", 1, 6)
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">")
		sxG(p, "XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "STREAMS", "s", ">")
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0")   // alice's history
		sxG(p, "XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0-0")   // bob's
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "1-1") // after 1-1
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", "0")
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "0", "STREAMS", "s", "0")
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "99") // empty history: key with []
		sxG(p, "XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", "0")  // a new consumer's history

		sxPending(p, "s", "g", "-", "+", "10") // delivery counts went up
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "NOACK", "COUNT", "1", "STREAMS", "s", ">")
		sxPending(p, "s", "g")
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "NOACK", "STREAMS", "s", "0") // NOACK ignored for history
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "100", "STREAMS", "s", "0")
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">") // nothing new: null
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "5", "STREAMS", "s", ">")
		sxPending(p, "s", "g", "-", "+", "10")
		sxConsumers(p, "s", "g")
		sxGroups(p, "s")

		// Entries deleted while pending come back as [id, nil].
		sxDo(p, "XDEL", "s", "1-1", "5-1")
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0")
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", "0")
		sxPending(p, "s", "g", "-", "+", "10")
		sxDo(p, "XTRIM", "s", "MAXLEN", "0")
		sxG(p, "XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0")

		// Several streams; the same group name on each.
		sxDo(p, "XGROUP", "CREATE", "a", "g", "0", "MKSTREAM")
		sxDo(p, "XGROUP", "CREATE", "b", "g", "0", "MKSTREAM")
		sxFill(p, "a", 1, 3)
		sxFill(p, "b", 2, 3)
		sxG(p, "XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "a", "b", ">", ">")
		sxG(p, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", "0", ">")
		sxG(p, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", ">", "0")
		sxG(p, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", ">", ">")
		sxG(p, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "a", "0", "0")

		// A group moved back redelivers: pending entries are reassigned.
		sxDo(p, "XGROUP", "SETID", "a", "g", "0")
		sxG(p, "XREADGROUP", "GROUP", "g", "d", "COUNT", "2", "STREAMS", "a", ">")
		sxPending(p, "a", "g", "-", "+", "10")
		sxConsumers(p, "a", "g")
		sxGroups(p, "a")

		// Errors, in the order Redis checks them.
		for _, args := range [][]string{
			{"XREADGROUP"},
			{"XREADGROUP", "STREAMS", "s", ">"},
			{"XREADGROUP", "COUNT", "1", "STREAMS", "s", ">"},
			{"XREADGROUP", "GROUP", "g", "STREAMS", "s", ">"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "a", ">"},
			{"XREADGROUP", "GROUP", "g", "c", "COUNT", "x", "STREAMS", "s", ">"},
			{"XREADGROUP", "GROUP", "g", "c", "COUNT", "-1", "STREAMS", "s", ">"},
			{"XREADGROUP", "GROUP", "g", "c", "BLOCK", "-1", "STREAMS", "s", ">"},
			{"XREADGROUP", "GROUP", "g", "c", "BLOCK", "x", "STREAMS", "s", ">"},
			{"XREADGROUP", "GROUP", "g", "c", "FOO", "STREAMS", "s", ">"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey", ">"},
			{"XREADGROUP", "GROUP", "nogroup", "c", "STREAMS", "s", ">"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "nokey", ">", ">"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey", "a", ">", ">"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "+"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "bad"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "-"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "(1"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey", "bad"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey", "$"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "a", "$", ">"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "s", ">", "bad"},
			{"XREADGROUP", "GROUP", "g", "c", "GROUP", "h", "d", "STREAMS", "s", ">"},
			{"XREADGROUP", "GROUP", "nogroup", "c", "GROUP", "g", "c", "STREAMS", "s", ">"},
			{"XREADGROUP", "NOACK", "STREAMS", "s", ">"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "a", "b", "0", "0"},
		} {
			sxG(p, args...)
		}
		sxDo(p, "SET", "str", "x")
		sxG(p, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">")
		sxG(p, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "str", ">", ">")
		sxG(p, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", "a", ">", ">")
		sxG(p, "xreadgroup", "group", "g", "c", "count", "1", "noack", "streams", "a", "0")
		sxPending(p, "a", "g", "-", "+", "10")
	})
}

// Redis encodes '>' as the largest ID, so an explicit
// 18446744073709551615-18446744073709551615 in XREADGROUP reads new entries
// exactly like '>' (in 7.0 and in the newer source alike).
func TestStreamXReadGroupMaxID(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "XGROUP", "CREATE", "s", "g", "0", "MKSTREAM")
		sxFill(p, "s", 1, 6)
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">")
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", sxMaxID)
		sxPending(p, "s", "g", "-", "+", "10")
		sxG(p, "XREADGROUP", "GROUP", "g", "bob", "NOACK", "STREAMS", "s", sxMaxID)
		sxG(p, "XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", sxMaxID)                  // nothing new: null
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "18446744073709551615") // a history read
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "18446744073709551615-18446744073709551614")
		sxPending(p, "s", "g", "-", "+", "10")
		sxGroups(p, "s")
	})
}

// XREADGROUP on a new consumer with nothing to deliver: since 7.2 the
// consumer exists afterwards (spec §4 XREADGROUP; Redis test "Consumer
// seen-time and active-time"), with inactive -1; 7.0 does not create it.
func TestStreamXReadGroupCreatesConsumer(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
		sxDo(p, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">")
		names := func(v redistest.Value) ([]string, []int64) {
			var ns []string
			var inactive []int64
			for _, c := range v.Elems {
				n, _ := redistest.Field(c, "name")
				ns = append(ns, n.Str)
				if in, ok := redistest.Field(c, "inactive"); ok {
					inactive = append(inactive, in.Int)
				}
			}
			return ns, inactive
		}
		p.DoMatch(func(r, s redistest.Value) error {
			rn, rin := names(r)
			sn, _ := names(s)
			if len(sn) != 0 {
				return fmt.Errorf("redis 7.0 was expected to have no consumer, has %q", sn)
			}
			if sxSelfCheck {
				return redistest.CompareExact(r, s)
			}
			if len(rn) != 1 || rn[0] != "alice" || len(rin) != 1 || rin[0] != -1 {
				return fmt.Errorf("runnel must list consumer alice with inactive -1, has %q %v", rn, rin)
			}
			return nil
		}, "XINFO", "CONSUMERS", "s", "g")
	})
}

func TestStreamXAck(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "XACK", "nokey", "g", "1-1")
		sxDo(p, "XACK", "nokey", "g", "bad")
		sxDo(p, "XGROUP", "CREATE", "s", "g", "0", "MKSTREAM")
		sxFill(p, "s", 1, 5)
		sxDo(p, "XACK", "s", "nogroup", "1-1")
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">")
		sxG(p, "XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">")
		sxDo(p, "XACK", "s", "g", "1-1", "2-1", "bad") // one bad ID: nothing acked
		sxPending(p, "s", "g")
		sxDo(p, "XACK", "s", "g", "1-1", "1-1", "9-9")
		sxDo(p, "XACK", "s", "g", "1-1")
		sxDo(p, "XACK", "s", "g", "2", "4-1") // 2 is 2-0: not pending
		sxDo(p, "XACK", "s", "g", "-")
		sxDo(p, "XACK", "s", "g", "+")
		sxDo(p, "XACK", "s", "g", "(2-1")
		sxDo(p, "XACK", "s", "g", "*")
		sxPending(p, "s", "g")
		sxPending(p, "s", "g", "-", "+", "10")
		sxConsumers(p, "s", "g")
		sxDo(p, "XDEL", "s", "3-1")
		sxDo(p, "XACK", "s", "g", "3-1", "5-1") // deleted entries are still pending
		sxPending(p, "s", "g")
		sxDo(p, "XACK", "s", "g")
		sxDo(p, "XACK", "s")
		sxDo(p, "XACK")
		sxDo(p, "SET", "str", "x")
		sxDo(p, "XACK", "str", "g", "1-1")
		sxDo(p, "XACK", "str", "g", "bad")
	})
}

func TestStreamXPending(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "XPENDING", "nokey", "g")
		sxDo(p, "XPENDING", "nokey", "g", "-", "+", "10")
		sxDo(p, "XPENDING", "nokey", "g", "bad", "+", "10") // syntax before NOGROUP
		sxDo(p, "XPENDING", "nokey", "g", "-", "+", "x")
		sxDo(p, "XGROUP", "CREATE", "s", "g", "0", "MKSTREAM")
		sxDo(p, "XPENDING", "s", "nogroup")
		sxDo(p, "XPENDING", "s", "g") // empty PEL: [0, nil, nil, nil]
		sxDo(p, "XPENDING", "s", "g", "-", "+", "10")
		sxDo(p, "XPENDING", "s", "g", "-", "+", "10", "nobody")
		sxFill(p, "s", 1, 10)
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "4", "STREAMS", "s", ">")
		sxG(p, "XREADGROUP", "GROUP", "g", "bob", "COUNT", "3", "STREAMS", "s", ">")
		sxG(p, "XREADGROUP", "GROUP", "g", "carol", "COUNT", "3", "STREAMS", "s", ">")
		sxDo(p, "XACK", "s", "g", "8-1", "9-1", "10-1") // carol has none left
		sxDo(p, "XGROUP", "CREATECONSUMER", "s", "g", "dave")
		sxDo(p, "XPENDING", "s", "g") // counts as bulk strings; zero-count consumers omitted
		for _, args := range [][]string{
			{"-", "+", "10"}, {"-", "+", "3"}, {"-", "+", "0"}, {"-", "+", "-1"},
			{"2", "5", "10"}, {"(2-1", "(5-1", "10"}, {"(2", "5", "10"}, {"5", "2", "10"},
			{"-", "+", "10", "alice"}, {"-", "+", "10", "bob"}, {"-", "+", "10", "carol"},
			{"-", "+", "10", "nobody"}, {"-", "+", "2", "bob"}, {"3-1", "+", "10", "alice"},
			{"IDLE", "0", "-", "+", "10"}, {"IDLE", "3600000", "-", "+", "10"},
			{"IDLE", "0", "-", "+", "10", "alice"}, {"IDLE", "-5", "-", "+", "10"},
			{"idle", "0", "-", "+", "2", "bob"}, {"-", "+", "9223372036854775807"},
			{"(" + sxMaxID, "+", "10"}, {"-", "(0-0", "10"}, {"(-", "+", "10"},
			{"-", "(+", "10"}, {"-", "18446744073709551615", "10"},
		} {
			sxPending(p, append([]string{"s", "g"}, args...)...)
		}
		// Errors: argc must be 3 or 6 to 9.
		for _, args := range [][]string{
			{"s"}, {"s", "g", "-"}, {"s", "g", "-", "+"}, {"s", "g", "-", "+", "x"},
			{"s", "g", "bad", "+", "10"}, {"s", "g", "-", "bad", "10"}, {"s", "g", "-", "+", "1.5"},
			{"s", "g", "-", "+", "10", "alice", "x"}, {"s", "g", "IDLE", "10"},
			{"s", "g", "IDLE", "10", "-", "+"}, {"s", "g", "IDLE", "x", "-", "+", "10"},
			{"s", "g", "IDLE", "10", "-", "+", "10", "alice", "x"}, {"s", "g", "FOO", "10", "-", "+", "10"},
			{"s", "g", "IDLE", "10", "-", "+", "x"}, {"s", "nogroup", "-", "+", "x"},
			{"s", "nogroup", "IDLE", "x", "-", "+", "10"}, {"nokey", "g", "IDLE", "10", "-", "+", "10"},
			{"s", "g", "x", "+", "10", "alice"}, {"s", "g", "IDLE", "10", "IDLE", "10", "-", "+", "10"},
		} {
			sxPending(p, args...)
		}
		sxDo(p, "XPENDING")
		// Entries whose data was deleted stay pending.
		sxDo(p, "XDEL", "s", "1-1", "2-1")
		sxDo(p, "XPENDING", "s", "g")
		sxPending(p, "s", "g", "-", "+", "10")
		sxDo(p, "SET", "str", "x")
		sxDo(p, "XPENDING", "str", "g")
		sxDo(p, "XPENDING", "str", "g", "-", "+", "10")
		sxDo(p, "XPENDING", "str", "g", "bad", "+", "10")
	})
}

func TestStreamXClaim(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxG(p, "XCLAIM", "nokey", "g", "c", "0", "1-1")
		sxG(p, "XCLAIM", "nokey", "g", "c", "x", "1-1") // NOGROUP first
		sxDo(p, "XGROUP", "CREATE", "s", "g", "0", "MKSTREAM")
		sxG(p, "XCLAIM", "s", "nogroup", "c", "0", "1-1")
		sxFill(p, "s", 1, 8)
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "6", "STREAMS", "s", ">")
		sxG(p, "XCLAIM", "s", "g", "bob", "0", "1-1")
		sxG(p, "XCLAIM", "s", "g", "bob", "-5", "2-1", "3-1")              // negative min-idle: 0
		sxG(p, "XCLAIM", "s", "g", "bob", "3600000", "4-1")                // not idle enough
		sxG(p, "XCLAIM", "s", "g", "bob", "0", "4-1", "JUSTID")            // JUSTID: count unchanged
		sxG(p, "XCLAIM", "s", "g", "bob", "0", "4-1", "4-1", "9-9", "7-1") // order of the arguments
		sxPending(p, "s", "g", "-", "+", "10")
		sxG(p, "XCLAIM", "s", "g", "carol", "0", "5-1", "RETRYCOUNT", "7")
		sxG(p, "XCLAIM", "s", "g", "carol", "0", "6-1", "IDLE", "5000", "RETRYCOUNT", "0")
		sxG(p, "XCLAIM", "s", "g", "carol", "0", "1-1", "TIME", "1")              // long ago
		sxG(p, "XCLAIM", "s", "g", "carol", "0", "2-1", "TIME", "99999999999999") // future: now
		sxG(p, "XCLAIM", "s", "g", "carol", "0", "3-1", "IDLE", "-5")             // negative: now
		sxPending(p, "s", "g", "-", "+", "10")
		sxG(p, "XCLAIM", "s", "g", "dave", "4000", "5-1", "6-1", "JUSTID") // only 6-1 is idle
		sxG(p, "XCLAIM", "s", "g", "dave", "0", "7-1")                     // not pending
		sxG(p, "XCLAIM", "s", "g", "dave", "0", "7-1", "FORCE")            // FORCE creates it
		sxG(p, "XCLAIM", "s", "g", "dave", "0", "9-9", "FORCE")            // no such entry
		sxG(p, "XCLAIM", "s", "g", "dave", "0", "8-1", "FORCE", "JUSTID", "RETRYCOUNT", "3", "IDLE", "10000")
		sxPending(p, "s", "g", "-", "+", "10")
		sxGroups(p, "s")
		sxG(p, "XCLAIM", "s", "g", "dave", "0", "8-1", "LASTID", "20-0")
		sxG(p, "XCLAIM", "s", "g", "dave", "0", "8-1", "LASTID", "10-0", "JUSTID") // not lower
		sxGroups(p, "s")
		sxConsumers(p, "s", "g")

		// Entries deleted from the stream leave the PEL when claimed.
		sxDo(p, "XDEL", "s", "1-1", "2-1")
		sxG(p, "XCLAIM", "s", "g", "erin", "0", "1-1", "2-1", "3-1")
		sxPending(p, "s", "g", "-", "+", "10")
		sxDo(p, "XPENDING", "s", "g")

		// Options and errors.
		for _, args := range [][]string{
			{"x", "3-1"}, {"1.5", "3-1"}, {"9223372036854775808", "3-1"},
			{"0", "3-1", "IDLE"}, {"0", "3-1", "IDLE", "x"}, {"0", "3-1", "TIME", "x"},
			{"0", "3-1", "RETRYCOUNT", "x"}, {"0", "3-1", "RETRYCOUNT", "-1"},
			{"0", "3-1", "LASTID", "bad"}, {"0", "3-1", "LASTID", "-"}, {"0", "3-1", "LASTID"},
			{"0", "3-1", "FOO"}, {"0", "3-1", "bad", "4-1"}, {"0", "bad"}, {"0", "FORCE"},
			{"0", "3-1", "JUSTID", "FOO"}, {"0", "3-1", "idle", "1", "justid", "force"},
			{"0", "3-1", "IDLE", "1.5"}, {"0", "-", "3-1"}, {"0", "+"}, {"0", "(3-1"},
			{"0", "3", "4-1"},
		} {
			sxG(p, append([]string{"XCLAIM", "s", "g", "frank"}, args...)...)
		}
		sxPending(p, "s", "g", "-", "+", "10")
		sxG(p, "XCLAIM", "s", "g", "c", "0")
		sxG(p, "XCLAIM", "s", "g", "c")
		sxG(p, "XCLAIM")
		sxDo(p, "SET", "str", "x")
		sxG(p, "XCLAIM", "str", "g", "c", "0", "1-1")
		sxG(p, "XCLAIM", "str", "g", "c", "x", "1-1")
		sxConsumers(p, "s", "g")
	})
}

func TestStreamXAutoClaim(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxG(p, "XAUTOCLAIM", "nokey", "g", "c", "0", "0")
		sxG(p, "XAUTOCLAIM", "nokey", "g", "c", "x", "0") // argument errors first
		sxG(p, "XAUTOCLAIM", "nokey", "g", "c", "0", "bad")
		sxG(p, "XAUTOCLAIM", "nokey", "g", "c", "0", "0", "COUNT", "0")
		sxDo(p, "XGROUP", "CREATE", "s", "g", "0", "MKSTREAM")
		sxG(p, "XAUTOCLAIM", "s", "nogroup", "c", "0", "0")
		sxG(p, "XAUTOCLAIM", "s", "g", "c", "0", "0") // empty PEL
		sxFill(p, "s", 1, 12)
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
		sxG(p, "XAUTOCLAIM", "s", "g", "bob", "0", "0", "COUNT", "3")
		sxG(p, "XAUTOCLAIM", "s", "g", "bob", "0", "4-1", "COUNT", "3", "JUSTID")
		sxG(p, "XAUTOCLAIM", "s", "g", "bob", "0", "(6-1", "COUNT", "2")
		sxG(p, "XAUTOCLAIM", "s", "g", "bob", "3600000", "0") // nothing idle enough: cursor 0-0
		sxG(p, "XAUTOCLAIM", "s", "g", "bob", "-1", "12-1")
		sxPending(p, "s", "g", "-", "+", "20")
		// Deleted entries: removed, reported, and counted toward COUNT.
		sxDo(p, "XDEL", "s", "2-1", "3-1", "4-1", "8-1")
		sxG(p, "XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "2")
		sxG(p, "XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "3")
		sxG(p, "XAUTOCLAIM", "s", "g", "carol", "0", "-", "JUSTID")
		sxPending(p, "s", "g", "-", "+", "20")
		sxDo(p, "XPENDING", "s", "g")
		// COUNT*10 attempts: with min-idle above every idle time nothing is
		// claimed and the cursor stops after 10 entries.
		sxFill(p, "s", 13, 40)
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
		sxG(p, "XAUTOCLAIM", "s", "g", "dave", "3600000", "0", "COUNT", "1")
		sxG(p, "XAUTOCLAIM", "s", "g", "dave", "3600000", "0", "COUNT", "2")
		sxConsumers(p, "s", "g")

		for _, args := range [][]string{
			{"x", "0"}, {"1.5", "0"}, {"0", "bad"}, {"0", "+"}, {"0", "(" + sxMaxID}, {"0", "(-"},
			{"0", "0", "COUNT"}, {"0", "0", "COUNT", "0"}, {"0", "0", "COUNT", "-1"},
			{"0", "0", "COUNT", "x"}, {"0", "0", "COUNT", "576460752303423487"},
			{"0", "0", "COUNT", "576460752303423488"}, {"0", "0", "COUNT", "9223372036854775807"},
			{"0", "0", "FOO"}, {"0", "0", "JUSTID", "FOO"}, {"0", "0", "count", "1", "justid"},
			{"0", "0", "COUNT", "1", "COUNT", "2"}, {"0", "18446744073709551615", "COUNT", "1"},
		} {
			sxG(p, append([]string{"XAUTOCLAIM", "s", "g", "erin"}, args...)...)
		}
		sxG(p, "XAUTOCLAIM", "s", "g", "c", "0")
		sxG(p, "XAUTOCLAIM", "s", "g", "c")
		sxG(p, "XAUTOCLAIM")
		sxDo(p, "SET", "str", "x")
		sxG(p, "XAUTOCLAIM", "str", "g", "c", "0", "0")
		sxG(p, "XAUTOCLAIM", "str", "g", "c", "x", "0")
		sxPending(p, "s", "g", "-", "+", "5")
	})
}

// XCLAIM and XPENDING with real idle times: entries delivered some time
// ago are claimable with a min-idle below that time only.
func TestStreamIdleTimes(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "XGROUP", "CREATE", "s", "g", "0", "MKSTREAM")
		sxFill(p, "s", 1, 3)
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">")
		time.Sleep(1200 * time.Millisecond)
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
		sxPending(p, "s", "g", "IDLE", "1000", "-", "+", "10")
		sxPending(p, "s", "g", "-", "+", "10")
		sxConsumers(p, "s", "g")
		sxXInfo(p, "s", "FULL")
		sxG(p, "XCLAIM", "s", "g", "bob", "1000", "1-1", "2-1", "3-1", "JUSTID")
		sxG(p, "XAUTOCLAIM", "s", "g", "carol", "1000", "0")
		sxPending(p, "s", "g", "-", "+", "10")
		sxConsumers(p, "s", "g")
		for i := 0; i < 3; i++ {
			sxG(p, "XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0") // history: count+1
		}
		sxPending(p, "s", "g", "-", "+", strconv.Itoa(10))
	})
}
