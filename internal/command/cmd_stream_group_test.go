package command

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/pubsub"
	"github.com/runnel-io/runnel/internal/redistest"
	"github.com/runnel-io/runnel/internal/resp"
)

const (
	replyWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
	replyXGroupKey = "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"
	replyNotInt    = "-ERR value is not an integer or out of range\r\n"
	replySyntax    = "-ERR syntax error\r\n"
)

// keyExists reports whether key is in database 0 of h's keyspace.
func keyExists(tb testing.TB, h *harness, key string) bool {
	tb.Helper()
	var tx engine.Tx
	h.env.KS.Lock(&tx, [][]byte{[]byte(key)}, false, engine.NowMs())
	defer tx.Unlock()
	_, ok := tx.Peek(0, []byte(key))
	return ok
}

// streamCase is one command and its raw reply, the same in RESP2 and RESP3.
type streamCase struct {
	args []string
	want string
}

// runStreamCases runs cases in both protocols and checks that none of
// them changed the dataset: each fails before anything is written.
func runStreamCases(t *testing.T, h *harness, cases []streamCase) {
	t.Helper()
	for _, proto := range []int{2, 3} {
		h.w.Proto = proto
		for _, tc := range cases {
			dirty := h.env.KS.Dirty()
			if got := h.do(tc.args...); got != tc.want {
				t.Errorf("RESP%d %q:\n got %q\nwant %q", proto, tc.args, got, tc.want)
			}
			if d := h.env.KS.Dirty(); d != dirty {
				t.Errorf("RESP%d %q: dirty %d -> %d", proto, tc.args, dirty, d)
			}
		}
	}
	if keyExists(t, h, "missing") {
		t.Errorf("a failed command created the key")
	}
}

// TestStreamGroupArgErrors: errors the consumer-group commands reply before
// reading any stream, in Redis's order of checks. The replies are
// redis-server 7.0.15's, captured raw on the wire (spec §3, §4).
func TestStreamGroupArgErrors(t *testing.T) {
	h := newHarness(t, registerStreamGroups)
	h.put("str", engine.NewString([]byte("hello")), 0)
	subSyntax := func(sub string) string {
		return "-ERR unknown subcommand or wrong number of arguments for '" + sub + "'. Try XGROUP HELP.\r\n"
	}
	runStreamCases(t, h, []streamCase{
		// XGROUP: options, then the key (WRONGTYPE, must exist), then the
		// group, then the subcommand's argument count.
		{[]string{"XGROUP", "CREATE", "missing", "g", "$"}, replyXGroupKey},
		{[]string{"XGROUP", "CREATE", "missing", "g", "$", "BADOPT"}, subSyntax("CREATE")},
		{[]string{"XGROUP", "create", "missing", "g", "$", "BADOPT"}, subSyntax("create")},
		{[]string{"XGROUP", "CREATE", "missing", "g", "$", "ENTRIESREAD", "x"}, replyNotInt},
		{[]string{"XGROUP", "CREATE", "missing", "g", "$", "ENTRIESREAD", "-3"}, "-ERR value for ENTRIESREAD must be positive or -1\r\n"},
		{[]string{"XGROUP", "CREATE", "missing", "g", "$", "ENTRIESREAD"}, subSyntax("CREATE")},
		{[]string{"XGROUP", "CREATE", "missing", "g", "$", "MKSTREAM", "ENTRIESREAD", "-2"}, "-ERR value for ENTRIESREAD must be positive or -1\r\n"},
		// Valid options beyond the longest form: the count is checked last,
		// and MKSTREAM has not created the key by then.
		{[]string{"XGROUP", "CREATE", "missing", "g", "$", "mkstream", "MKSTREAM", "MKSTREAM", "MKSTREAM"}, subSyntax("CREATE")},
		{[]string{"XGROUP", "CREATE", "str", "g", "$"}, replyWrongType},
		{[]string{"XGROUP", "CREATE", "str", "g", "$", "MKSTREAM"}, replyWrongType},
		{[]string{"XGROUP", "SETID", "missing", "g", "0", "MKSTREAM"}, subSyntax("SETID")},
		{[]string{"XGROUP", "SETID", "missing", "g", "0"}, replyXGroupKey},
		{[]string{"XGROUP", "SETID", "missing", "g", "0", "ENTRIESREAD", "1", "ENTRIESREAD", "2"}, replyXGroupKey},
		{[]string{"XGROUP", "SETID", "k\x00", "g", "0"}, replyXGroupKey},
		{[]string{"XGROUP", "SETID", "str", "g", "0"}, replyWrongType},
		{[]string{"XGROUP", "DESTROY", "missing", "g"}, replyXGroupKey},
		{[]string{"XGROUP", "DESTROY", "str", "g"}, replyWrongType},
		{[]string{"XGROUP", "CREATECONSUMER", "missing", "g", "c"}, replyXGroupKey},
		{[]string{"XGROUP", "createconsumer", "str", "g", "c"}, replyWrongType},
		{[]string{"XGROUP", "DELCONSUMER", "missing", "g", "c"}, replyXGroupKey},
		{[]string{"XGROUP", "DELCONSUMER", "str", "g", "c"}, replyWrongType},

		// XACK: a missing key answers 0 before the IDs are parsed.
		{[]string{"XACK", "missing", "g", "1-0"}, ":0\r\n"},
		{[]string{"XACK", "missing", "g", "bad-id"}, ":0\r\n"},
		{[]string{"XACK", "str", "g", "1-0"}, replyWrongType},

		// XPENDING: argument count, IDLE's value, count, then the key.
		{[]string{"XPENDING", "missing", "g"}, "-NOGROUP No such key 'missing' or consumer group 'g'\r\n"},
		{[]string{"XPENDING", "a\nb", "g"}, "-NOGROUP No such key 'a b' or consumer group 'g'\r\n"},
		{[]string{"XPENDING", "str", "g"}, replyWrongType},
		{[]string{"XPENDING", "missing", "g", "a"}, replySyntax},
		{[]string{"XPENDING", "missing", "g", "-", "+"}, replySyntax},
		{[]string{"XPENDING", "missing", "g", "IDLE", "x", "-", "+", "10"}, replyNotInt},
		{[]string{"XPENDING", "missing", "g", "IDLE", "5", "-", "+"}, replySyntax},
		{[]string{"XPENDING", "missing", "g", "-", "+", "x"}, replyNotInt},
		{[]string{"XPENDING", "missing", "g", "-", "+", "10", "a", "b", "c", "d"}, replySyntax},

		// XCLAIM: NOGROUP (or WRONGTYPE) comes before min-idle-time.
		{[]string{"XCLAIM", "missing", "g", "c", "0", "1-0"}, "-NOGROUP No such key 'missing' or consumer group 'g'\r\n"},
		{[]string{"XCLAIM", "missing", "g", "c", "x", "1-0"}, "-NOGROUP No such key 'missing' or consumer group 'g'\r\n"},
		{[]string{"XCLAIM", "a\x00b", "g\x00h", "c", "0", "1-0"}, "-NOGROUP No such key 'a' or consumer group 'g'\r\n"},
		{[]string{"XCLAIM", "str", "g", "c", "0", "1-0"}, replyWrongType},

		// XAUTOCLAIM: min-idle-time before the type and the group.
		{[]string{"XAUTOCLAIM", "missing", "g", "c", "x", "0"}, "-ERR Invalid min-idle-time argument for XAUTOCLAIM\r\n"},
		{[]string{"XAUTOCLAIM", "str", "g", "c", "x", "0"}, "-ERR Invalid min-idle-time argument for XAUTOCLAIM\r\n"},
	})
}

// TestStreamGroup8xArgErrors: argument errors of XACKDEL (8.2) and XNACK
// (8.8), from the Redis 8.8 tests "XACKDEL IDS parameter validation",
// "XACKDEL KEEPREF/DELREF/ACKED parameter validation" and "XNACK argument
// and error validation" (spec §3). They come before the key is looked up.
func TestStreamGroup8xArgErrors(t *testing.T) {
	h := newHarness(t, registerStreamGroups)
	const (
		numIDs     = "-ERR Number of IDs must be a positive integer\r\n"
		nackNumIDs = "-ERR numids must be a positive integer\r\n"
	)
	runStreamCases(t, h, []streamCase{
		{[]string{"XACKDEL", "missing", "g", "IDS", "abc", "1-1"}, numIDs},
		{[]string{"XACKDEL", "missing", "g", "IDS", "0", "1-1"}, numIDs},
		{[]string{"XACKDEL", "missing", "g", "IDS", "-5", "1-1"}, numIDs},
		{[]string{"XACKDEL", "missing", "g", "IDS", "3", "1-1", "2-2"}, "-ERR The `numids` parameter must match the number of arguments\r\n"},
		{[]string{"XACKDEL", "missing", "g", "IDS", "1", "1-1", "2-2"}, replySyntax},
		{[]string{"XACKDEL", "missing", "g", "KEEPREF", "DELREF", "IDS", "1", "1-1"}, replySyntax},
		{[]string{"XACKDEL", "missing", "g", "KEEPREF", "ACKED", "IDS", "1", "1-1"}, replySyntax},
		{[]string{"XACKDEL", "missing", "g", "DELREF", "ACKED", "IDS", "1", "1-1"}, replySyntax},

		{[]string{"XNACK", "missing", "g", "BADMODE", "IDS", "1", "1-0"}, "-ERR mode must be SILENT, FAIL, or FATAL\r\n"},
		{[]string{"XNACK", "missing", "g", "FAIL", "BADOPT", "IDS", "1", "1-0"}, "-ERR Unrecognized XNACK option 'BADOPT'\r\n"},
		{[]string{"XNACK", "missing", "g", "SILENT", "FORCE", "BADOPT", "IDS", "1", "1-0"}, "-ERR Unrecognized XNACK option 'BADOPT'\r\n"},
		{[]string{"XNACK", "missing", "g", "FAIL", "RETRYCOUNT", "5", "BADOPT", "IDS", "1", "1-0"}, "-ERR Unrecognized XNACK option 'BADOPT'\r\n"},
		{[]string{"XNACK", "missing", "g", "FAIL", "FATAL", "IDS", "1", "1-0"}, "-ERR Unrecognized XNACK option 'FATAL'\r\n"},
		{[]string{"XNACK", "missing", "g", "SILENT", "FAIL", "IDS", "1", "1-0"}, "-ERR Unrecognized XNACK option 'FAIL'\r\n"},
		{[]string{"XNACK", "missing", "g", "SILENT", "NOTIDS", "1", "1-0"}, "-ERR Unrecognized XNACK option 'NOTIDS'\r\n"},
		{[]string{"XNACK", "missing", "g", "SILENT", "FORCE", "RETRYCOUNT", "5"}, "-ERR syntax error, expected IDS keyword\r\n"},
		{[]string{"XNACK", "missing", "g", "SILENT", "IDS", "abc", "1-0"}, nackNumIDs},
		{[]string{"XNACK", "missing", "g", "SILENT", "IDS", "0", "1-0"}, nackNumIDs},
		{[]string{"XNACK", "missing", "g", "SILENT", "IDS", "-1", "1-0"}, nackNumIDs},
		{[]string{"XNACK", "missing", "g", "SILENT", "IDS", "2", "1-0"}, "-ERR number of IDs doesn't match numids\r\n"},
		{[]string{"XNACK", "missing", "g", "FAIL", "RETRYCOUNT", "abc", "IDS", "1", "1-0"}, replyNotInt},
		{[]string{"XNACK", "missing", "g", "FAIL", "RETRYCOUNT", "99999999999999999999", "IDS", "1", "1-0"}, replyNotInt},
		{[]string{"XNACK", "missing", "g", "FAIL", "RETRYCOUNT", "-1", "IDS", "1", "1-0"}, "-ERR Invalid RETRYCOUNT value, must be >= 0\r\n"},
	})
}

// TestXGroupHelp: XGROUP HELP exactly as redis-server 7.0.15 (the header
// names the command as typed, upper-cased).
func TestXGroupHelp(t *testing.T) {
	h := newHarness(t, registerStreamGroups)
	const want = "*17\r\n+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n" +
		"+CREATE <key> <groupname> <id|$> [option]\r\n+    Create a new consumer group. Options are:\r\n" +
		"+    * MKSTREAM\r\n+      Create the empty stream if it does not exist.\r\n" +
		"+    * ENTRIESREAD entries_read\r\n+      Set the group's entries_read counter (internal use).\r\n" +
		"+CREATECONSUMER <key> <groupname> <consumer>\r\n+    Create a new consumer in the specified group.\r\n" +
		"+DELCONSUMER <key> <groupname> <consumer>\r\n+    Remove the specified consumer.\r\n" +
		"+DESTROY <key> <groupname>\r\n+    Remove the specified group.\r\n" +
		"+SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]\r\n+    Set the current group ID and entries_read counter.\r\n" +
		"+HELP\r\n+    Prints this help.\r\n"
	for _, proto := range []int{2, 3} {
		h.w.Proto = proto
		if got := h.do("xgroup", "help"); got != want {
			t.Errorf("RESP%d: got %q", proto, got)
		}
	}
}

// TestStreamGroupHotPathAllocs: the commands of a consumer loop (ack,
// inspect and recover pending entries) allocate nothing per command, their
// deferred reply headers and claimed-entry scratch included.
func TestStreamGroupHotPathAllocs(t *testing.T) {
	h := streamHarness(t)
	h.now = groupEpoch
	for _, c := range []string{"XADD s 1-0 f v", "XADD s 2-0 f v", "XGROUP CREATE s g 0", "XREADGROUP GROUP g c STREAMS s >"} {
		h.do(splitCmd(c)...)
	}
	for _, c := range []string{
		"XACK missing g 1-0 2-0", "XACK s nog 1-0", "XACK s g 9-0 8-0",
		"XPENDING s g", "XPENDING s g - + 10", "XPENDING s g IDLE 5 - + 10 c",
		"XCLAIM s g c 0 1-0 2-0", "XCLAIM s g c 0 1-0 JUSTID",
		"XAUTOCLAIM s g c 0 0", "XAUTOCLAIM s g c 0 0 JUSTID",
		"XNACK s g FAIL IDS 1 1-0", "XGROUP CREATECONSUMER s g c",
		"XINFO GROUPS s", "XINFO CONSUMERS s g",
	} {
		argv := h.args(splitCmd(c)...)
		if n := testing.AllocsPerRun(50, func() { h.call(argv) }); n != 0 {
			t.Errorf("%s allocates %v times", c, n)
		}
	}
}

// groupStep is a command and its expected reply in compact form (see
// compactReply), except that maps are written flat, [k v k v], as RESP2
// sends them, so that one expectation serves both protocols (RESP3's map
// headers are checked byte for byte in TestXInfoRESP3). "?" in a want
// matches any one string or number; a want of "*" accepts any reply.
type groupStep struct{ cmd, want string }

// groupScenario runs on a fresh keyspace with the clock fixed at
// groupEpoch; "@sleep N" advances it by N ms.
type groupScenario struct {
	name, spec string
	steps      []groupStep
}

const groupEpoch = 1_700_000_000_000

func runGroupScenarios(t *testing.T, scenarios []groupScenario) {
	for _, proto := range []int{2, 3} {
		for _, sc := range scenarios {
			t.Run(fmt.Sprintf("RESP%d/%s", proto, sc.name), func(t *testing.T) {
				h := streamHarness(t)
				h.w.Proto = proto
				h.now = groupEpoch
				for i, st := range sc.steps {
					if ms, ok := strings.CutPrefix(st.cmd, "@sleep "); ok {
						n, _ := strconv.ParseInt(ms, 10, 64)
						h.now += n
						continue
					}
					got := compactFlat(t, h.do(splitCmd(st.cmd)...))
					if !matchCompact(got, st.want) {
						t.Fatalf("%s (spec %s), step %d: %s\n got: %s\nwant: %s", sc.name, sc.spec, i, st.cmd, got, st.want)
					}
				}
			})
		}
	}
}

// compactFlat is compactReply with maps written as flat arrays.
func compactFlat(tb testing.TB, raw string) string {
	tb.Helper()
	v, err := redistest.Parse([]byte(raw))
	if err != nil {
		tb.Fatalf("unparsable reply %q: %v", raw, err)
	}
	flattenMaps(&v)
	var b strings.Builder
	writeCompact(&b, v)
	return b.String()
}

func flattenMaps(v *redistest.Value) {
	if v.Kind == redistest.KindMap {
		v.Kind = redistest.KindArray
	}
	for i := range v.Elems {
		flattenMaps(&v.Elems[i])
	}
}

// matchCompact reports whether got matches want, where "?" stands for any
// atom and "*" alone for anything.
func matchCompact(got, want string) bool {
	if want == "*" || got == want {
		return true
	}
	if !strings.Contains(want, "?") {
		return false
	}
	re := strings.ReplaceAll(regexp.QuoteMeta(want), `\?`, `[^ \[\]]+`)
	return regexp.MustCompile("^" + re + "$").MatchString(got)
}

// groupScenarios: the replies are redis-server 7.0.15's for the same
// commands, with the clock fixed (idle times computed from it), except
// where a step's comment cites a newer behaviour from the spec.
var groupScenarios = []groupScenario{
	{name: "XGROUP subcommands", spec: "§4 XGROUP, §5", steps: []groupStep{
		{"XGROUP CREATE s g $ MKSTREAM", "OK"},
		{"TYPE s", "stream"},
		{"XLEN s", "0"},
		{"XGROUP CREATE s g $", "!BUSYGROUP Consumer Group name already exists"},
		{"XGROUP CREATE s g2 bad", "!ERR Invalid stream ID specified as stream command argument"},
		{"XGROUP CREATE s g2 -", "!ERR Invalid stream ID specified as stream command argument"},
		{"XGROUP CREATE s g2 +", "!ERR Invalid stream ID specified as stream command argument"},
		{"XGROUP CREATE s g2 5", "OK"},
		{"XADD s 1-1 f v", "1-1"},
		{"XGROUP CREATE s g3 $ ENTRIESREAD 1", "OK"},
		{"XINFO GROUPS s", "[[name g consumers 0 pending 0 last-delivered-id 0-0 entries-read nil lag 1] " +
			"[name g2 consumers 0 pending 0 last-delivered-id 5-0 entries-read nil lag nil] " +
			"[name g3 consumers 0 pending 0 last-delivered-id 1-1 entries-read 1 lag 0]]"},
		{"XGROUP SETID s g +", "OK"}, // SETID's parser takes "-" and "+"
		{"XINFO GROUPS s", "[[name g consumers 0 pending 0 last-delivered-id 18446744073709551615-18446744073709551615 entries-read nil lag nil] " +
			"[name g2 consumers 0 pending 0 last-delivered-id 5-0 entries-read nil lag nil] " +
			"[name g3 consumers 0 pending 0 last-delivered-id 1-1 entries-read 1 lag 0]]"},
		{"XGROUP SETID s g - ENTRIESREAD 0", "OK"},
		{"XGROUP SETID s nog 0", "!NOGROUP No such consumer group 'nog' for key name 's'"},
		{"XGROUP SETID s g 0 ENTRIESREAD -5", "!ERR value for ENTRIESREAD must be positive or -1"},
		{"XGROUP SETID s g bad", "!ERR Invalid stream ID specified as stream command argument"},
		{"XGROUP SETID s g $", "OK"},
		{"XGROUP CREATECONSUMER s g alice", "1"},
		{"XGROUP CREATECONSUMER s g alice", "0"},
		{"XGROUP CREATECONSUMER s nog alice", "!NOGROUP No such consumer group 'nog' for key name 's'"},
		{"XGROUP DELCONSUMER s nog alice", "!NOGROUP No such consumer group 'nog' for key name 's'"},
		{"XGROUP DELCONSUMER s g bob", "0"},
		{"XGROUP DELCONSUMER s g alice", "0"},
		{"XGROUP DESTROY s g2", "1"},
		{"XGROUP DESTROY s g2", "0"},
		{"XGROUP CREATE s g5 $ MKSTREAM", "OK"},
		{"XGROUP CREATE s g6 0 MKSTREAM ENTRIESREAD 0", "OK"},
		{"XGROUP SETID s g6 0 ENTRIESREAD 1 ENTRIESREAD 2", "!ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP."},
		{"XINFO GROUPS s", "[[name g consumers 0 pending 0 last-delivered-id 1-1 entries-read nil lag 0] " +
			"[name g3 consumers 0 pending 0 last-delivered-id 1-1 entries-read 1 lag 0] " +
			"[name g5 consumers 0 pending 0 last-delivered-id 1-1 entries-read nil lag 0] " +
			"[name g6 consumers 0 pending 0 last-delivered-id 0-0 entries-read 0 lag 1]]"},
		// DELCONSUMER answers the consumer's pending count, which leaves
		// the group PEL.
		{"XREADGROUP GROUP g6 c STREAMS s >", "*"},
		{"XGROUP DELCONSUMER s g6 c", "1"},
		{"XPENDING s g6", "[0 nil nil nil]"},
	}},
	{name: "ENTRIESREAD is capped at entries-added", spec: "§4 XGROUP (8.2, #14259)", steps: []groupStep{
		{"XADD s 1-0 f v", "1-0"},
		{"XGROUP CREATE s g $ ENTRIESREAD 9999", "OK"},
		{"XGROUP CREATE s g2 $", "OK"},
		{"XGROUP SETID s g2 $ ENTRIESREAD 9999", "OK"},
		{"XINFO GROUPS s", "[[name g consumers 0 pending 0 last-delivered-id 1-0 entries-read 1 lag 0] " +
			"[name g2 consumers 0 pending 0 last-delivered-id 1-0 entries-read 1 lag 0]]"},
	}},
	{name: "XPENDING summary and ranges", spec: "§4 XPENDING", steps: []groupStep{
		{"XADD s 1-0 a 1", "1-0"}, {"XADD s 2-0 b 2", "2-0"}, {"XADD s 3-0 c 3", "3-0"},
		{"XGROUP CREATE s g 0", "OK"},
		{"XPENDING s g", "[0 nil nil nil]"},
		{"XPENDING s g - + 10", "[]"},
		{"XREADGROUP GROUP g alice COUNT 2 STREAMS s >", "*"},
		{"@sleep 100", ""},
		{"XREADGROUP GROUP g bob STREAMS s >", "*"},
		{"@sleep 50", ""},
		{"XPENDING s g", "[3 1-0 3-0 [[alice 2] [bob 1]]]"},
		{"XPENDING s g - + 10", "[[1-0 alice 150 1] [2-0 alice 150 1] [3-0 bob 50 1]]"},
		{"XPENDING s g IDLE 100 - + 10", "[[1-0 alice 150 1] [2-0 alice 150 1]]"},
		{"XPENDING s g IDLE 100 - + 10 bob", "[]"},
		{"XPENDING s g - + 10 bob", "[[3-0 bob 50 1]]"},
		{"XPENDING s g - + 10 nobody", "[]"},
		{"XPENDING s g (1-0 + 10", "[[2-0 alice 150 1] [3-0 bob 50 1]]"},
		{"XPENDING s g - (3-0 1", "[[1-0 alice 150 1]]"},
		{"XPENDING s g - + 0", "[]"},
		{"XPENDING s g - + -5", "[]"},
		{"XPENDING s g 2 2 10", "[[2-0 alice 150 1]]"}, // an incomplete end takes the largest sequence
		{"XPENDING s g (18446744073709551615-18446744073709551615 + 10", "!ERR invalid start ID for the interval"},
		{"XPENDING s g - (0-0 10", "!ERR invalid end ID for the interval"},
		{"XPENDING s g (- + 10", "!ERR Invalid stream ID specified as stream command argument"},
		{"XPENDING s g - + 10 alice extra", "[[1-0 alice 150 1] [2-0 alice 150 1]]"}, // the 8th argument is ignored
		{"XPENDING s g IDLE 0 - + 1", "[[1-0 alice 150 1]]"},
		{"XPENDING s g IDLE -1 - + 10", "[[1-0 alice 150 1] [2-0 alice 150 1] [3-0 bob 50 1]]"},
		{"XPENDING s nog", "!NOGROUP No such key 's' or consumer group 'nog'"},
		{"XPENDING s nog - + x", "!ERR value is not an integer or out of range"},
		{"XPENDING s nog bad + 10", "!ERR Invalid stream ID specified as stream command argument"},
		{"XACK s g 1-0 9-9", "1"},
		{"XACK s g 1-0", "0"},
		{"XACK s g 2-0 bad", "!ERR Invalid stream ID specified as stream command argument"},
		{"XACK s g 2-0 +", "!ERR Invalid stream ID specified as stream command argument"},
		{"XACK s nog 2-0", "0"},
		{"XPENDING s g", "[2 2-0 3-0 [[alice 1] [bob 1]]]"},
		{"XACK s g 2-0 3-0", "2"},
		{"XPENDING s g", "[0 nil nil nil]"},
		// A consumer with nothing pending is left out of the summary.
		{"XADD s 4-0 d 4", "4-0"},
		{"XREADGROUP GROUP g bob STREAMS s >", "*"},
		{"XPENDING s g", "[1 4-0 4-0 [[bob 1]]]"},
	}},
	{name: "XCLAIM options", spec: "§4 XCLAIM", steps: []groupStep{
		{"XADD s 1-0 a 1", "1-0"}, {"XADD s 2-0 b 2", "2-0"}, {"XADD s 3-0 c 3", "3-0"},
		{"XGROUP CREATE s g 0", "OK"},
		{"XREADGROUP GROUP g alice STREAMS s >", "*"},
		{"@sleep 200", ""},
		{"XCLAIM s g bob 300 1-0", "[]"},
		{"XCLAIM s g bob 100 1-0", "[[1-0 [a 1]]]"},
		{"XPENDING s g - + 10", "[[1-0 bob 0 2] [2-0 alice 200 1] [3-0 alice 200 1]]"},
		{"XCLAIM s g carol 0 2-0 JUSTID", "[2-0]"}, // JUSTID leaves the count
		{"XCLAIM s g carol 0 3-0 IDLE 500 RETRYCOUNT 7", "[[3-0 [c 3]]]"},
		{"XPENDING s g - + 10", "[[1-0 bob 0 2] [2-0 carol 0 1] [3-0 carol 500 7]]"},
		{"XCLAIM s g carol 0 3-0 TIME 1699999999000", "[[3-0 [c 3]]]"},
		{"XPENDING s g - + 10 carol", "[[2-0 carol 0 1] [3-0 carol 1200 8]]"},
		// Bogus times become now; a negative RETRYCOUNT is ignored.
		{"XCLAIM s g carol 0 3-0 TIME 99999999999999", "[[3-0 [c 3]]]"},
		{"XCLAIM s g carol 0 3-0 IDLE -5", "[[3-0 [c 3]]]"},
		{"XCLAIM s g carol 0 3-0 TIME -5", "[[3-0 [c 3]]]"},
		{"XCLAIM s g carol 0 3-0 RETRYCOUNT -3", "[[3-0 [c 3]]]"},
		{"XPENDING s g - + 10", "[[1-0 bob 0 2] [2-0 carol 0 1] [3-0 carol 0 12]]"},
		// An entry deleted from the stream leaves the PEL and is not returned.
		{"XDEL s 2-0", "1"},
		{"XCLAIM s g dave 0 2-0 3-0", "[[3-0 [c 3]]]"},
		{"XPENDING s g", "[2 1-0 3-0 [[bob 1] [dave 1]]]"},
		{"XACK s g 1-0", "1"},
		{"XCLAIM s g dave 0 1-0", "[]"},
		{"XCLAIM s g dave 0 1-0 FORCE", "[[1-0 [a 1]]]"},
		{"XPENDING s g - + 10 dave", "[[1-0 dave 0 2] [3-0 dave 0 13]]"},
		{"XCLAIM s g dave 0 1-0 FORCE JUSTID", "[1-0]"},
		{"XCLAIM s g dave 0 9-9 FORCE", "[]"},
		{"XCLAIM s g dave 0 1-0 LASTID 50-0 JUSTID", "[1-0]"},
		{"XINFO GROUPS s", "[[name g consumers 4 pending 2 last-delivered-id 50-0 entries-read 3 lag 0]]"},
		{"XCLAIM s g dave 0 1-0 BOGUS", "!ERR Unrecognized XCLAIM option 'BOGUS'"},
		{"XCLAIM s g dave 0 1-0 JUSTID 2-0", "!ERR Unrecognized XCLAIM option '2-0'"},
		{"XCLAIM s g dave 0 JUSTID 1-0", "!ERR Unrecognized XCLAIM option '1-0'"},
		{"XCLAIM s g dave 0 1-0 IDLE", "!ERR Unrecognized XCLAIM option 'IDLE'"},
		{"XCLAIM s g dave 0 1-0 IDLE x", "!ERR Invalid IDLE option argument for XCLAIM"},
		{"XCLAIM s g dave 0 1-0 TIME x", "!ERR Invalid TIME option argument for XCLAIM"},
		{"XCLAIM s g dave 0 1-0 RETRYCOUNT x", "!ERR Invalid RETRYCOUNT option argument for XCLAIM"},
		{"XCLAIM s g dave 0 1-0 LASTID +", "!ERR Invalid stream ID specified as stream command argument"},
		{"XCLAIM s g dave x 1-0", "!ERR Invalid min-idle-time argument for XCLAIM"},
		{"XCLAIM s g dave -100 1-0 JUSTID", "[1-0]"},
		{"XCLAIM s g dave 0 LASTID 60-0", "[]"},
		{"XINFO GROUPS s", "[[name g consumers 4 pending 2 last-delivered-id 60-0 entries-read 3 lag 0]]"},
		// Redis 7.2+ creates the consumer even when nothing is claimed
		// (7.0 did not).
		{"XCLAIM s g erin 100000 1-0", "[]"},
		{"XINFO GROUPS s", "[[name g consumers 5 pending 2 last-delivered-id 60-0 entries-read 3 lag 0]]"},
	}},
	{name: "XAUTOCLAIM scans, counts and reports deleted entries", spec: "§4 XAUTOCLAIM", steps: []groupStep{
		{"XADD x 1-0 f v", "1-0"}, {"XADD x 2-0 f v", "2-0"}, {"XADD x 3-0 f v", "3-0"},
		{"XADD x 4-0 f v", "4-0"}, {"XADD x 5-0 f v", "5-0"},
		{"XGROUP CREATE x grp 0", "OK"},
		{"XREADGROUP GROUP grp Alice STREAMS x >", "*"},
		{"XAUTOCLAIM x grp Bob 0 0-0 COUNT 2", "[3-0 [[1-0 [f v]] [2-0 [f v]]] []]"},
		{"XAUTOCLAIM x grp Bob 0 3-0 COUNT 2 JUSTID", "[5-0 [3-0 4-0] []]"},
		{"XAUTOCLAIM x grp Bob 0 (4-0", "[0-0 [[5-0 [f v]]] []]"},
		{"XAUTOCLAIM x grp Bob 0 (5-0", "[0-0 [] []]"},
		{"XDEL x 1-0", "1"},
		{"XDEL x 2-0", "1"},
		// Deleted entries count toward COUNT.
		{"XAUTOCLAIM x grp Carol 0 0-0 COUNT 1", "[2-0 [] [1-0]]"},
		{"XAUTOCLAIM x grp Carol 0 2-0 COUNT 1", "[3-0 [] [2-0]]"},
		{"XAUTOCLAIM x grp Carol 0 - COUNT 2", "[5-0 [[3-0 [f v]] [4-0 [f v]]] []]"},
		{"XAUTOCLAIM x grp Carol 100000 -", "[0-0 [] []]"},
		{"XPENDING x grp", "[3 3-0 5-0 [[Bob 1] [Carol 2]]]"},
		{"XAUTOCLAIM x grp Carol 0 +", "[0-0 [] []]"},
		{"XAUTOCLAIM x grp Carol 0 - COUNT 576460752303423488", "!ERR COUNT must be > 0"},
		{"XAUTOCLAIM x grp Carol 0 - COUNT 0", "!ERR COUNT must be > 0"},
		{"XAUTOCLAIM x grp Carol 0 - COUNT x", "!ERR COUNT must be > 0"},
		{"XAUTOCLAIM x grp Carol 0 - COUNT", "!ERR syntax error"},
		{"XAUTOCLAIM x grp Carol 0 - BAD", "!ERR syntax error"},
		{"XAUTOCLAIM x grp Carol 0 x", "!ERR Invalid stream ID specified as stream command argument"},
		{"XAUTOCLAIM x grp Carol 0 (18446744073709551615-18446744073709551615", "!ERR invalid start ID for the interval"},
		{"XAUTOCLAIM x grp Carol 0 - COUNT 576460752303423487", "!ERR Insufficient memory, failed allocating transient memory, COUNT too high."},
		{"XAUTOCLAIM missing grp Carol 0 - COUNT 0", "!ERR COUNT must be > 0"},
		{"XAUTOCLAIM x grp Carol 0 - JUSTID COUNT 1 JUSTID", "[4-0 [3-0] []]"},
		{"XAUTOCLAIM x nog Carol 0 -", "!NOGROUP No such key 'x' or consumer group 'nog'"},
		{"XAUTOCLAIM x grp Carol -10 -", "[0-0 [[3-0 [f v]] [4-0 [f v]] [5-0 [f v]]] []]"},
	}},
	{name: "XNACK: unowned entries in XPENDING, XINFO, DELCONSUMER, claims", spec: "§4 XNACK (8.8)", steps: []groupStep{
		{"XADD s 1-0 f v1", "1-0"}, {"XADD s 2-0 f v2", "2-0"}, {"XADD s 3-0 f v3", "3-0"},
		{"XGROUP CREATE s grp 0", "OK"},
		{"XREADGROUP GROUP grp c1 COUNT 2 STREAMS s >", "*"},
		{"XREADGROUP GROUP grp c2 COUNT 1 STREAMS s >", "*"},
		{"XNACK s grp FAIL IDS 1 3-0", "1"},
		{"XNACK s grp FAIL IDS 1 1-0", "1"},
		{"XPENDING s grp - + 10", "[[1-0 '' -1 1] [2-0 c1 0 1] [3-0 '' -1 1]]"},
		{"XPENDING s grp - + 10 c2", "[]"},
		{"XPENDING s grp", "[3 1-0 3-0 [[c1 1]]]"},
		{"XINFO GROUPS s", "[[name grp consumers 2 pending 3 last-delivered-id 3-0 entries-read 3 lag 0]]"},
		{"XINFO STREAM s FULL", "[length 3 radix-tree-keys ? radix-tree-nodes ? last-generated-id 3-0 max-deleted-entry-id 0-0 entries-added 3 recorded-first-entry-id 1-0 " +
			"idmp-duration 100 idmp-maxsize 100 pids-tracked 0 iids-tracked 0 iids-added 0 iids-duplicates 0 " +
			"entries [[1-0 [f v1]] [2-0 [f v2]] [3-0 [f v3]]] groups [[name grp last-delivered-id 3-0 entries-read 3 lag 0 pel-count 3 " +
			"pending [[1-0 '' 0 1] [2-0 c1 1700000000000 1] [3-0 '' 0 1]] consumers [" +
			"[name c1 seen-time 1700000000000 active-time 1700000000000 pel-count 1 pending [[2-0 1700000000000 1]]] " +
			"[name c2 seen-time 1700000000000 active-time 1700000000000 pel-count 0 pending []]] nacked-count 2]]]"},
		{"XNACK s grp FAIL IDS 5 1-0 9-9 2-0 8-8 3-0", "3"},
		{"XNACK s grp FAIL IDS 2 1-0 1-0", "2"},
		// DELCONSUMER removes only what the consumer owns.
		{"XCLAIM s grp c1 0 2-0 JUSTID", "[2-0]"},
		{"XGROUP DELCONSUMER s grp c1", "1"},
		{"XPENDING s grp - + 10", "[[1-0 '' -1 1] [3-0 '' -1 1]]"},
		// NACKed entries are infinitely idle; claiming a deleted one drops it.
		{"XCLAIM s grp c3 99999 1-0 JUSTID", "[1-0]"},
		{"XDEL s 3-0", "1"},
		{"XCLAIM s grp c3 0 3-0", "[]"},
		{"XPENDING s grp", "[1 1-0 1-0 [[c3 1]]]"},
		{"XNACK s grp FAIL IDS 1 1-0", "1"},
		{"XAUTOCLAIM s grp c4 99999 0-0", "[0-0 [[1-0 [f v1]]] []]"},
		{"XNACK s grp FATAL IDS 1 2-0 FORCE", "1"},
		{"XPENDING s grp - + 10", "[[1-0 c4 0 2] [2-0 '' -1 9223372036854775807]]"},
		{"XNACK s grp FAIL IDS 1 9-9 FORCE", "0"},
		{"XNACK s grp FAIL IDS 1 1-0 BADOPT", "!ERR Unrecognized XNACK option 'BADOPT'"},
		{"XNACK s grp FAIL IDS 1 1-0 2-0", "!ERR Unrecognized XNACK option '2-0'"},
		{"XNACK s grp FAIL IDS 1 1-0 RETRYCOUNT", "!ERR Unrecognized XNACK option 'RETRYCOUNT'"},
		{"XNACK s grp FAIL IDS 1 not-an-id", "!ERR Invalid stream ID specified as stream command argument"},
		{"XNACK s grp FAIL RETRYCOUNT 5 FORCE IDS 1 1-0", "1"},
		{"XPENDING s grp - + 10 c4", "[]"},
		{"XNACK s nogroup FAIL IDS 1 1-0", "!NOGROUP No such key 's' or consumer group 'nogroup'"},
		{"SET str x", "OK"},
		{"XNACK str grp FAIL IDS 1 1-0", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
	}},
}

func TestStreamGroupScenarios(t *testing.T) { runGroupScenarios(t, groupScenarios) }

// eventLog records the keyspace events published to it.
type eventLog struct{ events []string }

func (l *eventLog) Push(fn func(w *resp.Writer)) bool {
	w := resp.Writer{Proto: 2}
	fn(&w)
	v, err := redistest.Parse(w.B)
	if err == nil && len(v.Elems) == 4 {
		l.events = append(l.events, v.Elems[3].Str)
	}
	return true
}

// TestStreamGroupEvents: the keyspace events of the group commands (spec
// §8), starting with the sequence of Redis's test "Keyspace notifications:
// stream events test": implicit consumer creation by XREADGROUP and XCLAIM
// is notified; DELCONSUMER of an absent consumer and XAUTOCLAIM by an
// existing one are not.
func TestStreamGroupEvents(t *testing.T) {
	h := streamHarness(t)
	h.env.PubSub = pubsub.New()
	flags, _ := pubsub.ParseFlags("Kt")
	h.env.PubSub.Flags.Store(uint32(flags))
	log := &eventLog{}
	h.env.PubSub.Locked(func(tx *pubsub.Tx) { tx.PSubscribe(log, "*") })
	for _, tc := range []struct {
		cmd   string
		event string // "" for none
	}{
		{"XGROUP CREATE mystream mygroup $ MKSTREAM", "xgroup-create"},
		{"XGROUP CREATECONSUMER mystream mygroup Bob", "xgroup-createconsumer"},
		{"XADD mystream 1 field1 A", "xadd"},
		{"XREADGROUP GROUP mygroup Alice STREAMS mystream >", "xgroup-createconsumer"},
		{"XCLAIM mystream mygroup Mike 0 1-0 FORCE", "xgroup-createconsumer"},
		{"XGROUP DELCONSUMER mystream mygroup Lee", ""},
		{"XAUTOCLAIM mystream mygroup Bob 0 1-0", ""},
		{"XGROUP DELCONSUMER mystream mygroup Bob", "xgroup-delconsumer"},
		// Beyond Redis's test.
		{"XGROUP CREATECONSUMER mystream mygroup Alice", ""},
		{"XAUTOCLAIM mystream mygroup Zed 0 0", "xgroup-createconsumer"},
		{"XGROUP SETID mystream mygroup 0", "xgroup-setid"},
		{"XACK mystream mygroup 1-0", ""},
		{"XPENDING mystream mygroup", ""},
		{"XINFO STREAM mystream FULL", ""},
		{"XGROUP CREATE mystream mygroup $", ""}, // BUSYGROUP
		{"XGROUP DESTROY mystream nogroup", ""},
		{"XGROUP DESTROY mystream mygroup", "xgroup-destroy"},
	} {
		log.events = nil
		h.do(splitCmd(tc.cmd)...)
		var want []string
		if tc.event != "" {
			want = []string{tc.event}
		}
		if !slices.Equal(log.events, want) {
			t.Errorf("%s: events %q, want %q", tc.cmd, log.events, want)
		}
	}
}

// TestStreamGroupDirty: the changes each group command adds to dirty
// (rdb_changes_since_last_save), as measured on redis-server 7.0.15 for the
// same sequence, except where a comment cites Redis 7.2+.
func TestStreamGroupDirty(t *testing.T) {
	h := streamHarness(t)
	h.now = groupEpoch
	for _, tc := range []struct {
		cmd   string
		dirty int64
	}{
		{"XGROUP CREATE s g $ MKSTREAM", 1},
		{"XGROUP CREATE s g $", 0},
		{"XGROUP CREATE s g2 0", 1},
		{"XADD s 1-0 a 1", 1},
		{"XADD s 2-0 a 1", 1},
		{"XADD s 3-0 a 1", 1},
		{"XGROUP SETID s g 0", 1},
		{"XGROUP CREATECONSUMER s g c1", 1},
		{"XGROUP CREATECONSUMER s g c1", 0},
		{"XREADGROUP GROUP g c1 STREAMS s >", 1},
		{"XACK s g 1-0 9-0 2-0", 2},
		{"XACK s g 1-0", 0},
		{"XCLAIM s g c2 0 3-0", 2}, // the new consumer and the claim
		{"XCLAIM s g c2 0 3-0", 1},
		{"XCLAIM s g c3 1000000 3-0", 1}, // 7.2+ creates c3 though nothing is claimed (7.0: 0)
		{"XCLAIM s g c2 0 3-0 LASTID 9-0", 1},
		{"XCLAIM s g c2 0 7-0 LASTID 10-0", 1}, // the last ID alone
		{"XCLAIM s g c2 0 7-0 LASTID 1-0", 0},
		{"XDEL s 3-0", 1},
		{"XCLAIM s g c2 0 3-0", 1}, // the deleted entry leaves the PEL
		{"XGROUP SETID s g 0", 1},
		{"XREADGROUP GROUP g c1 STREAMS s >", 1},
		{"XDEL s 1-0", 1},
		{"XAUTOCLAIM s g c4 0 0", 3}, // new consumer, deleted 1-0, claimed 2-0
		{"XAUTOCLAIM s g c4 0 0", 1},
		{"XAUTOCLAIM s g c5 0 0", 2},
		{"XGROUP DELCONSUMER s g c4", 1},
		{"XGROUP DELCONSUMER s g c4", 0},
		{"XPENDING s g - + 10", 0},
		{"XINFO STREAM s FULL", 0},
		{"XGROUP DESTROY s g", 1},
		{"XGROUP DESTROY s g", 0},
		{"XGROUP DESTROY s g2", 1},
	} {
		before := h.env.KS.Dirty()
		h.do(splitCmd(tc.cmd)...)
		if d := h.env.KS.Dirty() - before; d != tc.dirty {
			t.Errorf("%s: dirty +%d, want +%d", tc.cmd, d, tc.dirty)
		}
	}
}
