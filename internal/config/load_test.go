package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // nil means unbalanced
	}{
		{"", []string{}},
		{"  a  b\tc ", []string{"a", "b", "c"}},
		{`"a b" 'c d'`, []string{"a b", "c d"}},
		{`"\n\r\t\b\a\\\"\x41\x4g"`, []string{"\n\r\t\b\a\\\"A" + "x4g"}},
		{`'it\'s' 'a\nb'`, []string{"it's", `a\nb`}},
		{`""`, []string{""}},
		{`foo"bar"`, []string{"foobar"}},
		{`"unterminated`, nil},
		{`'unterminated`, nil},
		{`"a"b`, nil},
		{`'a'b`, nil},
		{"a\x00b c", []string{"a"}},
		{"\v a", []string{"a"}},
	} {
		got, ok := splitArgs(tc.in)
		if tc.want == nil {
			if ok {
				t.Errorf("splitArgs(%q) = %q, want failure", tc.in, got)
			}
			continue
		}
		if !ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitArgs(%q) = %q %v, want %q", tc.in, got, ok, tc.want)
		}
	}
	for _, s := range []string{"plain", "a b", "\x00\xff\"\\\n", ""} {
		if got, ok := splitArgs(repr(s)); !ok || len(got) != 1 || got[0] != s {
			t.Errorf("repr round trip of %q: %q", s, got)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "inc.conf"), []byte("hz 20\n"), 0o644)
	conf := `# comment
   # indented comment

timeout 30   
MAXMEMORY 100mb
slave-read-only no
requirepass "pa ss\x21"
save 900 1
save "300 10"
client-output-buffer-limit replica 1gb 512mb 30
bind 127.0.0.1 ::1
notify-keyspace-events ''
list-max-ziplist-entries 512
rename-command FLUSHALL ""
include ` + filepath.Join(dir, "inc.conf") + `
include ` + filepath.Join(dir, "nomatch-*.conf") + `
`
	c := New()
	if err := c.Load(strings.NewReader(conf), "test.conf"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"timeout": "30", "maxmemory": "104857600", "replica-read-only": "no", "requirepass": "pa ss!",
		"save": "900 1 300 10", "bind": "127.0.0.1 ::1", "hz": "20", "notify-keyspace-events": "",
		"client-output-buffer-limit": "normal 0 0 0 slave 1073741824 536870912 30 pubsub 33554432 8388608 60",
	} {
		if got := value(t, c, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := c.Renames(); !reflect.DeepEqual(got, []Rename{{"FLUSHALL", ""}}) {
		t.Errorf("renames = %v", got)
	}
	if c.ConfigFile() != "" {
		t.Error("Load must not set ConfigFile")
	}
}

// Redis keeps appending "save" lines while reading a file, but clears
// that state at the end of an included file.
func TestLoadSaveSemantics(t *testing.T) {
	dir := t.TempDir()
	inc := filepath.Join(dir, "empty.conf")
	os.WriteFile(inc, nil, 0o644)
	c := New()
	if err := c.Load(strings.NewReader("save 3600 1\ninclude "+inc+"\nsave 10 1\nsave 20 2\n"), "x"); err != nil {
		t.Fatal(err)
	}
	if got := value(t, c, "save"); got != "20 2" {
		t.Errorf("save = %q, want %q (as redis-server 7.0.15)", got, "20 2")
	}
	c = New()
	c.Load(strings.NewReader("save 3600 1\nsave 60 5\nsave \"\"\nsave 1 1\n"), "x")
	if got := value(t, c, "save"); got != "1 1" {
		t.Errorf("save = %q, want %q", got, "1 1")
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		conf string
		line int
		text string
		msg  string
	}{
		{"port 7777\n# c\nfoo bar\n", 3, "foo bar", "Bad directive or wrong number of arguments"},
		{"maxclients abc", 1, "maxclients abc", "argument couldn't be parsed into an integer"},
		{`port "abc`, 1, `port "abc`, "Unbalanced quotes in configuration line"},
		{"timeout 1 2", 1, "timeout 1 2", "wrong number of arguments"},
		{"\n\nmaxmemory -5", 3, "maxmemory -5", "argument must be a memory value"},
		{"include", 1, "include", "Bad directive or wrong number of arguments"},
		{"include /nonexistent/x.conf", 1, "include /nonexistent/x.conf", "Fatal error, can't open config file '/nonexistent/x.conf': No such file or directory"},
		{"user default on", 1, "user default on", "the 'user' directive is not supported by Runnel"},
		{"list-max-ziplist-entries 1 2", 1, "list-max-ziplist-entries 1 2", "Bad directive or wrong number of arguments"},
		{"daemonize maybe", 1, "daemonize maybe", "argument must be 'yes' or 'no'"},
	} {
		err := New().Load(strings.NewReader(tc.conf), "my.conf")
		var le *LoadError
		if !errors.As(err, &le) {
			t.Errorf("%q: got %v", tc.conf, err)
			continue
		}
		want := LoadError{File: "my.conf", Line: tc.line, Text: tc.text, Msg: tc.msg}
		if *le != want {
			t.Errorf("%q: got %+v, want %+v", tc.conf, *le, want)
		}
	}
	err := New().Load(strings.NewReader("foo bar"), "my.conf")
	want := "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) *** Reading the configuration file my.conf, at line 1 >>> 'foo bar' Bad directive or wrong number of arguments"
	if err.Error() != want {
		t.Errorf("got %q\nwant %q", err, want)
	}
	err = New().Load(strings.NewReader("cluster-enabled yes\nreplicaof localhost 6379\n"), "c.conf")
	if err == nil || !strings.HasSuffix(err.Error(), "replicaof directive not allowed in cluster mode") {
		t.Errorf("got %v", err)
	}
}

func TestParseArgs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "r.conf")
	os.WriteFile(file, []byte("port 7000\nsave 3600 1\n"), 0o644)

	c := New()
	err := c.ParseArgs([]string{file, "--bind", "127.0.0.1", "::1", "--save", "60", "1", "--requirepass", "--foo", "--timeout 5", "--maxmemory", "1", "gb"})
	if err == nil || err.Error() != "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) *** Reading the configuration file (command line), at line 5 >>> 'maxmemory \"1\" \"gb\"' wrong number of arguments" {
		t.Fatalf("got %v", err)
	}
	c = New()
	if err := c.ParseArgs([]string{file, "--bind", "127.0.0.1", "::1", "--save", "60", "1", "--requirepass", "--foo", "--timeout 5"}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"port": "7000", "bind": "127.0.0.1 ::1", "save": "3600 1 60 1", "requirepass": "--foo", "timeout": "5",
	} {
		if got := value(t, c, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if c.ConfigFile() != file {
		t.Errorf("ConfigFile = %q", c.ConfigFile())
	}

	// --save with no value means save "", also before another option.
	for _, args := range [][]string{{"--save"}, {"--save", "--port", "1"}, {"--save", ""}} {
		c := New()
		c.ForceSet("save", "1 1")
		if err := c.ParseArgs(args); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if got := value(t, c, "save"); got != "" {
			t.Errorf("%q: save = %q", args, got)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--port"}, "at line 1 >>> 'port' wrong number of arguments"},
		{[]string{"--foo", "1"}, `>>> 'foo "1"' Bad directive or wrong number of arguments`},
		{[]string{"--port", "1", "stray"}, `>>> 'port "1" "stray"' wrong number of arguments`},
		{[]string{"-x"}, `>>> '"-x"' Bad directive or wrong number of arguments`},
		{[]string{filepath.Join(dir, "missing.conf")}, "can't open config file"},
	} {
		err := New().ParseArgs(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want ...%s", tc.args, err, tc.want)
		}
	}
	if New().ParseArgs([]string{"--version"}) != ErrVersion || New().ParseArgs([]string{"-h"}) != ErrHelp {
		t.Error("help/version")
	}
}

func FuzzLoad(f *testing.F) {
	f.Add("port 6379\nsave 900 1\n")
	f.Add("bind 127.0.0.1 -::1\nrequirepass \"a\\x00b\"\n# c\n")
	f.Add("client-output-buffer-limit normal 1 2 3 replica 1gb 1mb 60\n")
	f.Add("shutdown-on-sigint \"save now\"\nnotify-keyspace-events KEA\n")
	f.Add("latency-tracking-info-percentiles 50 99\nmaxmemory-clients 5%\n'unterminated")
	f.Fuzz(func(t *testing.T, conf string) {
		if strings.Contains(conf, "include") || strings.Contains(conf, "dir") {
			return // keep the fuzzer off the file system
		}
		c := New()
		if err := c.Load(strings.NewReader(conf), "fuzz.conf"); err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("non-LoadError %T: %v", err, err)
			}
			return
		}
		// Whatever loaded must print, and re-load to the same values.
		all := c.Get("*")
		st := &rewriteState{optionToLine: map[string][]int{}, rewritten: map[string]bool{}}
		for _, p := range params {
			st.rewriteParam(p, c.load(p))
		}
		c2 := New()
		if err := c2.Load(strings.NewReader(string(st.content())), "rewritten.conf"); err != nil {
			// Values Redis itself cannot write back (e.g. maxmemory above
			// 2^63 prints as a negative number) are not our concern here.
			return
		}
		for i, p := range c2.Get("*") {
			if p != all[i] && p.Name != "dir" {
				t.Fatalf("%s: %q after rewrite, %q before", p.Name, p.Value, all[i].Value)
			}
		}
	})
}
