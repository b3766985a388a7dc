package command

// Table tests for the stream behaviour newer than Redis 7.0, which the
// differential tests cannot check against Debian's redis-server 7.0. Each
// scenario cites the section of docs/redis-streams-spec.md (the shared
// reference) it implements.

import (
	"strconv"
	"strings"
	"testing"

	"github.com/runnel-io/runnel/internal/redistest"
)

// step is one command and its expected reply in compact form (see
// compactReply); a want of "*" accepts any reply.
type step struct {
	cmd  string
	want string
}

// scenario runs its steps in order on a fresh keyspace.
type scenario struct {
	name  string
	spec  string // the spec section implemented
	now   int64  // fixed command time, unix ms (0: a fixed default)
	steps []step
}

func streamHarness(tb testing.TB) *harness {
	return newHarness(tb, registerKeyspace, registerStrings, registerStreams, registerStreamReads,
		registerStreamGroups, registerStreamInfo)
}

func runScenarios(t *testing.T, proto int, scenarios []scenario) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			h := streamHarness(t)
			h.w.Proto = proto
			h.now = sc.now
			if h.now == 0 {
				h.now = 1_700_000_000_000
			}
			for i, st := range sc.steps {
				if strings.HasPrefix(st.cmd, "@sleep ") {
					ms, _ := strconv.ParseInt(strings.TrimPrefix(st.cmd, "@sleep "), 10, 64)
					h.now += ms
					continue
				}
				cmd, path := st.cmd, ""
				if strings.HasPrefix(cmd, "@path ") {
					// "@path a.0.b CMD ...": the part of the reply at that
					// path (field names of XINFO-style replies, array
					// indexes), the same in RESP2 and RESP3.
					path, cmd, _ = strings.Cut(strings.TrimPrefix(cmd, "@path "), " ")
				}
				got := compactReply(t, h.do(splitCmd(cmd)...), path)
				if st.want != "*" && got != st.want {
					t.Fatalf("%s (spec %s), step %d: %s\n got: %s\nwant: %s", sc.name, sc.spec, i, st.cmd, got, st.want)
				}
			}
		})
	}
}

// splitCmd splits a command line on spaces; ” is an empty argument.
func splitCmd(s string) []string {
	f := strings.Fields(s)
	for i, a := range f {
		if a == "''" {
			f[i] = ""
		}
	}
	return f
}

// compactReply renders a raw reply on one line: integers and strings as
// they are (” when empty), nil for nulls, !TEXT for errors, [a b] for
// arrays and sets, [[k v] ...] for maps.
func compactReply(tb testing.TB, raw, path string) string {
	tb.Helper()
	v, err := redistest.Parse([]byte(raw))
	if err != nil {
		tb.Fatalf("unparsable reply %q: %v", raw, err)
	}
	for _, p := range strings.Split(path, ".") {
		if p == "" {
			continue
		}
		if i, err := strconv.Atoi(p); err == nil && i < len(v.Elems) {
			v = v.Elems[i]
			continue
		}
		f, ok := redistest.Field(v, p)
		if !ok {
			return "no " + path
		}
		v = f
	}
	var b strings.Builder
	writeCompact(&b, v)
	return b.String()
}

func writeCompact(b *strings.Builder, v redistest.Value) {
	switch {
	case v.IsNull():
		b.WriteString("nil")
	case v.IsError():
		b.WriteString("!" + v.Str)
	case v.Kind == redistest.KindInt:
		b.WriteString(strconv.FormatInt(v.Int, 10))
	case v.Kind == redistest.KindMap:
		// As RESP2's [[k v] ...] (XREAD's shape), so that one expectation
		// serves both protocols.
		b.WriteByte('[')
		for i := 0; i+1 < len(v.Elems); i += 2 {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteByte('[')
			writeCompact(b, v.Elems[i])
			b.WriteByte(' ')
			writeCompact(b, v.Elems[i+1])
			b.WriteByte(']')
		}
		b.WriteByte(']')
	case v.IsAggregate():
		b.WriteByte('[')
		for i, e := range v.Elems {
			if i > 0 {
				b.WriteByte(' ')
			}
			writeCompact(b, e)
		}
		b.WriteByte(']')
	case v.Str == "":
		b.WriteString("''")
	default:
		b.WriteString(v.Str)
	}
}

var streamSpecScenarios = []scenario{
	{name: "XADD * after the last sequence rolls to the next ms", spec: "§2.2", steps: []step{
		{"XADD s 2577343934890-18446744073709551615 a b", "2577343934890-18446744073709551615"},
		{"XADD s * c d", "2577343934891-0"},
	}},
	{name: "XADD 0-* on an empty stream is 0-1", spec: "§2.2", steps: []step{
		{"XADD s 0-* a b", "0-1"},
		{"XADD s 0-* a b", "0-2"},
		{"XADD s 5-* a b", "5-0"},
		{"XADD s 4-* a b", "!ERR The ID specified in XADD is equal or smaller than the target stream top item"},
	}},
	{name: "XADD <ms>-* with the last sequence is too small (7.2 #11424)", spec: "§2.2", steps: []step{
		{"XADD s 5-18446744073709551615 a b", "5-18446744073709551615"},
		{"XADD s 5-* a b", "!ERR The ID specified in XADD is equal or smaller than the target stream top item"},
	}},
	{name: "XREAD + returns the last entry, ignoring COUNT", spec: "§2.2, §4 XREAD (7.4)", steps: []step{
		{"XADD s 1-0 a 1", "1-0"},
		{"XADD s 2-0 b 2", "2-0"},
		{"XREAD COUNT 5 STREAMS s +", "[[s [[2-0 [b 2]]]]]"},
		{"XDEL s 2-0", "1"},
		{"XREAD STREAMS s +", "[[s [[1-0 [a 1]]]]]"},
		{"XREAD STREAMS missing +", "nil"},
		{"XREAD STREAMS s missing + +", "[[s [[1-0 [a 1]]]]]"},
		{"XREADGROUP GROUP g c STREAMS s +", "!NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option"},
		{"XGROUP CREATE s g 0", "OK"},
		{"XREADGROUP GROUP g c STREAMS s +", "!ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set."},
	}},
	{name: "Unbalanced stream lists use the 7.4 texts", spec: "§3", steps: []step{
		{"XREAD STREAMS a b c", "!ERR Unbalanced 'xread' list of streams: for each stream key an ID, '+', or '$' must be specified."},
		{"XREADGROUP GROUP g c STREAMS a b c", "!ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified."},
	}},
	{name: "XADD ACKED keeps entries some group still references", spec: "§4 XADD (8.2)", steps: []step{
		{"XADD s 1-0 f v", "1-0"}, {"XADD s 2-0 f v", "2-0"}, {"XADD s 3-0 f v", "3-0"},
		{"XADD s 4-0 f v", "4-0"}, {"XADD s 5-0 f v", "5-0"},
		{"XGROUP CREATE s g 0", "OK"},
		{"XADD s MAXLEN = 1 ACKED 6-0 f v", "6-0"},
		{"XLEN s", "6"},
		{"XREADGROUP GROUP g c COUNT 2 STREAMS s >", "[[s [[1-0 [f v]] [2-0 [f v]]]]]"},
		{"XADD s MAXLEN = 1 ACKED 7-0 f v", "7-0"},
		{"XLEN s", "7"},
		{"XACK s g 1-0", "1"},
		{"XTRIM s MAXLEN = 1 ACKED", "1"},
		{"XRANGE s - + COUNT 1", "[[2-0 [f v]]]"},
	}},
	{name: "XTRIM DELREF removes PEL references, KEEPREF leaves them", spec: "§4 XADD/XTRIM (8.2), release notes #15581", steps: []step{
		{"XADD s 1-0 f v", "1-0"}, {"XADD s 2-0 f v", "2-0"}, {"XADD s 3-0 f v", "3-0"},
		{"XGROUP CREATE s g 0", "OK"},
		{"XREADGROUP GROUP g c STREAMS s >", "*"},
		{"XTRIM s MAXLEN = 2 KEEPREF", "1"},
		{"XPENDING s g", "[3 1-0 3-0 [[c 3]]]"},
		// DELREF drops the references of every entry the walk passes,
		// tombstones included (8.2.x #15581): 1-0's dangling one goes too.
		{"XTRIM s MAXLEN = 1 DELREF", "1"},
		{"XPENDING s g", "[1 3-0 3-0 [[c 1]]]"},
		{"XTRIM s MAXLEN 0 KEEPREF DELREF", "!ERR syntax error"},
	}},
	{name: "XDELEX per-ID results", spec: "§4 XDELEX (8.2)", steps: []step{
		{"XDELEX missing IDS 2 1-0 2-0", "[-1 -1]"},
		{"XADD s 1-0 f v", "1-0"}, {"XADD s 2-0 f v", "2-0"}, {"XADD s 3-0 f v", "3-0"},
		{"XDELEX s IDS 2 1-0 9-0", "[1 -1]"},
		{"XGROUP CREATE s g 0", "OK"},
		{"XDELEX s ACKED IDS 1 2-0", "[2]"},
		{"XREADGROUP GROUP g c COUNT 1 STREAMS s >", "[[s [[2-0 [f v]]]]]"},
		{"XDELEX s ACKED IDS 1 2-0", "[2]"},
		{"XACK s g 2-0", "1"},
		{"XDELEX s ACKED IDS 1 2-0", "[1]"},
		{"XDELEX s IDS 0 3-0", "!ERR Number of IDs must be a positive integer"},
		{"XDELEX s IDS 2 3-0", "!ERR The `numids` parameter must match the number of arguments"},
		{"XDELEX s IDS 1 3-0 4-0", "!ERR syntax error"},
		{"XDELEX s KEEPREF DELREF IDS 1 3-0", "!ERR syntax error"},
		{"XDELEX s IDS 1 bad", "!ERR Invalid stream ID specified as stream command argument"},
	}},
	{name: "XACKDEL acknowledges then deletes", spec: "§4 XACKDEL (8.2)", steps: []step{
		{"XACKDEL missing g IDS 1 1-0", "[-1]"},
		{"XADD s 1-0 f v", "1-0"}, {"XADD s 2-0 f v", "2-0"},
		{"XACKDEL s nogroup IDS 2 1-0 2-0", "[-1 -1]"},
		{"XGROUP CREATE s g1 0", "OK"},
		{"XGROUP CREATE s g2 0", "OK"},
		{"XREADGROUP GROUP g1 c STREAMS s >", "*"},
		{"XREADGROUP GROUP g2 c STREAMS s >", "*"},
		{"XACKDEL s g1 ACKED IDS 2 1-0 2-0", "[2 2]"},
		{"XACKDEL s g2 KEEPREF IDS 2 1-0 2-0", "[1 1]"},
		{"XLEN s", "0"},
		{"XACKDEL s g2 KEEPREF IDS 2 1-0 2-0", "[-1 -1]"},
	}},
	{name: "XACKDEL KEEPREF acks entries already gone from the stream", spec: "§4 XACKDEL (8.2)", steps: []step{
		{"XADD s 1-0 f v", "1-0"}, {"XADD s 2-0 f v", "2-0"},
		{"XGROUP CREATE s g1 0", "OK"},
		{"XGROUP CREATE s g2 0", "OK"},
		{"XREADGROUP GROUP g1 c STREAMS s >", "*"},
		{"XREADGROUP GROUP g2 c STREAMS s >", "*"},
		{"XACKDEL s g1 KEEPREF IDS 2 1-0 2-0", "[1 1]"},
		{"XACKDEL s g2 KEEPREF IDS 2 1-0 2-0", "[1 1]"},
		{"XPENDING s g2", "[0 nil nil nil]"},
	}},
	{name: "XADD IDMP returns the first entry's ID for a duplicate", spec: "§4 XADD IDMP (8.6)", steps: []step{
		{"XADD s IDMP p1 i1 * f v", "1700000000000-0"},
		{"XADD s IDMP p1 i1 * f other", "1700000000000-0"},
		{"XLEN s", "1"},
		{"XADD s IDMP p2 i1 * f v", "1700000000000-1"},
		{"XADD s IDMPAUTO p1 * a 1 b 2", "1700000000000-2"},
		{"XADD s IDMPAUTO p1 * b 2 a 1", "1700000000000-2"},
		{"XADD s IDMPAUTO p1 * b 2 a 2", "1700000000000-3"},
		{"XADD s IDMP p1 i1 5-0 f v", "!ERR IDMP/IDMPAUTO can be used only with auto-generated IDs"},
		{"XADD s IDMP p1 i1 IDMPAUTO p1 * f v", "!ERR IDMP/IDMPAUTO specified multiple times"},
		{"XADD s IDMP '' i1 * f v", "!ERR IDMP requires a non-empty producer ID"},
		{"XADD s IDMP p1 '' * f v", "!ERR IDMP requires a non-empty idempotent ID"},
		{"XADD s IDMPAUTO '' * f v", "!ERR IDMPAUTO requires a non-empty producer ID"},
		{"XADD nokey NOMKSTREAM IDMP p i * f v", "nil"},
		{"EXISTS nokey", "0"},
	}},
	{name: "IDMP entries expire after idmp-duration", spec: "§4 XADD IDMP (8.6)", steps: []step{
		{"XADD s IDMP p i * f v", "1700000000000-0"},
		{"XCFGSET s IDMP-DURATION 1", "OK"},
		{"XADD s IDMP p i * f v", "1700000000000-1"},
		{"@sleep 2500", ""},
		{"XADD s IDMP p i * f v", "1700000002500-0"},
	}},
	{name: "XIDMPRECORD restores a mapping", spec: "§4 XIDMPRECORD (8.6.2)", steps: []step{
		{"XIDMPRECORD missing p i 1-0", "!ERR no such key"},
		{"XADD s 1-0 f v", "1-0"}, {"XADD s 2-0 f v", "2-0"},
		{"XIDMPRECORD s p i 1-0", "OK"},
		{"XADD s IDMP p i * f v", "1-0"},
		{"XIDMPRECORD s p i 1-0", "OK"},
		{"XIDMPRECORD s p i 2-0", "!ERR The IDMP record already maps to a different stream ID"},
		{"XIDMPRECORD s p j 9-0", "!ERR The stream entry does not exist"},
		{"XDEL s 2-0", "1"},
		{"XIDMPRECORD s p j 2-0", "!ERR The stream entry does not exist"},
		{"XIDMPRECORD s '' j 1-0", "!ERR IDMP requires a non-empty producer ID"},
		{"XIDMPRECORD s p '' 1-0", "!ERR IDMP requires a non-empty idempotent ID"},
		{"XIDMPRECORD s p j bad", "!ERR Invalid stream ID specified as stream command argument"},
		{"SET str x", "OK"},
		{"XIDMPRECORD str p j 1-0", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
	}},
	{name: "XCFGSET checks and history reset", spec: "§4 XCFGSET (8.6)", steps: []step{
		{"XCFGSET missing IDMP-DURATION 5", "!ERR no such key"},
		{"XADD s IDMP p i * f v", "1700000000000-0"},
		{"XCFGSET s", "!ERR At least one parameter must be specified"},
		{"XCFGSET s IDMP-DURATION", "!ERR syntax error"},
		{"XCFGSET s BOGUS 1", "!ERR syntax error"},
		{"XCFGSET s IDMP-DURATION 000000000", "!ERR value is not an integer or out of range"},
		{"XCFGSET s IDMP-DURATION 0", "!ERR IDMP-DURATION must be between 1 and 86400 seconds"},
		{"XCFGSET s IDMP-MAXSIZE 10001", "!ERR IDMP-MAXSIZE must be between 1 and 10000 entries"},
		{"XCFGSET s IDMP-DURATION 100 IDMP-MAXSIZE 100", "OK"},
		{"XADD s IDMP p i * f v", "1700000000000-0"},
		{"XCFGSET s IDMP-MAXSIZE 50", "OK"},
		{"XADD s IDMP p i * f v", "1700000000000-1"},
	}},
	{name: "XREADGROUP CLAIM claims idle entries before new ones", spec: "§4 XREADGROUP CLAIM (8.4)", steps: []step{
		{"XADD s 1-0 f 1", "1-0"}, {"XADD s 2-0 f 2", "2-0"},
		{"XGROUP CREATE s g 0", "OK"},
		{"XREADGROUP GROUP g c1 STREAMS s >", "[[s [[1-0 [f 1]] [2-0 [f 2]]]]]"},
		{"@sleep 100", ""},
		{"XADD s 3-0 f 3", "3-0"},
		{"XREADGROUP GROUP g c2 CLAIM 50 STREAMS s >", "[[s [[1-0 [f 1] 100 1] [2-0 [f 2] 100 1] [3-0 [f 3] 0 0]]]]"},
		{"XPENDING s g - + 10", "[[1-0 c2 0 2] [2-0 c2 0 2] [3-0 c2 0 1]]"},
		{"XREADGROUP GROUP g c1 COUNT 1 CLAIM 0 STREAMS s >", "[[s [[1-0 [f 1] 0 2]]]]"},
		{"XREADGROUP GROUP g c1 CLAIM 1000 STREAMS s >", "nil"},
		{"XREADGROUP GROUP g c1 CLAIM -1 STREAMS s >", "!ERR min-idle-time must be a positive integer"},
		{"XREADGROUP GROUP g c1 CLAIM +10 STREAMS s >", "!ERR min-idle-time is not an integer"},
		{"XREAD CLAIM 10 STREAMS s 0", "!ERR The CLAIM option is only supported by XREADGROUP. You called XREAD instead."},
	}},
	{name: "XNACK releases entries to the NACK zone", spec: "§4 XNACK (8.8)", steps: []step{
		{"XADD s 1-0 f 1", "1-0"}, {"XADD s 2-0 f 2", "2-0"},
		{"XGROUP CREATE s g 0", "OK"},
		{"XREADGROUP GROUP g c1 STREAMS s >", "*"},
		{"XNACK s g FAIL IDS 1 2-0", "1"},
		{"XPENDING s g - + 10", "[[1-0 c1 0 1] [2-0 '' -1 1]]"},
		{"XREADGROUP GROUP g c1 STREAMS s 0", "[[s [[1-0 [f 1]]]]]"},
		// The history read delivered 1-0 again (count 2); SILENT takes one
		// delivery back.
		{"XNACK s g SILENT IDS 1 1-0", "1"},
		{"XPENDING s g - + 10", "[[1-0 '' -1 1] [2-0 '' -1 1]]"},
		// NACKed entries are claimed first, in NACK order.
		{"XREADGROUP GROUP g c2 COUNT 1 CLAIM 0 STREAMS s >", "*"},
		{"XPENDING s g - + 10", "[[1-0 '' -1 1] [2-0 c2 0 2]]"},
		{"XNACK s g FATAL IDS 1 2-0", "1"},
		{"XPENDING s g - + 10", "[[1-0 '' -1 1] [2-0 '' -1 9223372036854775807]]"},
		{"XNACK s g SILENT IDS 1 1-0", "1"},
		{"XNACK s g SILENT IDS 1 1-0", "1"},
		{"XPENDING s g - + 1", "[[1-0 '' -1 0]]"},
		{"XNACK s g BOGUS IDS 1 1-0", "!ERR mode must be SILENT, FAIL, or FATAL"},
		{"XNACK s g FAIL IDX 1 1-0", "!ERR Unrecognized XNACK option 'IDX'"},
		{"XNACK s g FAIL RETRYCOUNT 1 FORCE", "!ERR syntax error, expected IDS keyword"},
		{"XNACK s g FAIL IDS 2 1-0", "!ERR number of IDs doesn't match numids"},
		{"XNACK s g FAIL IDS 1 1-0 RETRYCOUNT -1", "!ERR Invalid RETRYCOUNT value, must be >= 0"},
		{"XNACK missing g FAIL IDS 1 1-0", "!NOGROUP No such key 'missing' or consumer group 'g'"},
	}},
	{name: "XREAD MAXCOUNT caps the whole reply", spec: "§4 XREAD MAXCOUNT (8.10)", steps: []step{
		{"XADD a 1-0 f 1", "1-0"}, {"XADD a 2-0 f 2", "2-0"},
		{"XADD b 1-0 f 1", "1-0"}, {"XADD b 2-0 f 2", "2-0"},
		{"XREAD MAXCOUNT 3 STREAMS a b 0 0", "[[a [[1-0 [f 1]] [2-0 [f 2]]]] [b [[1-0 [f 1]]]]]"},
		{"XREAD COUNT 1 MAXCOUNT 3 STREAMS a b 0 0", "[[a [[1-0 [f 1]]]] [b [[1-0 [f 1]]]]]"},
		{"XREAD MAXCOUNT 1 STREAMS a b 0 0", "[[a [[1-0 [f 1]]]]]"},
		{"XREAD COUNT 5 MAXCOUNT 3 STREAMS a 0", "!ERR MAXCOUNT must be greater than or equal to COUNT"},
		{"XREAD MAXCOUNT 0 STREAMS a 0", "!ERR MAXCOUNT must be a positive integer"},
		{"XREAD MAXSIZE 1 STREAMS a b 0 0", "[[a [[1-0 [f 1]]]]]"},
	}},
}

// Later behaviour visible in XINFO.
var streamInfoScenarios = []scenario{
	{name: "ENTRIESREAD is capped at entries-added (8.2 #14259)", spec: "§4 XGROUP", steps: []step{
		{"XADD s 1-0 f v", "1-0"}, {"XADD s 2-0 f v", "2-0"}, {"XADD s 3-0 f v", "3-0"},
		{"XGROUP CREATE s g 0 ENTRIESREAD 100", "OK"},
		{"@path 0.entries-read XINFO GROUPS s", "3"},
		{"XGROUP SETID s g 0 ENTRIESREAD 7", "OK"},
		{"@path 0.entries-read XINFO GROUPS s", "3"},
		{"XGROUP SETID s g 0", "OK"},
		{"@path 0.entries-read XINFO GROUPS s", "nil"},
		{"XGROUP CREATE s g2 0 ENTRIESREAD -2", "!ERR value for ENTRIESREAD must be positive or -1"},
	}},
	{name: "XINFO STREAM IDMP counters", spec: "§4 XINFO, §4 XADD IDMP (8.6)", steps: []step{
		{"XADD s IDMP p1 a * f v", "1700000000000-0"},
		{"XADD s IDMP p1 b * f v", "1700000000000-1"},
		{"XADD s IDMP p2 a * f v", "1700000000000-2"},
		{"XADD s IDMP p1 a * f v", "1700000000000-0"},
		{"@path idmp-duration XINFO STREAM s", "100"},
		{"@path idmp-maxsize XINFO STREAM s", "100"},
		{"@path pids-tracked XINFO STREAM s", "2"},
		{"@path iids-tracked XINFO STREAM s", "3"},
		{"@path iids-added XINFO STREAM s", "3"},
		{"@path iids-duplicates XINFO STREAM s", "1"},
		{"@path length XINFO STREAM s", "3"},
		{"XCFGSET s IDMP-MAXSIZE 1", "OK"},
		{"@path iids-tracked XINFO STREAM s", "0"},
		{"@path iids-added XINFO STREAM s", "3"},
		{"XADD s IDMP p1 a * f v", "1700000000000-3"},
		{"XADD s IDMP p1 b * f v", "1700000000000-4"},
		// maxsize 1: b evicted a.
		{"XADD s IDMP p1 a * f v", "1700000000000-5"},
		{"@path iids-tracked XINFO STREAM s", "1"},
	}},
	{name: "XINFO STREAM FULL counts NACKed entries", spec: "§4 XNACK, §4 XINFO (8.8)", steps: []step{
		{"XADD s 1-0 f v", "1-0"}, {"XADD s 2-0 f v", "2-0"},
		{"XGROUP CREATE s g 0", "OK"},
		{"XREADGROUP GROUP g c STREAMS s >", "*"},
		{"@path groups.0.nacked-count XINFO STREAM s FULL", "0"},
		{"XNACK s g FAIL IDS 2 1-0 2-0", "2"},
		{"@path groups.0.nacked-count XINFO STREAM s FULL", "2"},
		{"@path groups.0.pending.0 XINFO STREAM s FULL", "[1-0 '' 0 1]"},
		{"@path groups.0.consumers.0.pel-count XINFO STREAM s FULL", "0"},
		// DELCONSUMER leaves NACKed entries: they are not the consumer's.
		{"XGROUP DELCONSUMER s g c", "0"},
		{"@path groups.0.pel-count XINFO STREAM s FULL", "2"},
		{"XGROUP DESTROY s g", "1"},
	}},
	{name: "XINFO CONSUMERS inactive and idle (7.2)", spec: "§4 XINFO", steps: []step{
		{"XADD s 1-0 f v", "1-0"},
		{"XGROUP CREATE s g 0", "OK"},
		{"XGROUP CREATECONSUMER s g c", "1"},
		{"@sleep 100", ""},
		{"@path 0.inactive XINFO CONSUMERS s g", "-1"},
		{"@path 0.idle XINFO CONSUMERS s g", "100"},
		{"XREADGROUP GROUP g c STREAMS s >", "*"},
		{"@sleep 30", ""},
		{"@path 0.idle XINFO CONSUMERS s g", "30"},
		{"@path 0.inactive XINFO CONSUMERS s g", "30"},
		// A read that finds nothing is seen, not active.
		{"XREADGROUP GROUP g c STREAMS s >", "nil"},
		{"@sleep 20", ""},
		{"@path 0.idle XINFO CONSUMERS s g", "20"},
		{"@path 0.inactive XINFO CONSUMERS s g", "50"},
	}},
}

func TestStreamSpecScenarios(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			runScenarios(t, proto, streamSpecScenarios)
			runScenarios(t, proto, streamInfoScenarios)
		})
	}
}
