package glob

import (
	"sort"
	"strings"
	"testing"

	"github.com/runnel-io/runnel/internal/redistest"
)

type tcase struct {
	pattern, s string
	nocase     bool
	want       bool
}

// The expectations below were checked against redis-server 7.0.15 (KEYS
// and CONFIG GET); TestDifferentialKeys re-checks the case-sensitive ones.
var cases = []tcase{
	{"", "", false, true},
	{"", "a", false, false},
	{"*", "", false, false}, // the loop never runs for an empty subject
	{"**", "", false, false},
	{"?", "", false, false},
	{"*", "anything", false, true},
	{"a*", "a", false, true},
	{"a**", "a", false, true},
	{"a*b", "a", false, false},
	{"*a", "ba", false, true},
	{"h?llo", "hello", false, true},
	{"h?llo", "hllo", false, false},
	{"h*llo", "heeeello", false, true},
	{"h*llo", "hllo", false, true},
	{"h[ae]llo", "hallo", false, true},
	{"h[ae]llo", "hillo", false, false},
	{"h[^e]llo", "hello", false, false},
	{"h[^e]llo", "hallo", false, true},
	{"h[a-b]llo", "hbllo", false, true},
	{"h[b-a]llo", "hallo", false, true}, // reversed range is swapped
	{"h[a-b]llo", "hcllo", false, false},
	{`\*`, "*", false, true},
	{`\*`, "a", false, false},
	{`a\`, `a\`, false, true}, // trailing backslash is literal
	{`\`, `\`, false, true},
	{`\?`, "?", false, true},
	{`[\]]`, "]", false, true},
	{`[\`, `\`, false, true},
	{"[abc", "a", false, true}, // unterminated class closes at the end
	{"[abc", "d", false, false},
	{"[", "[", false, false},
	{"[", "a", false, false},
	{"[^", "a", false, true},
	{"[^", "", false, false},
	{"[]", "]", false, false},
	{"[]]", "]", false, false},
	{"[a-]", "-", false, false}, // "a-]" is the range ']'..'a'
	{"[a-]", "_", false, true},
	{"[a-]", "a", false, true},
	{"HELLO", "hello", true, true},
	{"HELLO", "hello", false, false},
	{"h[A-Z]llo", "hqllo", true, true},
	{"h[a-z]llo", "hQllo", true, true},
	{"h[A-Z]llo", "hqllo", false, false},
	{"h[E]llo", "hello", true, true},
	{"[a-\xff]", "b", false, false}, // signed chars: the range is -1..'a'
	{"[a-\xff]", "A", false, true},
	{"[a-\xff]", "\xff", false, true},
	{"[\x80-\xff]", "\x90", false, true},
	{"[\x80-\xff]", "a", false, false},
	{"a\x00b", "a\x00b", false, true},
	{"a?b", "a\x00b", false, true},
	{"*.conf", "redis.conf", false, true},
	{"*a*b*c*", "xxaxxbxxcxx", false, true},
	{"*a*b*c*", "xxaxxcxxbxx", false, false},
	{strings.Repeat("*a", 50) + "b", strings.Repeat("a", 60), false, false},
	{strings.Repeat("*a", 1100), strings.Repeat("a", 1100), false, false}, // nesting limit
	{strings.Repeat("*a", 900), strings.Repeat("a", 1100), false, true},
}

func TestMatch(t *testing.T) {
	for _, c := range cases {
		if got := MatchString(c.pattern, c.s, c.nocase); got != c.want {
			t.Errorf("MatchString(%q, %q, %v) = %v, want %v", short(c.pattern), short(c.s), c.nocase, got, c.want)
		}
		if got := Match([]byte(c.pattern), []byte(c.s), c.nocase); got != c.want {
			t.Errorf("Match(%q, %q, %v) = %v, want %v", short(c.pattern), short(c.s), c.nocase, got, c.want)
		}
	}
}

func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func TestMatchStringDoesNotAllocate(t *testing.T) {
	p, s := "h*[a-z]?ll[^x]*", "hello hello world"
	if n := testing.AllocsPerRun(100, func() { MatchString(p, s, true) }); n != 0 {
		t.Fatalf("MatchString allocates %v times per call", n)
	}
}

// Pathological patterns must stay fast thanks to skipLongerMatches.
func TestPathologicalIsFast(t *testing.T) {
	p := strings.Repeat("*a", 30) + "b"
	s := strings.Repeat("a", 5000)
	if MatchString(p, s, false) {
		t.Fatal("unexpected match")
	}
}

func FuzzMatch(f *testing.F) {
	for _, c := range cases {
		if len(c.pattern) < 100 {
			f.Add([]byte(c.pattern), []byte(c.s), c.nocase)
		}
	}
	f.Fuzz(func(t *testing.T, pattern, s []byte, nocase bool) {
		a := Match(pattern, s, nocase)
		if b := MatchString(string(pattern), string(s), nocase); a != b {
			t.Fatalf("Match and MatchString disagree on %q %q", pattern, s)
		}
		if len(pattern) == 0 && a != (len(s) == 0) {
			t.Fatalf("empty pattern vs %q = %v", s, a)
		}
	})
}

// TestDifferentialKeys compares Match with KEYS on a real redis-server for
// every pattern/key pair it can. KEYS "*" is special-cased by Redis (it
// skips the matcher and so also returns the empty key), so it is left out.
func TestDifferentialKeys(t *testing.T) {
	rc := redistest.StartSimple(t)
	keySet := map[string]bool{}
	var patterns []string
	for _, c := range cases {
		if !c.nocase {
			keySet[c.s] = true
			patterns = append(patterns, c.pattern)
		}
	}
	extraKeys := []string{"", "a", "b", "ab", "abc", "A", "-", "]", "[", "^", `\`, "*", "?",
		"\x00", "\x7f", "\x80", "\xff", "héllo", "foo:bar", "foo:baz:1", "[a]", "a]", "h-llo"}
	for _, k := range extraKeys {
		keySet[k] = true
	}
	patterns = append(patterns, "?", "??", "[a-c]*", "[^a]", "[!a]", "[a-c", "[a-", "[-]", "[\\", "[\\a]",
		"\\[a]", "[[]", "[a\\-c]", "f*:*", "f?o:*:?", "*\\", "[\x00-a]", "[^\x80-\xff]", "*\xff", "h\xc3*")
	for k := range keySet {
		if v, err := rc.Do("SET", k, "1"); err != nil || v != "OK" {
			t.Fatalf("SET %q: %v %v", k, v, err)
		}
	}
	for _, p := range patterns {
		if p == "*" {
			continue
		}
		v, err := rc.Do("KEYS", p)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range v.([]any) {
			got = append(got, x.(string))
		}
		var want []string
		for k := range keySet {
			if MatchString(p, k, false) {
				want = append(want, k)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, "\x01") != strings.Join(want, "\x01") {
			t.Errorf("KEYS %q: redis %q, glob %q", short(p), got, want)
		}
	}
}

// TestDifferentialNocase uses CONFIG GET, which matches with nocase=1,
// against the parameter names Redis itself reports.
func TestDifferentialNocase(t *testing.T) {
	rc := redistest.StartSimple(t)
	v, err := rc.Do("CONFIG", "GET", "*")
	if err != nil {
		t.Fatal(err)
	}
	all := v.([]any)
	var names []string
	for i := 0; i < len(all); i += 2 {
		names = append(names, all[i].(string))
	}
	for _, p := range []string{"MAX*", "*-MAX-*", "[A-C]*", "[^a-z]*", "?Z*", "*[Ll][Ii][Ss][Tt]*", "TLS-*-FILE", "[b-A]*"} {
		v, err := rc.Do("CONFIG", "GET", p)
		if err != nil {
			t.Fatal(err)
		}
		r := v.([]any)
		var got, want []string
		for i := 0; i < len(r); i += 2 {
			got = append(got, r[i].(string))
		}
		for _, n := range names {
			if MatchString(p, n, true) {
				want = append(want, n)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("CONFIG GET %q: redis %v, glob %v", p, got, want)
		}
	}
}
