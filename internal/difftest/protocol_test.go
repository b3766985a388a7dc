package difftest

// Differential tests of the wire protocol: inline commands, pipelining,
// protocol errors (each must close the connection after its reply) and
// half-sent input. Raw bytes go to both servers unchanged.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/redistest"
)

// eachFreshPair runs fn with a new connection pair per protocol, for
// scenarios that end with the server closing the connection.
func eachFreshPair(t *testing.T, s *servers, fn func(t *testing.T, p *redistest.Pair)) {
	t.Helper()
	eachProto(t, s, fn)
}

// pingBoth checks that both servers still serve new connections.
func pingBoth(t *testing.T, s *servers) {
	t.Helper()
	p := redistest.NewPair(t, s.addr, s.redis.Addr(), 2)
	defer p.Close()
	p.Do("PING")
}

func TestProtocolInline(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		for _, line := range []string{
			"PING\r\n",
			"PING\n",
			"ping hello\r\n",
			"ECHO \"a b\"\r\n",
			"ECHO 'single quoted'\r\n",
			`ECHO "\x41\x42\x4g\n\r\t\b\a\"\\\z"` + "\r\n",
			`ECHO 'it\'s'` + "\r\n",
			`ECHO ""` + "\r\n",
			`ECHO ab"c d"` + "\r\n",
			"  \t ECHO   spaced   \r\n",
			"ECHO a\rb\r\n",
			"\vECHO x\r\n",
			"SET k \"\\x00\\xff\"\r\n",
			"GET k\r\n",
			"SET \"key with spaces\" v\r\n",
			"GET \"key with spaces\"\r\n",
			"ECHO\r\n",            // arity error, connection stays
			"NOSUCH a 'b c'\r\n",  // unknown command
			"$4\r\n",              // not multibulk: an inline command named $4
			":1\r\n",              // idem
			"*1\r\n$4\r\nPINGxx",  // the two bytes after a payload are not checked
			"*1\rX$4\r\nPING\r\n", // nor the byte after a count's \r
			"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
		} {
			p.DoRaw([]byte(line))
		}
		// Empty lines and empty multibulks are skipped without a reply.
		p.WriteRaw([]byte("\r\n\n   \r\n*0\r\n*-1\r\n*-100\r\n"))
		p.ExpectSilence(silence)
		p.Do("PING")
	})
}

func TestProtocolPipelining(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		var raw []byte
		n := 0
		for i := range 1000 {
			switch i % 4 {
			case 0:
				raw = append(raw, redistest.Command("SET", fmt.Sprint("k", i), strings.Repeat("v", i))...)
			case 1:
				raw = append(raw, fmt.Sprintf("GET k%d\r\n", i-1)...)
			case 2:
				raw = append(raw, redistest.Command("INCR", "counter")...)
			case 3:
				raw = append(raw, redistest.Command("NOSUCH", "x")...)
			}
			n++
		}
		p.WriteRaw(raw)
		receiveN(t, p, n)
		// A command split across writes.
		cmd := redistest.Command("ECHO", "split")
		for i := range cmd {
			p.WriteRaw(cmd[i : i+1])
			if i%5 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		p.Receive()
		p.Do("GET", "counter")
	})
}

// Every protocol error text, each answered and followed by closing the
// connection; the commands before it in the same write are answered first.
func TestProtocolErrors(t *testing.T) {
	s := startServers(t)
	big := strings.Repeat("1", 64*1024+1)
	cases := []struct{ name, in string }{
		{"invalid multibulk length", "*x\r\n"},
		{"multibulk empty count", "*\r\n"},
		{"multibulk plus sign", "*+1\r\n"},
		{"multibulk over INT_MAX", "*2147483648\r\n"},
		{"multibulk LF only", "*1\n$4\r\nPING\r\n"},
		{"invalid bulk length", "*1\r\n$x\r\n"},
		{"bulk empty length", "*1\r\n$\r\nPING\r\n"},
		{"bulk negative", "*1\r\n$-1\r\n"},
		{"bulk minus zero", "*1\r\n$-0\r\n"},
		{"bulk over proto-max-bulk-len", "*1\r\n$2147483647\r\n"},
		{"bulk just over 512mb", "*1\r\n$536870913\r\n"},
		{"expected dollar", "*1\r\nx4\r\nPING\r\n"},
		{"expected dollar got colon", "*2\r\n$4\r\nECHO\r\n:1\r\n"},
		{"expected dollar got CR", "*1\r\n\r\nPING\r\n"},
		{"expected dollar got high byte", "*1\r\n\xff4\r\n"},
		{"unbalanced double quotes", "ECHO \"abc\r\n"},
		{"unbalanced single quotes", "ECHO 'abc\r\n"},
		{"text after closing quote", "ECHO \"a\"b\r\n"},
		{"too big inline request", strings.Repeat("a", 64*1024+1)},
		{"too big mbulk count string", "*" + big},
		{"too big bulk count string", "*1\r\n$" + big},
		{"after good commands", "PING\r\n*1\r\n$4\r\nPING\r\nECHO x\r\n*1\r\n$x\r\nPING\r\n"},
		{"after a multibulk in the same write", "*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n*1\r\nx\r\n"},
		// strchr stops at a NUL: the line end is never found, and the
		// request fails once it is too big.
		{"NUL hides the line end", "PING\x00\r\n" + strings.Repeat("a", 64*1024)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachFreshPair(t, s, func(t *testing.T, p *redistest.Pair) {
				p.WriteRaw([]byte(tc.in))
				expectProtocolError(t, p)
			})
		})
	}
	pingBoth(t, s)
}

// expectProtocolError receives (and compares) replies until the protocol
// error, then requires both servers to close the connection.
func expectProtocolError(t *testing.T, p *redistest.Pair) {
	t.Helper()
	for range 10 {
		last := false
		ok := p.ReceiveMatch(func(r, v redistest.Value) error {
			last = v.IsError() && strings.HasPrefix(v.Str, "ERR Protocol error")
			return redistest.CompareExact(r, v)
		})
		if !ok {
			return
		}
		if last {
			p.Runnel.ExpectClosed()
			p.Redis.ExpectClosed()
			return
		}
	}
	t.Fatal("no protocol error after 10 replies")
}

// A request that stops half way is never run; a declared huge bulk does not
// make either server wait for or allocate more than arrives.
func TestProtocolHalfSent(t *testing.T) {
	s := startServers(t)
	for _, half := range []string{
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv",
		"*3\r\n$3\r\nSET\r\n$1\r\nk",
		"*3\r\n$3\r\nSET\r\n",
		"*3\r",
		"SET k v",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\nabcdef",
		"*1\r\n$4\x00\r\nPING\r\n",
	} {
		t.Run(fmt.Sprintf("%q", half), func(t *testing.T) {
			p := s.pair(t, 2)
			p.WriteRaw([]byte(half))
			p.ExpectSilence(silence)
			p.Close()
			q := s.pair(t, 2)
			defer q.Close()
			// FlushAll in s.pair ran before: the key must still be absent.
			q.Do("GET", "k")
			q.Do("DBSIZE")
		})
	}
}

// proto-max-bulk-len bounds each argument.
func TestProtocolMaxBulkLen(t *testing.T) {
	s := startServers(t)
	eachFreshPair(t, s, func(t *testing.T, p *redistest.Pair) {
		if !p.Do("CONFIG", "SET", "proto-max-bulk-len", "1mb") {
			return
		}
		defer func() {
			q := redistest.NewPair(t, s.addr, s.redis.Addr(), 2)
			defer q.Close()
			q.Do("CONFIG", "SET", "proto-max-bulk-len", "512mb")
		}()
		val := strings.Repeat("x", 1<<20)
		p.Do("SET", "k", val)
		p.Do("STRLEN", "k")
		p.WriteRaw([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n"))
		expectProtocolError(t, p)
	})
}

// After a protocol error under CLIENT REPLY OFF the error reply is dropped,
// and Redis then never closes the connection: it ignores what follows.
func TestProtocolErrorReplyOff(t *testing.T) {
	s := startServers(t)
	eachFreshPair(t, s, func(t *testing.T, p *redistest.Pair) {
		p.WriteRaw([]byte("CLIENT REPLY OFF\r\nPING\r\n*1\r\n$x\r\n"))
		p.ExpectSilence(silence)
		p.WriteRaw([]byte("CLIENT REPLY ON\r\nPING\r\n"))
		p.ExpectSilence(silence)
	})
	eachFreshPair(t, s, func(t *testing.T, p *redistest.Pair) {
		p.WriteRaw([]byte("CLIENT REPLY SKIP\r\n*1\r\n$x\r\nPING\r\n"))
		p.ExpectSilence(silence)
	})
	pingBoth(t, s)
}
