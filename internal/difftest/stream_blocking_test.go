package difftest

// Differential tests of blocking XREAD and XREADGROUP (spec §7): a client
// blocks on both servers, another connection pair changes the keys, and
// the blocked client's reply (or silence) must be the same.

import (
	"strconv"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/redistest"
)

// sxQuiet is how long a test waits to be sure a blocked client stays
// blocked.
const sxQuiet = 100 * time.Millisecond

// sxBlock sends a blocking command on p and waits until both servers count
// n blocked clients.
func sxBlock(t *testing.T, p, q *redistest.Pair, n int64, args ...string) {
	t.Helper()
	sxSend(p, args...)
	sxWaitBlocked(t, q, n)
}

func TestStreamBlockingXRead(t *testing.T) {
	s := sxStart(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := sxOther(t, s, sxProto(t))
		// Served by a later XADD from another client.
		sxBlock(t, p, q, 1, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
		p.ExpectSilence(sxQuiet)
		sxDo(q, "XADD", "s", "1-1", "f", "v")
		p.Receive()
		sxWaitBlocked(t, q, 0)

		// $ is the last ID at block time: only later entries come.
		sxDo(q, "XADD", "s", "2-1", "f", "v")
		sxBlock(t, p, q, 1, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
		sxDo(q, "XADD", "s", "3-1", "f", "v")
		p.Receive()
		// An explicit ID with data available: served at once.
		sxDo(p, "XREAD", "BLOCK", "0", "STREAMS", "s", "1-1")
		sxDo(p, "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "0")
		// A timeout gives a null array.
		sxDo(p, "XREAD", "BLOCK", "50", "STREAMS", "s", "$")
		sxDo(p, "XREAD", "BLOCK", "1", "STREAMS", "s", "nokey", "$", "$")
		sxDo(p, "XREAD", "COUNT", "5", "BLOCK", "30", "STREAMS", "s", "3-1")

		// COUNT applies to the entries served on wake-up.
		sxBlock(t, p, q, 1, "XREAD", "COUNT", "2", "BLOCK", "0", "STREAMS", "s", "$")
		sxDo(q, "MULTI")
		sxDo(q, "XADD", "s", "4-1", "f", "v")
		sxDo(q, "XADD", "s", "5-1", "f", "v")
		sxDo(q, "XADD", "s", "6-1", "f", "v")
		sxDo(q, "EXEC")
		p.Receive()

		// Several keys: only the one written is in the reply; a missing
		// key's $ is 0-0.
		sxBlock(t, p, q, 1, "XREAD", "BLOCK", "0", "STREAMS", "a", "s", "b", "$", "$", "$")
		sxDo(q, "XADD", "other", "1-1", "f", "v") // another key: still blocked
		p.ExpectSilence(sxQuiet)
		sxDo(q, "XADD", "b", "1-1", "f", "v")
		p.Receive()

		// Fan-out: every XREAD client blocked on the key is served.
		p2, p3 := sxOther(t, s, 2), sxOther(t, s, 3)
		sxBlock(t, p, q, 1, "XREAD", "BLOCK", "0", "STREAMS", "f", "$")
		sxBlock(t, p2, q, 2, "XREAD", "BLOCK", "0", "STREAMS", "f", "0")
		sxBlock(t, p3, q, 3, "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "g", "f", "$", "$")
		sxDo(q, "XADD", "f", "1-1", "f", "v")
		p.Receive()
		p2.Receive()
		p3.Receive()
		sxWaitBlocked(t, q, 0)

		// DEL or a type change does not wake XREAD; the next XADD does, if
		// its entry is after the ID fixed at block time.
		sxDo(q, "XADD", "d", "5-1", "f", "v")
		sxBlock(t, p, q, 1, "XREAD", "BLOCK", "0", "STREAMS", "d", "$")
		sxDo(q, "DEL", "d")
		p.ExpectSilence(sxQuiet)
		sxDo(q, "XADD", "d", "1-1", "f", "v") // not after 5-1
		p.ExpectSilence(sxQuiet)
		sxDo(q, "SET", "d", "x")
		p.ExpectSilence(sxQuiet)
		sxDo(q, "DEL", "d")
		sxDo(q, "XADD", "d", "6-1", "f", "v")
		p.Receive()

		// XADD + DEL in a transaction does not wake the reader (Redis
		// test "XREAD: XADD + DEL should not awake client"), nor does
		// XADD + DEL + another type.
		sxBlock(t, p, q, 1, "XREAD", "BLOCK", "0", "STREAMS", "m", "$")
		for _, tail := range [][]string{nil, {"SET", "m", "x"}} {
			sxDo(q, "MULTI")
			sxDo(q, "XADD", "m", "1-1", "f", "v")
			sxDo(q, "DEL", "m")
			if tail != nil {
				sxDo(q, tail...)
			}
			sxDo(q, "EXEC")
			p.ExpectSilence(sxQuiet)
		}
		sxDo(q, "DEL", "m")
		sxDo(q, "XADD", "m", "2-1", "f", "v")
		p.Receive()

		// An XADD that trims its own entry away at once (MAXLEN 0) leaves
		// the reader blocked since 7.2: never an empty array (spec §7,
		// Redis test "Blocking XREAD will not reply with an empty array").
		// 7.0 replied [[z, []]].
		sxBlock(t, p, q, 1, "XREAD", "BLOCK", "0", "STREAMS", "z", "$")
		sxDo(q, "XADD", "z", "MAXLEN", "0", "1-1", "f", "v")
		old := map[int]string{2: "*1\r\n*2\r\n$1\r\nz\r\n*0\r\n", 3: "%1\r\n$1\r\nz\r\n*0\r\n"}[sxProto(t)]
		if got := string(p.Redis.ReadReply()); got != old {
			t.Errorf("redis 7.0 was expected to reply %q, sent %q", old, got)
		}
		if sxSelfCheck {
			p.Runnel.ReadReply()
		} else {
			if raw, ok := p.Runnel.ReadReplyTimeout(sxQuiet); ok {
				t.Errorf("runnel replied %q to a reader whose entry was trimmed at once; it must keep waiting (spec §7)", raw)
			}
			sxDo(q, "XADD", "z", "2-1", "f", "v")
			// What the reader must get: the entries after 1-1, the ID $
			// stood for.
			want, got := p.Redis.Do("XREAD", "STREAMS", "z", "1-1"), p.Runnel.ReadReply()
			if string(want) != string(got) {
				t.Errorf("woken reader: runnel sent %q, want %q", got, want)
			}
		}
		sxWaitBlocked(t, q, 0)

		// A blocked client that goes away is forgotten.
		p4 := sxOther(t, s, 2)
		sxBlock(t, p4, q, 1, "XREAD", "BLOCK", "0", "STREAMS", "gone", "$")
		p4.Close()
		sxWaitBlocked(t, q, 0)
		sxDo(q, "XADD", "gone", "1-1", "f", "v")
	})
}

func TestStreamBlockingXReadGroup(t *testing.T) {
	s := sxStart(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := sxOther(t, s, sxProto(t))
		sxDo(q, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
		sxDo(q, "XGROUP", "CREATECONSUMER", "s", "g", "c1")
		sxDo(q, "XGROUP", "CREATECONSUMER", "s", "g", "c2")
		sxDo(q, "XGROUP", "CREATECONSUMER", "s", "g", "c3")
		// Two readers of one group: the first blocked takes the entry,
		// the other stays blocked (FIFO), and takes the next one.
		p2 := sxOther(t, s, 2)
		sxBlock(t, p, q, 1, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">")
		sxBlock(t, p2, q, 2, "XREADGROUP", "GROUP", "g", "c2", "COUNT", "10", "BLOCK", "0", "STREAMS", "s", ">")
		sxDo(q, "XADD", "s", "1-1", "f", "v")
		p.Receive()
		p2.ExpectSilence(sxQuiet)
		sxWaitBlocked(t, q, 1)
		sxDo(q, "XADD", "s", "2-1", "f", "v")
		p2.Receive()
		sxDo(q, "XPENDING", "s", "g")

		// Several entries in one transaction go to the first reader, up to
		// its COUNT; the rest to the next.
		sxBlock(t, p, q, 1, "XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "BLOCK", "0", "STREAMS", "s", ">")
		sxBlock(t, p2, q, 2, "XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", "s", ">")
		sxDo(q, "MULTI")
		for i := 3; i <= 5; i++ {
			sxDo(q, "XADD", "s", strconv.Itoa(i)+"-1", "f", "v")
		}
		sxDo(q, "EXEC")
		p.Receive()
		p2.Receive()
		sxDo(q, "XPENDING", "s", "g")

		// NOACK: served without a PEL entry.
		sxBlock(t, p, q, 1, "XREADGROUP", "GROUP", "g", "c3", "NOACK", "BLOCK", "0", "STREAMS", "s", ">")
		sxDo(q, "XADD", "s", "6-1", "f", "v")
		p.Receive()
		sxDo(q, "XPENDING", "s", "g")

		// A history ID never blocks; timeouts give a null array.
		sxDo(p, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", "0")
		sxDo(p, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "50", "STREAMS", "s", ">")
		// Several keys, one of them with new entries later.
		sxDo(q, "XGROUP", "CREATE", "t", "g", "$", "MKSTREAM")
		sxBlock(t, p, q, 1, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", "t", ">", ">")
		sxDo(q, "XADD", "t", "1-1", "f", "v")
		p.Receive()
		// Moving the group back does not wake a reader of an empty tail
		// (nothing is after the new last ID that is not already pending).
		sxBlock(t, p, q, 1, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "200", "STREAMS", "t", ">")
		sxDo(q, "XGROUP", "SETID", "t", "g", "$")
		p.Receive()
		// XREAD and XREADGROUP clients on the same key are all served.
		sxBlock(t, p, q, 1, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "t", ">")
		sxBlock(t, p2, q, 2, "XREAD", "BLOCK", "0", "STREAMS", "t", "$")
		sxDo(q, "XADD", "t", "2-1", "f", "v")
		p.Receive()
		p2.Receive()
		sxDo(q, "XPENDING", "s", "g")
		sxDo(q, "XPENDING", "t", "g")
	})
}

// A blocked XREADGROUP whose key is deleted, retyped or loses its group:
// since 7.2 the blocked command is re-executed and fails with NOGROUP or
// WRONGTYPE (spec §7); 7.0 sent UNBLOCKED, or a NOGROUP with another text.
func TestStreamBlockingXReadGroupKeyGone(t *testing.T) {
	s := sxStart(t)
	noGroup := sxErr("NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option")
	wrongType := sxErr("WRONGTYPE Operation against a key holding the wrong kind of value")
	unblocked70 := sxErr("UNBLOCKED the stream key no longer exists")
	noGroup70 := sxErr("NOGROUP the consumer group this client was blocked on no longer exists")
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := sxOther(t, s, sxProto(t))
		for _, tc := range []struct {
			name      string
			action    [][]string
			want, old redistest.Value
		}{
			{"DEL", [][]string{{"DEL", "s"}}, noGroup, unblocked70},
			{"UNLINK", [][]string{{"UNLINK", "s"}}, noGroup, unblocked70},
			{"SET", [][]string{{"SET", "s", "x"}}, wrongType, unblocked70},
			{"XGROUP DESTROY", [][]string{{"XGROUP", "DESTROY", "s", "g"}}, noGroup, noGroup70},
			{"FLUSHALL", [][]string{{"FLUSHALL"}}, noGroup, unblocked70},
			{"FLUSHDB", [][]string{{"FLUSHDB"}}, noGroup, unblocked70},
			{"RENAME without the group", [][]string{{"XADD", "s2", "1-1", "f", "v"}, {"RENAME", "s2", "s"}}, noGroup, noGroup70},
			{"DEL and SET in MULTI", [][]string{{"MULTI"}, {"DEL", "s"}, {"SET", "s", "x"}, {"EXEC"}}, wrongType, unblocked70},
			{"DEL and recreate", [][]string{{"DEL", "s"}, {"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}}, noGroup, unblocked70},
			{"SWAPDB with an empty db", [][]string{{"SWAPDB", "0", "1"}, {"SWAPDB", "0", "1"}}, noGroup, unblocked70},
		} {
			// Each case on its own blocked connection, so that one server
			// that never answers fails that case only.
			t.Run(tc.name, func(t *testing.T) {
				b := sxOther(t, s, sxProto(t))
				sxDo(q, "DEL", "s", "s2")
				sxDo(q, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
				sxDo(q, "XGROUP", "CREATECONSUMER", "s", "g", "c")
				sxBlock(t, b, q, 1, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
				for _, a := range tc.action {
					sxDo(q, a...)
				}
				b.Runnel.Timeout = time.Second
				b.ReceiveMatch(sxDiffer(tc.want, tc.old))
			})
			// A case that failed may leave its client blocked on Runnel.
			if !t.Failed() {
				sxWaitBlocked(t, q, 0)
			}
		}
		// RENAME of a stream with the group serves the blocked reader.
		sxDo(q, "FLUSHALL")
		sxDo(q, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
		sxDo(q, "XGROUP", "CREATE", "s2", "g", "$", "MKSTREAM")
		sxDo(q, "XGROUP", "CREATECONSUMER", "s", "g", "c")
		sxDo(q, "XGROUP", "CREATECONSUMER", "s2", "g", "c")
		sxDo(q, "XADD", "s2", "1-1", "f", "v")
		sxBlock(t, p, q, 1, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
		sxDo(q, "RENAME", "s2", "s")
		p.Receive()
		// So does SWAPDB with such a stream in the other database.
		sxDo(q, "SELECT", "1")
		sxDo(q, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
		sxDo(q, "XADD", "s", "7-1", "f", "v")
		sxDo(q, "SELECT", "0")
		sxBlock(t, p, q, 1, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
		sxDo(q, "SWAPDB", "0", "1")
		p.Receive()
		sxDo(q, "XPENDING", "s", "g")
		// A blocked XREAD (no group) is not woken by any of these.
		sxBlock(t, p, q, 1, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
		sxDo(q, "XGROUP", "DESTROY", "s", "g")
		sxDo(q, "DEL", "s")
		sxDo(q, "FLUSHALL")
		p.ExpectSilence(sxQuiet)
		sxDo(q, "XADD", "s", "5-1", "f", "v") // not after 7-1, the $ of block time
		p.ExpectSilence(sxQuiet)
		sxDo(q, "XADD", "s", "8-1", "f", "v")
		p.Receive()
	})
}

// Inside MULTI/EXEC nothing blocks: blocking reads answer at once (Redis
// test "Blocking commands ignores the timeout").
func TestStreamBlockingInMulti(t *testing.T) {
	sxEachProto(t, func(t *testing.T, p *redistest.Pair) {
		sxDo(p, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
		sxDo(p, "XGROUP", "CREATECONSUMER", "s", "g", "c")
		sxDo(p, "MULTI")
		sxDo(p, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
		sxDo(p, "XREAD", "BLOCK", "100000", "STREAMS", "s", "nokey", "$", "0")
		sxDo(p, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
		sxDo(p, "XADD", "s", "1-1", "f", "v")
		sxDo(p, "XREAD", "BLOCK", "0", "STREAMS", "s", "0")
		sxDo(p, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
		sxDo(p, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
		sxDo(p, "EXEC")
		sxDo(p, "XPENDING", "s", "g")
	})
}

// CLIENT UNBLOCK: TIMEOUT gives the timeout reply (a null array), ERROR the
// UNBLOCKED error; a client that is not blocked is not unblocked.
func TestStreamBlockingClientUnblock(t *testing.T) {
	s := sxStart(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := sxOther(t, s, sxProto(t))
		rid := strconv.FormatInt(p.Runnel.DoValue("CLIENT", "ID").Int, 10)
		sid := strconv.FormatInt(p.Redis.DoValue("CLIENT", "ID").Int, 10)
		unblock := func(opts ...string) {
			t.Helper()
			doEach(t, q, append([]string{"CLIENT", "UNBLOCK", rid}, opts...), append([]string{"CLIENT", "UNBLOCK", sid}, opts...))
		}
		sxDo(q, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
		sxDo(q, "XGROUP", "CREATECONSUMER", "s", "g", "c")
		for _, opts := range [][]string{nil, {"TIMEOUT"}, {"ERROR"}, {"error"}} {
			sxBlock(t, p, q, 1, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
			unblock(opts...)
			p.Receive()
			sxWaitBlocked(t, q, 0)
			sxBlock(t, p, q, 1, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
			unblock(opts...)
			p.Receive()
			sxWaitBlocked(t, q, 0)
		}
		unblock()      // not blocked: 0
		unblock("FOO") // bad reason
		sxDo(q, "XPENDING", "s", "g")
		// The unblocked client works normally afterwards.
		sxDo(p, "XADD", "s", "1-1", "f", "v")
		sxDo(p, "XREAD", "BLOCK", "0", "STREAMS", "s", "0")
	})
}

// INFO clients counts blocked clients (sxWaitBlocked polls it); check the
// counts while clients block on several keys and after they leave.
func TestStreamBlockingInfo(t *testing.T) {
	s := sxStart(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := sxOther(t, s, sxProto(t))
		var clients []*redistest.Pair
		for i := range 4 {
			c := sxOther(t, s, 2)
			clients = append(clients, c)
			sxBlock(t, c, q, int64(i+1), "XREAD", "BLOCK", "0", "STREAMS", "a", "b"+strconv.Itoa(i%2), "$", "$")
		}
		for _, f := range []string{"blocked_clients"} {
			doEachInfo(t, q, "clients", f)
		}
		sxDo(q, "XADD", "b0", "1-1", "f", "v")
		clients[0].Receive()
		clients[2].Receive()
		sxWaitBlocked(t, q, 2)
		sxDo(q, "XADD", "a", "1-1", "f", "v")
		clients[1].Receive()
		clients[3].Receive()
		sxWaitBlocked(t, q, 0)
	})
}

// doEachInfo requires an INFO field to be equal on both servers.
func doEachInfo(t *testing.T, p *redistest.Pair, section, field string) {
	t.Helper()
	if r, s := sxInfoInt(t, p.Runnel, section, field), sxInfoInt(t, p.Redis, section, field); r != s {
		t.Errorf("INFO %s %s: runnel %d, redis %d", section, field, r, s)
	}
}

// A blocked command that fails when woken, and one that times out, are
// counted in errorstats and commandstats like any call (spec §7, Redis test
// "XGROUP DESTROY should unblock XREADGROUP with -NOGROUP"; 7.0 counts the
// same, with its older error text).
func TestStreamBlockingStats(t *testing.T) {
	s := sxStart(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := sxOther(t, s, sxProto(t))
		sxDo(q, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
		sxDo(q, "XGROUP", "CREATECONSUMER", "s", "g", "c")
		sxDo(q, "CONFIG", "RESETSTAT")
		sxBlock(t, p, q, 1, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
		sxDo(q, "XGROUP", "DESTROY", "s", "g")
		p.ReceiveMatch(sxDiffer(sxErr("NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option"),
			sxErr("NOGROUP the consumer group this client was blocked on no longer exists")))
		sxDo(p, "XREAD", "BLOCK", "20", "STREAMS", "s", "$")
		sxBlock(t, p, q, 1, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
		sxDo(q, "XADD", "s", "1-1", "f", "v")
		p.Receive()
		got := [2]map[string]string{}
		for i, c := range []*redistest.Conn{p.Runnel, p.Redis} {
			m := sxInfoLines(t, c, "errorstats", "errorstat_")
			for k, v := range sxInfoLines(t, c, "commandstats", "cmdstat_x") {
				m[k] = v
			}
			m["total_error_replies"] = strconv.FormatInt(sxInfoInt(t, c, "stats", "total_error_replies"), 10)
			got[i] = m
		}
		for k, sv := range got[1] {
			if rv := got[0][k]; rv != sv {
				t.Errorf("INFO %s: runnel %q, redis %q", k, rv, sv)
			}
		}
		for k, rv := range got[0] {
			if _, ok := got[1][k]; !ok {
				t.Errorf("INFO %s: runnel %q, redis has none", k, rv)
			}
		}
	})
}

// A reader that stays blocked after another took the entry keeps its
// original deadline (spec §7, 7.4 #13004; 7.0 kept it too), and a write in
// another database wakes nobody.
func TestStreamBlockingDeadline(t *testing.T) {
	s := sxStart(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := sxOther(t, s, sxProto(t))
		p2 := sxOther(t, s, 2)
		sxDo(q, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
		sxDo(q, "XGROUP", "CREATECONSUMER", "s", "g", "c1")
		sxDo(q, "XGROUP", "CREATECONSUMER", "s", "g", "c2")
		start := time.Now()
		sxBlock(t, p, q, 1, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">")
		sxBlock(t, p2, q, 2, "XREADGROUP", "GROUP", "g", "c2", "BLOCK", "600", "STREAMS", "s", ">")
		time.Sleep(300 * time.Millisecond)
		sxDo(q, "SELECT", "1")
		sxDo(q, "XADD", "s", "1-1", "f", "v") // db 1: nobody wakes
		sxDo(q, "SELECT", "0")
		p.ExpectSilence(sxQuiet)
		sxDo(q, "XADD", "s", "1-1", "f", "v")
		p.Receive()
		// The second reader's timeout (a null array) comes about 600ms
		// after it blocked; a fresh deadline from the wake-up would put
		// it past 1000ms.
		r := p2.Runnel.ReadReply()
		if d := time.Since(start); d > 900*time.Millisecond && !sxSelfCheck {
			t.Errorf("runnel: the second reader timed out after %v; its deadline was 600ms after it blocked (spec §7, #13004)", d)
		}
		if sv := p2.Redis.ReadReply(); string(r) != string(sv) {
			t.Errorf("timeout reply: runnel %q, redis %q", r, sv)
		}
		sxWaitBlocked(t, q, 0)
	})
}
