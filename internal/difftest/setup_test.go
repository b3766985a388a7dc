// Package difftest holds the differential tests: the same commands are sent
// to Runnel (in-process) and to Debian's redis-server 7.0, and the replies
// are compared byte for byte in RESP2 and RESP3.
package difftest

import (
	"testing"

	"github.com/runnel-io/runnel/internal/app"
	"github.com/runnel-io/runnel/internal/app/apptest"
	"github.com/runnel-io/runnel/internal/redistest"
)

// startRunnel runs an in-process Runnel on a free loopback port until the
// test ends and returns its address.
func startRunnel(tb testing.TB) (*app.App, string) { return apptest.Start(tb) }

// servers starts one redis-server and one Runnel for a test.
type servers struct {
	redis  *redistest.Redis
	runnel *app.App
	addr   string
}

func startServers(tb testing.TB) *servers {
	tb.Helper()
	r := redistest.StartRedis(tb)
	a, addr := startRunnel(tb)
	return &servers{redis: r, runnel: a, addr: addr}
}

// pair opens a connection pair in the given protocol, after flushing both
// servers.
func (s *servers) pair(tb testing.TB, proto int) *redistest.Pair {
	tb.Helper()
	p := redistest.NewPair(tb, s.addr, s.redis.Addr(), proto)
	p.FlushAll()
	return p
}

// eachProto runs fn as two subtests, in RESP2 and in RESP3, over fresh
// connections and flushed servers.
func eachProto(t *testing.T, s *servers, fn func(t *testing.T, p *redistest.Pair)) {
	t.Helper()
	for _, proto := range []int{2, 3} {
		name := "RESP2"
		if proto == 3 {
			name = "RESP3"
		}
		t.Run(name, func(t *testing.T) {
			p := s.pair(t, proto)
			defer p.Close()
			fn(t, p)
		})
	}
}

func TestHarnessSmoke(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("PING")
		p.Do("SET", "k", "v")
		p.Do("GET", "k")
		p.Do("GET", "missing")
		p.Do("ECHO", "hello")
		p.Do("NOSUCHCOMMAND", "a", "b")
	})
}
