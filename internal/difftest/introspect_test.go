package difftest

// Differential tests of the introspection commands (COMMAND, SLOWLOG,
// MONITOR, TIME, LASTSAVE) and of the probes clients send on connect
// (CLUSTER, READONLY, FUNCTION, SCRIPT, DEBUG, SENTINEL).

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/redistest"
)

// runnelOnlyCommands are Redis 7.2 subcommands that Runnel has and Redis
// 7.0 lacks; their metadata is hand-written (commanddocs_extra.go).
var runnelOnlyCommands = map[string]bool{
	"client|setinfo": true, "client|no-touch": true, // 7.2
	"xdelex": true, "xackdel": true, // 8.2
	"xcfgset": true, "xidmprecord": true, // 8.6
	"xnack": true, // 8.8
}

// commandNames returns the names COMMAND LIST gives on c.
func commandNames(tb testing.TB, c *redistest.Conn) map[string]bool {
	tb.Helper()
	v := c.DoValue("COMMAND", "LIST")
	names := make(map[string]bool, len(v.Elems))
	for _, e := range v.Elems {
		names[e.Str] = true
	}
	return names
}

// commandSet names the commands whose COMMAND INFO/DOCS entries are
// compared: Runnel's, without those Redis 7.0 lacks.
type commandSet map[string]bool

// normalizeInfo prepares a COMMAND INFO entry (or a reply holding entries)
// for comparison: subcommand lists keep only the commands in keep, sorted
// by name, because Redis lists them in the order of a randomly seeded hash
// table and Runnel implements a subset.
func (keep commandSet) normalizeInfo(v redistest.Value) redistest.Value {
	if v.Kind != redistest.KindArray {
		return v
	}
	if len(v.Elems) == 10 && v.Elems[0].Kind == redistest.KindBulk && v.Elems[9].Kind == redistest.KindArray {
		subs := v.Elems[9]
		var kept []redistest.Value
		for _, e := range subs.Elems {
			if len(e.Elems) > 0 && keep[e.Elems[0].Str] {
				kept = append(kept, keep.normalizeInfo(e))
			}
		}
		slices.SortFunc(kept, func(a, b redistest.Value) int { return strings.Compare(a.Elems[0].Str, b.Elems[0].Str) })
		subs.Elems = kept
		v.Elems = slices.Clone(v.Elems)
		v.Elems[9] = subs
		return v
	}
	out := v
	out.Elems = make([]redistest.Value, len(v.Elems))
	for i, e := range v.Elems {
		out.Elems[i] = keep.normalizeInfo(e)
	}
	return out
}

// normalizeDocs does the same for COMMAND DOCS replies: a map of command
// name to docs map, whose "subcommands" is again such a map.
func (keep commandSet) normalizeDocs(v redistest.Value) redistest.Value {
	if v.Kind != redistest.KindMap && v.Kind != redistest.KindArray {
		return v
	}
	out := v
	out.Elems = slices.Clone(v.Elems)
	for i := 0; i+1 < len(out.Elems); i += 2 {
		if out.Elems[i].Str != "subcommands" {
			continue
		}
		subs := out.Elems[i+1]
		type pair struct{ k, v redistest.Value }
		var kept []pair
		for j := 0; j+1 < len(subs.Elems); j += 2 {
			if keep[subs.Elems[j].Str] {
				kept = append(kept, pair{subs.Elems[j], keep.normalizeDocs(subs.Elems[j+1])})
			}
		}
		slices.SortFunc(kept, func(a, b pair) int { return strings.Compare(a.k.Str, b.k.Str) })
		subs.Elems = nil
		for _, p := range kept {
			subs.Elems = append(subs.Elems, p.k, p.v)
		}
		out.Elems[i+1] = subs
	}
	return out
}

// normalizeDocsReply normalises each docs map of a COMMAND DOCS reply.
func (keep commandSet) normalizeDocsReply(v redistest.Value) redistest.Value {
	if v.Kind != redistest.KindMap && v.Kind != redistest.KindArray {
		return v
	}
	out := v
	out.Elems = slices.Clone(v.Elems)
	for i := 1; i < len(out.Elems); i += 2 {
		out.Elems[i] = keep.normalizeDocs(out.Elems[i])
	}
	return out
}

// docsEntries splits a COMMAND DOCS reply into name → docs, normalised.
func (keep commandSet) docsEntries(v redistest.Value) map[string]redistest.Value {
	m := map[string]redistest.Value{}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		m[v.Elems[i].Str] = keep.normalizeDocs(v.Elems[i+1])
	}
	return m
}

// commandSets returns what the comparisons keep on Runnel's side (all but
// the Runnel-only commands) and on Redis's side (only what Runnel has).
func commandSets(tb testing.TB, p *redistest.Pair) (names []string, runnelKeep, redisKeep commandSet) {
	tb.Helper()
	runnelNames := commandNames(tb, p.Runnel)
	runnelKeep, redisKeep = commandSet{}, commandSet{}
	for n := range runnelNames {
		if !runnelOnlyCommands[n] {
			runnelKeep[n] = true
			redisKeep[n] = true
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var missing []string
	for n := range commandNames(tb, p.Redis) {
		if !runnelNames[n] {
			missing = append(missing, n)
		}
	}
	slices.Sort(missing)
	tb.Logf("Runnel implements %d of Redis's commands and subcommands; not compared (not implemented): %s",
		len(names), strings.Join(missing, " "))
	return names, runnelKeep, redisKeep
}

// TestCommandInfoAndDocs compares COMMAND INFO and COMMAND DOCS byte for
// byte for every command and subcommand Runnel implements.
func TestCommandInfoAndDocs(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		names, rk, sk := commandSets(t, p)
		infoMatch := func(r, s redistest.Value) error {
			return redistest.CompareExact(rk.normalizeInfo(r), sk.normalizeInfo(s))
		}
		docsMatch := func(r, s redistest.Value) error {
			return redistest.CompareExact(rk.normalizeDocsReply(r), sk.normalizeDocsReply(s))
		}
		for _, n := range names {
			p.DoMatch(infoMatch, "COMMAND", "INFO", n)
			p.DoMatch(docsMatch, "COMMAND", "DOCS", n)
		}
		// Several at once, unknown names, case, the container|sub form.
		p.DoMatch(infoMatch, "COMMAND", "INFO", "get", "nosuch", "CLIENT|LIST", "client|nosuch", "get|x", "client|list|x", "PING")
		p.DoMatch(docsMatch, "COMMAND", "DOCS", "nosuch", "get", "Client|Id", "client|list|x")
		p.DoMatch(docsMatch, "COMMAND", "DOCS", "nosuch")
		p.Do("COMMAND", "INFO", "nosuch")
	})
}

// TestCommandAll compares COMMAND, COMMAND INFO and COMMAND DOCS without
// arguments: every entry Runnel sends must be Redis's entry.
func TestCommandAll(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		names, rk, sk := commandSets(t, p)
		top := 0
		for _, n := range names {
			if !strings.Contains(n, "|") {
				top++
			}
		}
		// Commands newer than 7.0 are in Runnel's lists but not Redis's;
		// commanddocs_test.go checks their hand-written metadata.
		for n := range runnelOnlyCommands {
			if !strings.Contains(n, "|") {
				top++
			}
		}
		for _, args := range [][]string{{"COMMAND"}, {"COMMAND", "INFO"}} {
			r, sv := p.Runnel.DoValue(args...), p.Redis.DoValue(args...)
			redisByName := map[string]redistest.Value{}
			for _, e := range sv.Elems {
				redisByName[e.Elems[0].Str] = sk.normalizeInfo(e)
			}
			if len(r.Elems) != top {
				t.Errorf("%s: %d entries, want %d", strings.Join(args, " "), len(r.Elems), top)
			}
			for _, e := range r.Elems {
				name := e.Elems[0].Str
				if runnelOnlyCommands[name] {
					continue
				}
				if err := redistest.CompareExact(rk.normalizeInfo(e), redisByName[name]); err != nil {
					t.Errorf("%s: entry %s: %v", strings.Join(args, " "), name, err)
				}
			}
		}
		count := p.Runnel.DoValue("COMMAND", "COUNT")
		if count.Kind != redistest.KindInt || int(count.Int) != top {
			t.Errorf("COMMAND COUNT: %s, want %d", count.String(), top)
		}
		r := rk.docsEntries(p.Runnel.DoValue("COMMAND", "DOCS"))
		sd := sk.docsEntries(p.Redis.DoValue("COMMAND", "DOCS"))
		if len(r) != top {
			t.Errorf("COMMAND DOCS: %d entries, want %d", len(r), top)
		}
		for name, d := range r {
			if runnelOnlyCommands[name] {
				continue
			}
			if err := redistest.CompareExact(d, sd[name]); err != nil {
				t.Errorf("COMMAND DOCS: %s: %v", name, err)
			}
		}
		p.DoError("COMMAND", "COUNT", "x")
		p.DoError("COMMAND", "FOO")
		p.Do("COMMAND", "HELP")
		p.DoError("COMMAND", "HELP", "x")
	})
}

// TestCommandList compares COMMAND LIST and its filters on the commands
// Runnel has; Redis's own order is random, so replies are sorted.
func TestCommandList(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		runnelNames := commandNames(t, p.Runnel)
		for _, args := range [][]string{
			{"COMMAND", "LIST"},
			{"COMMAND", "LIST", "FILTERBY", "ACLCAT", "connection"},
			{"COMMAND", "LIST", "FILTERBY", "aclcat", "ADMIN"},
			{"COMMAND", "LIST", "FILTERBY", "ACLCAT", "@admin"},
			{"COMMAND", "LIST", "FILTERBY", "PATTERN", "cl*"},
			{"COMMAND", "LIST", "FILTERBY", "PATTERN", "*|*"},
			{"COMMAND", "LIST", "FILTERBY", "pattern", "C?I[E]NT"},
			{"COMMAND", "LIST", "FILTERBY", "PATTERN", "get", "FILTERBY", "ACLCAT", "string"},
		} {
			p.DoMatch(func(r, s redistest.Value) error {
				// Redis's, restricted to the commands Runnel has; Runnel's
				// without those Redis 7.0 lacks.
				r.Elems = slices.DeleteFunc(slices.Clone(r.Elems), func(e redistest.Value) bool { return runnelOnlyCommands[e.Str] })
				s.Elems = slices.DeleteFunc(slices.Clone(s.Elems), func(e redistest.Value) bool { return !runnelNames[e.Str] })
				return redistest.CompareSorted(r, s)
			}, args...)
		}
		p.Do("COMMAND", "LIST", "FILTERBY", "MODULE", "x")
		p.Do("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch")
		p.Do("COMMAND", "LIST", "FILTERBY", "PATTERN", "nosuch*")
		for _, args := range [][]string{
			{"FILTERBY"}, {"FILTERBY", "PATTERN"}, {"FILTERBY", "foo", "x"}, {"foo"},
			{"FILTERBY", "PATTERN", "a", "b"}, {"FILTERBY", "PATTERN", "a", "FILTERBY"},
		} {
			p.DoError(append([]string{"COMMAND", "LIST"}, args...)...)
		}
	})
}

// TestCommandGetkeys compares COMMAND GETKEYS and GETKEYSANDFLAGS for the
// candidate command lines whose command Runnel implements.
func TestCommandGetkeys(t *testing.T) {
	candidates := [][]string{
		{"get", "a"}, {"set", "a", "b"}, {"set", "a", "b", "EX", "10", "GET"}, {"mset", "a", "b", "c", "d"},
		{"mget", "a", "b", "c"}, {"del", "a", "b"}, {"exists", "a", "a"}, {"rename", "a", "b"},
		{"copy", "a", "b", "DB", "1"}, {"getdel", "x"}, {"append", "k", "v"}, {"incr", "n"},
		{"msetnx", "a", "1", "b", "2"}, {"expire", "k", "10"}, {"watch", "a", "b"},
		{"lmove", "a", "b", "left", "right"}, {"zunionstore", "d", "2", "a", "b"},
		{"zunionstore", "d", "0", "a", "b"}, {"zunionstore", "d", "x", "a", "b"},
		{"xadd", "s", "*", "f", "v"}, {"xread", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"},
		{"xreadgroup", "GROUP", "g", "c", "STREAMS", "s", ">"}, {"eval", "return 1", "0"},
		{"eval", "return 1", "2", "k1", "k2", "a"}, {"sort", "k", "STORE", "d"},
		{"ping"}, {"client", "list"}, {"client", "nosuch"}, {"command", "info"},
		{"get"}, {"get", "a", "b"}, {"nosuch", "a"}, {"client|list", "x"}, {"GET", "A"},
	}
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		runnelNames := commandNames(t, p.Runnel)
		var skipped []string
		for _, c := range candidates {
			if !runnelNames[strings.ToLower(c[0])] && c[0] != "nosuch" && c[0] != "client|list" {
				skipped = append(skipped, c[0])
				continue
			}
			p.Do(append([]string{"COMMAND", "GETKEYS"}, c...)...)
			p.Do(append([]string{"COMMAND", "GETKEYSANDFLAGS"}, c...)...)
		}
		if len(skipped) > 0 {
			t.Logf("GETKEYS not compared for commands Runnel does not implement yet: %s", strings.Join(skipped, " "))
		}
		p.DoError("COMMAND", "GETKEYS")
		p.DoError("COMMAND", "GETKEYS", "get")
		p.DoError("COMMAND", "GETKEYSANDFLAGS", "get")
	})
}

// sameSlowlog compares SLOWLOG GET replies: ids, timestamps, durations and
// client ports differ; the arguments, the address form and the client name
// must not.
func sameSlowlog(r, s redistest.Value) error {
	norm := func(v redistest.Value) (redistest.Value, error) {
		if v.Kind != redistest.KindArray {
			return v, nil
		}
		out := v
		out.Elems = make([]redistest.Value, len(v.Elems))
		for i, e := range v.Elems {
			if len(e.Elems) != 6 {
				return v, fmt.Errorf("entry %d has %d fields", i, len(e.Elems))
			}
			e.Elems = slices.Clone(e.Elems)
			for j := 0; j < 3; j++ {
				if e.Elems[j].Kind != redistest.KindInt || e.Elems[j].Int < 0 {
					return v, fmt.Errorf("entry %d field %d is %s", i, j, e.Elems[j].String())
				}
				e.Elems[j] = redistest.Value{Kind: redistest.KindInt}
			}
			if !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(e.Elems[4].Str) {
				return v, fmt.Errorf("entry %d: client address %q", i, e.Elems[4].Str)
			}
			e.Elems[4].Str = "127.0.0.1:port"
			out.Elems[i] = e
		}
		return out, nil
	}
	rn, err := norm(r)
	if err != nil {
		return fmt.Errorf("runnel: %w", err)
	}
	sn, err := norm(s)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return redistest.CompareExact(rn, sn)
}

func TestSlowlog(t *testing.T) {
	s := startServersConfig(t, [2]string{"slowlog-log-slower-than", "0"})
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("SLOWLOG", "RESET")
		p.Do("SLOWLOG", "LEN") // the RESET itself is logged
		p.Do("SET", "k", "v")
		p.Do("CLIENT", "SETNAME", "slow-client")
		p.Do("GET", "k")
		p.DoError("AUTH", "secret-password") // logged, with the password redacted
		p.DoMatch(sameHello, "HELLO", "2", "AUTH", "default", "pw")
		p.Do("ECHO", strings.Repeat("x", 200)) // cut to 128 bytes
		many := []string{"COMMAND", "INFO"}
		for i := range 40 {
			many = append(many, "c"+strconv.Itoa(i))
		}
		p.Do(many...) // cut to 32 arguments
		p.DoError("NOSUCHCOMMAND")
		p.DoError("GET") // rejected commands are not logged
		p.DoMatch(sameSlowlog, "SLOWLOG", "GET")
		p.DoMatch(sameSlowlog, "SLOWLOG", "GET", "2")
		p.DoMatch(sameSlowlog, "SLOWLOG", "GET", "-1")
		p.Do("SLOWLOG", "GET", "0")
		p.Do("SLOWLOG", "LEN")
		for _, args := range [][]string{{"GET", "-2"}, {"GET", "x"}, {"GET", "1", "2"}, {"LEN", "x"}, {"RESET", "x"}, {"FOO"}} {
			p.DoError(append([]string{"SLOWLOG"}, args...)...)
		}
		p.DoError("SLOWLOG")
		p.Do("SLOWLOG", "HELP")
		p.Do("SLOWLOG", "RESET")
		p.DoMatch(sameSlowlog, "SLOWLOG", "GET")
	})
}

// monitorLine matches a MONITOR line: "+<sec>.<usec> [<db> <addr>] args".
var monitorLine = regexp.MustCompile(`^(\d{10})\.(\d{6}) \[(\d+) 127\.0\.0\.1:\d+\]( .*)?$`)

// sameMonitorLine compares MONITOR lines apart from the time and the
// client's port, and checks the line format on both.
func sameMonitorLine(r, s redistest.Value) error {
	norm := func(v redistest.Value) (redistest.Value, error) {
		if v.Kind != redistest.KindSimple {
			return v, nil
		}
		m := monitorLine.FindStringSubmatch(v.Str)
		if m == nil {
			return v, fmt.Errorf("bad MONITOR line %q", v.Str)
		}
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		if d := time.Since(time.Unix(sec, 0)); d < -time.Minute || d > time.Minute {
			return v, fmt.Errorf("MONITOR time %s is %v away", m[1], d)
		}
		v.Str = "T [" + m[3] + " ADDR]" + m[4]
		return v, nil
	}
	rn, err := norm(r)
	if err != nil {
		return fmt.Errorf("runnel: %w", err)
	}
	sn, err := norm(s)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return redistest.CompareExact(rn, sn)
}

func TestMonitor(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := s.pair(t, 2)
		p.Do("MONITOR")
		step := func(args ...string) {
			t.Helper()
			q.DoMatch(sameHello, args...) // the HELLO id differs, nothing else
			p.ReceiveMatch(sameMonitorLine)
		}
		step("SET", "k", "v w")
		step("GET", "k")
		step("ECHO", "a\"b\\c\n\r\t\a\b\x01\x7f\xffé")
		step("SELECT", "3") // shown in the new database
		step("PING")
		step("CLIENT", "SETNAME", "mon")
		step("AUTH", "pw")                                           // an error, still shown, redacted
		step("AUTH", "default", "pw")                                // redacted
		step("HELLO", "2", "AUTH", "default", "pw", "SETNAME", "m2") // redacted
		step("SELECT", "0")
		// Administrative commands, unknown commands and arity errors are
		// not shown.
		q.DoLoosely("CLIENT", "LIST")
		q.Do("SLOWLOG", "LEN")
		q.Do("NOSUCHCOMMAND")
		q.Do("GET")
		q.Do("DEBUG", "SLEEP", "0")
		p.ExpectSilence(50 * time.Millisecond)
		// MULTI/EXEC: the queued commands when EXEC runs them, then EXEC.
		step("MULTI")
		q.Do("SET", "a", "1")
		q.Do("INCR", "a")
		p.ExpectSilence(50 * time.Millisecond)
		q.Do("EXEC")
		p.ReceiveMatch(sameMonitorLine)
		p.ReceiveMatch(sameMonitorLine)
		p.ReceiveMatch(sameMonitorLine)
		// A second MONITOR is ignored without a reply.
		p.WriteRaw(redistest.Command("MONITOR"))
		p.ExpectSilence(50 * time.Millisecond)
		// The monitor's own commands are shown to itself.
		p.Do("PING") // the reply first, then the line
		p.ReceiveMatch(sameMonitorLine)
		p.Do("RESET")
		q.Do("SET", "x", "y")
		p.ExpectSilence(50 * time.Millisecond)
		p.Do("PING")
	})
	// Runnel's line format, checked strictly.
	c := redistest.Dial(t, s.addr)
	c.Do("MONITOR")
	o := redistest.Dial(t, s.addr)
	o.Do("SET", "key", "va\"l")
	line := string(c.ReadReply())
	if !regexp.MustCompile(`^\+\d{10}\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "key" "va\\"l"\r\n$`).MatchString(line) {
		t.Errorf("MONITOR line %q", line)
	}
}

func TestMonitorInMulti(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("MULTI")
		p.Do("MONITOR")
		p.Do("EXEC")
		p.DoError("MONITOR", "x")
		p.Do("PING")
	})
}

func TestTimeAndLastsave(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.DoLoosely("TIME") // the clock
		p.DoError("TIME", "x")
		p.DoLoosely("LASTSAVE") // the start time of each server
		p.DoError("LASTSAVE", "x")
	})
	c := redistest.Dial(t, s.addr)
	v := c.DoValue("TIME")
	sec, err1 := strconv.ParseInt(v.Elems[0].Str, 10, 64)
	usec, err2 := strconv.ParseInt(v.Elems[1].Str, 10, 64)
	if err1 != nil || err2 != nil || usec < 0 || usec > 999999 {
		t.Fatalf("TIME: %s", v.String())
	}
	if d := time.Since(time.Unix(sec, usec*1000)); d < -time.Second || d > time.Second {
		t.Errorf("TIME is %v away from the clock", d)
	}
	if ls := c.DoValue("LASTSAVE").Int; time.Since(time.Unix(ls, 0)) > time.Minute {
		t.Errorf("LASTSAVE %d is not the start time", ls)
	}
}

// TestProbes covers the commands clients send on connect that Runnel
// answers as a standalone Redis 7.0 without scripts: one reply each.
func TestProbes(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		for _, args := range [][]string{
			{"CLUSTER"}, {"CLUSTER", "INFO"}, {"CLUSTER", "NODES"}, {"CLUSTER", "SLOTS"}, {"CLUSTER", "SHARDS"},
			{"CLUSTER", "MYID"}, {"CLUSTER", "KEYSLOT", "k"}, {"CLUSTER", "HELP"}, {"CLUSTER", "FOO"},
			{"CLUSTER", "SLOTS", "x"}, {"CLUSTER", "KEYSLOT"}, {"READONLY"}, {"READWRITE"}, {"READONLY", "x"},
			{"ASKING"}, {"SENTINEL", "MASTERS"}, {"SENTINEL", "get-master-addr-by-name", "mymaster"},
			{"FUNCTION", "FLUSH", "foo"}, {"FUNCTION", "FLUSH", "a", "b"}, {"FUNCTION", "LIST", "foo"},
			{"FUNCTION", "LIST", "LIBRARYNAME"}, {"FUNCTION", "LIST", "WITHCODE", "WITHCODE"},
			{"FUNCTION", "LIST", "LIBRARYNAME", "a", "LIBRARYNAME", "b"}, {"FUNCTION", "DELETE", "x"},
			{"FUNCTION", "DELETE"}, {"FUNCTION", "KILL"}, {"FUNCTION"}, {"FUNCTION", "FOO"},
			{"SCRIPT", "KILL"}, {"SCRIPT", "FLUSH", "x"}, {"SCRIPT", "FLUSH", "sync", "x"}, {"SCRIPT", "EXISTS"},
			{"SCRIPT"}, {"DEBUG"}, {"DEBUG", "FOO"}, {"DEBUG", "SLEEP"}, {"DEBUG", "LOG"}, {"DEBUG", "LOG", "a", "b"},
		} {
			p.DoError(args...)
		}
		for _, args := range [][]string{
			{"FUNCTION", "LIST"}, {"FUNCTION", "LIST", "WITHCODE"}, {"FUNCTION", "LIST", "libraryname", "x*", "withcode"},
			{"FUNCTION", "FLUSH"}, {"FUNCTION", "FLUSH", "ASYNC"}, {"FUNCTION", "FLUSH", "sync"},
			{"FUNCTION", "STATS"}, {"FUNCTION", "HELP"},
			{"SCRIPT", "FLUSH"}, {"SCRIPT", "FLUSH", "ASYNC"}, {"SCRIPT", "EXISTS", "a", "b"}, {"SCRIPT", "HELP"},
			{"DEBUG", "SLEEP", "0"}, {"DEBUG", "SLEEP", "x"}, {"DEBUG", "sleep", "0.01"}, {"DEBUG", "LOG", "hello"},
		} {
			p.Do(args...)
		}
		p.Do("PING")
	})
	// As the first command of a connection.
	if got := string(redistest.Dial(t, s.addr).Do("FUNCTION", "FLUSH")); got != "+OK\r\n" {
		t.Errorf("FUNCTION FLUSH: %q", got)
	}
}
