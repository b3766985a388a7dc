package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func mustSet(t *testing.T, c *Config, args ...string) {
	t.Helper()
	if err := c.Set(args, SetOptions{}); err != nil {
		t.Fatalf("Set %q: %v", args, err)
	}
}

func value(t *testing.T, c *Config, name string) string {
	t.Helper()
	v, ok := c.Value(name)
	if !ok {
		t.Fatalf("unknown parameter %s", name)
	}
	return v
}

func TestParseValues(t *testing.T) {
	const bad = "!" // marks an expected error; the text follows
	for _, tc := range []struct{ name, in, want string }{
		// memory units, exactly memtoull
		{"maxmemory", "5", "5"},
		{"maxmemory", "1b", "1"},
		{"maxmemory", "1k", "1000"},
		{"maxmemory", "1kb", "1024"},
		{"maxmemory", "1K", "1000"},
		{"maxmemory", "1KB", "1024"},
		{"maxmemory", "2m", "2000000"},
		{"maxmemory", "2mb", "2097152"},
		{"maxmemory", "3g", "3000000000"},
		{"maxmemory", "3Gb", "3221225472"},
		{"maxmemory", "", "0"},
		{"maxmemory", "kb", "0"},
		{"maxmemory", "1t", bad + "argument must be a memory value"},
		{"maxmemory", "-1", bad + "argument must be a memory value"},
		{"maxmemory", "1.5mb", bad + "argument must be a memory value"},
		{"maxmemory", "18446744073709551615", "18446744073709551615"},
		{"maxmemory-clients", "7%", "7%"},
		{"maxmemory-clients", "101%", bad + "percentage argument must be less or equal to 100"},
		{"proto-max-bulk-len", "1048575", bad + "argument must be between 1048576 and 9223372036854775807 inclusive"},
		{"proto-max-bulk-len", "2gb", "2147483648"},
		// bools
		{"appendonly", "YES", "yes"},
		{"appendonly", "No", "no"},
		{"appendonly", "1", bad + "argument must be 'yes' or 'no'"},
		{"appendonly", "", bad + "argument must be 'yes' or 'no'"},
		// enums
		{"appendfsync", "EverySec", "everysec"},
		{"appendfsync", "sometimes", bad + "argument(s) must be one of the following: everysec, always, no"},
		{"oom-score-adj", "relative", "yes"},
		{"shutdown-on-sigterm", "now save", "save now"},
		{"shutdown-on-sigterm", "save nosave", bad + "shutdown options SAVE and NOSAVE can't be used simultaneously"},
		// integers and bounds
		{"timeout", "0", "0"},
		{"timeout", "2147483647", "2147483647"},
		{"timeout", "2147483648", bad + "argument must be between 0 and 2147483647 inclusive"},
		{"timeout", "007", bad + "argument couldn't be parsed into an integer"},
		{"timeout", "1e3", bad + "argument couldn't be parsed into an integer"},
		{"maxclients", "-1", bad + "argument must be between 1 and 4294967295 inclusive"},
		{"maxclients", "4294967295", "4294967295"},
		{"slowlog-log-slower-than", "-1", "-1"},
		{"list-max-listpack-size", "-2147483648", "-2147483648"},
		{"hz", "100000", "500"},
		// strings and specials
		{"dbfilename", "x.rdb", "x.rdb"},
		{"dbfilename", `a\b`, bad + "dbfilename can't be a path, just a filename"},
		{"notify-keyspace-events", "xK", "xK"},
		{"notify-keyspace-events", "AKE", "AKE"},
		{"notify-keyspace-events", "g$lshzxetd", "A"},
		{"client-output-buffer-limit", "pubsub 1k 2kb 3", "normal 0 0 0 slave 268435456 67108864 60 pubsub 1000 2048 3"},
		{"save", "900 1 300 10", "900 1 300 10"},
		{"bind", "127.0.0.1 -::1 10.0.0.1", "127.0.0.1 -::1 10.0.0.1"},
		{"bind", "", ""},
		{"latency-tracking-info-percentiles", "99.999 0.5", "99.999 0.5"},
	} {
		c := New()
		c.ForceSet("enable-protected-configs", "yes")
		err := c.Set([]string{tc.name, tc.in}, SetOptions{})
		if strings.HasPrefix(tc.want, bad) {
			want := fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - %s", tc.name, tc.want[1:])
			if err == nil || err.Error() != want {
				t.Errorf("%s %q: got error %v, want %q", tc.name, tc.in, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", tc.name, tc.in, err)
			continue
		}
		if got := value(t, c, tc.name); got != tc.want {
			t.Errorf("%s %q: CONFIG GET says %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestMemtoull(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"1gB", 1 << 30, true}, {"99999999999999999999", 1<<64 - 1, true},
		{"1 ", 0, false}, {"+1", 0, false}, {"1kbb", 0, false}, {"12\x00junk", 12, true},
	} {
		got, ok := memtoull(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("memtoull(%q) = %d %v, want %d %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestGet(t *testing.T) {
	c := New()
	pairs := func(ps []Pair) string {
		var s []string
		for _, p := range ps {
			s = append(s, p.Name+"="+p.Value)
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"MAXCLIENTS"}, "MAXCLIENTS=10000"},
		{[]string{"maxclients", "MAXCLIENTS", "maxc*"}, "maxclients=10000"},
		{[]string{"slave-read-only", "replica-read-only"}, "slave-read-only=yes replica-read-only=yes"},
		{[]string{"*-read-only"}, "replica-read-only=yes slave-read-only=yes"},
		{[]string{"nosuch", "daemon*"}, "daemonize=no"},
		{[]string{"use-exit*"}, ""},
		{[]string{"use-exit-on-panic"}, "use-exit-on-panic=no"},
		{[]string{"TIMEOUT", "time*"}, "TIMEOUT=0"},
		{[]string{"appendf*"}, "appendfilename=appendonly.aof appendfsync=always"},
	} {
		if got := pairs(c.Get(tc.args...)); got != tc.want {
			t.Errorf("Get %q = %q, want %q", tc.args, got, tc.want)
		}
	}
	// Redis 7.0.15 returns 192; Runnel adds the two 8.6 stream-idmp-*
	// parameters (redis-streams-spec.md §1) and its own
	// stream-memory-budget.
	if n := len(c.Get("*")); n != 195 {
		t.Errorf("Get * returned %d pairs, want Redis 7.0.15's 192 + 3", n)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"stream-idmp-duration", "0"}, "argument must be between 1 and 86400 inclusive"},
		{[]string{"stream-idmp-maxsize", "10001"}, "argument must be between 1 and 10000 inclusive"},
	} {
		err := c.Set(tc.args, SetOptions{})
		var re *ReplyError
		if !errors.As(err, &re) || !strings.Contains(re.Msg, tc.want) {
			t.Errorf("CONFIG SET %q = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
	if err := c.Set([]string{"stream-idmp-duration", "86400", "stream-idmp-maxsize", "1"}, SetOptions{}); err != nil ||
		c.StreamIDMPDuration() != 86400 || c.StreamIDMPMaxSize() != 1 {
		t.Errorf("CONFIG SET stream-idmp-*: err %v, got %d %d", err, c.StreamIDMPDuration(), c.StreamIDMPMaxSize())
	}
}

func TestSetErrors(t *testing.T) {
	c := New()
	for _, tc := range []struct {
		args []string
		opt  SetOptions
		want string
	}{
		{[]string{"timeout"}, SetOptions{}, "ERR wrong number of arguments for 'config|set' command"},
		{[]string{"timeout", "1", "hz"}, SetOptions{}, "ERR syntax error"},
		{[]string{"Foo", "1"}, SetOptions{}, "ERR Unknown option or number of arguments for CONFIG SET - 'Foo'"},
		{[]string{"timeout", "x", "foo", "1"}, SetOptions{}, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		{[]string{"databases", "1"}, SetOptions{}, "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"},
		{[]string{"dir", "/"}, SetOptions{}, "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"},
		{[]string{"timeout", "1", "TIMEOUT", "2"}, SetOptions{}, "ERR CONFIG SET failed (possibly related to argument 'TIMEOUT') - duplicate parameter"},
		{[]string{"appendonly", "yes"}, SetOptions{Loading: true}, "LOADING Redis is loading the dataset in memory"},
		{[]string{"lua-time-limit", "x"}, SetOptions{}, "ERR CONFIG SET failed (possibly related to argument 'lua-time-limit') - argument couldn't be parsed into an integer"},
	} {
		err := c.Set(tc.args, tc.opt)
		var re *ReplyError
		if !errors.As(err, &re) || re.Msg != tc.want {
			t.Errorf("Set %q: %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestSetIsAtomic(t *testing.T) {
	c := New()
	err := c.Set([]string{"timeout", "5", "maxmemory", "1mb", "maxclients", "0"}, SetOptions{})
	if err == nil {
		t.Fatal("expected an error")
	}
	if c.Timeout() != 0 || c.MaxMemory() != 0 {
		t.Fatalf("partial update: timeout=%d maxmemory=%d", c.Timeout(), c.MaxMemory())
	}
	mustSet(t, c, "timeout", "5", "maxmemory", "1mb")
	if c.Timeout() != 5 || c.MaxMemory() != 1<<20 {
		t.Fatalf("timeout=%d maxmemory=%d", c.Timeout(), c.MaxMemory())
	}
}

func TestProtectedConfigs(t *testing.T) {
	c := New()
	dir := t.TempDir()
	if err := c.ForceSet("enable-protected-configs", "local"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set([]string{"dir", dir}, SetOptions{Local: false}); err == nil {
		t.Fatal("remote client set a protected config")
	}
	if err := c.Set([]string{"dir", dir}, SetOptions{Local: true}); err != nil {
		t.Fatal(err)
	}
	if c.Dir() != dir {
		t.Fatalf("Dir() = %q, want %q", c.Dir(), dir)
	}
	err := c.Set([]string{"dir", dir + "/missing"}, SetOptions{Local: true})
	if err == nil || err.Error() != "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory" {
		t.Fatalf("got %v", err)
	}
}

func TestHooks(t *testing.T) {
	c := New()
	calls := map[string]int{}
	c.OnChange(func() error { calls["mem"]++; return nil }, "maxmemory", "maxmemory-policy")
	c.OnChange(func() error { calls["timeout"]++; return nil }, "timeout")
	failPort := false
	c.OnChange(func() error {
		calls["port"]++
		if failPort {
			return errors.New("Unable to listen on this port. Check server logs.")
		}
		return nil
	}, "port")

	mustSet(t, c, "maxmemory", "10mb", "maxmemory-policy", "allkeys-lru")
	mustSet(t, c, "timeout", "0") // unchanged: no hook
	if calls["mem"] != 1 || calls["timeout"] != 0 {
		t.Fatalf("calls = %v", calls)
	}

	failPort = true
	err := c.Set([]string{"timeout", "7", "port", "7000"}, SetOptions{})
	want := "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	if c.Port() != 6379 || c.Timeout() != 0 {
		t.Fatalf("not rolled back: port=%d timeout=%d", c.Port(), c.Timeout())
	}
	// timeout's hook ran for the new value and again for the restored one.
	if calls["timeout"] != 2 || calls["port"] != 2 {
		t.Fatalf("calls = %v", calls)
	}
	// Loading from a file never runs hooks.
	if err := c.Load(strings.NewReader("timeout 9\n"), "x.conf"); err != nil {
		t.Fatal(err)
	}
	if calls["timeout"] != 2 || c.Timeout() != 9 {
		t.Fatalf("calls = %v timeout=%d", calls, c.Timeout())
	}
}

func TestTypedAccessors(t *testing.T) {
	c := New()
	if c.AppendFsync() != FsyncAlways || c.MaxMemoryPolicy() != EvictNoEviction || c.LogLevel() != LogNotice {
		t.Fatal("bad enum defaults")
	}
	if c.ProtoMaxBulkLen() != 512<<20 || c.ClientQueryBufferLimit() != 1<<30 || c.MaxClients() != 10000 {
		t.Fatal("bad size defaults")
	}
	if c.StreamNodeMaxEntries() != 100 || c.StreamNodeMaxBytes() != 4096 || c.Databases() != 16 {
		t.Fatal("bad stream/databases defaults")
	}
	if c.RequirePass() != "" || !reflect.DeepEqual(c.Bind(), []string{"127.0.0.1", "-::1"}) || len(c.Save()) != 0 {
		t.Fatal("bad string defaults")
	}
	mustSet(t, c, "requirepass", "s3cret", "appendfsync", "no", "notify-keyspace-events", "Ex",
		"client-output-buffer-limit", "replica 1mb 512kb 10", "loglevel", "debug", "save", "60 5")
	if c.RequirePass() != "s3cret" || c.AppendFsync() != FsyncNo || c.LogLevel() != LogDebug {
		t.Fatal("accessors did not follow Set")
	}
	if c.NotifyKeyspaceEvents() != NotifyKeyevent|NotifyExpired {
		t.Fatalf("notify = %b", c.NotifyKeyspaceEvents())
	}
	if got := c.ClientOutputBufferLimit(ClassReplica); got != (OutputBufferLimit{1 << 20, 512 << 10, 10}) {
		t.Fatalf("replica limit = %+v", got)
	}
	if got := c.Save(); !reflect.DeepEqual(got, []SavePoint{{60, 5}}) {
		t.Fatalf("save = %v", got)
	}
	if c.Int("lua-time-limit") != 5000 || !c.Bool("protected-mode") || c.String("dbfilename") != "dump.rdb" {
		t.Fatal("generic accessors")
	}
	if !IsSensitive("requirepass") || IsSensitive("timeout") || !Has("SLAVEOF") || Has("nope") {
		t.Fatal("IsSensitive/Has")
	}
}

// Run with -race: hot accessors and CONFIG GET race with CONFIG SET.
func TestConcurrentAccess(t *testing.T) {
	c := New()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = c.Timeout() + c.ProtoMaxBulkLen()
				_ = c.RequirePass()
				_ = c.ClientOutputBufferLimit(ClassNormal)
				_ = c.Get("*max*")
				_ = c.Save()
			}
		}()
	}
	for i := 0; i < 200; i++ {
		mustSet(t, c, "timeout", fmt.Sprint(i), "requirepass", fmt.Sprint("p", i),
			"save", fmt.Sprint(i+1, " 1"), "client-output-buffer-limit", fmt.Sprint("normal ", i, " 0 0"))
	}
	close(stop)
	wg.Wait()
	if c.Timeout() != 199 {
		t.Fatal(c.Timeout())
	}
}

func TestReference(t *testing.T) {
	ref := Reference()
	if len(ref) != len(params) {
		t.Fatalf("%d docs for %d params", len(ref), len(params))
	}
	c := New()
	for i, d := range ref {
		if i > 0 && ref[i-1].Name >= d.Name {
			t.Errorf("not sorted at %s", d.Name)
		}
		if d.Doc == "" || strings.Contains(d.Doc, "\n") {
			t.Errorf("%s: doc must be one line", d.Name)
		}
		if v := value(t, c, d.Name); v != d.Default && d.Name != "dir" {
			t.Errorf("%s: documented default %q, CONFIG GET %q", d.Name, d.Default, v)
		}
	}
}
