package config

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/runnel-io/runnel/internal/redistest"
)

// Parameters whose CONFIG GET value legitimately differs between Runnel
// and the reference redis-server, with the reason.
var diffExclusions = map[string]string{
	"bind":        "Runnel defaults to loopback only (127.0.0.1 -::1); the test server is started with --bind",
	"dir":         "Runnel defaults to ./data; Redis reports its working directory",
	"appendfsync": "Runnel defaults to always (Redis: everysec)",
	"appendonly":  "Runnel always logs writes and reports yes (Redis: no)",
	"save":        "Runnel defaults to no snapshots; the test server is started with --save \"\"",
	"port":        "the test server listens on a random free port",
	"logfile":     "runtime-dependent: the test server is started with --logfile \"\"",
	"pidfile":     "runtime-dependent path",
	"unixsocket":  "runtime-dependent path",
	// Parameters newer than the 7.0 oracle (redis-streams-spec.md §1);
	// config_test.go checks them.
	"stream-idmp-duration": "Redis 8.6: not in redis-server 7.0",
	"stream-memory-budget": "Runnel's own: memory for stream nodes before they page out",
	"stream-idmp-maxsize":  "Redis 8.6: not in redis-server 7.0",
}

// maxclientsComparable reports whether redis-server kept maxclients at its
// configured value: Redis lowers it to the open-files limit at startup.
func maxclientsComparable() bool {
	var rl syscall.Rlimit
	return syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur >= 10000+32
}

func redisConfigAll(t *testing.T, rc *redistest.SimpleConn) map[string]string {
	t.Helper()
	v, err := rc.Do("CONFIG", "GET", "*")
	if err != nil {
		t.Fatal(err)
	}
	arr := v.([]any)
	m := map[string]string{}
	for i := 0; i+1 < len(arr); i += 2 {
		m[arr[i].(string)] = arr[i+1].(string)
	}
	return m
}

func compareAll(t *testing.T, rc *redistest.SimpleConn, c *Config, ctx string) {
	t.Helper()
	want := redisConfigAll(t, rc)
	got := map[string]string{}
	for _, p := range c.Get("*") {
		got[p.Name] = p.Value
	}
	for name, rv := range want {
		if _, skip := diffExclusions[name]; skip {
			continue
		}
		if name == "maxclients" && !maxclientsComparable() && ctx == "defaults" {
			continue
		}
		ov, ok := got[name]
		if !ok {
			t.Errorf("%s: Runnel lacks parameter %q (redis: %q)", ctx, name, rv)
		} else if ov != rv {
			t.Errorf("%s: %s: redis %q, runnel %q", ctx, name, rv, ov)
		}
	}
	for name := range got {
		if _, skip := diffExclusions[name]; skip {
			continue
		}
		if _, ok := want[name]; !ok {
			t.Errorf("%s: Runnel has %q which Redis does not report", ctx, name)
		}
	}
}

func TestDifferentialDefaults(t *testing.T) {
	rc := redistest.StartSimple(t)
	compareAll(t, rc, New(), "defaults")
	// Hidden parameters are not in "*" but must answer exact lookups.
	c := New()
	for _, name := range []string{"use-exit-on-panic", "lua-enable-deprecated-api", "rdb-key-save-delay",
		"key-load-delay", "watchdog-period", "loading-process-events-interval-bytes"} {
		v, err := rc.Do("CONFIG", "GET", name)
		if err != nil {
			t.Fatal(err)
		}
		arr := v.([]any)
		if len(arr) != 2 {
			t.Fatalf("redis CONFIG GET %s: %v", name, arr)
		}
		if ours, _ := c.Value(name); ours != arr[1] {
			t.Errorf("hidden %s: redis %q runnel %q", name, arr[1], ours)
		}
	}
}

// setCases are CONFIG SET argument lists sent to both servers. Successful
// ones must succeed on both and leave the same CONFIG GET values; failing
// ones must fail with byte-identical error texts.
var setCases = [][]string{
	{"a"},
	{"a", "b", "c"},
	{"foo", "1"},
	{"maxclients", "abc"},
	{"maxclients", "0"},
	{"maxclients", "500"},
	{"maxclients", "5000", "maxclients", "6000"},
	{"MaxClients", "7000", "maxclients", "8000"},
	{"MAXCLIENTS", "abc"},
	{"Maxclients", "1", "MAXCLIENTS", "2"},
	{"foo", "1", "maxclients", "bar"},
	{"maxclients", "bar", "foo", "1"},
	{"daemonize", "yes"},
	{"DAEMONIZE", "yes"},
	{"daemonize", "yes", "foo", "1"},
	{"timeout", "5", "daemonize", "yes"},
	{"loglevel", "nothing"},
	{"loglevel", "WARNING"},
	{"appendonly", "maybe"},
	{"appendonly", "yes", "appendonly", "no"},
	{"slave-read-only", "maybe"},
	{"slave-read-only", "no", "replica-read-only", "yes"},
	{"maxmemory", "-1"},
	{"maxmemory", "1x"},
	{"maxmemory", "1 kb"},
	{"maxmemory", ""},
	{"maxmemory", "99999999999999999999"},
	{"maxmemory", "99999999999999999999kb"},
	{"maxmemory", "1Gb"},
	{"maxmemory", "5kB"},
	{"maxmemory", "0"},
	{"maxmemory-clients", "-1"},
	{"maxmemory-clients", "200%"},
	{"maxmemory-clients", "5%"},
	{"maxmemory-clients", "0%"},
	{"maxmemory-clients", "1mb"},
	{"maxmemory-clients", "0"},
	{"timeout", "01"},
	{"timeout", "-1"},
	{"timeout", "+1"},
	{"timeout", " 1"},
	{"timeout", "5"},
	{"tcp-keepalive", "9999999999999999999999"},
	{"list-max-listpack-size", "2147483648"},
	{"list-max-ziplist-size", "-3"},
	{"hash-max-ziplist-entries", "1k"},
	{"hash-max-listpack-entries", "-1"},
	{"hash-max-listpack-value", "99999999999999999999"},
	{"slowlog-max-len", "-1"},
	{"slowlog-log-slower-than", "-2"},
	{"slowlog-log-slower-than", "-1"},
	{"repl-backlog-size", "0"},
	{"repl-backlog-size", "2mb"},
	{"active-expire-effort", "11"},
	{"tracking-table-max-keys", "-5"},
	{"proto-max-bulk-len", "1k"},
	{"proto-max-bulk-len", "1mb"},
	{"client-query-buffer-limit", "2gb"},
	{"hz", "abc"},
	{"hz", "1000"},
	{"hz", "0"},
	{"hz", "10"},
	{"unixsocketperm", "1000"},
	{"io-threads", "2"},
	{"port", "99999"},
	{"tls-port", "70000"},
	{"save", "3600  1"},
	{"save", "3600 1 300"},
	{"save", "0 1"},
	{"save", "10 -1"},
	{"save", "10 1x"},
	{"save", " "},
	{"save", "3600 1 300 100"},
	{"save", "10 "},
	{"save", "99999999999999999999 4294967297"},
	{"save", ""},
	{"client-output-buffer-limit", "master 1 2 3"},
	{"client-output-buffer-limit", "normal 1 2"},
	{"client-output-buffer-limit", "normal x 2 3"},
	{"client-output-buffer-limit", "normal 1 2 -3"},
	{"client-output-buffer-limit", "normal 1 2 4294967295"},
	{"client-output-buffer-limit", "normal 1mb 2mb 3"},
	{"client-output-buffer-limit", "replica 1gb 2k 0 pubsub 1 2 3"},
	{"client-output-buffer-limit", ""},
	{"client-output-buffer-limit", "NORMAL 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
	{"notify-keyspace-events", "KQ"},
	{"notify-keyspace-events", "KEA"},
	{"notify-keyspace-events", "Kg$lx"},
	{"notify-keyspace-events", "Ag$lshzxetdnKEm"},
	{"notify-keyspace-events", "E"},
	{"notify-keyspace-events", ""},
	{"latency-tracking-info-percentiles", "101"},
	{"latency-tracking-info-percentiles", "abc"},
	{"latency-tracking-info-percentiles", "50  99"},
	{"latency-tracking-info-percentiles", "1e-400"},
	{"latency-tracking-info-percentiles", "nan"},
	{"latency-tracking-info-percentiles", "0x10 1e2"},
	{"latency-tracking-info-percentiles", "50 99.99 100 0 12.5000"},
	{"latency-tracking-info-percentiles", "0.0000001 33.3333333"},
	{"latency-tracking-info-percentiles", ""},
	{"latency-tracking-info-percentiles", "50 99 99.9"},
	{"oom-score-adj-values", "1 2"},
	{"oom-score-adj-values", "1 2 3000"},
	{"oom-score-adj-values", "0 200 x"},
	{"shutdown-on-sigint", "save nosave"},
	{"shutdown-on-sigint", "bogus"},
	{"shutdown-on-sigint", ""},
	{"shutdown-on-sigint", "save now"},
	{"shutdown-on-sigterm", "force nosave now"},
	{"shutdown-on-sigint", "default"},
	{"replicaof", "no one"},
	{"slaveof", "no one"},
	{"dir", "/nonexistent"},
	{"dbfilename", "a/b"},
	{"appendfilename", "x"},
	{"enable-debug-command", "yes"},
	{"enable-protected-configs", "yes"},
	{"acl-pubsub-default", "x"},
	{"repl-diskless-load", "x"},
	{"cluster-announce-hostname", "a_b"},
	{"cluster-announce-hostname", "a.b-c"},
	{"proc-title-template", "{foo}"},
	{"proc-title-template", "{"},
	{"proc-title-template", "{title}"},
	{"proc-title-template", "{title} {port}"},
	{"activedefrag", "yes"},
	{"bind", strings.Repeat("x ", 17)},
	{"maxmemory-policy", "ALLKEYS-LRU"},
	{"latency-tracking", "no"},
	{"dynamic-hz", "no"},
	{"lua-time-limit", "100"},
	{"stream-node-max-bytes", "4kb"},
	{"stream-node-max-entries", "0"},
	{"active-defrag-ignore-bytes", "200mb"},
	{"acllog-max-len", "0"},
	{"sanitize-dump-payload", "Clients"},
	{"replica-announce-ip", "10.0.0.1"},
	{"masteruser", "bob"},
	{"cluster-node-timeout", "-1"},
	{"watchdog-period", "x"},
}

func TestDifferentialSet(t *testing.T) {
	rc := redistest.StartSimple(t)
	c := New()
	c.ForceSet("save", "")
	for _, args := range setCases {
		v, err := rc.Do(append([]string{"CONFIG", "SET"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		want := "OK"
		if e, ok := v.(redistest.SimpleError); ok {
			want = string(e)
		}
		got := "OK"
		if err := c.Set(args, SetOptions{}); err != nil {
			var re *ReplyError
			if !errors.As(err, &re) {
				t.Fatalf("CONFIG SET %q: non-reply error %v", args, err)
			}
			got = re.Msg
		}
		if got != want {
			t.Errorf("CONFIG SET %q:\n redis:  %s\n runnel: %s", args, want, got)
		}
	}
	compareAll(t, rc, c, "after CONFIG SET")
}

func TestDifferentialGetPatterns(t *testing.T) {
	rc := redistest.StartSimple(t)
	c := New()
	for _, pats := range [][]string{
		{"maxclients"}, {"MAXCLIENTS"}, {"maxclients", "MAXCLIENTS"}, {"maxclients", "maxclient*"},
		{"MAXCLIENT*"}, {"slave-read-only", "replica-read-only"}, {"*read-only*"}, {"use-exit*"},
		{"use-exit-on-panic"}, {"nonexist"}, {"*max*", "maxmemory", "MAX*"}, {"[a-c]*", "?z*"},
		{"hash-max-ziplist-*"}, {"list-max-*", "LIST-MAX-ZIPLIST-SIZE"},
	} {
		v, err := rc.Do(append([]string{"CONFIG", "GET"}, pats...)...)
		if err != nil {
			t.Fatal(err)
		}
		arr := v.([]any)
		var want []string
		for i := 0; i+1 < len(arr); i += 2 {
			if _, skip := diffExclusions[arr[i].(string)]; !skip {
				want = append(want, arr[i].(string)+"="+arr[i+1].(string))
			}
		}
		var got []string
		for _, p := range c.Get(pats...) {
			if _, skip := diffExclusions[p.Name]; !skip {
				got = append(got, p.Name+"="+p.Value)
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("CONFIG GET %q:\n redis:  %v\n runnel: %v", pats, want, got)
		}
	}
}

// TestDifferentialRewrite starts both servers from the same file, applies
// the same CONFIG SETs and compares the rewritten files. Redis appends new
// lines in hash table order, so the appended section is compared sorted;
// Redis also writes ACL "user" lines, which Runnel (no ACLs) does not.
func TestDifferentialRewrite(t *testing.T) {
	dir := t.TempDir()
	conf := `# test configuration
port 0
bind 127.0.0.1

# persistence
save ""
appendfsync everysec
dir ` + dir + `
maxmemory 1gb
slave-read-only yes
timeout 10
timeout 20
save 900 1
unknown-directive 1 2
lua-time-limit 100
notify-keyspace-events ""
client-output-buffer-limit pubsub 32mb 8mb 60
`
	redisFile := filepath.Join(dir, "redis.conf")
	ourFile := filepath.Join(dir, "runnel.conf")
	// Redis refuses unknown directives at startup, so both start without
	// that line and get it added before the rewrite.
	start := strings.Replace(conf, "unknown-directive 1 2\n", "", 1)
	os.WriteFile(redisFile, []byte(start), 0o644)
	os.WriteFile(ourFile, []byte(start), 0o644)
	rc := redistest.StartSimple(t, redisFile)
	c := New()
	if err := c.ParseArgs([]string{ourFile}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(redisFile, []byte(conf), 0o644)
	os.WriteFile(ourFile, []byte(conf), 0o644)
	for _, args := range [][]string{{"timeout", "30"}, {"maxmemory", "3mb"}, {"hz", "20"},
		{"requirepass", "sec\"ret\n"}, {"notify-keyspace-events", "KEA"}, {"save", "60 100 300 10"},
		{"client-output-buffer-limit", "normal 1mb 1mb 0"}, {"maxmemory-clients", "10%"},
		{"latency-tracking-info-percentiles", "50 99.5"}, {"loglevel", "warning"}} {
		if v, err := rc.Do(append([]string{"CONFIG", "SET"}, args...)...); err != nil || v != "OK" {
			t.Fatalf("redis CONFIG SET %q: %v %v", args, v, err)
		}
		if err := c.Set(args, SetOptions{}); err != nil {
			t.Fatalf("runnel CONFIG SET %q: %v", args, err)
		}
	}
	// Authenticate again: requirepass was just set on the test server.
	rc.Do("AUTH", "sec\"ret\n")
	if v, err := rc.Do("CONFIG", "REWRITE"); err != nil || v != "OK" {
		t.Fatalf("redis CONFIG REWRITE: %v %v", v, err)
	}
	if err := c.Rewrite(""); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(redisFile)
	got, _ := os.ReadFile(ourFile)
	norm := func(b []byte) string {
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(l, "port ") { // the test server's port is random
				lines = append(lines, l)
			}
		}
		head, tail, _ := strings.Cut(strings.Join(lines, "\n"), rewriteSignature+"\n")
		var kept []string
		for _, l := range strings.Split(tail, "\n") {
			if !strings.HasPrefix(l, "user ") {
				kept = append(kept, l)
			}
		}
		sort.Strings(kept)
		return head + rewriteSignature + "\n" + strings.Join(kept, "\n")
	}
	if norm(got) != norm(want) {
		t.Errorf("rewritten files differ\n--- redis:\n%s\n--- runnel:\n%s", want, got)
	}
}
