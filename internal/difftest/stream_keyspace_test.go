package difftest

// Differential tests of streams as keys: WRONGTYPE in both directions, the
// generic keyspace commands on streams (TYPE, OBJECT ENCODING, EXISTS,
// DEL, UNLINK, RENAME, COPY, EXPIRE, SCAN TYPE), keyspace notifications
// (spec §8), MULTI/EXEC and WATCH.

import (
	"fmt"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/redistest"
)

func TestStreamWrongType(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "SET", "str", "x")
		sxDo(p, "XADD", "st", "1-1", "f", "v")
		sxDo(p, "XGROUP", "CREATE", "st", "g", "0")
		// Every stream command against a string.
		for _, args := range [][]string{
			{"XADD", "str", "*", "f", "v"}, {"XADD", "str", "1-1", "f", "v"}, {"XADD", "str", "MAXLEN", "0", "*", "f", "v"},
			{"XLEN", "str"}, {"XRANGE", "str", "-", "+"}, {"XREVRANGE", "str", "+", "-"},
			{"XRANGE", "str", "-", "+", "COUNT", "0"}, {"XDEL", "str", "1-1"}, {"XTRIM", "str", "MAXLEN", "0"},
			{"XTRIM", "str", "MINID", "1"}, {"XSETID", "str", "1-1"}, {"XREAD", "STREAMS", "str", "0"},
			{"XREAD", "STREAMS", "str", "$"}, {"XREAD", "STREAMS", "st", "str", "0", "0"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"}, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", "0"},
			{"XACK", "str", "g", "1-1"}, {"XPENDING", "str", "g"}, {"XPENDING", "str", "g", "-", "+", "1"},
			{"XCLAIM", "str", "g", "c", "0", "1-1"}, {"XAUTOCLAIM", "str", "g", "c", "0", "0"},
			{"XGROUP", "CREATE", "str", "g", "$"}, {"XGROUP", "CREATE", "str", "g", "$", "MKSTREAM"},
			{"XGROUP", "SETID", "str", "g", "0"}, {"XGROUP", "DESTROY", "str", "g"},
			{"XGROUP", "CREATECONSUMER", "str", "g", "c"}, {"XGROUP", "DELCONSUMER", "str", "g", "c"},
			{"XINFO", "STREAM", "str"}, {"XINFO", "STREAM", "str", "FULL"}, {"XINFO", "GROUPS", "str"},
			{"XINFO", "CONSUMERS", "str", "g"},
		} {
			sxDo(p, args...)
		}
		sxDo(p, "GET", "str")
		// String commands against a stream.
		for _, args := range [][]string{
			{"GET", "st"}, {"APPEND", "st", "x"}, {"INCR", "st"}, {"DECR", "st"}, {"INCRBY", "st", "2"},
			{"INCRBYFLOAT", "st", "1.5"}, {"STRLEN", "st"}, {"GETRANGE", "st", "0", "1"}, {"SUBSTR", "st", "0", "1"},
			{"SETRANGE", "st", "0", "x"}, {"GETDEL", "st"}, {"GETEX", "st"}, {"GETSET", "st", "x"},
			{"MGET", "st", "str"}, {"SETNX", "st", "x"}, {"MSETNX", "st", "x", "new", "y"}, {"LCS", "st", "str"},
			{"SET", "st", "x", "GET"}, {"SET", "st", "x", "NX", "GET"},
		} {
			sxDo(p, args...)
		}
		sxDo(p, "TYPE", "st")
		sxDo(p, "XLEN", "st")
		// SET replaces the stream, groups and all.
		sxDo(p, "SET", "st", "now a string")
		sxDo(p, "TYPE", "st")
		sxDo(p, "XLEN", "st")
		sxDo(p, "XADD", "st2", "1-1", "f", "v")
		sxDo(p, "MSET", "st2", "x")
		sxDo(p, "GET", "st2")
	})
}

func TestStreamGenericKeyspace(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "XADD", "s", "1-1", "f", "v")
		sxDo(p, "XADD", "s", "2-1", "f", "v")
		sxDo(p, "XGROUP", "CREATE", "s", "g", "0")
		sxG(p, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">")
		sxDo(p, "TYPE", "s")
		sxDo(p, "OBJECT", "ENCODING", "s")
		sxDo(p, "EXISTS", "s", "s", "nokey")
		sxDo(p, "XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM")
		sxDo(p, "TYPE", "empty")
		sxDo(p, "OBJECT", "ENCODING", "empty")
		sxDo(p, "SET", "str", "x")
		sxDo(p, "DBSIZE")
		p.DoSorted("KEYS", "*")
		p.DoSorted("SCAN", "0", "TYPE", "stream", "COUNT", "1000")
		p.DoSorted("SCAN", "0", "TYPE", "STREAM", "COUNT", "1000")
		p.DoSorted("SCAN", "0", "TYPE", "string", "COUNT", "1000")
		p.DoSorted("SCAN", "0", "MATCH", "s*", "TYPE", "stream", "COUNT", "1000")
		p.DoLoosely("RANDOMKEY") // one of three: only the shape
		// RENAME keeps everything, groups included.
		sxDo(p, "RENAME", "s", "r")
		sxDo(p, "EXISTS", "s")
		sxXInfo(p, "r", "FULL")
		sxDo(p, "RENAME", "r", "empty") // onto another stream
		sxGroups(p, "empty")
		sxDo(p, "RENAMENX", "empty", "str")
		sxDo(p, "RENAME", "empty", "s")

		// COPY is deep: the copy's XINFO STREAM FULL equals the original's,
		// and changing one leaves the other alone.
		sxDo(p, "COPY", "s", "c")
		sxXInfo(p, "c", "FULL")
		for _, side := range []*redistest.Conn{p.Runnel, p.Redis} {
			a, b := side.DoValue("XINFO", "STREAM", "s", "FULL"), side.DoValue("XINFO", "STREAM", "c", "FULL")
			if !a.Equal(b) {
				t.Errorf("%s: XINFO STREAM FULL of the copy differs from the original:\n%s\n%s", side.NetConn().RemoteAddr(), a, b)
			}
		}
		sxDo(p, "XADD", "c", "3-1", "f", "v")
		sxDo(p, "XACK", "c", "g", "1-1")
		sxDo(p, "XGROUP", "CREATECONSUMER", "c", "g", "bob")
		sxDo(p, "XGROUP", "SETID", "c", "g", "0")
		sxDo(p, "XLEN", "s")
		sxPending(p, "s", "g", "-", "+", "10")
		sxConsumers(p, "s", "g")
		sxGroups(p, "s")
		sxDo(p, "COPY", "s", "c") // exists: 0
		sxDo(p, "COPY", "s", "c", "REPLACE")
		sxXInfo(p, "c", "FULL")
		sxDo(p, "COPY", "s", "str", "REPLACE")
		sxDo(p, "TYPE", "str")
		sxDo(p, "COPY", "s", "s1", "DB", "1")
		sxDo(p, "SELECT", "1")
		sxXInfo(p, "s1", "FULL")
		sxDo(p, "MOVE", "s1", "0")
		sxDo(p, "SELECT", "0")
		sxXInfo(p, "s1")
		sxDo(p, "SWAPDB", "0", "1")
		sxDo(p, "XLEN", "s")
		sxDo(p, "SWAPDB", "0", "1")

		// Expiry.
		sxDo(p, "EXPIRE", "s", "100")
		sxDo(p, "TTL", "s")
		sxDo(p, "PERSIST", "s")
		sxDo(p, "TTL", "s")
		sxDo(p, "PEXPIRE", "c", "300")
		sxDo(p, "XADD", "c", "9-1", "f", "v") // XADD keeps the TTL
		sxDo(p, "TTL", "c")
		time.Sleep(400 * time.Millisecond)
		sxDo(p, "XLEN", "c")
		sxDo(p, "EXISTS", "c")
		sxDo(p, "XINFO", "STREAM", "c")
		sxDo(p, "XREAD", "STREAMS", "c", "0")
		sxDo(p, "XGROUP", "CREATE", "c", "g", "0")

		// DEL and UNLINK.
		sxDo(p, "DEL", "s", "nokey", "s")
		sxDo(p, "UNLINK", "r", "empty", "str", "s1")
		sxDo(p, "DBSIZE")
		sxDo(p, "XLEN", "s")
		sxDo(p, "XADD", "s", "1-1", "f", "v") // a new stream: IDs start over
		sxXInfo(p, "s")
		sxDo(p, "FLUSHDB")
		sxDo(p, "EXISTS", "s")
	})
}

// TestStreamEvents checks the keyspace events of every stream command
// (spec §8), including the exact sequence of the Redis test "Keyspace
// notifications: stream events test".
func TestStreamEvents(t *testing.T) {
	s := sxStart(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		ev := watchEvents(t, s, p, sxProto(t), "KEA")
		// The Redis test's sequence.
		ev.do(p, "XGROUP", "CREATE", "mystream", "mygroup", "$", "MKSTREAM")
		ev.do(p, "XGROUP", "CREATECONSUMER", "mystream", "mygroup", "Bob")
		ev.do(p, "XADD", "mystream", "1", "field1", "A")
		ev.do(p, "XREADGROUP", "GROUP", "mygroup", "Alice", "STREAMS", "mystream", ">")
		ev.do(p, "XCLAIM", "mystream", "mygroup", "Mike", "0", "1-0", "FORCE")
		ev.do(p, "XGROUP", "DELCONSUMER", "mystream", "mygroup", "Lee")  // none: no such consumer
		ev.do(p, "XAUTOCLAIM", "mystream", "mygroup", "Bob", "0", "1-0") // none: Bob exists
		ev.do(p, "XGROUP", "DELCONSUMER", "mystream", "mygroup", "Bob")

		// Every other command, with and without an effect.
		ev.do(p, "XADD", "s", "1-1", "f", "v")
		ev.do(p, "XADD", "s", "1-1", "f", "v") // error: none
		ev.do(p, "XADD", "n", "NOMKSTREAM", "1-1", "f", "v")
		ev.do(p, "XADD", "s", "MAXLEN", "5", "2-1", "f", "v") // nothing trimmed: xadd only
		ev.do(p, "XADD", "s", "MAXLEN", "1", "3-1", "f", "v") // xadd, xtrim
		ev.do(p, "XADD", "s", "MAXLEN", "~", "0", "4-1", "f", "v")
		ev.do(p, "XADD", "e", "MAXLEN", "0", "1-1", "f", "v") // new key, trimmed at once
		ev.do(p, "XDEL", "s", "9-9")
		ev.do(p, "XDEL", "s", "4-1", "3-1", "9-9")
		ev.do(p, "XTRIM", "s", "MAXLEN", "5")
		ev.do(p, "XADD", "s", "5-1", "f", "v")
		ev.do(p, "XTRIM", "s", "MAXLEN", "0")
		ev.do(p, "XTRIM", "nokey", "MAXLEN", "0")
		ev.do(p, "XSETID", "s", "10-0")
		ev.do(p, "XSETID", "s", "1-0") // error
		ev.do(p, "XGROUP", "CREATE", "s", "g", "0")
		ev.do(p, "XGROUP", "CREATE", "s", "g", "0") // BUSYGROUP
		ev.do(p, "XGROUP", "CREATE", "new", "g", "$", "MKSTREAM")
		ev.do(p, "XGROUP", "SETID", "s", "g", "$")
		ev.do(p, "XGROUP", "SETID", "s", "nogroup", "$")
		ev.do(p, "XGROUP", "CREATECONSUMER", "s", "g", "c")
		ev.do(p, "XGROUP", "CREATECONSUMER", "s", "g", "c")
		ev.do(p, "XADD", "s", "11-0", "f", "v")
		ev.do(p, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
		ev.do(p, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0") // history: none
		ev.do(p, "XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", "0") // history of a new consumer
		ev.do(p, "XPENDING", "s", "g")
		ev.do(p, "XCLAIM", "s", "g", "c", "0", "11-0") // existing consumer
		ev.do(p, "XCLAIM", "s", "g", "e", "0", "11-0") // new consumer that claims
		ev.do(p, "XAUTOCLAIM", "s", "g", "c", "0", "0")
		ev.do(p, "XACK", "s", "g", "11-0")
		ev.do(p, "XACK", "s", "g", "11-0")
		ev.do(p, "XGROUP", "DELCONSUMER", "s", "g", "c")
		ev.do(p, "XGROUP", "DESTROY", "s", "g")
		ev.do(p, "XGROUP", "DESTROY", "s", "g")
		ev.do(p, "XLEN", "s")
		ev.do(p, "XRANGE", "s", "-", "+")
		ev.do(p, "XREAD", "STREAMS", "s", "0")
		// Generic events on streams.
		ev.do(p, "RENAME", "s", "r")
		ev.do(p, "COPY", "r", "c")
		ev.do(p, "EXPIRE", "r", "100")
		// 50 ms, not 1: redis-server 7.0 compares the deadline with a
		// second clock reading, so under load a 1 ms TTL can already
		// have passed and it deletes the key (del, not expire).
		ev.do(p, "PEXPIRE", "c", "50")
		time.Sleep(120 * time.Millisecond)
		ev.do(p, "XLEN", "c") // expired
		ev.do(p, "DEL", "r", "e", "new", "n")
		ev.do(p, "UNLINK", "mystream")
		ev.do(p, "XADD", "s", "1-1", "f", "v")
		ev.do(p, "SET", "s", "x") // a stream overwritten
		// New-key events (n): which stream commands create a key.
		setEvents(t, s, p, "KEAn")
		ev.do(p, "XADD", "n1", "1-1", "f", "v")
		ev.do(p, "XADD", "n1", "2-1", "f", "v")
		ev.do(p, "XADD", "n2", "NOMKSTREAM", "1-1", "f", "v")
		ev.do(p, "XADD", "n3", "MAXLEN", "0", "1-1", "f", "v")
		ev.do(p, "XGROUP", "CREATE", "n4", "g", "$", "MKSTREAM")
		ev.do(p, "XGROUP", "CREATE", "n5", "g", "$")
		ev.do(p, "COPY", "n1", "n6")
		ev.do(p, "RENAME", "n1", "n7")
		ev.do(p, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "n4", "0")
		setEvents(t, s, p, "")
	})
}

// Stream commands in transactions: queued, run in order, runtime errors
// inside the EXEC array, queue-time errors aborting.
func TestStreamMultiExec(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "XGROUP", "CREATE", "s", "g", "0", "MKSTREAM")
		sxDo(p, "XGROUP", "CREATECONSUMER", "s", "g", "c")
		sxDo(p, "MULTI")
		for _, args := range [][]string{
			{"XADD", "s", "1-1", "f", "v"}, {"XADD", "s", "2-1", "f", "v"}, {"XADD", "s", "1-1", "f", "v"},
			{"XLEN", "s"}, {"XRANGE", "s", "-", "+"}, {"XREAD", "STREAMS", "s", "0"},
			{"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"},
			{"XPENDING", "s", "g"}, {"XACK", "s", "g", "1-1"}, {"XCLAIM", "s", "g", "c", "0", "2-1", "FORCE", "JUSTID"},
			{"XAUTOCLAIM", "s", "g", "c", "0", "0", "JUSTID"}, {"XDEL", "s", "1-1"}, {"XTRIM", "s", "MAXLEN", "5"},
			{"XSETID", "s", "5-0"}, {"XGROUP", "SETID", "s", "g", "0"}, {"XGROUP", "CREATE", "s", "g", "0"},
			{"XREADGROUP", "GROUP", "nogroup", "c", "STREAMS", "s", ">"}, {"XRANGE", "s", "-", "+", "COUNT", "0"},
			{"XREAD", "STREAMS", "s", "$"}, {"SET", "str", "x"}, {"XLEN", "str"},
		} {
			sxDo(p, args...)
		}
		sxDo(p, "EXEC")
		sxXInfo(p, "s", "FULL")

		// Queue-time errors abort the transaction.
		for _, bad := range [][]string{
			{"XADD", "s", "*", "f"}, {"XADD", "s"}, {"XGROUP", "CREATE", "s"}, {"XINFO", "STREAM"},
			{"XGROUP", "FOO"}, {"XINFO", "HELP", "x"}, {"XREADGROUP", "GROUP", "g", "c", "STREAMS"},
			{"XRANGE", "s", "-"}, {"XPENDING", "s"}, {"XAUTOCLAIM", "s", "g", "c", "0"},
		} {
			sxDo(p, "MULTI")
			sxDo(p, "XADD", "s", "9-1", "f", "v")
			sxDo(p, bad...)
			sxDo(p, "EXEC")
			sxDo(p, "XLEN", "s")
		}
		// Runtime errors do not stop the others; DISCARD drops the queue.
		sxDo(p, "MULTI")
		sxDo(p, "XADD", "s", "0-0", "f", "v")
		sxDo(p, "XADD", "s", "MAXLEN", "-1", "*", "f", "v")
		sxDo(p, "XREAD", "STREAMS", "s", "a", "0") // unbalanced (7.2+ text, at EXEC)
		sxDo(p, "XADD", "s", "10-1", "f", "v")
		p.DoMatch(sxMultiExec([]string{"XADD", "XADD", "XREAD", "XADD"}, [][]string{
			nil, nil, {"XREAD", "STREAMS", "s", "a", "0"}, nil,
		}), "EXEC")
		sxDo(p, "MULTI")
		sxDo(p, "XADD", "s", "11-1", "f", "v")
		sxDo(p, "DISCARD")
		sxDo(p, "XLEN", "s")
	})
}

// sxMultiExec compares an EXEC reply element by element, applying
// sxNewerReply to the elements whose command args are given.
func sxMultiExec(names []string, args [][]string) redistest.Comparison {
	return func(r, s redistest.Value) error {
		if len(r.Elems) != len(s.Elems) || len(s.Elems) != len(names) {
			return redistest.CompareExact(r, s)
		}
		for i := range s.Elems {
			cmp := redistest.CompareExact
			if args[i] != nil {
				cmp = sxCompare(args[i], cmp)
			}
			if err := cmp(r.Elems[i], s.Elems[i]); err != nil {
				return fmt.Errorf("EXEC element %d (%s): %w", i, names[i], err)
			}
		}
		return nil
	}
}

// WATCH on a stream key: which commands of another client make EXEC fail.
func TestStreamWatch(t *testing.T) {
	s := sxStart(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := sxOther(t, s, 2)
		q.Do("XGROUP", "CREATE", "s", "g", "0", "MKSTREAM")
		q.Do("XGROUP", "CREATECONSUMER", "s", "g", "c")
		q.Do("XADD", "s", "1-1", "f", "v")
		// touch runs other on q between WATCH and EXEC; EXEC must answer
		// the same (null if the watched key counts as modified).
		touch := func(other ...string) {
			t.Helper()
			p.Do("WATCH", "s")
			sxAny(q, other...)
			p.Do("MULTI")
			p.Do("XLEN", "s")
			if !p.Do("EXEC") {
				t.Errorf("after %s", redistest.FormatCommand(other))
			}
		}
		touch("XADD", "s", "2-1", "f", "v")
		touch("XADD", "s", "1-1", "f", "v") // error
		touch("XADD", "s", "NOMKSTREAM", "3-1", "f", "v")
		touch("XLEN", "s")
		touch("XRANGE", "s", "-", "+")
		touch("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">")
		touch("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0")
		touch("XREADGROUP", "GROUP", "g", "c", "NOACK", "COUNT", "1", "STREAMS", "s", ">")
		touch("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">") // nothing new
		touch("XACK", "s", "g", "1-1")
		touch("XACK", "s", "g", "1-1")
		touch("XCLAIM", "s", "g", "c", "0", "2-1")
		touch("XAUTOCLAIM", "s", "g", "c", "0", "0")
		touch("XPENDING", "s", "g")
		touch("XINFO", "STREAM", "s")
		touch("XGROUP", "CREATECONSUMER", "s", "g", "d")
		touch("XGROUP", "DELCONSUMER", "s", "g", "d")
		touch("XGROUP", "SETID", "s", "g", "0")
		touch("XGROUP", "CREATE", "s", "g2", "0")
		touch("XGROUP", "DESTROY", "s", "g2")
		touch("XDEL", "s", "9-9")
		touch("XDEL", "s", "1-1")
		touch("XTRIM", "s", "MAXLEN", "100")
		touch("XTRIM", "s", "MAXLEN", "1")
		touch("XSETID", "s", "10-0")
		touch("XREAD", "STREAMS", "s", "0")
		touch("DEL", "s")
		touch("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
		touch("EXPIRE", "s", "100")
		touch("SET", "s", "x")
	})
}
