package difftest

// Differential tests of the entry commands: XADD, XLEN, XRANGE, XREVRANGE,
// XDEL, XTRIM, XSETID and non-blocking XREAD (spec §2, §3, §4, §6).

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/runnel-io/runnel/internal/redistest"
)

func TestStreamXAddIDs(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "XADD", "s", "1-1", "f", "v")
		sxDo(p, "XADD", "s", "1-1", "f", "v") // equal
		sxDo(p, "XADD", "s", "1-0", "f", "v") // smaller
		sxDo(p, "XADD", "s", "1", "f", "v")   // incomplete: 1-0
		sxDo(p, "XADD", "s", "2", "f", "v")   // 2-0
		sxDo(p, "XADD", "s", "2-*", "f", "v") // same ms: 2-1
		sxDo(p, "XADD", "s", "3-*", "f", "v") // larger ms: 3-0
		sxDo(p, "XADD", "s", "2-*", "f", "v") // smaller ms
		sxDo(p, "XADD", "s", "3-*", "f", "v") // 3-1
		sxDo(p, "XRANGE", "s", "-", "+")
		sxDo(p, "XLEN", "s")

		// 0-0 is never valid, and it is checked before the key is created.
		sxDo(p, "XADD", "zero", "0-0", "f", "v")
		sxDo(p, "XADD", "zero", "0", "f", "v")
		sxDo(p, "XADD", "zero", "0-0", "MAXLEN", "0") // no: options come first
		sxDo(p, "XADD", "zero", "NOMKSTREAM", "0-0", "f", "v")
		sxDo(p, "XADD", "zero", "MAXLEN", "0", "0-0", "f", "v")
		sxDo(p, "EXISTS", "zero")
		sxDo(p, "XADD", "s", "0-0", "f", "v")
		// 0-* on an empty stream is 0-1.
		sxDo(p, "XADD", "zero", "0-*", "f", "v")
		sxDo(p, "XADD", "zero", "0-*", "f", "v")
		sxDo(p, "XRANGE", "zero", "-", "+")

		// Numbers go through string2ull (§2.1): leading zeros, '+' and
		// leading spaces are accepted.
		sxDo(p, "XADD", "odd", "007-01", "f", "v")
		sxDo(p, "XADD", "odd", "+8", "f", "v")
		sxDo(p, "XADD", "odd", "10-+3", "f", "v")
		sxDo(p, "XADD", "odd", " 12", "f", "v")
		sxDo(p, "XADD", "odd", "13- 4", "f", "v")
		sxDo(p, "XADD", "odd", "0014-*", "f", "v")
		sxDo(p, "XADD", "odd", strings.Repeat("0", 120)+"20-1", "f", "v") // 125 bytes
		sxDo(p, "XADD", "odd", strings.Repeat("0", 126)+"21", "f", "v")   // 128 bytes
		sxDo(p, "XADD", "odd", "22-"+strings.Repeat("0", 124)+"1", "f", "v")
		sxDo(p, "XRANGE", "odd", "-", "+")
		for _, bad := range []string{
			"0x10", "-5", "5--1", "-5-1", "18446744073709551616", "18446744073709551616-0",
			"30-18446744073709551616", "1-2-3", "12-", "-12", "-", "+", "", "a", "1a", "1-a",
			"1.5", "1e3", "30 ", "30-1 ", "\t30", "30-*-1", "*-1", "$", ">", "(30",
		} {
			sxDo(p, "XADD", "odd", bad, "f", "v")
		}
		sxDo(p, "EXISTS", "nokey")
		sxDo(p, "XADD", "nokey", "-5", "f", "v")
		sxDo(p, "EXISTS", "nokey")

		// The largest ID, then every XADD fails with "exhausted" (§2.3).
		sxDo(p, "XADD", "max", "18446744073709551615-18446744073709551614", "f", "v")
		sxDo(p, "XADD", "max", "18446744073709551615-*", "f", "v")
		sxDo(p, "XADD", "max", "18446744073709551615-*", "f", "v")
		sxDo(p, "XADD", "max", "*", "f", "v")
		sxDo(p, "XADD", "max", "5-5", "f", "v")
		sxDo(p, "XADD", "max", "18446744073709551615-*", "f", "v")
		sxDo(p, "XADD", "max", "MAXLEN", "0", "*", "f", "v")
		sxDo(p, "XLEN", "max")

		// '*' when the last ID is in the future: deterministic.
		sxDo(p, "XADD", "fut", "99999999999999-5", "f", "v")
		sxDo(p, "XADD", "fut", "*", "f", "v")
		sxDo(p, "XADD", "fut", "*", "f", "v")
		sxDo(p, "XADD", "fut", "99999999999999-18446744073709551615", "f", "v")
		sxDo(p, "XADD", "fut", "*", "f", "v") // rolls over to the next ms
		sxDo(p, "XRANGE", "fut", "-", "+")

		// <ms>-* when the last sequence is UINT64_MAX: "equal or
		// smaller" since 7.2 (sxNewerReply maps 7.0's text).
		sxDo(p, "XADD", "seq", "5-18446744073709551615", "f", "v")
		sxDo(p, "XADD", "seq", "5-*", "f", "v")
		sxDo(p, "XADD", "seq", "4-*", "f", "v")
		sxDo(p, "XADD", "seq", "6-*", "f", "v")

		// The last ID, not the top entry, is the floor (§2.3).
		sxDo(p, "XADD", "d", "1-1", "f", "v")
		sxDo(p, "XADD", "d", "2-1", "f", "v")
		sxDo(p, "XDEL", "d", "2-1")
		sxDo(p, "XADD", "d", "2-1", "f", "v")
		sxDo(p, "XADD", "d", "2", "f", "v")
		sxDo(p, "XADD", "d", "2-*", "f", "v")
		sxDo(p, "XDEL", "d", "1-1", "2-2")
		sxDo(p, "XLEN", "d")
		sxDo(p, "XADD", "d", "2-2", "f", "v")
		sxDo(p, "XADD", "d", "2-3", "f", "v")
		sxDo(p, "XRANGE", "d", "-", "+")
	})
}

func TestStreamXAddFieldsAndArity(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		// Duplicate fields, order, empty and binary values are kept.
		sxDo(p, "XADD", "s", "1-1", "b", "1", "a", "2", "b", "3")
		sxDo(p, "XADD", "s", "2-1", "", "")
		sxDo(p, "XADD", "s", "3-1", "bin\x00\r\n\xff", "v\x00\r\nal")
		sxDo(p, "XADD", "s", "4-1", "b", "1", "a", "2", "b", "3") // same fields as 1-1
		sxDo(p, "XADD", "s", "5-1", "123", "-1", "x", strings.Repeat("long", 3000))
		sxDo(p, "XADD", "s", "6-1", "f", "18446744073709551616", "g", "-9223372036854775808", "h", "3.14")
		sxDo(p, "XRANGE", "s", "-", "+")
		sxDo(p, "XREVRANGE", "s", "+", "-")
		var many []string
		for i := range 300 {
			many = append(many, "field"+strconv.Itoa(i), strconv.Itoa(i*i))
		}
		sxDo(p, append([]string{"XADD", "s", "7-1"}, many...)...)
		sxDo(p, "XRANGE", "s", "7", "7")

		// Arity: after the ID an even number of arguments, at least two.
		sxDo(p, "XADD")
		sxDo(p, "XADD", "s")
		sxDo(p, "XADD", "s", "*")
		sxDo(p, "XADD", "s", "*", "f")
		sxDo(p, "XADD", "s", "8-1", "f")
		sxDo(p, "XADD", "s", "8-1", "f", "v", "g")
		sxDo(p, "XADD", "s", "NOMKSTREAM", "*", "f")
		sxDo(p, "XADD", "s", "MAXLEN", "1", "8-1", "f")
		sxDo(p, "XADD", "s", "MAXLEN", "1", "8-1")
		sxDo(p, "XADD", "s", "MAXLEN", "1")
		sxDo(p, "XADD", "s", "MAXLEN", "1", "*")
		sxDo(p, "XADD", "s", "NOMKSTREAM")
		sxDo(p, "XADD", "s", "NOMKSTREAM", "f", "v")
		// An unknown option is taken for the ID.
		sxDo(p, "XADD", "s", "FOO", "*", "f", "v")
		sxDo(p, "XADD", "s", "FOO", "f", "v", "x") // FOO is the ID: arity
		sxDo(p, "XLEN", "s")
		sxDo(p, "XLEN")
		sxDo(p, "XLEN", "s", "x")
		sxDo(p, "xadd", "s", "nomkstream", "maxlen", "=", "100", "8-1", "f", "v")
		sxDo(p, "XLEN", "nokey")
	})
}

// XADD with '*' on a fresh stream uses the wall clock, so each server
// generates its own IDs: they are mapped to placeholders and compared.
func TestStreamXAddAutoID(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		ids := newSXAutoIDs()
		for range 5 {
			ids.add(p, "XADD", "a", "*", "f", "v")
		}
		ids.add(p, "XADD", "a", "MAXLEN", "3", "*", "g", "w")
		ids.add(p, "XADD", "a", "NOMKSTREAM", "*", "h", "x")
		sxDo(p, "XADD", "a", "1-1", "f", "v") // below the clock
		ids.do(p, "XRANGE", "a", "-", "+")
		ids.do(p, "XREVRANGE", "a", "+", "-", "COUNT", "2")
		ids.do(p, "XREAD", "STREAMS", "a", "0")
		p.DoMatch(ids.cmp(sxInfo(sxInfoStream, false)), "XINFO", "STREAM", "a")
		sxDo(p, "XADD", "empty", "MAXLEN", "0", "1-1", "f", "v")
		ids.add(p, "XADD", "empty", "*", "f", "v") // last ID 1-1: the clock wins
		ids.do(p, "XRANGE", "empty", "-", "+")
	})
}

func TestStreamXAddNoMkStream(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "XADD", "n", "NOMKSTREAM", "*", "f", "v")
		sxDo(p, "XADD", "n", "NOMKSTREAM", "1-1", "f", "v")
		sxDo(p, "XADD", "n", "nomkstream", "MAXLEN", "5", "1-1", "f", "v")
		sxDo(p, "XADD", "n", "MAXLEN", "5", "NOMKSTREAM", "1-1", "f", "v")
		sxDo(p, "EXISTS", "n")
		sxDo(p, "XADD", "n", "1-1", "f", "v")
		sxDo(p, "XADD", "n", "NOMKSTREAM", "2-1", "f", "v")
		sxDo(p, "XADD", "n", "NOMKSTREAM", "NOMKSTREAM", "3-1", "f", "v")
		sxDo(p, "XADD", "n", "NOMKSTREAM", "1-1", "f", "v") // ordering still checked
		sxDo(p, "XRANGE", "n", "-", "+")
		sxDo(p, "SET", "str", "x")
		sxDo(p, "XADD", "str", "NOMKSTREAM", "*", "f", "v")
		sxDo(p, "XADD", "str", "NOMKSTREAM", "0-0", "f", "v")
		// Deleting every entry keeps the key: NOMKSTREAM adds to it.
		sxDo(p, "XDEL", "n", "1-1", "2-1", "3-1")
		sxDo(p, "XADD", "n", "NOMKSTREAM", "4-1", "f", "v")
		sxDo(p, "XLEN", "n")
	})
}

// XADD and XTRIM trimming: strategies, = and ~, LIMIT, the node model of
// spec §6, and every syntax error with its precedence.
func TestStreamXAddTrim(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxFill(p, "s", 1, 10)
		sxDo(p, "XADD", "s", "MAXLEN", "5", "11-1", "f", "v")
		sxDo(p, "XLEN", "s")
		sxDo(p, "XRANGE", "s", "-", "+")
		sxDo(p, "XADD", "s", "MAXLEN", "=", "3", "12-1", "f", "v")
		sxDo(p, "XADD", "s", "maxlen", "~", "1", "13-1", "f", "v") // one node: nothing trimmed
		sxDo(p, "XLEN", "s")
		sxDo(p, "XADD", "s", "MINID", "12", "14-1", "f", "v")
		sxDo(p, "XRANGE", "s", "-", "+")
		sxDo(p, "XADD", "s", "MINID", "=", "13-1", "15-1", "f", "v")
		sxDo(p, "XADD", "s", "MINID", "~", "15-1", "16-1", "f", "v")
		sxDo(p, "XADD", "s", "MINID", "0", "17-1", "f", "v")
		sxDo(p, "XADD", "s", "MINID", "99", "18-1", "f", "v") // trims everything but the new entry? no: MINID 99 > 18
		sxDo(p, "XLEN", "s")
		sxDo(p, "XADD", "s", "MAXLEN", "0", "19-1", "f", "v")
		sxDo(p, "XLEN", "s")
		sxDo(p, "EXISTS", "s")
		sxXInfo(p, "s")
		// MAXLEN 0 on a missing key creates an empty stream.
		sxDo(p, "XADD", "e", "MAXLEN", "0", "1-1", "f", "v")
		sxDo(p, "TYPE", "e")
		sxDo(p, "XLEN", "e")
		// Repeated options: the last one wins.
		sxFill(p, "r", 1, 6)
		sxDo(p, "XADD", "r", "MAXLEN", "1", "MAXLEN", "4", "7-1", "f", "v")
		sxDo(p, "XLEN", "r")
		sxDo(p, "XADD", "r", "MINID", "1", "MINID", "5", "8-1", "f", "v")
		sxDo(p, "XRANGE", "r", "-", "+")

		// Errors.
		for i, opts := range [][]string{
			{"MAXLEN", "-1"},
			{"MAXLEN", "~", "-1"},
			{"MAXLEN", "abc"},
			{"MAXLEN", "1.5"},
			{"MAXLEN", "+1"},
			{"MAXLEN", "01"},
			{"MAXLEN", "9223372036854775808"},
			{"MAXLEN", "="},
			{"MAXLEN", "~"},
			{"MAXLEN", "=", "~", "1"},
			{"MINID", "-"},
			{"MINID", "+"},
			{"MINID", "abc"},
			{"MINID", "-1"},
			{"MINID", "(5"},
			{"LIMIT", "10"},
			{"LIMIT", "-1"},
			{"LIMIT", "abc"},
			{"MAXLEN", "1", "LIMIT", "10"},
			{"MAXLEN", "=", "1", "LIMIT", "10"},
			{"MAXLEN", "~", "1", "LIMIT", "-1"},
			{"MAXLEN", "~", "1", "LIMIT", "abc"},
			{"MAXLEN", "~", "1", "LIMIT"},
			{"LIMIT", "10", "MAXLEN", "~", "1"}, // LIMIT before the strategy is fine
			{"LIMIT", "10", "MAXLEN", "1"},
			{"MAXLEN", "1", "MINID", "1"},
			{"MINID", "1", "MAXLEN", "1"},
			{"MAXLEN", "-1", "MINID", "1"},
			{"MAXLEN", "1", "MINID", "1", "LIMIT", "5"},
			{"MAXLEN", "~", "1", "MINID", "1", "LIMIT", "5"},
			{"LIMIT", "-1", "MAXLEN", "1"},
			{"MAXLEN", "-1", "LIMIT", "-1"},
			{"MAXLEN", "abc", "LIMIT", "-1"},
			{"LIMIT", "5", "NOMKSTREAM"},
			{"MAXLEN", "1", "FOO"},
			{"MAXLEN", "1", "LIMIT", "10", "0-0"}, // syntax before the 0-0 check
		} {
			// A new ID each time, so that one wrongly accepted XADD
			// does not make the later ones fail for another reason.
			id := strconv.Itoa(100+i) + "-1"
			args := append([]string{"XADD", "r"}, opts...)
			sxDo(p, append(args, id, "f", "v")...)
			sxDo(p, append(args, "0-0", "f", "v")...)
			sxDo(p, append([]string{"XADD", "missing"}, append(opts, id, "f", "v")...)...)
			sxDo(p, "DEL", "missing")
		}
		sxDo(p, "XRANGE", "r", "-", "+")
		sxDo(p, "EXISTS", "missing")
	})
}

// The macro-node model of spec §6, with the numbers the Redis tests pin.
func TestStreamTrimNodes(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		// Default node size 100: MAXLEN ~ 555 over 1000 adds leaves 600.
		for i := 1; i <= 1000; i++ {
			p.Do("XADD", "big", "MAXLEN", "~", "555", strconv.Itoa(i)+"-1", "f", "v")
		}
		sxDo(p, "XLEN", "big")
		sxXInfo(p, "big")
		sxDo(p, "XTRIM", "big", "MAXLEN", "555")
		sxDo(p, "XTRIM", "big", "MAXLEN", "~", "444")
		sxDo(p, "XTRIM", "big", "MAXLEN", "~", "400")
		sxDo(p, "XLEN", "big")
		sxDo(p, "XTRIM", "big", "MINID", "~", "800")
		sxDo(p, "XTRIM", "big", "MINID", "=", "850-1")
		sxDo(p, "XLEN", "big")
		sxXInfo(p, "big")

		// Node size 10, 100 entries: XADD MAXLEN ~ 55 LIMIT 30 → 71, again → 62.
		sxConfig(t, p, "stream-node-max-entries", "10")
		sxFill(p, "t", 1, 100)
		sxDo(p, "XADD", "t", "MAXLEN", "~", "55", "LIMIT", "30", "101-1", "f", "v")
		sxDo(p, "XLEN", "t")
		sxDo(p, "XADD", "t", "MAXLEN", "~", "55", "LIMIT", "30", "102-1", "f", "v")
		sxDo(p, "XLEN", "t")
		sxXInfo(p, "t")
		sxDo(p, "XTRIM", "t", "MAXLEN", "~", "0", "LIMIT", "0") // LIMIT 0: unlimited
		sxDo(p, "XLEN", "t")

		// XDEL leaves tombstones in a node; a node is dropped when its last
		// live entry goes.
		sxFill(p, "x", 1, 35)
		sxDo(p, "XDEL", "x", "1-1", "2-1", "3-1", "11-1", "12-1", "13-1", "14-1", "15-1", "16-1", "17-1", "18-1", "19-1", "20-1")
		sxXInfo(p, "x")
		sxDo(p, "XTRIM", "x", "MAXLEN", "~", "20")
		sxDo(p, "XTRIM", "x", "MAXLEN", "~", "15")
		sxDo(p, "XTRIM", "x", "MAXLEN", "=", "13")
		sxXInfo(p, "x")
		sxDo(p, "XADD", "x", "MAXLEN", "~", "0", "LIMIT", "1", "36-1", "f", "v")
		sxDo(p, "XTRIM", "x", "MINID", "~", "30", "LIMIT", "2")
		sxDo(p, "XTRIM", "x", "MINID", "~", "30", "LIMIT", "20")
		sxDo(p, "XRANGE", "x", "-", "+")

		// Exact trimming inside a node marks entries deleted. A MINID trim
		// does not remove a node whose last ID, live or deleted, is at or
		// after the threshold; Redis 7.0 then kept the node with no live
		// entry at all, which its own RDB loader rejects. Since the 8.x fix
		// #15815 (spec §6: a node goes when its live count reaches 0) a
		// trim that empties a node drops it, so Runnel reports 0
		// radix-tree-keys where 7.0 reports 1; the rest is compared.
		sxConfig(t, p, "stream-node-max-entries", "100")
		sxDo(p, "XADD", "keep", "1-1", "a", "1")
		sxDo(p, "XADD", "keep", "5-1", "a", "1")
		sxDo(p, "XDEL", "keep", "5-1")
		sxDo(p, "XTRIM", "keep", "MINID", "3")
		p.DoMatch(func(r, s redistest.Value) error {
			rk, _ := redistest.Field(r, "radix-tree-keys")
			sk, _ := redistest.Field(s, "radix-tree-keys")
			if rk.Int != 0 || sk.Int != 1 {
				return fmt.Errorf("radix-tree-keys: runnel %d (want 0, #15815), redis %d (want 1)", rk.Int, sk.Int)
			}
			r, _ = redistest.DropFields(r.Clone(), "radix-tree-keys", "radix-tree-nodes")
			s, _ = redistest.DropFields(s.Clone(), "radix-tree-keys", "radix-tree-nodes")
			return sxInfo(sxInfoStream, false)(r, s)
		}, "XINFO", "STREAM", "keep")
		sxDo(p, "XADD", "keep", "6-1", "a", "1")
		sxXInfo(p, "keep")
		sxDo(p, "XTRIM", "keep", "MINID", "=", "7")
		sxXInfo(p, "keep")
		sxDo(p, "XADD", "keep", "MINID", "~", "9", "8-1", "a", "1")
		sxXInfo(p, "keep")
		sxDo(p, "XADD", "keep2", "1-1", "a", "1")
		sxDo(p, "XADD", "keep2", "2-1", "a", "1")
		sxDo(p, "XTRIM", "keep2", "MINID", "2-1")
		sxDo(p, "XDEL", "keep2", "2-1") // XDEL of the last live entry drops the node
		sxXInfo(p, "keep2")
		sxConfig(t, p, "stream-node-max-entries", "10")

		// Node size 1, 102 entries: XTRIM MAXLEN ~ 1 → 2 (default limit 100).
		sxConfig(t, p, "stream-node-max-entries", "1")
		sxFill(p, "one", 1, 102)
		sxDo(p, "XTRIM", "one", "MAXLEN", "~", "1")
		sxDo(p, "XLEN", "one")
		sxXInfo(p, "one")

		// Node size 2, 3 entries: MAXLEN ~ 0 LIMIT 1 deletes nothing,
		// LIMIT 2 deletes 2; XADD … MAXLEN ~ 0 LIMIT 1 on 3 entries → 4.
		sxConfig(t, p, "stream-node-max-entries", "2")
		sxFill(p, "two", 1, 3)
		sxDo(p, "XTRIM", "two", "MAXLEN", "~", "0", "LIMIT", "1")
		sxDo(p, "XTRIM", "two", "MAXLEN", "~", "0", "LIMIT", "2")
		sxDo(p, "XLEN", "two")
		sxFill(p, "three", 1, 3)
		sxDo(p, "XADD", "three", "MAXLEN", "~", "0", "LIMIT", "1", "4-1", "f", "v")
		sxDo(p, "XLEN", "three")

		// The byte limit: small nodes by size.
		sxConfig(t, p, "stream-node-max-entries", "0")
		sxConfig(t, p, "stream-node-max-bytes", "100")
		for i := 1; i <= 30; i++ {
			sxDo(p, "XADD", "bytes", strconv.Itoa(i)+"-1", "field", strings.Repeat("x", i))
		}
		sxXInfo(p, "bytes")
		sxDo(p, "XTRIM", "bytes", "MAXLEN", "~", "10")
		sxDo(p, "XLEN", "bytes")
		sxConfig(t, p, "stream-node-max-bytes", "4096")
		sxConfig(t, p, "stream-node-max-entries", "100")
	})
}

func TestStreamXTrim(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "XTRIM", "missing", "MAXLEN", "1")
		sxDo(p, "XTRIM", "missing", "MINID", "1")
		sxDo(p, "EXISTS", "missing")
		sxFill(p, "s", 1, 10)
		sxDo(p, "XTRIM", "s", "MAXLEN", "8")
		sxDo(p, "XTRIM", "s", "MAXLEN", "=", "7")
		sxDo(p, "XTRIM", "s", "MAXLEN", "~", "1")
		sxDo(p, "XTRIM", "s", "MINID", "5")
		sxDo(p, "XTRIM", "s", "MINID", "=", "5-2")
		sxDo(p, "XTRIM", "s", "MINID", "~", "9")
		sxDo(p, "XTRIM", "s", "MAXLEN", "100")
		sxDo(p, "XRANGE", "s", "-", "+")
		sxDo(p, "XTRIM", "s", "MAXLEN", "0")
		sxDo(p, "XLEN", "s")
		sxDo(p, "EXISTS", "s")
		sxXInfo(p, "s")
		// Trimming does not move max-deleted-entry-id, only the first ID.
		sxFill(p, "m", 1, 5)
		sxDo(p, "XDEL", "m", "2-1")
		sxDo(p, "XTRIM", "m", "MAXLEN", "2")
		sxXInfo(p, "m")

		// Errors and arity.
		sxDo(p, "XTRIM")
		sxDo(p, "XTRIM", "s")
		sxDo(p, "XTRIM", "s", "MAXLEN")
		sxDo(p, "XTRIM", "s", "FOO", "1")
		sxDo(p, "XTRIM", "s", "1")
		sxDo(p, "XTRIM", "s", "LIMIT", "1")
		sxDo(p, "XTRIM", "s", "LIMIT", "1", "MAXLEN", "~", "1")
		sxDo(p, "XTRIM", "s", "MAXLEN", "1", "LIMIT", "1")
		sxDo(p, "XTRIM", "s", "MAXLEN", "~", "1", "LIMIT", "-1")
		sxDo(p, "XTRIM", "s", "MAXLEN", "-1")
		sxDo(p, "XTRIM", "s", "MAXLEN", "x")
		sxDo(p, "XTRIM", "s", "MAXLEN", "1", "MINID", "1")
		sxDo(p, "XTRIM", "s", "MINID", "-")
		sxDo(p, "XTRIM", "s", "MINID", "+")
		sxDo(p, "XTRIM", "s", "MINID", "x")
		sxDo(p, "XTRIM", "s", "MAXLEN", "1", "extra")
		sxDo(p, "XTRIM", "s", "MAXLEN", "1", "MAXLEN")
		sxDo(p, "XTRIM", "s", "MAXLEN", "1", "NOMKSTREAM")
		sxDo(p, "XTRIM", "missing", "MAXLEN", "-1")
		sxDo(p, "XTRIM", "missing", "MAXLEN", "1", "LIMIT", "1")
		sxDo(p, "xtrim", "s", "maxlen", "~", "0", "limit", "100")
	})
}

func TestStreamXRange(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		for _, cmd := range []string{"XRANGE", "XREVRANGE"} {
			sxDo(p, cmd, "missing", "-", "+")
			sxDo(p, cmd, "missing", "-", "+", "COUNT", "0")
			sxDo(p, cmd, "missing", "(0", "+")
		}
		for _, id := range []string{"1-1", "1-2", "2-0", "2-5", "2-18446744073709551615", "3-0", "18446744073709551615-0"} {
			sxDo(p, "XADD", "s", id, "f", id)
		}
		ranges := [][2]string{
			{"-", "+"}, {"+", "-"}, {"1", "1"}, {"2", "2"}, {"1-2", "2-5"}, {"(1-2", "(2-5"},
			{"(1", "+"}, {"-", "(3"}, {"(2", "(3"}, {"(1-1", "2"}, {"2-5", "2-5"}, {"(2-5", "2-5"},
			{"(2-4", "(2-6"}, {"3", "2"}, {"0", "0"}, {"0-0", "1-1"}, {"-", "-"}, {"+", "+"},
			{"(18446744073709551615-18446744073709551614", "+"}, {"18446744073709551615", "+"},
			{"(2-18446744073709551615", "+"}, {"-", "(2-0"}, {"-", "(0-1"}, {"0-1", "(0-1"},
			// exclusive-bound overflow and the strict parser
			{"(" + sxMaxID, "+"}, {"-", "(0-0"}, {"(0-0", "(0-0"}, {"(-", "+"}, {"-", "(+"},
			{"(18446744073709551615", "+"}, {"-", "(0"}, {"((1", "+"}, {"(", "+"},
			// bad IDs
			{"x", "+"}, {"-", "x"}, {"1-x", "+"}, {"-1", "+"}, {"1-2-3", "+"}, {"*", "+"},
			{"$", "+"}, {">", "+"}, {"", "+"}, {"007", "+"}, {"+1", "+"}, {" 1", "+"}, {"1- 2", "+"},
			{"18446744073709551616", "+"}, {"-", "18446744073709551615-18446744073709551616"},
		}
		for _, r := range ranges {
			sxDo(p, "XRANGE", "s", r[0], r[1])
			sxDo(p, "XREVRANGE", "s", r[1], r[0])
			sxDo(p, "XREVRANGE", "s", r[0], r[1])
		}
		for _, count := range []string{"0", "-1", "-100", "1", "2", "3", "100", "9223372036854775807", "x", "1.5", "", "9223372036854775808"} {
			sxDo(p, "XRANGE", "s", "-", "+", "COUNT", count)
			sxDo(p, "XREVRANGE", "s", "+", "-", "COUNT", count)
			sxDo(p, "XRANGE", "missing", "-", "+", "COUNT", count)
		}
		sxDo(p, "XRANGE", "s", "-", "+", "count", "2")
		sxDo(p, "XRANGE", "s", "-", "+", "COUNT", "1", "COUNT", "3")
		sxDo(p, "XRANGE", "s", "-", "+", "COUNT")
		sxDo(p, "XRANGE", "s", "-", "+", "FOO", "1")
		sxDo(p, "XRANGE", "s", "-", "+", "COUNT", "1", "FOO")
		sxDo(p, "XRANGE", "s", "x", "+", "FOO", "1")
		sxDo(p, "XRANGE", "s", "-", "+", "COUNT", "0", "FOO")
		sxDo(p, "XRANGE", "s", "-")
		sxDo(p, "XRANGE", "s")
		sxDo(p, "XRANGE")
		sxDo(p, "XREVRANGE", "s", "+")
		// After deletions the range skips tombstones.
		sxDo(p, "XDEL", "s", "2-0", "2-5")
		sxDo(p, "XRANGE", "s", "-", "+", "COUNT", "2")
		sxDo(p, "XREVRANGE", "s", "+", "-", "COUNT", "3")
		sxDo(p, "XRANGE", "s", "2", "2")
		// Iterating with exclusive ranges, as clients page.
		sxFill(p, "page", 1, 25)
		last := "-"
		for range 6 {
			sxDo(p, "XRANGE", "page", last, "+", "COUNT", "5")
			if last == "-" {
				last = "(5-1"
			} else {
				n, _ := strconv.Atoi(strings.TrimSuffix(last[1:], "-1"))
				last = "(" + strconv.Itoa(n+5) + "-1"
			}
		}
		sxDo(p, "SET", "str", "x")
		sxDo(p, "XRANGE", "str", "-", "+")
		sxDo(p, "XRANGE", "str", "x", "+") // ID syntax before the type
		sxDo(p, "XREVRANGE", "str", "+", "-", "COUNT", "0")
	})
}

func TestStreamXDel(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "XDEL", "missing", "1-1")
		sxDo(p, "XDEL", "missing", "bad")
		sxDo(p, "EXISTS", "missing")
		sxFill(p, "s", 1, 6)
		sxDo(p, "XDEL", "s", "1-1", "2-2", "bad") // one bad ID: nothing deleted
		sxDo(p, "XLEN", "s")
		sxDo(p, "XDEL", "s", "1-1", "1-1", "2-2")
		sxDo(p, "XDEL", "s", "3") // incomplete: 3-0
		sxDo(p, "XDEL", "s", "3-1", "2-1", "6-1")
		sxXInfo(p, "s")
		sxDo(p, "XDEL", "s", "-")
		sxDo(p, "XDEL", "s", "+")
		sxDo(p, "XDEL", "s", "(4-1")
		sxDo(p, "XDEL", "s", "*")
		sxDo(p, "XDEL", "s", "4-1", "5-1")
		sxDo(p, "XLEN", "s")
		sxDo(p, "EXISTS", "s")
		sxDo(p, "TYPE", "s")
		sxXInfo(p, "s")
		sxDo(p, "XRANGE", "s", "-", "+")
		sxDo(p, "XADD", "s", "6-1", "f", "v") // below the last ID
		sxDo(p, "XADD", "s", "7-1", "f", "v")
		sxXInfo(p, "s")
		sxDo(p, "XDEL", "s")
		sxDo(p, "XDEL")
		sxDo(p, "SET", "str", "x")
		sxDo(p, "XDEL", "str", "1-1")
		sxDo(p, "XDEL", "str", "bad")
		// A bigger stream with deletions inside nodes.
		sxConfig(t, p, "stream-node-max-entries", "4")
		sxFill(p, "big", 1, 40)
		var ids []string
		for i := 1; i <= 40; i += 3 {
			ids = append(ids, strconv.Itoa(i)+"-1")
		}
		sxDo(p, append([]string{"XDEL", "big"}, ids...)...)
		sxDo(p, "XRANGE", "big", "-", "+", "COUNT", "10")
		sxDo(p, "XREVRANGE", "big", "+", "-", "COUNT", "10")
		sxXInfo(p, "big")
		sxConfig(t, p, "stream-node-max-entries", "100")
	})
}

// XSETID: every check, in order (spec §4 XSETID): ID parse → options →
// no such key → ID below the current max_deleted (7.2+) → ID below the
// last entry → entries_added below the length.
// TestStreamXSetIDBelowTombstone lowers the last ID below a deleted entry
// still stored in its node (found by FuzzStreamOps): later entries go after
// it, out of order, and must stay reachable.
func TestStreamXSetIDBelowTombstone(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		for _, cmd := range [][]string{
			{"XADD", "k", "1-0", "f", "v"}, {"XADD", "k", "5-0", "f", "v"}, {"XDEL", "k", "5-0"},
			{"XSETID", "k", "6-0", "MAXDELETEDID", "0-2"}, {"XSETID", "k", "2-0"},
			{"XADD", "k", "3-0", "f", "v"}, {"XADD", "k", "5-0", "g", "w"},
			{"XRANGE", "k", "-", "+"}, {"XRANGE", "k", "4", "+"}, {"XRANGE", "k", "-", "4"},
			{"XREVRANGE", "k", "+", "-"}, {"XREVRANGE", "k", "4", "-"},
			{"XDEL", "k", "3-0"}, {"XRANGE", "k", "-", "+"}, {"XLEN", "k"},
			{"XDEL", "k", "5-0"}, {"XLEN", "k"}, {"XRANGE", "k", "-", "+"},
		} {
			sxDo(p, cmd...)
		}
		sxXInfo(p, "k")
	})
}

func TestStreamXSetID(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxXSetID(p, "XSETID", "missing", "1-1")
		sxXSetID(p, "XSETID", "missing", "bad")
		sxXSetID(p, "XSETID", "missing", "1-1", "ENTRIESADDED", "-1")
		sxXSetID(p, "XSETID", "missing", "1-1", "FOO")
		sxFill(p, "s", 1, 3)
		sxXSetID(p, "XSETID", "s", "5-0")
		sxXInfo(p, "s")
		sxDo(p, "XADD", "s", "5-0", "f", "v")
		sxDo(p, "XADD", "s", "5-*", "f", "v")
		sxXSetID(p, "XSETID", "s", "5-1") // equal to the last entry
		sxXSetID(p, "XSETID", "s", "5-0") // below the last entry
		sxXSetID(p, "XSETID", "s", "5")
		sxXSetID(p, "XSETID", "s", "-")
		sxXSetID(p, "XSETID", "s", "+")
		sxXSetID(p, "XSETID", "s", "$")
		sxXSetID(p, "XSETID", "s", "*")
		sxXSetID(p, "XSETID", "s", "(9")
		sxXSetID(p, "XSETID", "s", sxMaxID)
		sxDo(p, "XADD", "s", "*", "f", "v")
		sxXSetID(p, "XSETID", "s", "9-0") // back down, above the last entry
		sxXInfo(p, "s")

		for _, opts := range [][]string{
			{"ENTRIESADDED", "10"},
			{"ENTRIESADDED", "10", "MAXDELETEDID", "3-0"},
			{"MAXDELETEDID", "3-0", "ENTRIESADDED", "11"},
			{"ENTRIESADDED", "4"},  // below the length (5)
			{"ENTRIESADDED", "5"},  // equal to the length
			{"ENTRIESADDED", "-1"}, // negative
			{"ENTRIESADDED", "0"},
			{"ENTRIESADDED", "x"},
			{"ENTRIESADDED", "1.5"},
			{"ENTRIESADDED"},
			{"MAXDELETEDID"},
			{"MAXDELETEDID", "10-0"}, // above the ID
			{"MAXDELETEDID", "9-0"},  // equal
			{"MAXDELETEDID", "bad"},
			{"MAXDELETEDID", "-"},
			{"MAXDELETEDID", "+"},
			{"ENTRIESADDED", "-1", "MAXDELETEDID", "10-0"},
			{"MAXDELETEDID", "10-0", "ENTRIESADDED", "-1"},
			{"MAXDELETEDID", "10-0", "ENTRIESADDED", "4"},
			{"ENTRIESADDED", "4", "MAXDELETEDID", "10-0"},
			{"ENTRIESADDED", "12", "ENTRIESADDED", "13"},
			{"FOO"},
			{"FOO", "1"},
			{"ENTRIESADDED", "12", "FOO"},
			{"entriesadded", "14", "maxdeletedid", "2-0"},
		} {
			sxXSetID(p, append([]string{"XSETID", "s", "9-0"}, opts...)...)
			sxXSetID(p, append([]string{"XSETID", "s", "bad"}, opts...)...)
			sxXSetID(p, append([]string{"XSETID", "s", "1-0"}, opts...)...)
			sxXSetID(p, append([]string{"XSETID", "missing", "9-0"}, opts...)...)
			sxXInfo(p, "s")
		}
		sxXSetID(p, "XSETID", "s")
		sxXSetID(p, "XSETID")
		sxDo(p, "SET", "str", "x")
		sxXSetID(p, "XSETID", "str", "1-1")
		sxXSetID(p, "XSETID", "str", "bad")

		// An empty stream may go down, to 0-0 (the Redis tests do this).
		sxDo(p, "XADD", "e", "MAXLEN", "0", "5-0", "a", "b")
		sxXSetID(p, "XSETID", "e", "0-0")
		sxXInfo(p, "e")
		sxDo(p, "XADD", "e", "1-0", "a", "b")
		sxXSetID(p, "XSETID", "e", "0-5") // now below the entry
		sxXInfo(p, "e")
	})
}

// XSETID below the current max_deleted_entry_id: 7.0 accepted it, 7.2+
// refuses it (spec §4 XSETID, §11 7.2, #11444).
func TestStreamXSetIDBelowMaxDeleted(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxFill(p, "s", 1, 2)
		sxDo(p, "XDEL", "s", "2-1")
		ok := redistest.Value{Kind: redistest.KindSimple, Str: "OK"}
		// The ID is above the last entry (1-1) but below max-deleted (2-1).
		p.DoMatch(sxDiffer(sxErr(sxXSetIDMaxDel), ok), "XSETID", "s", "1-5")
		// The checks before it still come first.
		sxDo(p, "XSETID", "s", "1-5", "ENTRIESADDED", "-1")
		sxDo(p, "XSETID", "s", "1-5", "MAXDELETEDID", "1-6")
		// Below both the last entry and max-deleted: the max-deleted check
		// comes first since 7.2.
		p.DoMatch(sxDiffer(sxErr(sxXSetIDMaxDel), sxErr("ERR The ID specified in XSETID is smaller than the target stream top item")),
			"XSETID", "s", "1-0")
		if sxSelfCheck {
			// Both servers took 1-5 above; put them back in step.
			sxDo(p, "XSETID", "s", "2-1")
		}
		sxDo(p, "XSETID", "s", "2-1")
		sxDo(p, "XSETID", "s", "3-0", "MAXDELETEDID", "0-0")
		sxXInfo(p, "s")
	})
}

// Non-blocking XREAD (blocking is in stream_blocking_test.go).
func TestStreamXRead(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "XREAD", "STREAMS", "missing", "0")
		sxDo(p, "XREAD", "STREAMS", "missing", "$")
		sxFill(p, "a", 1, 5)
		sxFill(p, "b", 3, 4)
		sxDo(p, "XREAD", "STREAMS", "a", "0")
		sxDo(p, "XREAD", "STREAMS", "a", "0-0")
		sxDo(p, "XREAD", "STREAMS", "a", "2")
		sxDo(p, "XREAD", "STREAMS", "a", "2-1")
		sxDo(p, "XREAD", "STREAMS", "a", "5-1")
		sxDo(p, "XREAD", "STREAMS", "a", "$")
		sxDo(p, "XREAD", "STREAMS", "a", "b", "0", "0")
		sxDo(p, "XREAD", "STREAMS", "a", "b", "missing", "0", "0", "0")
		sxDo(p, "XREAD", "STREAMS", "missing", "b", "a", "0", "0", "4")
		sxDo(p, "XREAD", "STREAMS", "a", "b", "5-1", "0")        // a omitted
		sxDo(p, "XREAD", "STREAMS", "a", "b", "$", "$")          // nothing: null
		sxDo(p, "XREAD", "STREAMS", "a", "a", "0", "3-1")        // the same key twice
		sxDo(p, "XREAD", "STREAMS", "a", "b", "(0", "0")         // '(' is not for XREAD
		sxDo(p, "XREAD", "STREAMS", "a", sxMaxID)                // nothing after the max
		sxDo(p, "XREAD", "STREAMS", "a", "18446744073709551615") // incomplete: seq 0
		for _, count := range []string{"0", "-1", "1", "2", "100", "x", "", "9223372036854775808"} {
			sxDo(p, "XREAD", "COUNT", count, "STREAMS", "a", "b", "0", "0")
		}
		sxDo(p, "XREAD", "count", "1", "streams", "a", "0")
		sxDo(p, "XREAD", "COUNT", "1", "COUNT", "3", "STREAMS", "a", "0")
		sxDo(p, "XREAD", "COUNT", "1", "BLOCK", "0", "COUNT", "3", "STREAMS", "a", "0") // served at once
		// Deleted entries are skipped.
		sxDo(p, "XDEL", "a", "2-1", "3-1")
		sxDo(p, "XREAD", "COUNT", "2", "STREAMS", "a", "0")
		sxDo(p, "XREAD", "STREAMS", "a", "1-1")

		// Errors.
		sxDo(p, "XREAD")
		sxDo(p, "XREAD", "STREAMS")
		sxDo(p, "XREAD", "STREAMS", "a")
		sxDo(p, "XREAD", "STREAMS", "a", "b", "0")               // unbalanced (7.2+ text)
		sxDo(p, "XREAD", "COUNT", "1", "STREAMS", "a", "b", "0") // unbalanced
		sxDo(p, "XREAD", "COUNT", "1", "STREAMS", "a")
		sxDo(p, "XREAD", "COUNT", "1", "a", "0")
		sxDo(p, "XREAD", "COUNT", "1")
		sxDo(p, "XREAD", "FOO", "STREAMS", "a", "0")
		sxDo(p, "XREAD", "COUNT", "STREAMS", "a", "0")
		sxDo(p, "XREAD", "BLOCK", "STREAMS", "a", "0")
		sxDo(p, "XREAD", "BLOCK", "-1", "STREAMS", "a", "0")
		sxDo(p, "XREAD", "BLOCK", "x", "STREAMS", "a", "0")
		sxDo(p, "XREAD", "BLOCK", "1.5", "STREAMS", "a", "0")
		sxDo(p, "XREAD", "BLOCK", "9223372036854775808", "STREAMS", "a", "0")
		sxDo(p, "XREAD", "GROUP", "g", "c", "STREAMS", "a", "0")
		sxDo(p, "XREAD", "NOACK", "STREAMS", "a", "0")
		sxDo(p, "XREAD", "STREAMS", "a", ">")
		sxDo(p, "XREAD", "STREAMS", "a", "b", "0", ">")
		sxDo(p, "XREAD", "STREAMS", "a", "bad")
		sxDo(p, "XREAD", "STREAMS", "a", "-")
		sxDo(p, "XREAD", "STREAMS", "a", "*")
		sxDo(p, "XREAD", "STREAMS", "a", "b", "bad", ">")
		sxDo(p, "SET", "str", "x")
		sxDo(p, "XREAD", "STREAMS", "str", "0")
		sxDo(p, "XREAD", "STREAMS", "a", "str", "0", "0")
		sxDo(p, "XREAD", "STREAMS", "str", "a", "bad", "0")
		sxDo(p, "XREAD", "STREAMS", "a", "str", "0", "bad")
		sxDo(p, "XREAD", "STREAMS", "str", "$")
		sxDo(p, "XREAD", "BLOCK", "10", "STREAMS", "str", "$")
		sxDo(p, "XREAD", "STREAMS", "a", "str", "0") // unbalanced before the type
	})
}
