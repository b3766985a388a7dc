package command

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/config"
	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/pubsub"
	"github.com/runnel-io/runnel/internal/redistest"
	"github.com/runnel-io/runnel/internal/server"
)

// Test-only blocking commands, registered on the test's table only (they
// have no Redis metadata):
//
//	TESTPOP key [key ...] ms  pops the first key holding a string other
//	                          than "nothing": [key, value]; else blocks (0:
//	                          forever), waiting for strings (BlockFor).
//	TESTNOKEY key ms          waits until key holds "go" (+SERVED); a
//	                          missing key is a NOGROUP error, as XREADGROUP
//	                          answers when its key is deleted (BlockOnNoKey).
//	TESTOTHER key             stores a value of another type at key.
func registerBlockingTest(t *Table) {
	t.add(
		&Command{Name: "testpop", Arity: -3, Flags: Write | Blocking, FirstKey: 1, LastKey: -2, Step: 1, Run: cmdTestPop},
		&Command{Name: "testnokey", Arity: 3, Flags: Write | Blocking, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdTestNoKey},
		&Command{Name: "testother", Arity: 2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdTestOther},
		&Command{Name: "testpanic", Arity: 2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: func(*Ctx) { panic("test panic") }},
		&Command{Name: "testreexec", Arity: 2, Flags: Write | Blocking, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdTestReexec},
	)
}

// cmdTestReexec is TESTREEXEC key: it always blocks at first; re-executed,
// it panics if key holds "panic", and replies +SLOW after 100ms if it holds
// "slow".
func cmdTestReexec(x *Ctx) {
	if x.Blocked() == nil {
		x.Block(x.Args[1:2], 0, testBlockState)
		return
	}
	s, _, _ := x.GetString(x.Args[1], 0)
	switch string(s.B) {
	case "panic":
		panic("test panic")
	case "slow":
		time.Sleep(100 * time.Millisecond)
		x.W.Simple("SLOW")
	}
}

const testBlockState = "saved state"

func cmdTestPop(x *Ctx) {
	n := len(x.Args) - 1
	ms, ok := x.Int(n)
	if !ok {
		return
	}
	if st := x.Blocked(); st != nil && st != testBlockState {
		x.Error("ERR wrong state")
		return
	}
	keys := x.Args[1:n]
	for _, k := range keys {
		s, exists, ok := x.GetString(k, engine.LookupWrite)
		if !ok {
			return
		}
		if exists && string(s.B) != "nothing" {
			x.Tx.Delete(x.DB, k)
			x.W.Array(2)
			x.W.Bulk(k)
			x.W.Bulk(s.B)
			return
		}
	}
	if !x.CanBlock() {
		x.W.NullArray()
		return
	}
	var deadline int64
	if ms > 0 {
		deadline = x.Now + ms
	}
	x.BlockFor("string")
	x.Block(keys, deadline, testBlockState)
}

func cmdTestNoKey(x *Ctx) {
	ms, ok := x.Int(2)
	if !ok {
		return
	}
	s, exists, ok := x.GetString(x.Args[1], 0)
	switch {
	case !ok:
		return
	case !exists:
		x.Error("NOGROUP the key is gone")
		return
	case string(s.B) == "go":
		x.W.Simple("SERVED")
		return
	case !x.CanBlock():
		x.W.NullArray()
		return
	}
	var deadline int64
	if ms > 0 {
		deadline = x.Now + ms
	}
	x.BlockOnNoKey()
	x.Block(x.Args[1:2], deadline, testBlockState)
}

type otherValue struct{}

func (otherValue) Type() string     { return "other" }
func (otherValue) Encoding() string { return "other" }

func cmdTestOther(x *Ctx) {
	x.Tx.Set(x.DB, x.Args[1], otherValue{}, 0, false)
	x.W.OK()
}

// netSettings are the network settings of the test server.
type netSettings struct{}

func (netSettings) MaxClients() int                                   { return 100000 }
func (netSettings) IdleTimeout() time.Duration                        { return 0 }
func (netSettings) TCPKeepAlive() time.Duration                       { return 0 }
func (netSettings) ProtoMaxBulkLen() int64                            { return 512 << 20 }
func (netSettings) QueryBufferLimit() int64                           { return 1 << 30 }
func (netSettings) PasswordRequired() bool                            { return false }
func (netSettings) ProtectedMode() bool                               { return false }
func (netSettings) OutputBufferLimit(class int) (int64, int64, int64) { return 0, 0, 0 }

// blockServer is the whole command table over TCP, plus the test commands.
type blockServer struct {
	env  *Env
	addr string
	adm  *redistest.Conn // for INFO and friends
}

func startBlockServer(tb testing.TB, opts ...func(*server.Server)) *blockServer {
	tb.Helper()
	cfg := config.New()
	env := &Env{Cfg: cfg, PubSub: pubsub.New()}
	env.KS = engine.New(cfg.Databases(), env)
	env.Password = cfg.RequirePass
	t := NewTable(env)
	registerBlockingTest(t)
	srv := server.New(t, netSettings{}, nil)
	env.Srv = srv
	for _, o := range opts {
		o(srv)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(l)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	bs := &blockServer{env: env, addr: l.Addr().String()}
	bs.adm = bs.dial(tb)
	return bs
}

func (bs *blockServer) dial(tb testing.TB) *redistest.Conn {
	tb.Helper()
	return redistest.Dial(tb, bs.addr)
}

// info returns one field of INFO everything.
func (bs *blockServer) info(tb testing.TB, field string) string {
	tb.Helper()
	v := bs.adm.DoValue("INFO", "everything")
	for _, line := range strings.Split(v.Str, "\r\n") {
		if k, val, ok := strings.Cut(line, ":"); ok && k == field {
			return val
		}
	}
	return ""
}

// waitBlocked waits until INFO blocked_clients is n.
func (bs *blockServer) waitBlocked(tb testing.TB, n int) {
	tb.Helper()
	want := strconv.Itoa(n)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := bs.info(tb, "blocked_clients")
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("blocked_clients is %s, want %s", got, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (bs *blockServer) expectInfo(tb testing.TB, field, want string) {
	tb.Helper()
	if got := bs.info(tb, field); got != want {
		tb.Fatalf("INFO %s = %q, want %q", field, got, want)
	}
}

func send(c *redistest.Conn, args ...string) { c.WriteRaw(redistest.Command(args...)) }

func expectReply(tb testing.TB, c *redistest.Conn, want string) {
	tb.Helper()
	if got := string(c.ReadReply()); got != want {
		tb.Fatalf("reply %q, want %q", got, want)
	}
}

func expectSilence(tb testing.TB, c *redistest.Conn, d time.Duration) {
	tb.Helper()
	if got, ok := c.ReadReplyTimeout(d); ok {
		tb.Fatalf("unexpected reply %q", got)
	}
}

func do(tb testing.TB, c *redistest.Conn, want string, args ...string) {
	tb.Helper()
	if got := string(c.Do(args...)); got != want {
		tb.Fatalf("%s: %q, want %q", strings.Join(args, " "), got, want)
	}
}

func clientID(tb testing.TB, c *redistest.Conn) string {
	tb.Helper()
	return strconv.FormatInt(c.DoValue("CLIENT", "ID").Int, 10)
}

func TestBlockServedByWrite(t *testing.T) {
	bs := startBlockServer(t)
	c1, c2 := bs.dial(t), bs.dial(t)
	// A pipelined PING after the blocking command waits for it.
	c1.WriteRaw(append(redistest.Command("TESTPOP", "k", "0"), redistest.Command("PING")...))
	bs.waitBlocked(t, 1)
	bs.expectInfo(t, "total_blocking_keys", "1")
	bs.expectInfo(t, "total_blocking_keys_on_nokey", "0")
	bs.expectInfo(t, "clients_in_timeout_table", "0")
	if list := string(bs.adm.DoValue("CLIENT", "LIST").Str); !strings.Contains(list, "flags=b ") || !strings.Contains(list, "cmd=testpop") {
		t.Fatalf("CLIENT LIST without the blocked client:\n%s", list)
	}
	expectSilence(t, c1, 50*time.Millisecond)
	do(t, c2, "+OK\r\n", "SET", "k", "v")
	expectReply(t, c1, "*2\r\n$1\r\nk\r\n$1\r\nv\r\n")
	expectReply(t, c1, "+PONG\r\n")
	do(t, c2, ":0\r\n", "EXISTS", "k")
	bs.expectInfo(t, "blocked_clients", "0")
	bs.expectInfo(t, "total_blocking_keys", "0")
	if s := bs.info(t, "cmdstat_testpop"); !strings.HasPrefix(s, "calls=1,") {
		t.Fatalf("cmdstat_testpop %s, want one call", s)
	}
	// Served at once when there is data: no blocking.
	do(t, c2, "+OK\r\n", "SET", "k", "w")
	do(t, c1, "*2\r\n$1\r\nk\r\n$1\r\nw\r\n", "TESTPOP", "k", "0")
}

func TestBlockFIFOAndOriginalDeadline(t *testing.T) {
	bs := startBlockServer(t)
	w := bs.dial(t)
	cs := []*redistest.Conn{bs.dial(t), bs.dial(t), bs.dial(t)}
	begin := time.Now()
	// The last one has a deadline; the others wait forever.
	for i, c := range cs {
		ms := "0"
		if i == 2 {
			ms = "700"
		}
		send(c, "TESTPOP", "k", ms)
		bs.waitBlocked(t, i+1)
	}
	bs.expectInfo(t, "clients_in_timeout_table", "1")
	bs.expectInfo(t, "total_blocking_keys", "1")
	// One value: the first blocked is served, the others keep waiting.
	do(t, w, "+OK\r\n", "SET", "k", "v1")
	expectReply(t, cs[0], "*2\r\n$1\r\nk\r\n$2\r\nv1\r\n")
	expectSilence(t, cs[1], 30*time.Millisecond)
	do(t, w, "+OK\r\n", "SET", "k", "v2")
	expectReply(t, cs[1], "*2\r\n$1\r\nk\r\n$2\r\nv2\r\n")
	// A string that serves nobody: the last client re-executes, finds
	// nothing, and blocks again with its original deadline.
	time.Sleep(time.Until(begin.Add(300 * time.Millisecond)))
	do(t, w, "+OK\r\n", "SET", "k", "nothing")
	bs.waitBlocked(t, 1)
	expectReply(t, cs[2], "*-1\r\n")
	if d := time.Since(begin); d < 650*time.Millisecond || d > 950*time.Millisecond {
		t.Fatalf("timed out after %v; want the original 700ms deadline", d)
	}
	// Counted once each (the re-execution is not a call).
	if s := bs.info(t, "cmdstat_testpop"); !strings.HasPrefix(s, "calls=3,") || !strings.HasSuffix(s, "rejected_calls=0,failed_calls=0") {
		t.Fatalf("cmdstat_testpop %s", s)
	}
	bs.waitBlocked(t, 0)
	bs.expectInfo(t, "clients_in_timeout_table", "0")
	bs.expectInfo(t, "total_blocking_keys", "0")
}

func TestBlockMultiKeyOrder(t *testing.T) {
	bs := startBlockServer(t)
	w := bs.dial(t)
	a, b := bs.dial(t), bs.dial(t)
	send(a, "TESTPOP", "k1", "k2", "0")
	bs.waitBlocked(t, 1)
	send(b, "TESTPOP", "k2", "0")
	bs.waitBlocked(t, 2)
	bs.expectInfo(t, "total_blocking_keys", "2")
	// k2 gets a value: a blocked first, a takes it.
	do(t, w, "+OK\r\n", "SET", "k2", "x")
	expectReply(t, a, "*2\r\n$2\r\nk2\r\n$1\r\nx\r\n")
	bs.waitBlocked(t, 1)
	bs.expectInfo(t, "total_blocking_keys", "1")
	do(t, w, "+OK\r\n", "SET", "k2", "y")
	expectReply(t, b, "*2\r\n$2\r\nk2\r\n$1\r\ny\r\n")
}

func TestBlockTypeFilter(t *testing.T) {
	bs := startBlockServer(t)
	w, c := bs.dial(t), bs.dial(t)
	send(c, "TESTPOP", "k", "0")
	bs.waitBlocked(t, 1)
	// Another type does not re-execute a command that waits for strings
	// (it would answer WRONGTYPE); nor does a deletion.
	do(t, w, "+OK\r\n", "TESTOTHER", "k")
	do(t, w, ":1\r\n", "DEL", "k")
	expectSilence(t, c, 50*time.Millisecond)
	bs.expectInfo(t, "blocked_clients", "1")
	do(t, w, "+OK\r\n", "SET", "k", "v")
	expectReply(t, c, "*2\r\n$1\r\nk\r\n$1\r\nv\r\n")
}

func TestBlockInMulti(t *testing.T) {
	bs := startBlockServer(t)
	c, w := bs.dial(t), bs.dial(t)
	// Inside EXEC a blocking command answers at once, as if timed out.
	do(t, c, "+OK\r\n", "MULTI")
	do(t, c, "+QUEUED\r\n", "TESTPOP", "k", "0")
	do(t, c, "*1\r\n*-1\r\n", "EXEC")
	bs.expectInfo(t, "blocked_clients", "0")

	send(c, "TESTPOP", "k", "0")
	bs.waitBlocked(t, 1)
	// A transaction that adds and removes the key wakes nobody: readiness
	// is served after EXEC, on the final state.
	do(t, w, "+OK\r\n", "MULTI")
	do(t, w, "+QUEUED\r\n", "SET", "k", "v")
	do(t, w, "+QUEUED\r\n", "DEL", "k")
	do(t, w, "*2\r\n+OK\r\n:1\r\n", "EXEC")
	expectSilence(t, c, 50*time.Millisecond)
	// A transaction that sets it twice serves the final value.
	do(t, w, "+OK\r\n", "MULTI")
	do(t, w, "+QUEUED\r\n", "SET", "k", "v1")
	do(t, w, "+QUEUED\r\n", "SET", "k", "v2")
	do(t, w, "*2\r\n+OK\r\n+OK\r\n", "EXEC")
	expectReply(t, c, "*2\r\n$1\r\nk\r\n$2\r\nv2\r\n")
}

func TestBlockClientUnblock(t *testing.T) {
	bs := startBlockServer(t)
	c, w := bs.dial(t), bs.dial(t)
	id := clientID(t, c)
	do(t, w, ":0\r\n", "CLIENT", "UNBLOCK", id)
	send(c, "TESTPOP", "k", "0")
	bs.waitBlocked(t, 1)
	do(t, w, ":1\r\n", "CLIENT", "UNBLOCK", id)
	expectReply(t, c, "*-1\r\n")
	bs.waitBlocked(t, 0)

	// RESP3: the timeout reply is a null.
	c.Do("HELLO", "3")
	send(c, "TESTPOP", "k", "0")
	bs.waitBlocked(t, 1)
	do(t, w, ":1\r\n", "CLIENT", "UNBLOCK", id, "TIMEOUT")
	expectReply(t, c, "_\r\n")

	send(c, "TESTPOP", "k", "0")
	bs.waitBlocked(t, 1)
	do(t, w, ":1\r\n", "CLIENT", "UNBLOCK", id, "ERROR")
	expectReply(t, c, "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")
	bs.waitBlocked(t, 0)
	bs.expectInfo(t, "errorstat_UNBLOCKED", "count=1")
	bs.expectInfo(t, "total_error_replies", "1")
	if s := bs.info(t, "cmdstat_testpop"); !strings.HasPrefix(s, "calls=3,") || !strings.HasSuffix(s, "rejected_calls=0,failed_calls=1") {
		t.Fatalf("cmdstat_testpop %s", s)
	}

	// Inside EXEC, which holds the keys' locks: the unblock happens, the
	// SET after it then finds no one waiting.
	send(c, "TESTPOP", "k", "0")
	bs.waitBlocked(t, 1)
	do(t, w, "+OK\r\n", "MULTI")
	do(t, w, "+QUEUED\r\n", "CLIENT", "UNBLOCK", id)
	do(t, w, "+QUEUED\r\n", "SET", "k", "v")
	do(t, w, "*2\r\n:1\r\n+OK\r\n", "EXEC")
	expectReply(t, c, "_\r\n")
	do(t, w, "$1\r\nv\r\n", "GET", "k")
}

func TestBlockDisconnect(t *testing.T) {
	bs := startBlockServer(t)
	c, w := bs.dial(t), bs.dial(t)
	send(c, "TESTPOP", "k", "0")
	bs.waitBlocked(t, 1)
	c.Close()
	begin := time.Now()
	bs.waitBlocked(t, 0)
	if d := time.Since(begin); d > time.Second {
		t.Fatalf("the disconnected client was forgotten after %v", d)
	}
	bs.expectInfo(t, "total_blocking_keys", "0")
	// Nobody pops the value any more.
	do(t, w, "+OK\r\n", "SET", "k", "v")
	do(t, w, "$1\r\nv\r\n", "GET", "k")
	// A client killed while blocked, likewise.
	c2 := bs.dial(t)
	id := clientID(t, c2)
	send(c2, "TESTPOP", "other", "0")
	bs.waitBlocked(t, 1)
	do(t, w, ":1\r\n", "CLIENT", "KILL", "ID", id)
	bs.waitBlocked(t, 0)
	c2.ExpectClosed()
}

func TestBlockOnNoKey(t *testing.T) {
	bs := startBlockServer(t)
	c, w := bs.dial(t), bs.dial(t)
	do(t, w, "+OK\r\n", "SET", "g", "idle")
	send(c, "TESTNOKEY", "g", "0")
	bs.waitBlocked(t, 1)
	bs.expectInfo(t, "total_blocking_keys", "1")
	bs.expectInfo(t, "total_blocking_keys_on_nokey", "1")
	// A write that does not serve it: re-executed, blocked again.
	do(t, w, "+OK\r\n", "SET", "g", "still")
	expectSilence(t, c, 30*time.Millisecond)
	// Deleting the key wakes it with an error, counted once as a failed
	// call, as XREADGROUP's NOGROUP (spec §7).
	do(t, w, ":1\r\n", "DEL", "g")
	expectReply(t, c, "-NOGROUP the key is gone\r\n")
	bs.waitBlocked(t, 0)
	bs.expectInfo(t, "total_blocking_keys_on_nokey", "0")
	bs.expectInfo(t, "errorstat_NOGROUP", "count=1")
	bs.expectInfo(t, "total_error_replies", "1")
	bs.expectInfo(t, "cmdstat_testnokey", bs.info(t, "cmdstat_testnokey")) // present
	if s := bs.info(t, "cmdstat_testnokey"); !strings.HasPrefix(s, "calls=1,") || !strings.HasSuffix(s, "rejected_calls=0,failed_calls=1") {
		t.Fatalf("cmdstat_testnokey %s", s)
	}
	// Served with data.
	do(t, w, "+OK\r\n", "SET", "g", "idle")
	send(c, "TESTNOKEY", "g", "0")
	bs.waitBlocked(t, 1)
	do(t, w, "+OK\r\n", "SET", "g", "go")
	expectReply(t, c, "+SERVED\r\n")
}

func TestBlockFlushAndSwapDB(t *testing.T) {
	bs := startBlockServer(t)
	c, w := bs.dial(t), bs.dial(t)
	do(t, w, "+OK\r\n", "SET", "g", "idle")
	send(c, "TESTNOKEY", "g", "0")
	bs.waitBlocked(t, 1)
	do(t, w, "+OK\r\n", "FLUSHALL")
	expectReply(t, c, "-NOGROUP the key is gone\r\n")

	do(t, w, "+OK\r\n", "SET", "g", "idle")
	send(c, "TESTNOKEY", "g", "0")
	bs.waitBlocked(t, 1)
	do(t, w, "+OK\r\n", "FLUSHDB")
	expectReply(t, c, "-NOGROUP the key is gone\r\n")

	// The blocked client stays on database 0, whose contents SWAPDB
	// replaces: it is served from what was database 1.
	send(c, "TESTPOP", "k", "0")
	bs.waitBlocked(t, 1)
	do(t, w, "+OK\r\n", "SELECT", "1")
	do(t, w, "+OK\r\n", "SET", "k", "from1")
	do(t, w, "+OK\r\n", "SWAPDB", "0", "1")
	expectReply(t, c, "*2\r\n$1\r\nk\r\n$5\r\nfrom1\r\n")
	// Database 1 now holds the old database 0: nothing there.
	do(t, w, ":0\r\n", "DBSIZE")
}

func TestBlockExpiry(t *testing.T) {
	bs := startBlockServer(t)
	c, w := bs.dial(t), bs.dial(t)
	do(t, w, "+OK\r\n", "SET", "g", "idle", "PX", "30")
	send(c, "TESTNOKEY", "g", "0")
	bs.waitBlocked(t, 1)
	time.Sleep(50 * time.Millisecond)
	// Active expiry deletes the key and serves the client.
	bs.env.KS.ExpireCycle(engine.NowMs(), time.Second)
	expectReply(t, c, "-NOGROUP the key is gone\r\n")
	// Lazy expiry inside another command, likewise.
	do(t, w, "+OK\r\n", "SET", "g", "idle", "PX", "30")
	send(c, "TESTNOKEY", "g", "0")
	bs.waitBlocked(t, 1)
	time.Sleep(50 * time.Millisecond)
	do(t, w, ":0\r\n", "EXISTS", "g")
	expectReply(t, c, "-NOGROUP the key is gone\r\n")
}

func TestBlockDuplicateKeys(t *testing.T) {
	bs := startBlockServer(t)
	c, w := bs.dial(t), bs.dial(t)
	send(c, "TESTPOP", "k", "k", "0")
	bs.waitBlocked(t, 1)
	bs.expectInfo(t, "total_blocking_keys", "1")
	do(t, w, "+OK\r\n", "SET", "k", "v")
	expectReply(t, c, "*2\r\n$1\r\nk\r\n$1\r\nv\r\n")
	bs.waitBlocked(t, 0)
	bs.expectInfo(t, "total_blocking_keys", "0")
}

func TestBlockReexecPanic(t *testing.T) {
	bs := startBlockServer(t)
	c, w := bs.dial(t), bs.dial(t)
	send(c, "TESTREEXEC", "k")
	bs.waitBlocked(t, 1)
	// The blocked client gets an error and is closed; the writer and the
	// key's locks are unharmed.
	do(t, w, "+OK\r\n", "SET", "k", "panic")
	expectReply(t, c, "-ERR internal error\r\n")
	c.ExpectClosed()
	bs.waitBlocked(t, 0)
	do(t, w, "$5\r\npanic\r\n", "GET", "k")
}

// TestPanicReleasesLocks: a handler that panics, alone or inside EXEC,
// does not keep its keys locked.
func TestPanicReleasesLocks(t *testing.T) {
	bs := startBlockServer(t)
	w := bs.dial(t)
	c := bs.dial(t)
	do(t, c, "-ERR internal error\r\n", "TESTPANIC", "k")
	c.ExpectClosed()
	do(t, w, "+OK\r\n", "SET", "k", "v")
	c = bs.dial(t)
	do(t, c, "+OK\r\n", "MULTI")
	do(t, c, "+QUEUED\r\n", "SET", "k", "x")
	do(t, c, "+QUEUED\r\n", "TESTPANIC", "k")
	do(t, c, "*2\r\n+OK\r\n-ERR internal error\r\n", "EXEC")
	c.ExpectClosed()
	do(t, w, "$1\r\nx\r\n", "GET", "k")
}

// TestBlockDisconnectWhileServed closes a client while a writer is
// re-executing its command: the client's goroutine waits for the writer to
// be done with its W and Session before it goes.
func TestBlockDisconnectWhileServed(t *testing.T) {
	bs := startBlockServer(t)
	c := bs.dial(t)
	w := dialRaw(t, bs.addr)
	send(c, "TESTREEXEC", "k")
	bs.waitBlocked(t, 1)
	done := make(chan string, 1)
	go func() {
		v, err := w.do("SET", "k", "slow")
		if err != nil {
			v = err.Error()
		}
		done <- v
	}()
	time.Sleep(30 * time.Millisecond) // the writer is in the 100ms re-execution
	c.Close()
	if v := <-done; v != "+OK\r\n" {
		t.Fatalf("SET: %q", v)
	}
	bs.waitBlocked(t, 0)
	bs.expectInfo(t, "total_blocking_keys", "0")
}

// readReply reads one RESP2 reply from r and returns its bytes.
func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return line, err
	}
	if len(line) < 3 {
		return line, fmt.Errorf("bad line %q", line)
	}
	n, _ := strconv.Atoi(line[1 : len(line)-2])
	switch line[0] {
	case '*':
		out := line
		for i := 0; i < n; i++ {
			v, err := readReply(r)
			out += v
			if err != nil {
				return out, err
			}
		}
		return out, nil
	case '$':
		if n < 0 {
			return line, nil
		}
		b := make([]byte, n+2)
		_, err := io.ReadFull(r, b)
		return line + string(b), err
	}
	return line, nil
}

// rawConn is a connection usable from any goroutine (redistest.Conn fails
// the test from its own goroutine only).
type rawConn struct {
	nc net.Conn
	r  *bufio.Reader
}

func dialRaw(tb testing.TB, addr string) *rawConn {
	tb.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	return &rawConn{nc: nc, r: bufio.NewReader(nc)}
}

func (c *rawConn) do(args ...string) (string, error) {
	_ = c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(redistest.Command(args...)); err != nil {
		return "", err
	}
	return readReply(c.r)
}

// TestBlockRaces runs poppers with short deadlines against writers, CLIENT
// UNBLOCK and clients that disconnect while blocked: every command gets
// exactly one reply, no value is popped twice, and nothing stays
// registered. Meant for -race.
func TestBlockRaces(t *testing.T) {
	bs := startBlockServer(t)
	const poppers, rounds = 8, 150
	var mu sync.Mutex
	popped := map[string]bool{}
	outcomes := map[string]int{} // by reply type
	var ids []string
	var conns []*rawConn
	for i := 0; i < poppers; i++ {
		c := dialRaw(t, bs.addr)
		id, err := c.do("CLIENT", "ID")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, strings.TrimSpace(id[1:]))
		conns = append(conns, c)
	}
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ms := strconv.Itoa(1 + i%4)
			for j := 0; j < rounds; j++ {
				_ = c.nc.SetDeadline(time.Now().Add(10 * time.Second))
				c.nc.Write(append(redistest.Command("TESTPOP", "r1", "r2", "r3", ms), redistest.Command("PING")...))
				v, err := readReply(c.r)
				if err != nil {
					t.Errorf("popper %d: %v", i, err)
					return
				}
				mu.Lock()
				outcomes[v[:2]]++
				mu.Unlock()
				switch {
				case v == "*-1\r\n", v == "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n":
				case strings.HasPrefix(v, "*2\r\n"):
					mu.Lock()
					if popped[v] {
						t.Errorf("%q popped twice", v)
					}
					popped[v] = true
					mu.Unlock()
				default:
					t.Errorf("popper %d: reply %q", i, v)
					return
				}
				if v, err := readReply(c.r); err != nil || v != "+PONG\r\n" {
					t.Errorf("popper %d: after the pop: %q, %v", i, v, err)
					return
				}
			}
		}()
	}
	stop := make(chan struct{})
	var bg sync.WaitGroup
	for w := 0; w < 3; w++ {
		c := dialRaw(t, bs.addr)
		bg.Add(1)
		go func() {
			defer bg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				switch n % 5 {
				case 0, 1, 2:
					_, err = c.do("SET", "r"+strconv.Itoa(1+n%3), fmt.Sprintf("w%d-%d", w, n))
				case 3:
					_, err = c.do("CLIENT", "UNBLOCK", ids[n%len(ids)], []string{"TIMEOUT", "ERROR"}[n/5%2])
				case 4:
					_, err = c.do("DEL", "r"+strconv.Itoa(1+n%3))
				}
				if err != nil {
					t.Errorf("writer: %v", err)
					return
				}
			}
		}()
	}
	bg.Add(1)
	go func() {
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			nc, err := net.Dial("tcp", bs.addr)
			if err != nil {
				t.Error(err)
				return
			}
			nc.Write(redistest.Command("TESTPOP", "r1", "r2", "r3", "0"))
			time.Sleep(time.Millisecond)
			nc.Close()
		}
	}()
	wg.Wait()
	close(stop)
	bg.Wait()
	bs.waitBlocked(t, 0)
	bs.expectInfo(t, "total_blocking_keys", "0")
	bs.expectInfo(t, "clients_in_timeout_table", "0")
	t.Logf("replies by type: %v", outcomes)
	if outcomes["*2"] == 0 || outcomes["*-"] == 0 || outcomes["-U"] == 0 {
		t.Fatalf("not every outcome happened: %v", outcomes)
	}
}

// TestBlockSignalWhileParking writes to the key, and unblocks the client,
// while the blocked client's goroutine is still sending its earlier
// replies (between Block and Park): the client handles it itself when it
// parks. The server's BeforeFlush hook runs in that window.
func TestBlockSignalWhileParking(t *testing.T) {
	var action func()
	var armed atomic.Bool
	bs := startBlockServer(t, func(s *server.Server) {
		s.BeforeFlush = func(c *server.Client) bool {
			if c.IsBlocked() && armed.CompareAndSwap(true, false) {
				action()
			}
			return true
		}
	})
	c := bs.dial(t)
	w := dialRaw(t, bs.addr)
	var wmu sync.Mutex // w is used from the hook, on the server's goroutine, too
	must := func(want string, args ...string) {
		wmu.Lock()
		defer wmu.Unlock()
		if v, err := w.do(args...); err != nil || v != want {
			t.Errorf("%s: %q, %v; want %q", strings.Join(args, " "), v, err, want)
		}
	}
	// A write that serves it.
	action = func() { must("+OK\r\n", "SET", "k", "v") }
	armed.Store(true)
	do(t, c, "*2\r\n$1\r\nk\r\n$1\r\nv\r\n", "TESTPOP", "k", "0")
	// A write that does not: it parks, blocked.
	action = func() { must("+OK\r\n", "SET", "k", "nothing") }
	armed.Store(true)
	send(c, "TESTPOP", "k", "0")
	bs.waitBlocked(t, 1)
	expectSilence(t, c, 30*time.Millisecond)
	must("+OK\r\n", "SET", "k", "v2")
	expectReply(t, c, "*2\r\n$1\r\nk\r\n$2\r\nv2\r\n")
	// CLIENT UNBLOCK.
	id := clientID(t, c)
	action = func() { must(":1\r\n", "CLIENT", "UNBLOCK", id, "ERROR") }
	armed.Store(true)
	do(t, c, "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n", "TESTPOP", "k", "0")
	bs.waitBlocked(t, 0)
	if s := bs.info(t, "cmdstat_testpop"); !strings.HasPrefix(s, "calls=3,") || !strings.HasSuffix(s, "failed_calls=1") {
		t.Fatalf("cmdstat_testpop %s", s)
	}
	bs.expectInfo(t, "total_blocking_keys", "0")
}

const helperEnv = "RUNNEL_BLOCK_HELPER_ADDR"

// TestBlockManyIdleClients parks 10,000 clients over real TCP and checks
// that, blocked, they cost (almost) no CPU: each is a goroutine parked in
// the netpoller, with no timer goroutine. Then all are served, and all
// block again with a deadline and time out. The client side runs in a
// child process (TestBlockHelperProcess), so this process holds only the
// server's 10,000 sockets and its CPU time is the server's.
func TestBlockManyIdleClients(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 connections: not in -short")
	}
	const n = 10000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < n+200 {
		t.Skipf("needs %d open files, RLIMIT_NOFILE is %d (%v)", n+200, lim.Cur, err)
	}
	bs := startBlockServer(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestBlockHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"="+bs.addr, "RUNNEL_BLOCK_HELPER_N="+strconv.Itoa(n))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for bs.info(t, "blocked_clients") != strconv.Itoa(n) {
		select {
		case err := <-exited:
			t.Fatalf("helper exited early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("blocked_clients %s, want %d", bs.info(t, "blocked_clients"), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	bs.expectInfo(t, "total_blocking_keys", strconv.Itoa(n))
	// Settle what setting up left behind (garbage, the scavenger), then
	// measure a quiet second.
	runtime.GC()
	debug.FreeOSMemory()
	time.Sleep(200 * time.Millisecond)
	cpu0, wall0 := cpuTime(t), time.Now()
	time.Sleep(time.Second)
	cpu, wall := cpuTime(t)-cpu0, time.Since(wall0)
	t.Logf("%d blocked clients: %v CPU in %v", n, cpu, wall)
	if cpu > wall/20 {
		t.Errorf("%d idle blocked clients used %v of CPU in %v (over 5%% of a core)", n, cpu, wall)
	}
	// Serve them all, in one pipeline.
	c := dialRaw(t, bs.addr)
	var req []byte
	for i := 0; i < n; i++ {
		req = append(req, redistest.Command("SET", "cpu:"+strconv.Itoa(i), "v"+strconv.Itoa(i))...)
	}
	_ = c.nc.SetDeadline(time.Now().Add(60 * time.Second))
	go c.nc.Write(req)
	for i := 0; i < n; i++ {
		if v, err := readReply(c.r); err != nil || v != "+OK\r\n" {
			t.Fatalf("SET: %q, %v", v, err)
		}
	}
	select {
	case err := <-exited:
		if err != nil || !strings.Contains(out.String(), "helper: ok") {
			t.Fatalf("helper: %v\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("helper did not finish\n%s", out.String())
	}
	bs.waitBlocked(t, 0)
	bs.expectInfo(t, "total_blocking_keys", "0")
	bs.expectInfo(t, "clients_in_timeout_table", "0")
}

func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestBlockHelperProcess is the client side of TestBlockManyIdleClients,
// run in a child process: it blocks n clients, checks that each is served
// its own value, then blocks them all again with a 300ms deadline and
// checks that each times out, not earlier.
func TestBlockHelperProcess(t *testing.T) {
	addr := os.Getenv(helperEnv)
	if addr == "" {
		t.Skip("helper process for TestBlockManyIdleClients")
	}
	n, _ := strconv.Atoi(os.Getenv("RUNNEL_BLOCK_HELPER_N"))
	conns := make([]*rawConn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			nc, err := net.DialTimeout("tcp", addr, 30*time.Second)
			if err != nil {
				t.Errorf("dial %d: %v", i, err)
				return
			}
			c := &rawConn{nc: nc, r: bufio.NewReader(nc)}
			conns[i] = c
			_ = nc.SetDeadline(time.Now().Add(120 * time.Second))
			if _, err := nc.Write(redistest.Command("TESTPOP", "cpu:"+strconv.Itoa(i), "0")); err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := "cpu:" + strconv.Itoa(i)
			want := fmt.Sprintf("*2\r\n$%d\r\n%s\r\n$%d\r\nv%d\r\n", len(k), k, len(strconv.Itoa(i))+1, i)
			if v, err := readReply(c.r); err != nil || v != want {
				t.Errorf("client %d served %q, %v; want %q", i, v, err, want)
				return
			}
			start := time.Now()
			if _, err := c.nc.Write(redistest.Command("TESTPOP", k, "300")); err != nil {
				t.Errorf("write %d: %v", i, err)
				return
			}
			if v, err := readReply(c.r); err != nil || v != "*-1\r\n" {
				t.Errorf("client %d: %q, %v; want the timeout", i, v, err)
				return
			}
			if d := time.Since(start); d < 290*time.Millisecond || d > 30*time.Second {
				t.Errorf("client %d timed out after %v, want 300ms", i, d)
			}
		}()
	}
	wg.Wait()
	if !t.Failed() {
		fmt.Println("helper: ok")
	}
}
