package difftest

// Differential tests of the connection commands: PING, ECHO, SELECT, AUTH,
// HELLO, RESET, QUIT and CLIENT, and of the handshakes clients send.

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/app"
	"github.com/runnel-io/runnel/internal/command"
	"github.com/runnel-io/runnel/internal/config"
	"github.com/runnel-io/runnel/internal/redistest"
)

// startServersConfig starts a redis-server and a Runnel with the given
// configuration parameters (name, value). Redis gets them by CONFIG SET
// once it runs, because StartRedis waits for PING to answer +PONG, which a
// requirepass would prevent.
func startServersConfig(tb testing.TB, params ...[2]string) *servers {
	tb.Helper()
	cfg := config.New()
	for _, p := range params {
		if err := cfg.ForceSet(p[0], p[1]); err != nil {
			tb.Fatalf("runnel config %s %s: %v", p[0], p[1], err)
		}
	}
	r := redistest.StartRedis(tb)
	c := r.Dial(tb)
	for _, p := range params {
		if got := string(c.Do("CONFIG", "SET", p[0], p[1])); got != "+OK\r\n" {
			tb.Fatalf("redis: CONFIG SET %s %s: %q", p[0], p[1], got)
		}
	}
	c.Close()
	for _, p := range params {
		if p[0] == "requirepass" {
			// redistest stops the server with SHUTDOWN, which needs no
			// password; this cleanup runs before that one.
			tb.Cleanup(func() {
				c := r.Dial(tb)
				c.Do("AUTH", p[1])
				c.Do("CONFIG", "SET", "requirepass", "")
				c.Close()
			})
		}
	}
	a := app.New(cfg, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go a.Serve(l)
	tb.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	return &servers{redis: r, runnel: a, addr: l.Addr().String()}
}

// rawPair connects to both servers without HELLO or FLUSHALL (for servers
// that require a password).
func (s *servers) rawPair(tb testing.TB) *redistest.Pair {
	tb.Helper()
	return redistest.NewPair(tb, s.addr, s.redis.Addr(), 2)
}

// withoutHelloID drops the connection id from a HELLO reply: a RESP3 map or
// the RESP2 flat array.
func withoutHelloID(v redistest.Value) redistest.Value {
	if v.Kind == redistest.KindMap {
		return redistest.DropMapKeys("id")(v)
	}
	if v.Kind == redistest.KindArray && len(v.Elems) == 14 && v.Elems[6].Str == "id" {
		v.Elems = slices.Concat(v.Elems[:6], v.Elems[8:])
	}
	return v
}

// sameHello compares HELLO replies, which differ only in the client id and
// the version: Runnel reports the Redis release whose stream surface it
// implements (command.RedisVersion; redis-streams-spec.md §10), the oracle
// its own 7.0.
func sameHello(r, s redistest.Value) error {
	r, s = withoutHelloID(r), withoutHelloID(s)
	if got := helloVersion(r); got != nil && got.Str != command.RedisVersion {
		return fmt.Errorf("runnel HELLO version %q, want %q", got.Str, command.RedisVersion)
	}
	if v := helloVersion(s); v != nil {
		if rv := helloVersion(r); rv != nil {
			*rv = *v
		}
	}
	return redistest.CompareExact(r, s)
}

// helloVersion points at the version value of a HELLO reply, or is nil.
func helloVersion(v redistest.Value) *redistest.Value {
	for i := 0; i+1 < len(v.Elems); i += 2 {
		if v.Elems[i].Str == "version" {
			return &v.Elems[i+1]
		}
	}
	return nil
}

func TestConnectionPingEchoSelect(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("PING")
		p.Do("PING", "hello world")
		p.Do("PING", "")
		p.DoError("PING", "a", "b")
		p.Do("ECHO", "x\r\ny")
		p.Do("ECHO", "")
		p.DoError("ECHO")
		p.DoError("ECHO", "a", "b")
		p.Do("SELECT", "1")
		p.Do("SET", "k", "db1")
		p.Do("SELECT", "15")
		p.Do("GET", "k")
		p.Do("SELECT", "1")
		p.Do("GET", "k")
		for _, bad := range []string{"16", "-1", "x", "1.5", "", " 1", "2147483648", "99999999999999999999"} {
			p.DoError("SELECT", bad)
		}
		p.DoError("SELECT")
		p.Do("SELECT", "0")
	})
}

// TestConnectionPingSubscribed checks PING in subscribe mode: a pong message
// in RESP2, a plain reply in RESP3.
func TestConnectionPingSubscribed(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("SUBSCRIBE", "ch")
		p.Do("PING")
		p.Do("PING", "msg")
		p.DoError("PING", "a", "b")
		p.Do("ECHO", "x") // an error in RESP2: not allowed while subscribed
		p.Do("PSUBSCRIBE", "p*")
		p.Do("UNSUBSCRIBE", "ch")
		p.Do("PING") // still subscribed to a pattern
		p.Do("PUNSUBSCRIBE", "p*")
		p.Do("PING")
	})
}

func TestConnectionHello(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		start := "2"
		if strings.HasSuffix(t.Name(), "RESP3") {
			start = "3"
		}
		p.DoMatch(sameHello, "HELLO")
		p.DoMatch(sameHello, "HELLO", "2")
		p.Do("GET", "missing") // $-1 in RESP2
		p.DoMatch(sameHello, "HELLO", "3")
		p.Do("GET", "missing") // _ in RESP3
		p.DoMatch(sameHello, "HELLO")
		for _, args := range [][]string{
			{"HELLO", "4"}, {"HELLO", "1"}, {"HELLO", "0"}, {"HELLO", "-1"}, {"HELLO", "abc"},
			{"HELLO", "3.0"}, {"HELLO", ""}, {"HELLO", "99999999999999999999"},
			{"HELLO", "3", "AUTH"}, {"HELLO", "3", "AUTH", "default"}, {"HELLO", "3", "AUTH", "a", "b"},
			{"HELLO", "3", "SETNAME"}, {"HELLO", "3", "SETNAME", "a b"}, {"HELLO", "3", "SETNAME", "a\nb"},
			{"HELLO", "3", "FOO"}, {"HELLO", "2", "setname", "bar", "extra"},
			{"HELLO", "2", "SETNAME", "a b", "FOO"}, {"HELLO", "2", "FOO", "SETNAME", "a b"},
			{"HELLO", "4", "FOO"},
		} {
			p.DoError(args...)
		}
		// Errors leave the protocol as it was.
		p.Do("GET", "missing")
		p.Do("CLIENT", "GETNAME")
		p.DoMatch(sameHello, "HELLO", "3", "SETNAME", "foo")
		p.Do("CLIENT", "GETNAME")
		p.DoMatch(sameHello, "hello", "2", "setname", "")
		p.Do("CLIENT", "GETNAME")
		// The default user has no password: any password is accepted.
		p.DoMatch(sameHello, "HELLO", "3", "AUTH", "default", "anything", "SETNAME", "n2")
		p.DoMatch(sameHello, "HELLO", "2", "SETNAME", "n3", "AUTH", "default", "x", "SETNAME", "n4")
		p.Do("CLIENT", "GETNAME")
		p.DoError("HELLO", "3", "AUTH", "nosuchuser", "x", "SETNAME", "n5")
		p.Do("CLIENT", "GETNAME")
		p.DoMatch(sameHello, "HELLO", start)
	})
}

func TestConnectionAuthWithoutPassword(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.DoError("AUTH")
		p.DoError("AUTH", "x")
		p.DoError("AUTH", "")
		p.Do("AUTH", "default", "x")
		p.Do("AUTH", "default", "")
		p.DoError("AUTH", "DEFAULT", "x")
		p.DoError("AUTH", "foo", "x")
		p.DoError("AUTH", "a", "b", "c")
		p.Do("PING")
	})
}

func TestConnectionAuthWithPassword(t *testing.T) {
	s := startServersConfig(t, [2]string{"requirepass", "secret"})
	t.Run("RESP2", func(t *testing.T) {
		p := s.rawPair(t)
		p.DoError("PING")
		p.DoError("CLIENT", "ID")
		p.DoError("SELECT", "1")
		p.DoError("HELLO")
		p.DoError("HELLO", "3")
		p.DoError("HELLO", "3", "SETNAME", "x")
		p.DoError("HELLO", "4")      // the version is checked first
		p.DoError("HELLO", "3", "X") // and the syntax
		p.Do("CLIENT", "GETNAME")    // no: NOAUTH
		p.DoError("AUTH")
		p.DoError("AUTH", "x")
		p.DoError("AUTH", "foo", "secret")
		p.DoError("AUTH", "DEFAULT", "secret")
		p.DoError("AUTH", "default", "Secret")
		p.DoError("AUTH", "a", "b", "c")
		p.DoError("FOO") // unknown commands are reported before NOAUTH
		p.DoError("GET")
		p.DoError("MULTI")
		p.Do("QUIT")
	})
	t.Run("auth", func(t *testing.T) {
		p := s.rawPair(t)
		p.Do("AUTH", "secret")
		p.Do("PING")
		p.Do("AUTH", "wrong") // a failed AUTH keeps the client authenticated
		p.Do("PING")
		p.Do("RESET")
		p.DoError("PING")
		p.Do("AUTH", "default", "secret")
		p.Do("PING")
		p.DoMatch(sameHello, "HELLO", "2", "AUTH", "default", "bad")
		p.Do("PING")
	})
	t.Run("hello", func(t *testing.T) {
		p := s.rawPair(t)
		p.DoMatch(sameHello, "HELLO", "3", "AUTH", "default", "secret", "SETNAME", "n1")
		p.Do("CLIENT", "GETNAME")
		p.Do("GET", "missing")
		p.Do("RESET")
		p.DoError("CLIENT", "GETNAME")
		p.DoError("HELLO", "3", "AUTH", "default", "bad", "SETNAME", "n2")
		p.DoError("HELLO", "3", "AUTH", "default", "secret", "SETNAME", "a b")
		// Options apply in order: the first AUTH stays done.
		p.DoError("HELLO", "2", "AUTH", "default", "secret", "AUTH", "default", "x")
		p.Do("PING")
		p.Do("RESET")
		p.DoError("HELLO", "2", "AUTH", "default", "x", "AUTH", "default", "secret")
		p.DoError("PING")
		// SETNAME applies even when the client is not authenticated.
		p.DoError("HELLO", "3", "SETNAME", "early")
		p.Do("AUTH", "secret")
		p.Do("CLIENT", "GETNAME")
		p.Do("GET", "missing") // still RESP2
	})
}

func TestConnectionQuit(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("QUIT")
		p.Runnel.ExpectClosed()
		p.Redis.ExpectClosed()
	})
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("MULTI")
		p.Do("quit", "extra", "args")
		p.Runnel.ExpectClosed()
		p.Redis.ExpectClosed()
	})
}

func TestConnectionReset(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("SELECT", "3")
		p.Do("SET", "k", "v")
		p.Do("CLIENT", "SETNAME", "n")
		p.Do("CLIENT", "NO-EVICT", "on")
		p.Do("MULTI")
		p.Do("SET", "k", "w")
		p.Do("RESET")
		p.Do("EXEC") // the transaction is gone
		p.Do("CLIENT", "GETNAME")
		p.Do("GET", "k") // back in db 0
		p.Do("SELECT", "3")
		p.Do("GET", "k")
		p.DoError("RESET", "x")
		// RESET leaves subscribe mode and RESP3.
		p.Do("SUBSCRIBE", "ch")
		p.Do("RESET")
		p.Do("PING")
		p.DoMatch(sameHello, "HELLO", "3")
		p.Do("RESET")
		p.Do("GET", "missing")
		// It turns CLIENT REPLY OFF back on: +RESET is the next reply.
		p.WriteRaw(redistest.Command("CLIENT", "REPLY", "OFF"))
		p.Do("RESET")
		p.Do("PING")
		// A RESET skipped by CLIENT REPLY SKIP stays silent.
		p.WriteRaw(redistest.Command("CLIENT", "REPLY", "SKIP"))
		p.WriteRaw(redistest.Command("RESET"))
		p.Do("PING")
	})
}

// TestConnectionResetUnwatches checks that RESET drops watched keys: EXEC
// succeeds although a watched key changed.
func TestConnectionResetUnwatches(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := s.pair(t, 2)
		p.Do("WATCH", "k")
		p.Do("RESET")
		q.Do("SET", "k", "1")
		p.Do("MULTI")
		p.Do("GET", "k")
		p.Do("EXEC")
	})
}

func TestClientSimpleSubcommands(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.DoError("CLIENT")
		p.DoError("CLIENT", "FOO")
		p.DoError("CLIENT", "foo", "bar")
		p.DoLoosely("CLIENT", "ID") // ids differ between the servers
		p.DoError("CLIENT", "ID", "x")
		p.Do("CLIENT", "GETNAME")
		p.DoError("CLIENT", "GETNAME", "x")
		p.DoError("CLIENT", "SETNAME")
		p.DoError("CLIENT", "SETNAME", "x", "y")
		for _, bad := range []string{"a b", "a\nb", "a\rb", "\x7f", "é", "\x00", "tab\tx"} {
			p.DoError("CLIENT", "SETNAME", bad)
		}
		p.Do("CLIENT", "GETNAME")
		p.Do("CLIENT", "SETNAME", "!~{}")
		p.Do("CLIENT", "GETNAME")
		p.Do("client", "setname", "")
		p.Do("CLIENT", "GETNAME")
		for _, args := range [][]string{{"NO-EVICT", "on"}, {"NO-EVICT", "OFF"}, {"NO-EVICT", "maybe"}, {"NO-EVICT"}, {"NO-EVICT", "on", "x"}} {
			p.Do(append([]string{"CLIENT"}, args...)...)
		}
		p.DoError("CLIENT", "INFO", "x")
		p.DoError("CLIENT", "HELP", "x")
		p.DoError("CLIENT", "UNPAUSE", "x")
		// Subcommands of newer Redis versions that Runnel does not have.
		p.DoError("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "internal-ip")
		p.DoError("CLIENT", "MAINT_NOTIFICATIONS")
		p.DoError("CLIENT", "NO-TOUCHY", "on")
	})
}

// TestClientTracking: Runnel has no client-side caching; everything but
// CLIENT TRACKING ON answers as Redis does for a client with tracking off.
func TestClientTracking(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("CLIENT", "TRACKINGINFO")
		p.Do("CLIENT", "GETREDIR")
		p.DoError("CLIENT", "CACHING", "yes")
		p.DoError("CLIENT", "CACHING", "no")
		p.DoError("CLIENT", "CACHING", "maybe")
		p.DoError("CLIENT", "CACHING")
		p.Do("CLIENT", "TRACKING", "OFF")
		p.Do("CLIENT", "TRACKING", "off", "BCAST", "PREFIX", "a", "OPTIN", "OPTOUT", "NOLOOP")
		p.DoError("CLIENT", "TRACKING", "maybe")
		p.DoError("CLIENT", "TRACKING")
		p.DoError("CLIENT", "TRACKING", "ON", "foo")
		p.DoError("CLIENT", "TRACKING", "ON", "PREFIX")
		p.DoError("CLIENT", "TRACKING", "ON", "REDIRECT", "x")
		p.DoError("CLIENT", "TRACKING", "ON", "REDIRECT", "999999")
		p.DoError("CLIENT", "TRACKING", "OFF", "REDIRECT", "999999")
		p.DoError("CLIENT", "TRACKING", "maybe", "foo")
		p.Do("CLIENT", "TRACKINGINFO")
	})
	// Runnel refuses to turn tracking on, with one error reply.
	c := redistest.Dial(t, s.addr)
	if got := string(c.Do("CLIENT", "TRACKING", "ON")); !strings.HasPrefix(got, "-ERR client-side caching") {
		t.Errorf("CLIENT TRACKING ON: got %q", got)
	}
	if got := string(c.Do("PING")); got != "+PONG\r\n" {
		t.Errorf("PING after CLIENT TRACKING ON: got %q", got)
	}
}

// TestClientHelp compares CLIENT HELP with Redis 7.0's, apart from the lines
// of the Redis 7.2 subcommands Runnel adds.
func TestClientHelp(t *testing.T) {
	added := []string{
		"SETINFO <option> <value>",
		"    Set client meta attr. Options are:",
		"    * LIB-NAME: the client lib name.",
		"    * LIB-VER: the client lib version.",
		"NO-TOUCH (ON|OFF)",
		"    Will not touch LRU/LFU stats when this mode is on.",
	}
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.DoMatch(func(r, s redistest.Value) error {
			n := len(r.Elems)
			r.Elems = slices.DeleteFunc(slices.Clone(r.Elems), func(e redistest.Value) bool {
				return slices.Contains(added, e.Str)
			})
			if n-len(r.Elems) != len(added) {
				return fmt.Errorf("runnel's help lacks the 7.2 lines")
			}
			return redistest.CompareExact(r, s)
		}, "CLIENT", "HELP")
	})
}

// clientInfoFieldsDiffer are the CLIENT INFO fields whose values differ
// legitimately between the servers: connection ids, addresses and file
// descriptors, timing, and buffer and memory sizes.
var clientInfoFieldsDiffer = map[string]bool{
	"id": true, "addr": true, "laddr": true, "fd": true, "age": true, "idle": true,
	"qbuf": true, "qbuf-free": true, "argv-mem": true, "multi-mem": true,
	"rbs": true, "rbp": true, "tot-mem": true, "obl": true, "oll": true, "omem": true,
}

// Runnel's CLIENT INFO has Redis 7.2's lib-name and lib-ver fields after
// 7.0's.
var clientInfoRunnelOnly = []string{"lib-name", "lib-ver"}

// sameClientInfo compares CLIENT INFO/LIST replies field by field.
func sameClientInfo(r, s redistest.Value) error {
	if r.Kind != s.Kind || r.Format != s.Format {
		return fmt.Errorf("runnel sent kind %q, redis %q", r.Kind, s.Kind)
	}
	rl := strings.Split(strings.TrimSuffix(r.Str, "\n"), "\n")
	sl := strings.Split(strings.TrimSuffix(s.Str, "\n"), "\n")
	if len(rl) != len(sl) || strings.HasSuffix(r.Str, "\n") != strings.HasSuffix(s.Str, "\n") {
		return fmt.Errorf("runnel sent %d lines, redis %d:\n%s\n%s", len(rl), len(sl), r.Str, s.Str)
	}
	for i := range rl {
		if err := sameClientLine(rl[i], sl[i]); err != nil {
			return fmt.Errorf("line %d: %w\nrunnel: %s\nredis:  %s", i, err, rl[i], sl[i])
		}
	}
	return nil
}

func sameClientLine(r, s string) error {
	parse := func(line string) [][2]string {
		var out [][2]string
		for _, f := range strings.Split(line, " ") {
			k, v, _ := strings.Cut(f, "=")
			out = append(out, [2]string{k, v})
		}
		return out
	}
	rf, sf := parse(r), parse(s)
	if len(rf) == len(sf)+len(clientInfoRunnelOnly) {
		for i, name := range clientInfoRunnelOnly {
			if rf[len(sf)+i][0] != name {
				return fmt.Errorf("field %d is %q, want %q", len(sf)+i, rf[len(sf)+i][0], name)
			}
		}
		rf = rf[:len(sf)]
	}
	if len(rf) != len(sf) {
		return fmt.Errorf("runnel has %d fields, redis %d", len(rf), len(sf))
	}
	for i := range rf {
		if rf[i][0] != sf[i][0] {
			return fmt.Errorf("field %d is %q, redis has %q", i, rf[i][0], sf[i][0])
		}
		if !clientInfoFieldsDiffer[rf[i][0]] && rf[i][1] != sf[i][1] {
			return fmt.Errorf("%s=%s, redis has %s", rf[i][0], rf[i][1], sf[i][1])
		}
	}
	return nil
}

func TestClientInfo(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.DoMatch(sameClientInfo, "CLIENT", "INFO")
		p.Do("SELECT", "2")
		p.Do("CLIENT", "SETNAME", "info-test")
		p.Do("CLIENT", "NO-EVICT", "on")
		p.DoMatch(sameClientInfo, "CLIENT", "INFO")
		if strings.HasSuffix(t.Name(), "RESP3") {
			// Subscribed clients may run any command in RESP3.
			p.Do("SUBSCRIBE", "a", "b")
			p.Receive() // one confirmation per channel
			p.Do("PSUBSCRIBE", "c*")
			p.DoMatch(sameClientInfo, "CLIENT", "INFO")
			p.DoMatch(sameClientInfo, "CLIENT", "LIST", "TYPE", "pubsub")
			p.Do("CLIENT", "LIST", "TYPE", "normal")
			p.Do("UNSUBSCRIBE", "a", "b")
			p.Receive()
			p.Do("PUNSUBSCRIBE")
		}
		p.Do("CLIENT", "NO-EVICT", "off")
		p.DoMatch(sameClientInfo, "CLIENT", "INFO")
		p.DoMatch(sameClientInfo, "CLIENT", "LIST", "TYPE", "normal")
		p.Do("CLIENT", "LIST", "TYPE", "pubsub")
		p.Do("CLIENT", "LIST", "TYPE", "master")
		p.Do("CLIENT", "LIST", "TYPE", "replica")
		p.Do("CLIENT", "LIST", "TYPE", "slave")
		p.DoError("CLIENT", "LIST", "TYPE", "foo")
		p.DoError("CLIENT", "LIST", "TYPE")
		p.DoError("CLIENT", "LIST", "TYPE", "normal", "x")
		p.DoError("CLIENT", "LIST", "ID")
		p.DoError("CLIENT", "LIST", "ID", "1", "x")
		p.DoError("CLIENT", "LIST", "foo")
		p.Do("CLIENT", "LIST", "ID", "99999", "-1", "0")
		// The same connection listed by its own id, twice.
		rv := p.Runnel.DoValue("CLIENT", "ID")
		sv := p.Redis.DoValue("CLIENT", "ID")
		r := p.Runnel.DoValue("CLIENT", "LIST", "ID", strconv.FormatInt(rv.Int, 10), "99999", strconv.FormatInt(rv.Int, 10))
		sr := p.Redis.DoValue("CLIENT", "LIST", "ID", strconv.FormatInt(sv.Int, 10), "99999", strconv.FormatInt(sv.Int, 10))
		if err := sameClientInfo(r, sr); err != nil {
			t.Errorf("CLIENT LIST ID own-id 99999 own-id: %v", err)
		}
		// The whole list: this connection only.
		p.DoMatch(sameClientInfo, "CLIENT", "LIST")
	})
}

// TestClientListOtherClient lists a second connection that is in MULTI,
// subscribed (flags x, P) or monitoring (O).
func TestClientListOtherClient(t *testing.T) {
	s := startServers(t)
	p := s.pair(t, 2)
	q := s.pair(t, 3)
	qid := [2]int64{q.Runnel.DoValue("CLIENT", "ID").Int, q.Redis.DoValue("CLIENT", "ID").Int}
	listQ := func(what string) {
		t.Helper()
		r := p.Runnel.DoValue("CLIENT", "LIST", "ID", strconv.FormatInt(qid[0], 10))
		sr := p.Redis.DoValue("CLIENT", "LIST", "ID", strconv.FormatInt(qid[1], 10))
		if err := sameClientInfo(r, sr); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	listQ("idle")
	q.Do("SUBSCRIBE", "ch")
	// Runnel records the subscription count just after sending the
	// confirmation; a round trip makes sure SUBSCRIBE has finished.
	q.Do("PING")
	listQ("subscribed")
	q.Do("UNSUBSCRIBE", "ch")
	q.Do("MULTI")
	listQ("in MULTI")
	q.Do("DISCARD")
	q.Do("MONITOR")
	listQ("monitor")
}

func TestClientKill(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.DoError("CLIENT", "KILL")
		p.DoError("CLIENT", "KILL", "1.2.3.4:5")
		for _, args := range [][]string{
			{"ID", "0"}, {"ID", "-1"}, {"ID", "x"}, {"ID", "5", "x"}, {"TYPE", "foo"}, {"USER", "bob"},
			{"SKIPME", "maybe"}, {"FOO", "bar"}, {"ID"}, {"ADDR", "1.2.3.4:5", "ID"},
		} {
			p.DoError(append([]string{"CLIENT", "KILL"}, args...)...)
		}
		p.Do("CLIENT", "KILL", "ADDR", "1.2.3.4:5")
		p.Do("CLIENT", "KILL", "USER", "default", "ID", "99999")
		p.Do("CLIENT", "KILL", "TYPE", "master")
		p.Do("CLIENT", "KILL", "TYPE", "pubsub")
		p.Do("CLIENT", "KILL", "LADDR", "1.2.3.4:5")
		p.Do("CLIENT", "KILL", "SKIPME", "yes", "ID", "99999")
	})
	// Addresses and ids differ between the servers: each gets its own.
	t.Run("addr", func(t *testing.T) {
		p, q := s.pair(t, 2), s.pair(t, 2)
		killBy(t, p, q, "ADDR")
		killBy(t, p, s.pair(t, 2), "ID")
		killBy(t, p, s.pair(t, 3), "OLD")
		p.Do("PING")
	})
	t.Run("self", func(t *testing.T) {
		p := s.pair(t, 2)
		rid, sid := p.Runnel.DoValue("CLIENT", "ID").Int, p.Redis.DoValue("CLIENT", "ID").Int
		doEach(t, p,
			[]string{"CLIENT", "KILL", "ID", strconv.FormatInt(rid, 10)},
			[]string{"CLIENT", "KILL", "ID", strconv.FormatInt(sid, 10)})
		doEach(t, p,
			[]string{"CLIENT", "KILL", "ID", strconv.FormatInt(rid, 10), "SKIPME", "no"},
			[]string{"CLIENT", "KILL", "ID", strconv.FormatInt(sid, 10), "SKIPME", "no"})
		p.Runnel.ExpectClosed()
		p.Redis.ExpectClosed()
	})
	t.Run("self-old-form", func(t *testing.T) {
		p := s.pair(t, 3)
		doEach(t, p,
			[]string{"CLIENT", "KILL", localAddr(p.Runnel)},
			[]string{"CLIENT", "KILL", localAddr(p.Redis)})
		p.Runnel.ExpectClosed()
		p.Redis.ExpectClosed()
	})
	t.Run("type-pubsub", func(t *testing.T) {
		p, q := s.pair(t, 2), s.pair(t, 3)
		q.Do("SUBSCRIBE", "ch")
		q.Do("PING") // SUBSCRIBE has finished (see TestClientListOtherClient)
		p.Do("CLIENT", "KILL", "TYPE", "pubsub")
		q.Runnel.ExpectClosed()
		q.Redis.ExpectClosed()
		p.Do("CLIENT", "KILL", "TYPE", "pubsub")
	})
	t.Run("user", func(t *testing.T) {
		// A fresh pair of servers, so that only these connections exist.
		s := startServers(t)
		p, q, r := s.pair(t, 2), s.pair(t, 3), s.pair(t, 2)
		waitClients(t, p, 3)
		p.Do("CLIENT", "KILL", "USER", "default")
		for _, c := range []*redistest.Pair{q, r} {
			c.Runnel.ExpectClosed()
			c.Redis.ExpectClosed()
		}
		p.Do("CLIENT", "KILL", "USER", "default", "SKIPME", "yes")
		p.Do("CLIENT", "KILL", "USER", "default", "SKIPME", "no")
		p.Runnel.ExpectClosed()
		p.Redis.ExpectClosed()
	})
}

// waitClients waits until both servers list n clients: connections closed
// by the test harness may take a moment to go away.
func waitClients(t *testing.T, p *redistest.Pair, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, c := range []*redistest.Conn{p.Runnel, p.Redis} {
		for {
			list := c.DoValue("CLIENT", "LIST").Str
			if strings.Count(list, "\n") == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("want %d clients, have:\n%s", n, list)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// localAddr is the client address of a connection as the server sees it.
func localAddr(c *redistest.Conn) string { return c.NetConn().LocalAddr().String() }

// killBy kills q's connections from p: by ADDR, by ID, or with the old
// form CLIENT KILL addr ("OLD").
func killBy(t *testing.T, p, q *redistest.Pair, how string) {
	t.Helper()
	args := func(c *redistest.Conn) []string {
		switch how {
		case "ID":
			return []string{"CLIENT", "KILL", "ID", strconv.FormatInt(c.DoValue("CLIENT", "ID").Int, 10)}
		case "OLD":
			return []string{"CLIENT", "KILL", localAddr(c)}
		}
		return []string{"CLIENT", "KILL", "ADDR", localAddr(c)}
	}
	doEach(t, p, args(q.Runnel), args(q.Redis))
	q.Runnel.ExpectClosed()
	q.Redis.ExpectClosed()
}

func TestClientPauseErrors(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		for _, args := range [][]string{
			{"PAUSE"}, {"PAUSE", "abc"}, {"PAUSE", "-1"}, {"PAUSE", "1.5"}, {"PAUSE", "1", "foo"},
			{"PAUSE", "abc", "foo"}, {"PAUSE", "1", "write", "x"},
		} {
			p.DoError(append([]string{"CLIENT"}, args...)...)
		}
		p.Do("CLIENT", "PAUSE", "0")
		p.Do("CLIENT", "PAUSE", "0", "WRITE")
		p.Do("CLIENT", "PAUSE", "9223372036854775807") // overflows: ends at once
		p.Do("CLIENT", "UNPAUSE")
		p.Do("SET", "k", "v")
	})
}

// TestClientPause checks that a write pause holds writes but not reads, and
// that UNPAUSE releases them.
func TestClientPause(t *testing.T) {
	s := startServers(t)
	p, q := s.pair(t, 2), s.pair(t, 2)
	p.Do("CLIENT", "PAUSE", "100000", "WRITE")
	start := time.Now()
	q.Do("GET", "k")
	if d := time.Since(start); d > time.Second {
		t.Errorf("a read waited %v during a write pause", d)
	}
	q.WriteRaw(redistest.Command("SET", "k", "v"))
	q.ExpectSilence(200 * time.Millisecond)
	p.Do("CLIENT", "UNPAUSE")
	q.Receive()
	q.Do("GET", "k")

	// A short pause of everything ends by itself.
	start = time.Now()
	p.Do("CLIENT", "PAUSE", "300", "ALL")
	q.Do("SET", "k", "w")
	if d := time.Since(start); d < 290*time.Millisecond {
		t.Errorf("SET ran %v after a 300ms pause began", d)
	}
}

func TestClientUnblock(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.DoError("CLIENT", "UNBLOCK")
		p.DoError("CLIENT", "UNBLOCK", "x")
		p.DoError("CLIENT", "UNBLOCK", "1", "foo")
		p.DoError("CLIENT", "UNBLOCK", "x", "foo") // the reason is checked first
		p.DoError("CLIENT", "UNBLOCK", "1", "error", "x")
		p.Do("CLIENT", "UNBLOCK", "99999")
		p.Do("CLIENT", "UNBLOCK", "99999", "TIMEOUT")
		p.Do("CLIENT", "UNBLOCK", "-5", "error")
		// A client that is not blocked cannot be unblocked.
		q := s.pair(t, 2)
		doEach(t, p,
			[]string{"CLIENT", "UNBLOCK", strconv.FormatInt(q.Runnel.DoValue("CLIENT", "ID").Int, 10)},
			[]string{"CLIENT", "UNBLOCK", strconv.FormatInt(q.Redis.DoValue("CLIENT", "ID").Int, 10)})
	})
}

// TestClientReply checks CLIENT REPLY OFF, ON and SKIP; commands whose
// replies are suppressed are sent with WriteRaw.
func TestClientReply(t *testing.T) {
	s := startServers(t)
	cmd := redistest.Command
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.DoError("CLIENT", "REPLY")
		p.DoError("CLIENT", "REPLY", "foo")
		p.DoError("CLIENT", "REPLY", "on", "x")
		p.Do("CLIENT", "REPLY", "ON")

		p.WriteRaw(cmd("CLIENT", "REPLY", "OFF"))
		p.WriteRaw(cmd("SET", "a", "1"))
		p.WriteRaw(cmd("NOSUCHCOMMAND")) // errors are suppressed too
		p.WriteRaw(cmd("CLIENT", "REPLY", "FOO"))
		p.WriteRaw(cmd("CLIENT", "REPLY", "SKIP")) // no effect while OFF
		p.ExpectSilence(50 * time.Millisecond)
		p.Do("CLIENT", "REPLY", "ON")
		p.Do("GET", "a")

		p.WriteRaw(cmd("CLIENT", "REPLY", "SKIP"))
		p.WriteRaw(cmd("SET", "b", "2"))
		p.Do("GET", "b")

		// SKIP twice: the second skips the reply to itself only.
		p.WriteRaw(cmd("CLIENT", "REPLY", "SKIP"))
		p.WriteRaw(cmd("CLIENT", "REPLY", "SKIP"))
		p.WriteRaw(cmd("PING", "skipped"))
		p.Do("PING", "replied")

		// SKIP then OFF: OFF stays.
		p.WriteRaw(cmd("CLIENT", "REPLY", "SKIP"))
		p.WriteRaw(cmd("CLIENT", "REPLY", "OFF"))
		p.WriteRaw(cmd("PING"))
		p.ExpectSilence(50 * time.Millisecond)
		p.Do("CLIENT", "REPLY", "ON")

		// SKIP then ON: ON's own reply is sent.
		p.WriteRaw(cmd("CLIENT", "REPLY", "SKIP"))
		p.Do("CLIENT", "REPLY", "ON")
		p.Do("PING")

		// A skipped syntax error.
		p.WriteRaw(cmd("CLIENT", "REPLY", "SKIP"))
		p.WriteRaw(cmd("CLIENT", "REPLY", "FOO"))
		p.Do("PING")

		// In a pipeline.
		p.WriteRaw(slices.Concat(cmd("CLIENT", "REPLY", "OFF"), cmd("INCR", "n"), cmd("INCR", "n"),
			cmd("CLIENT", "REPLY", "ON"), cmd("GET", "n")))
		p.Receive()
		p.Receive()
	})
}

func TestClientBadArity(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		for _, args := range [][]string{
			{"GETREDIR", "x"}, {"TRACKINGINFO", "x"}, {"CACHING"}, {"CACHING", "a", "b"},
			{"PAUSE"}, {"UNBLOCK"}, {"KILL"}, {"REPLY"}, {"NO-EVICT"},
		} {
			p.DoError(append([]string{"CLIENT"}, args...)...)
		}
	})
}

// TestClientSetinfo covers CLIENT SETINFO, which Redis 7.0.15 lacks (it
// answers "ERR unknown subcommand 'SETINFO'. Try CLIENT HELP."). Runnel
// implements it as Redis 7.2 does, because clients send it on connect:
// redis.io/commands/client-setinfo says the attributes may not contain
// spaces, newlines or other non-printable characters.
func TestClientSetinfo(t *testing.T) {
	s := startServers(t)
	if got := string(s.redis.Dial(t).Do("CLIENT", "SETINFO", "LIB-NAME", "x")); got != "-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n" {
		t.Errorf("redis 7.0: CLIENT SETINFO: %q", got)
	}
	c := redistest.Dial(t, s.addr)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"LIB-NAME", "go-redis(,go1.26.8)"}, "+OK\r\n"},
		{[]string{"lib-ver", "9.23.0"}, "+OK\r\n"},
		{[]string{"lib-name", "a b"}, "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"LIB-VER", "1\n2"}, "-ERR LIB-VER cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"Lib-Name", "\x7f"}, "-ERR Lib-Name cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"lib-foo", "x"}, "-ERR Unrecognized option 'lib-foo'\r\n"},
		{[]string{"foo", "a b"}, "-ERR Unrecognized option 'foo'\r\n"},
		{[]string{"lib-name"}, "-ERR wrong number of arguments for 'client|setinfo' command\r\n"},
		{[]string{"lib-name", "a", "b"}, "-ERR wrong number of arguments for 'client|setinfo' command\r\n"},
	} {
		if got := string(c.Do(append([]string{"CLIENT", "SETINFO"}, tc.args...)...)); got != tc.want {
			t.Errorf("CLIENT SETINFO %q: got %q, want %q", tc.args, got, tc.want)
		}
	}
	info := c.DoValue("CLIENT", "INFO").Str
	if !strings.HasSuffix(info, " resp=2 lib-name=go-redis(,go1.26.8) lib-ver=9.23.0\n") {
		t.Errorf("CLIENT INFO: %q", info)
	}
	c.Do("CLIENT", "SETINFO", "lib-ver", "")
	if info := c.DoValue("CLIENT", "INFO").Str; !strings.HasSuffix(info, " lib-ver=\n") {
		t.Errorf("CLIENT INFO after clearing lib-ver: %q", info)
	}
}

// TestClientNoTouch covers CLIENT NO-TOUCH, a Redis 7.2 subcommand
// (redis.io/commands/client-no-touch) that Runnel implements; Redis 7.0
// answers "ERR unknown subcommand 'NO-TOUCH'. Try CLIENT HELP.".
func TestClientNoTouch(t *testing.T) {
	s := startServers(t)
	c := redistest.Dial(t, s.addr)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"on"}, "+OK\r\n"},
		{[]string{"OFF"}, "+OK\r\n"},
		{[]string{"ON"}, "+OK\r\n"},
		{[]string{"maybe"}, "-ERR syntax error\r\n"},
		{nil, "-ERR wrong number of arguments for 'client|no-touch' command\r\n"},
	} {
		if got := string(c.Do(append([]string{"CLIENT", "NO-TOUCH"}, tc.args...)...)); got != tc.want {
			t.Errorf("CLIENT NO-TOUCH %q: got %q, want %q", tc.args, got, tc.want)
		}
	}
	c.Do("CLIENT", "NO-EVICT", "on")
	if info := c.DoValue("CLIENT", "INFO").Str; !strings.Contains(info, " flags=eT ") {
		t.Errorf("CLIENT INFO with NO-EVICT and NO-TOUCH: %q", info)
	}
	c.Do("RESET")
	if info := c.DoValue("CLIENT", "INFO").Str; !strings.Contains(info, " flags=N ") {
		t.Errorf("CLIENT INFO after RESET: %q", info)
	}
}

// replyCheck judges one reply of a handshake pipeline: runnel's and redis's
// parsed replies (redis's is zero when only Runnel was asked).
type replyCheck struct {
	args  []string
	check func(r, s redistest.Value) error
}

var (
	exact      = redistest.CompareExact
	loose      = redistest.CompareLoosely
	runnelOK   = func(r, _ redistest.Value) error { return wantSimple(r, "OK") }
	anyOneRepl = func(r, _ redistest.Value) error { return nil }
)

func wantSimple(v redistest.Value, s string) error {
	if v.Kind != redistest.KindSimple || v.Str != s {
		return fmt.Errorf("got %s, want +%s", v.String(), s)
	}
	return nil
}

// pipeline sends every command in one write to both servers, then reads
// exactly one reply per command from each, in order, and checks them.
func pipeline(t *testing.T, p *redistest.Pair, checks []replyCheck) {
	t.Helper()
	var raw []byte
	for _, c := range checks {
		raw = append(raw, redistest.Command(c.args...)...)
	}
	p.WriteRaw(raw)
	for _, c := range checks {
		r, err := redistest.Parse(p.Runnel.ReadReply())
		if err != nil {
			t.Fatalf("%s: runnel: %v", redistest.FormatCommand(c.args), err)
		}
		sv, err := redistest.Parse(p.Redis.ReadReply())
		if err != nil {
			t.Fatalf("%s: redis: %v", redistest.FormatCommand(c.args), err)
		}
		if err := c.check(r, sv); err != nil {
			t.Errorf("%s: %v\nrunnel: %s\nredis:  %s", redistest.FormatCommand(c.args), err, r.String(), sv.String())
		}
	}
	p.ExpectSilence(50 * time.Millisecond)
}

// TestHandshakeGoRedis replays what go-redis v9.23 sends on a new
// connection (redis.go initConn) and checks one reply per command, in order.
func TestHandshakeGoRedis(t *testing.T) {
	s := startServers(t)
	p := s.pair(t, 2)
	pipeline(t, p, []replyCheck{
		{[]string{"HELLO", "3", "SETNAME", "app"}, sameHello},
	})
	pipeline(t, p, []replyCheck{
		{[]string{"SELECT", "2"}, exact},
		{[]string{"CLIENT", "SETNAME", "app"}, exact},
	})
	pipeline(t, p, []replyCheck{
		{[]string{"CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "internal-ip"}, exact},
	})
	pipeline(t, p, []replyCheck{
		{[]string{"CLIENT", "SETINFO", "LIB-NAME", "go-redis(,go1.26.8)"}, runnelOK},
		{[]string{"CLIENT", "SETINFO", "LIB-VER", "9.23.0"}, runnelOK},
	})
	pipeline(t, p, []replyCheck{{[]string{"PING"}, exact}})
	// The RESP2 fallback after a HELLO error: AUTH (no password here).
	q := s.pair(t, 2)
	pipeline(t, q, []replyCheck{
		{[]string{"HELLO", "4"}, exact},
		{[]string{"AUTH", "default", "x"}, exact},
		{[]string{"CLIENT", "SETINFO", "LIB-NAME", "go-redis(,go1.26.8)"}, runnelOK},
		{[]string{"PING"}, exact},
	})
}

// TestHandshakeStackExchange replays StackExchange.Redis's pipelined
// handshake and probe batch (spec §10): every command gets exactly one
// reply, in order, and the connection stays open.
func TestHandshakeStackExchange(t *testing.T) {
	s := startServers(t)
	for _, proto := range []string{"3", "2"} {
		t.Run("HELLO "+proto, func(t *testing.T) {
			p := s.pair(t, 2)
			pipeline(t, p, []replyCheck{
				{[]string{"HELLO", proto}, sameHello},
				{[]string{"CLIENT", "SETNAME", "se-client"}, exact},
				{[]string{"CLIENT", "SETINFO", "lib-name", "SE.Redis(v2)"}, runnelOK},
				{[]string{"CLIENT", "SETINFO", "lib-ver", "2.8.16"}, runnelOK},
				{[]string{"CLIENT", "ID"}, loose},
				// The configuration and INFO belong to other packages; here
				// only the one-reply-per-command framing matters.
				{[]string{"CONFIG", "GET", "timeout"}, anyOneRepl},
				{[]string{"CONFIG", "GET", "replica-read-only"}, anyOneRepl},
				{[]string{"CONFIG", "GET", "databases"}, anyOneRepl},
				{[]string{"SENTINEL", "MASTERS"}, exact},
				{[]string{"INFO", "replication"}, anyOneRepl},
				{[]string{"INFO", "server"}, anyOneRepl},
				{[]string{"CLUSTER", "NODES"}, exact},
				{[]string{"GET", "__Booksleeve_TieBreak"}, exact},
				{[]string{"ECHO", "6e5b1f0a-2c2f-4d0e-9b7a-1f2e3d4c5b6a"}, exact},
			})
			pipeline(t, p, []replyCheck{{[]string{"PING"}, exact}})
		})
	}
}

// doEach sends a command that must name something server-specific (an
// address, a client id) with its own arguments to each server, and requires
// identical replies.
func doEach(t *testing.T, p *redistest.Pair, runnelArgs, redisArgs []string) {
	t.Helper()
	r := p.Runnel.DoValue(runnelArgs...)
	sv := p.Redis.DoValue(redisArgs...)
	if err := redistest.CompareExact(r, sv); err != nil {
		t.Errorf("%s: %v\nrunnel: %s\nredis:  %s", redistest.FormatCommand(redisArgs), err, r.String(), sv.String())
	}
}
