package command

import (
	"strings"
	"testing"

	"github.com/runnel-io/runnel/internal/engine"
)

// TestStreamInfoArgErrors: XINFO looks the key up ("no such key", then
// WRONGTYPE) before anything else. Replies captured from redis-server
// 7.0.15.
func TestStreamInfoArgErrors(t *testing.T) {
	h := newHarness(t, registerStreamInfo)
	h.put("str", engine.NewString([]byte("hello")), 0)
	const noKey = "-ERR no such key\r\n"
	runStreamCases(t, h, []streamCase{
		{[]string{"XINFO", "STREAM", "missing"}, noKey},
		{[]string{"XINFO", "STREAM", "missing", "FULL", "x"}, noKey},
		{[]string{"XINFO", "GROUPS", "missing"}, noKey},
		{[]string{"XINFO", "CONSUMERS", "missing", "g"}, noKey},
		{[]string{"XINFO", "STREAM", "str"}, replyWrongType},
		{[]string{"XINFO", "STREAM", "str", "FULL", "COUNT", "x"}, replyWrongType},
		{[]string{"XINFO", "GROUPS", "str"}, replyWrongType},
		{[]string{"XINFO", "CONSUMERS", "str", "g"}, replyWrongType},
	})
}

// TestXInfoHelp: XINFO HELP exactly as redis-server 7.0.15, its missing "]"
// included.
func TestXInfoHelp(t *testing.T) {
	h := newHarness(t, registerStreamInfo)
	const want = "*9\r\n+XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n" +
		"+CONSUMERS <key> <groupname>\r\n+    Show consumers of <groupname>.\r\n" +
		"+GROUPS <key>\r\n+    Show the stream consumer groups.\r\n" +
		"+STREAM <key> [FULL [COUNT <count>]\r\n+    Show information about the stream.\r\n" +
		"+HELP\r\n+    Prints this help.\r\n"
	for _, proto := range []int{2, 3} {
		h.w.Proto = proto
		if got := h.do("XINFO", "HELP"); got != want {
			t.Errorf("RESP%d: got %q", proto, got)
		}
	}
}

// idmpZero is the IDMP part of XINFO STREAM for a stream that never used
// IDMP (spec §4 XINFO, 8.6: always present).
const idmpZero = "idmp-duration 100 idmp-maxsize 100 pids-tracked 0 iids-tracked 0 iids-added 0 iids-duplicates 0"

// infoScenarios: redis-server 7.0.15's replies with the clock fixed, plus
// the fields newer Redis adds (spec §4 XINFO): the IDMP fields (8.6),
// XINFO STREAM FULL's active-time (7.2) and nacked-count (8.8), XINFO
// CONSUMERS' inactive (7.2). radix-tree-nodes is the core's own figure.
var infoScenarios = []groupScenario{
	{name: "XINFO on an empty stream", spec: "§4 XINFO", steps: []groupStep{
		{"XGROUP CREATE x g1 0 MKSTREAM", "OK"},
		{"XINFO STREAM x", "[length 0 radix-tree-keys 0 radix-tree-nodes ? last-generated-id 0-0 max-deleted-entry-id 0-0 entries-added 0 recorded-first-entry-id 0-0 " +
			idmpZero + " groups 1 first-entry nil last-entry nil]"},
		{"XINFO STREAM x FULL", "[length 0 radix-tree-keys 0 radix-tree-nodes ? last-generated-id 0-0 max-deleted-entry-id 0-0 entries-added 0 recorded-first-entry-id 0-0 " +
			idmpZero + " entries [] groups [[name g1 last-delivered-id 0-0 entries-read nil lag 0 pel-count 0 pending [] consumers [] nacked-count 0]]]"},
		{"XINFO GROUPS x", "[[name g1 consumers 0 pending 0 last-delivered-id 0-0 entries-read nil lag 0]]"},
		{"XINFO CONSUMERS x g1", "[]"},
		{"XADD y 1-0 f v", "1-0"},
		{"XINFO GROUPS y", "[]"},
		{"XINFO STREAM y FULL", "[length 1 radix-tree-keys 1 radix-tree-nodes ? last-generated-id 1-0 max-deleted-entry-id 0-0 entries-added 1 recorded-first-entry-id 1-0 " +
			idmpZero + " entries [[1-0 [f v]]] groups []]"},
	}},
	{name: "XINFO STREAM, GROUPS and CONSUMERS", spec: "§4 XINFO, §5", steps: []groupStep{
		{"XADD x 100 a 1", "100-0"}, {"XADD x 101 b 1", "101-0"}, {"XADD x 102 c 1", "102-0"},
		{"XADD x 103 e 1", "103-0"}, {"XADD x 104 f 1", "104-0"},
		{"XGROUP CREATE x g1 0", "OK"},
		{"XGROUP CREATE x g2 0", "OK"},
		{"XREADGROUP GROUP g1 Alice COUNT 1 STREAMS x >", "*"},
		{"XREADGROUP GROUP g1 Bob COUNT 1 STREAMS x >", "*"},
		{"@sleep 10", ""},
		{"XREADGROUP GROUP g1 Bob NOACK COUNT 1 STREAMS x >", "*"},
		{"XREADGROUP GROUP g2 Charlie COUNT 4 STREAMS x >", "*"},
		{"XDEL x 103", "1"},
		{"XINFO STREAM x", "[length 4 radix-tree-keys 1 radix-tree-nodes ? last-generated-id 104-0 max-deleted-entry-id 103-0 entries-added 5 recorded-first-entry-id 100-0 " +
			idmpZero + " groups 2 first-entry [100-0 [a 1]] last-entry [104-0 [f 1]]]"},
		{"XINFO STREAM x FULL COUNT 1", "[length 4 radix-tree-keys 1 radix-tree-nodes ? last-generated-id 104-0 max-deleted-entry-id 103-0 entries-added 5 recorded-first-entry-id 100-0 " +
			idmpZero + " entries [[100-0 [a 1]]] groups [" +
			"[name g1 last-delivered-id 102-0 entries-read 3 lag nil pel-count 2 pending [[100-0 Alice 1700000000000 1]] consumers [" +
			"[name Alice seen-time 1700000000000 active-time 1700000000000 pel-count 1 pending [[100-0 1700000000000 1]]] " +
			"[name Bob seen-time 1700000000010 active-time 1700000000000 pel-count 1 pending [[101-0 1700000000000 1]]]] nacked-count 0] " +
			"[name g2 last-delivered-id 103-0 entries-read 4 lag nil pel-count 4 pending [[100-0 Charlie 1700000000010 1]] consumers [" +
			"[name Charlie seen-time 1700000000010 active-time 1700000000010 pel-count 4 pending [[100-0 1700000000010 1]]]] nacked-count 0]]]"},
		{"XINFO STREAM x FULL COUNT 0", "[length 4 radix-tree-keys 1 radix-tree-nodes ? last-generated-id 104-0 max-deleted-entry-id 103-0 entries-added 5 recorded-first-entry-id 100-0 " +
			idmpZero + " entries [[100-0 [a 1]] [101-0 [b 1]] [102-0 [c 1]] [104-0 [f 1]]] groups [" +
			"[name g1 last-delivered-id 102-0 entries-read 3 lag nil pel-count 2 pending [[100-0 Alice 1700000000000 1] [101-0 Bob 1700000000000 1]] consumers [" +
			"[name Alice seen-time 1700000000000 active-time 1700000000000 pel-count 1 pending [[100-0 1700000000000 1]]] " +
			"[name Bob seen-time 1700000000010 active-time 1700000000000 pel-count 1 pending [[101-0 1700000000000 1]]]] nacked-count 0] " +
			"[name g2 last-delivered-id 103-0 entries-read 4 lag nil pel-count 4 pending [[100-0 Charlie 1700000000010 1] [101-0 Charlie 1700000000010 1] " +
			"[102-0 Charlie 1700000000010 1] [103-0 Charlie 1700000000010 1]] consumers [" +
			"[name Charlie seen-time 1700000000010 active-time 1700000000010 pel-count 4 pending [[100-0 1700000000010 1] [101-0 1700000000010 1] " +
			"[102-0 1700000000010 1] [103-0 1700000000010 1]]]] nacked-count 0]]]"},
		{"XINFO STREAM x FULL COUNT 2", "[length 4 radix-tree-keys 1 radix-tree-nodes ? last-generated-id 104-0 max-deleted-entry-id 103-0 entries-added 5 recorded-first-entry-id 100-0 " +
			idmpZero + " entries [[100-0 [a 1]] [101-0 [b 1]]] groups [" +
			"[name g1 last-delivered-id 102-0 entries-read 3 lag nil pel-count 2 pending [[100-0 Alice 1700000000000 1] [101-0 Bob 1700000000000 1]] consumers [" +
			"[name Alice seen-time 1700000000000 active-time 1700000000000 pel-count 1 pending [[100-0 1700000000000 1]]] " +
			"[name Bob seen-time 1700000000010 active-time 1700000000000 pel-count 1 pending [[101-0 1700000000000 1]]]] nacked-count 0] " +
			"[name g2 last-delivered-id 103-0 entries-read 4 lag nil pel-count 4 pending [[100-0 Charlie 1700000000010 1] [101-0 Charlie 1700000000010 1]] consumers [" +
			"[name Charlie seen-time 1700000000010 active-time 1700000000010 pel-count 4 pending [[100-0 1700000000010 1] [101-0 1700000000010 1]]]] nacked-count 0]]]"},
		// A negative COUNT is the default, 10.
		{"XINFO STREAM x FULL COUNT -5", "[length 4 radix-tree-keys 1 radix-tree-nodes ? last-generated-id 104-0 max-deleted-entry-id 103-0 entries-added 5 recorded-first-entry-id 100-0 " +
			idmpZero + " entries [[100-0 [a 1]] [101-0 [b 1]] [102-0 [c 1]] [104-0 [f 1]]] groups [" +
			"[name g1 last-delivered-id 102-0 entries-read 3 lag nil pel-count 2 pending [[100-0 Alice 1700000000000 1] [101-0 Bob 1700000000000 1]] consumers [" +
			"[name Alice seen-time 1700000000000 active-time 1700000000000 pel-count 1 pending [[100-0 1700000000000 1]]] " +
			"[name Bob seen-time 1700000000010 active-time 1700000000000 pel-count 1 pending [[101-0 1700000000000 1]]]] nacked-count 0] " +
			"[name g2 last-delivered-id 103-0 entries-read 4 lag nil pel-count 4 pending [[100-0 Charlie 1700000000010 1] [101-0 Charlie 1700000000010 1] " +
			"[102-0 Charlie 1700000000010 1] [103-0 Charlie 1700000000010 1]] consumers [" +
			"[name Charlie seen-time 1700000000010 active-time 1700000000010 pel-count 4 pending [[100-0 1700000000010 1] [101-0 1700000000010 1] " +
			"[102-0 1700000000010 1] [103-0 1700000000010 1]]]] nacked-count 0]]]"},
		{"@sleep 100", ""},
		{"XINFO CONSUMERS x g1", "[[name Alice pending 1 idle 110 inactive 110] [name Bob pending 1 idle 100 inactive 110]]"},
		{"XGROUP CREATECONSUMER x g1 Dan", "1"},
		{"XINFO CONSUMERS x g1", "[[name Alice pending 1 idle 110 inactive 110] [name Bob pending 1 idle 100 inactive 110] [name Dan pending 0 idle 0 inactive -1]]"},
		{"XINFO CONSUMERS x nog", "!NOGROUP No such consumer group 'nog' for key name 'x'"},
		{"XINFO GROUPS x", "[[name g1 consumers 3 pending 2 last-delivered-id 102-0 entries-read 3 lag nil] " +
			"[name g2 consumers 1 pending 4 last-delivered-id 103-0 entries-read 4 lag nil]]"},
		{"XINFO STREAM x FULL COUNT x", "!ERR value is not an integer or out of range"},
		{"XINFO STREAM x COUNT", "!ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP."},
		{"XINFO stream x FULL 1 2", "!ERR unknown subcommand or wrong number of arguments for 'stream'. Try XINFO HELP."},
		{"XINFO STREAM x FULL COUNT", "!ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP."},
	}},
	{name: "XINFO STREAM reports the IDMP configuration and counters", spec: "§4 XINFO (8.6)", steps: []groupStep{
		{"XADD s IDMP p1 i1 * f v", "1700000000000-0"},
		{"XADD s IDMP p1 i1 * f v", "1700000000000-0"},
		{"XADD s IDMP p2 i1 * f v", "1700000000000-1"},
		{"XINFO STREAM s", "[length 2 radix-tree-keys 1 radix-tree-nodes ? last-generated-id 1700000000000-1 max-deleted-entry-id 0-0 entries-added 2 recorded-first-entry-id 1700000000000-0 " +
			"idmp-duration 100 idmp-maxsize 100 pids-tracked 2 iids-tracked 2 iids-added 2 iids-duplicates 1 " +
			"groups 0 first-entry [1700000000000-0 [f v]] last-entry [1700000000000-1 [f v]]]"},
		{"XCFGSET s IDMP-DURATION 5 IDMP-MAXSIZE 7", "OK"},
		{"XINFO STREAM s", "[length 2 radix-tree-keys 1 radix-tree-nodes ? last-generated-id 1700000000000-1 max-deleted-entry-id 0-0 entries-added 2 recorded-first-entry-id 1700000000000-0 " +
			"idmp-duration 5 idmp-maxsize 7 pids-tracked 0 iids-tracked 0 iids-added 2 iids-duplicates 1 " +
			"groups 0 first-entry [1700000000000-0 [f v]] last-entry [1700000000000-1 [f v]]]"},
	}},
}

func TestStreamInfoScenarios(t *testing.T) { runGroupScenarios(t, infoScenarios) }

// TestStreamGroupRESP3: the RESP3 bytes of the group and XINFO replies:
// maps where Redis writes maps, nulls as "_", and the XPENDING summary's
// per-consumer count as a bulk string. XINFO GROUPS, XPENDING and
// XAUTOCLAIM are redis-server 7.0.15's bytes; XINFO CONSUMERS adds 7.2's
// "inactive".
func TestStreamGroupRESP3(t *testing.T) {
	h := streamHarness(t)
	h.w.Proto = 3
	h.now = groupEpoch
	for _, tc := range []struct {
		cmd, want string
	}{
		{"XADD x 1-0 a 1", "$3\r\n1-0\r\n"},
		{"XGROUP CREATE x g 0", "+OK\r\n"},
		{"XINFO GROUPS x", "*1\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n" +
			"$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n_\r\n$3\r\nlag\r\n:1\r\n"},
		{"XPENDING x g", "*4\r\n:0\r\n_\r\n_\r\n_\r\n"},
		{"XREADGROUP GROUP g Alice STREAMS x >", "%1\r\n$1\r\nx\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
		{"XINFO GROUPS x", "*1\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n" +
			"$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:0\r\n"},
		{"XPENDING x g", "*4\r\n:1\r\n$3\r\n1-0\r\n$3\r\n1-0\r\n*1\r\n*2\r\n$5\r\nAlice\r\n$1\r\n1\r\n"},
		{"XINFO CONSUMERS x g", "*1\r\n%4\r\n$4\r\nname\r\n$5\r\nAlice\r\n$7\r\npending\r\n:1\r\n$4\r\nidle\r\n:0\r\n$8\r\ninactive\r\n:0\r\n"},
		{"XAUTOCLAIM x g Bob 0 0", "*3\r\n$3\r\n0-0\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*0\r\n"},
	} {
		if got := h.do(splitCmd(tc.cmd)...); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.cmd, got, tc.want)
		}
	}
	// XINFO STREAM's maps: 16 fields, 15 with FULL; groups of 8 fields and
	// consumers of 5 (7.2's active-time, 8.8's nacked-count).
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{"XINFO STREAM x", []string{"%16\r\n$6\r\nlength\r\n:1\r\n", "$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n"}},
		{"XINFO STREAM x FULL", []string{"%15\r\n$6\r\nlength\r\n:1\r\n", "$6\r\ngroups\r\n*1\r\n%8\r\n$4\r\nname\r\n$1\r\ng\r\n",
			"$9\r\nconsumers\r\n*2\r\n%5\r\n$4\r\nname\r\n$5\r\nAlice\r\n", "$12\r\nnacked-count\r\n:0\r\n"}},
	} {
		got := h.do(splitCmd(tc.cmd)...)
		if !strings.HasPrefix(got, tc.want[0]) {
			t.Errorf("%s: got %q, want the prefix %q", tc.cmd, got, tc.want[0])
		}
		for _, w := range tc.want[1:] {
			if !strings.Contains(got, w) {
				t.Errorf("%s: got %q, want it to contain %q", tc.cmd, got, w)
			}
		}
	}
}
