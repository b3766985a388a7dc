package redistest

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestPairTwoRedis runs the Pair against two real servers, which must agree
// on everything deterministic.
func TestPairTwoRedis(t *testing.T) {
	a, b := StartRedis(t), StartRedis(t)
	p := NewPair(t, a.Addr(), b.Addr(), 2)

	t.Run("strings", func(t *testing.T) {
		p := NewPair(t, a.Addr(), b.Addr(), 2)
		p.Do("SET", "k", "v")
		p.Do("GET", "k")
		p.Do("GET", "missing")
		p.DoError("GET")
		p.DoError("INCR", "k")
	})
	t.Run("sorted", func(t *testing.T) {
		p := NewPair(t, a.Addr(), b.Addr(), 2)
		for _, k := range []string{"a", "b", "c", "d", "e", "f", "g"} {
			p.Do("SET", k, "1")
		}
		p.DoSorted("KEYS", "*")
		p.DoSorted("SCAN", "0", "COUNT", "1000")
	})
	t.Run("loosely", func(t *testing.T) {
		p := NewPair(t, a.Addr(), b.Addr(), 2)
		p.Do("SADD", "s", "1", "2", "3", "4", "5")
		p.DoLoosely("SRANDMEMBER", "s", "2")
		p.DoLoosely("TIME")
	})
	t.Run("raw", func(t *testing.T) {
		p := NewPair(t, a.Addr(), b.Addr(), 2)
		p.DoRaw([]byte("PING\r\n"))
		p.DoRaw([]byte("ECHO \"a b\"\r\n"))
		// A pipeline: one write, two replies.
		p.DoRaw(append(Command("SET", "p", "1"), Command("INCR", "p")...))
		p.Receive()
		p.DoRawExpectClose([]byte("*1\r\n$x\r\n"))
	})
	t.Run("difference detected", func(t *testing.T) {
		Dial(t, a.Addr()).Do("SET", "diverged", "on-a")
		Dial(t, b.Addr()).Do("SET", "diverged", "on-b")
		rec := run(t, func(tb testing.TB) {
			p := NewPair(tb, a.Addr(), b.Addr(), 2)
			p.Do("GET", "diverged")
			p.Do("DEL", "diverged") // still in sync after a mismatch
		})
		rec.wantFailure(t, "GET diverged",
			`runnel raw: "$4\r\non-a\r\n"`, `redis  raw: "$4\r\non-b\r\n"`,
			`at reply: runnel sent bulk "on-a", redis sent bulk "on-b"`)
	})
	t.Run("pubsub", func(t *testing.T) {
		sub := NewPair(t, a.Addr(), b.Addr(), 2)
		sub.Do("SUBSCRIBE", "ch")
		p.Do("PUBLISH", "ch", "hello")
		sub.Receive()
		p.Do("PUBLISH", "other", "x")
		sub.ExpectSilence(50 * time.Millisecond)
	})

	a.FlushAll(t)
	b.FlushAll(t)
	p.Do("DBSIZE")
}

func TestPairRESP3(t *testing.T) {
	a, b := StartRedis(t), StartRedis(t)
	// Use up a connection id on one side so the ids really differ.
	Dial(t, a.Addr()).Do("PING")
	p := NewPair(t, a.Addr(), b.Addr(), 3)
	p.Do("HSET", "h", "f1", "1", "f2", "2", "f3", "3")
	p.DoSorted("HGETALL", "h")
	p.Do("ZADD", "z", "1.5", "m")
	p.Do("ZSCORE", "z", "m")
	p.Do("GET", "missing")
	p.DoSorted("SMEMBERS", "nothing")
	p.Do("SUBSCRIBE", "ch")
	p.Do("PING")
}

// TestPairReportsDifferences checks the failure messages against fake
// servers, so it runs without redis-server.
func TestPairReportsDifferences(t *testing.T) {
	replies := func(m map[string]string) func([]string) string {
		return func(args []string) string { return m[strings.ToUpper(strings.Join(args, " "))] }
	}
	runnel := fakeServer(t, replies(map[string]string{
		"GET K":      "$5\r\nvalue\r\n",
		"KEYS *":     "*2\r\n$1\r\nb\r\n$1\r\na\r\n",
		"SMEMBERS S": "*2\r\n$1\r\nb\r\n$1\r\nc\r\n",
		"RANDOMKEY":  ":1\r\n",
		"INCR K":     ":1\r\n",
		"HGETALL H":  "%1\r\n$1\r\nf\r\n*2\r\n:1\r\n:2\r\n",
		"TIME":       "*2\r\n$1\r\n1\r\n$1\r\n2\r\n",
		"PING":       "+PONG\r\n",
		"HELLO 3":    "%2\r\n$6\r\nserver\r\n$6\r\nrunnel\r\n$2\r\nid\r\n:1\r\n",
	}))
	redis := fakeServer(t, replies(map[string]string{
		"GET K":      "$5\r\nother\r\n",
		"KEYS *":     "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
		"SMEMBERS S": "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
		"RANDOMKEY":  "$1\r\nk\r\n",
		"INCR K":     "-ERR value is not an integer or out of range\r\n",
		"HGETALL H":  "%1\r\n$1\r\nf\r\n*2\r\n:1\r\n:3\r\n",
		"TIME":       "*2\r\n$10\r\n1700000000\r\n$6\r\n123456\r\n",
		"PING":       "+PONG\r\n",
		"HELLO 3":    "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$2\r\nid\r\n:9\r\n",
	}))

	check := func(name string, fn func(p *Pair), fragments ...string) {
		t.Run(name, func(t *testing.T) {
			rec := run(t, func(tb testing.TB) { fn(NewPair(tb, runnel, redis, 2)) })
			if len(fragments) == 0 {
				rec.wantNoFailure(t)
			} else {
				rec.wantFailure(t, fragments...)
			}
		})
	}
	check("Do", func(p *Pair) { p.Do("GET", "k") },
		"replies differ for: GET k",
		`at reply: runnel sent bulk "value", redis sent bulk "other"`,
		`runnel raw: "$5\r\nvalue\r\n"`,
		`redis  raw: "$5\r\nother\r\n"`)
	check("Do same", func(p *Pair) { p.Do("PING") })
	check("Do nested", func(p *Pair) { p.Do("HGETALL", "h") },
		`at reply{"f"}[1]: runnel sent int 2, redis sent int 3`)
	check("Do order", func(p *Pair) { p.Do("KEYS", "*") }, `at reply[0]`)
	check("DoSorted order", func(p *Pair) { p.DoSorted("KEYS", "*") })
	check("DoSorted members", func(p *Pair) { p.DoSorted("SMEMBERS", "s") },
		`after sorting, at reply[0]: runnel sent bulk "b", redis sent bulk "a"`)
	check("DoLoosely values", func(p *Pair) { p.DoLoosely("TIME") })
	check("DoLoosely kinds", func(p *Pair) { p.DoLoosely("RANDOMKEY") },
		`runnel sent int 1, redis sent bulk "k"`)
	check("DoError", func(p *Pair) { p.DoError("INCR", "k") },
		"expected an error, runnel sent int 1")
	check("DoError neither", func(p *Pair) { p.DoError("PING") },
		"expected an error from both")
	check("DoMatch", func(p *Pair) {
		p.DoMatch(func(r, s Value) error { return CompareExact(r, r) }, "GET", "k")
	})
	check("Normalize", func(p *Pair) {
		p.Normalize(func(v Value) Value {
			if v.Kind == KindBulk {
				v.Str = "X"
			}
			return v
		})
		p.Do("GET", "k")
	})
	check("HELLO 3", func(p *Pair) {}) // proto 2: no HELLO sent
	t.Run("HELLO 3 mismatch", func(t *testing.T) {
		rec := run(t, func(tb testing.TB) { NewPair(tb, runnel, redis, 3) })
		rec.wantFailure(t, "HELLO 3", `at reply{"server"}: runnel sent bulk "runnel", redis sent bulk "redis"`)
		if !rec.fatal {
			t.Error("HELLO mismatch should be fatal")
		}
	})
}

func TestDropMapKeys(t *testing.T) {
	r, _ := Parse([]byte("%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$2\r\nid\r\n:1\r\n"))
	s, _ := Parse([]byte("%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$2\r\nid\r\n:7\r\n"))
	if CompareExact(r, s) == nil {
		t.Fatal("ids should differ")
	}
	drop := DropMapKeys("id")
	if err := CompareExact(drop(r), drop(s)); err != nil {
		t.Fatal(err)
	}
	if len(r.Elems) != 4 {
		t.Fatal("DropMapKeys modified its argument")
	}
}

func TestStartRedisMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(RequireRedisEnv, "")
	rec := run(t, func(tb testing.TB) { StartRedis(tb) })
	if !strings.HasPrefix(rec.skipped, "redis-server not found") {
		t.Errorf("skipped = %q, failures %q", rec.skipped, rec.messages())
	}
	t.Setenv(RequireRedisEnv, "1")
	rec = run(t, func(tb testing.TB) { StartRedis(tb) })
	rec.wantFailure(t, "apt-get install redis-server")
	if !rec.fatal {
		t.Error("missing redis-server with RUNNEL_REQUIRE_REDIS=1 should be fatal")
	}
}

func TestStartRedisConfig(t *testing.T) {
	r := StartRedis(t, "maxmemory 12345678")
	c := r.Dial(t)
	if got := string(c.Do("CONFIG", "GET", "maxmemory")); !strings.Contains(got, "12345678") {
		t.Errorf("extra config not applied: %q", got)
	}
	if got := string(c.Do("DEBUG", "SLEEP", "0")); got != "+OK\r\n" {
		t.Errorf("DEBUG not enabled: %q", got)
	}
	if !strings.Contains(r.Log(), "Ready to accept connections") {
		t.Errorf("server log not captured: %q", r.Log())
	}
}

func TestPorts(t *testing.T) {
	port := FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := WaitForPort(addr, 50*time.Millisecond); err == nil {
		t.Fatalf("nothing listens on %s yet", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port taken meanwhile: %v", err)
	}
	defer l.Close()
	// A server that answers -LOADING to its first three PINGs: WaitForPort
	// returns once it answers something else.
	var pings atomic.Int32
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				if _, err := bufio.NewReader(nc).ReadString('\n'); err != nil {
					return
				}
				if pings.Add(1) <= 3 {
					nc.Write([]byte("-LOADING Redis is loading the dataset in memory\r\n"))
				} else {
					nc.Write([]byte("+PONG\r\n"))
				}
			}()
		}
	}()
	if err := WaitForPort(addr, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := pings.Load(); n != 4 {
		t.Fatalf("WaitForPort returned after %d PINGs, want 4 (3 answered -LOADING)", n)
	}
}

func TestGolden(t *testing.T) {
	if *Update {
		t.Skip("checks comparison, not rewriting")
	}
	rec := run(t, func(tb testing.TB) { Golden(tb, "value_string", []byte("# simple\nsimple \"KO\"\n")) })
	rec.wantFailure(t, "line 2", `want: "simple \"OK\"\n"`, `got:  "simple \"KO\"\n"`)
	rec = run(t, func(tb testing.TB) { Golden(tb, "does/not/exist", nil) })
	rec.wantFailure(t, "-update")
}
