package command

import (
	"slices"
	"strings"
	"testing"

	"github.com/runnel-io/runnel/internal/resp"
)

// TestCommandTableMatchesRedis checks every command and subcommand of the
// table against Redis's COMMAND INFO (the generated metadata): arity, the
// flags Runnel models, and the legacy key positions. A failure here is a
// registration that differs from Redis 7.0 (or metadata to add to
// commanddocs_extra.go for a command 7.0 lacks).
func TestCommandTableMatchesRedis(t *testing.T) {
	tab := NewTable(&Env{})
	var all []*Command
	for _, c := range tab.allCommands() {
		all = append(all, c)
		all = append(all, c.subcommands()...)
	}
	// may_replicate is hidden by COMMAND INFO, so it cannot be checked.
	const checked = ^(MayReplicate | Global | NoKeyspace)
	for _, c := range all {
		m := metaFor(c.Name)
		if m == nil {
			t.Errorf("%s: no metadata (not in Redis %s: describe it in commanddocs_extra.go)", c.Name, redisDocsVersion)
			continue
		}
		info := m.info
		if got := info.get(0).str; got != c.Name {
			t.Errorf("%s: metadata is for %q", c.Name, got)
		}
		if want := int(info.get(1).num); c.Arity != want {
			t.Errorf("%s: Arity %d, Redis has %d", c.Name, c.Arity, want)
		}
		redisFlags := info.get(2).strs()
		want := flagsFromNames(redisFlags) & checked
		if got := c.Flags & checked; got != want {
			t.Errorf("%s: Flags %v, Redis has %v", c.Name, got.Names(), want.Names())
		}
		first, last, step := int(info.get(3).num), int(info.get(4).num), int(info.get(5).num)
		if c.FirstKey != first || c.LastKey != last || c.Step != step {
			t.Errorf("%s: keys (%d, %d, %d), Redis has (%d, %d, %d)", c.Name,
				c.FirstKey, c.LastKey, c.Step, first, last, step)
		}
		if slices.Contains(redisFlags, "movablekeys") && c.Keys == nil && c.Flags&Global == 0 {
			t.Errorf("%s: Redis has movable keys, but the command has no Keys function (its lock scope would miss keys)", c.Name)
		}
		if c.Flags&(Global|NoKeyspace) == Global|NoKeyspace {
			t.Errorf("%s: both Global and NoKeyspace", c.Name)
		}
		if c.Flags&NoKeyspace != 0 && slices.ContainsFunc(keySpecsOf(c), func(s keySpec) bool { return !s.notKey }) {
			// (Channels of the sharded pub/sub commands are "not_key".)
			t.Errorf("%s: NoKeyspace, but the command has keys", c.Name)
		}
	}
}

// TestExtraDocsAreNotIn70 keeps the hand-written metadata to commands Redis
// 7.0 lacks, and checks its shape.
func TestExtraDocsAreNotIn70(t *testing.T) {
	for name, m := range extraDocs {
		if redisDocs[name] != nil {
			t.Errorf("%s: hand-written metadata for a command Redis %s has", name, redisDocsVersion)
		}
		if len(m.info.elems) != 9 || m.info.get(0).str != name {
			t.Errorf("%s: COMMAND INFO entry must have 9 elements and start with the name", name)
		}
		if _, ok := m.docs.field("summary"); !ok || m.docs.kind != '%' {
			t.Errorf("%s: COMMAND DOCS must be a map with a summary", name)
		}
	}
}

// TestDocNodeWrite checks the RESP2 fallbacks of the metadata tree.
func TestDocNodeWrite(t *testing.T) {
	n := dA(dB("x"), dS("ok"), dI(-3), dSet(dS("a")), dM(dB("k"), dNull()))
	for _, tc := range []struct {
		proto int
		want  string
	}{
		{2, "*5\r\n$1\r\nx\r\n+ok\r\n:-3\r\n*1\r\n+a\r\n*2\r\n$1\r\nk\r\n$-1\r\n"},
		{3, "*5\r\n$1\r\nx\r\n+ok\r\n:-3\r\n~1\r\n+a\r\n%1\r\n$1\r\nk\r\n_\r\n"},
	} {
		w := resp.Writer{Proto: tc.proto}
		n.write(&w)
		if string(w.B) != tc.want {
			t.Errorf("RESP%d: got %q, want %q", tc.proto, w.B, tc.want)
		}
	}
}

// TestKeysFromSpecs runs the key-spec interpreter on commands whose specs
// cover each kind of search, with Redis's answers.
func TestKeysFromSpecs(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		want string // positions, or "invalid"
	}{
		{"get k", "1"},
		{"mset a 1 b 2", "1 3"},
		{"del a b c", "1 2 3"},
		{"lmove a b left right", "1 2"},
		{"zunionstore d 2 a b", "1 3 4"},
		{"zunionstore d 0 a b", "invalid"},
		{"zunionstore d x a b", "invalid"},
		{"zunionstore d 5 a b", "invalid"},
		{"eval s 0", "invalid"}, // 0 keys: GETKEYS then uses EVAL's getkeys function
		{"eval s 2 k1 k2 a", "3 4"},
		{"xread count 2 streams s1 s2 0 0", "4 5"},
		{"xread streams s1 0", "2"},
		{"migrate h p k 0 5", "3"},                   // the incomplete spec finds no KEYS
		{"migrate h p \"\" 0 5 KEYS a b", "invalid"}, // and here it does
		{"georadius k 0 0 1 km store d", "1 7"},
		{"sort k", "invalid"}, // unknown specs
	} {
		args := strings.Fields(tc.cmd)
		bargs := make([][]byte, len(args))
		for i, a := range args {
			bargs[i] = []byte(a)
		}
		c := &Command{Name: args[0]}
		keys, ok := keysFromSpecs(keySpecsOf(c), bargs, false)
		got := "invalid"
		if ok {
			pos := make([]string, len(keys))
			for i, k := range keys {
				pos[i] = itoa(int64(k.pos))
			}
			got = strings.Join(pos, " ")
		}
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.cmd, got, tc.want)
		}
	}
}

func TestLeadingFloat(t *testing.T) {
	for in, want := range map[string]string{
		"1": "1", "0.5": "0.5", "1.5s": "1.5", "x": "0", "": "0", " 2": "2", "-1": "-1", ".5": ".5", "+": "0",
	} {
		if got := leadingFloat([]byte(in)); got != want {
			t.Errorf("leadingFloat(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidClientName(t *testing.T) {
	for in, want := range map[string]bool{
		"": true, "abc": true, "!~": true, "a b": false, "a\nb": false, "\x7f": false, "é": false,
	} {
		if got := validClientName([]byte(in)); got != want {
			t.Errorf("validClientName(%q) = %v, want %v", in, got, want)
		}
	}
}
