package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/runnel-io/runnel/internal/app/apptest"
	"github.com/runnel-io/runnel/internal/redistest"
)

// dlqServers are the servers `runnel dlq` is tested against: in-process
// Runnel and redis-server (skipped when missing, failed instead under
// RUNNEL_REQUIRE_REDIS=1).
var dlqServers = []struct {
	name  string
	start func(testing.TB) string
}{
	{"runnel", func(tb testing.TB) string { _, addr := apptest.Start(tb); return addr }},
	{"redis-server", func(tb testing.TB) string { return redistest.StartRedis(tb).Addr() }},
}

// dlqRun runs `runnel dlq args...` in process.
func dlqRun(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(append([]string{"dlq"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// addDLQEntry appends a dead letter in the streams library's format to
// dlq and returns its ID.
func addDLQEntry(tb testing.TB, rdb *redis.Client, dlq, stream, msgID, group, errText string, fields ...string) string {
	tb.Helper()
	args := []any{"XADD", dlq, "*", "dlq-stream", stream, "dlq-id", msgID, "dlq-group", group,
		"dlq-consumer", "worker-h-1", "dlq-deliveries", "5", "dlq-error", errText}
	for _, f := range fields {
		args = append(args, f)
	}
	id, err := rdb.Do(context.Background(), args...).Text()
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

func TestDLQUsage(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string // in stdout for 0, in stderr otherwise
	}{
		{[]string{"-h"}, 0, "Usage: runnel dlq"},
		{[]string{"help"}, 0, "Usage: runnel dlq"},
		{[]string{"list", "-h"}, 0, "Usage: runnel dlq"},
		{nil, 2, "no subcommand"},
		{[]string{"--addr"}, 2, "flag needs an argument"},
		{[]string{"peek"}, 2, `unknown subcommand "peek"`},
		{[]string{"list", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"list", "extra"}, 2, "list takes no arguments"},
		{[]string{"list", "--count", "0"}, 2, "--count must be at least 1"},
		{[]string{"show"}, 2, "show takes one dead-letter ID"},
		{[]string{"show", "1-1", "2-2"}, 2, "show takes one dead-letter ID"},
		{[]string{"redrive"}, 2, "needs dead-letter IDs or --all"},
		{[]string{"redrive", "--all", "1-1"}, 2, "IDs or --all, not both"},
		{[]string{"redrive", "--group", "g", "1-1"}, 2, "go with --all"},
		{[]string{"redrive", "--all", "--count", "-1"}, 2, "must not be negative"},
		{[]string{"--addr", "redis://[bad", "list"}, 2, "--addr"},
	}
	for _, c := range cases {
		code, out, errb := dlqRun(c.args...)
		where := errb
		if c.code == 0 {
			where = out
		}
		if code != c.code || !strings.Contains(where, c.want) {
			t.Errorf("dlq %q: exit %d, stdout %q, stderr %q; want exit %d and %q", c.args, code, out, errb, c.code, c.want)
		}
	}
	var out, errb bytes.Buffer
	if run([]string{"--help"}, &out, &errb); !strings.Contains(out.String(), "runnel dlq list|show|redrive") {
		t.Errorf("runnel --help does not mention dlq:\n%s", out.String())
	}
}

func TestDLQNoServer(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
	if code, _, errb := dlqRun("--addr", addr, "list"); code != 1 || !strings.Contains(errb, "runnel dlq:") {
		t.Errorf("no server: exit %d, stderr %q; want 1", code, errb)
	}
}

// idRE is a stream entry ID.
var idRE = regexp.MustCompile(`^\d+-\d+$`)

func TestDLQ(t *testing.T) {
	ctx := context.Background()
	for _, srv := range dlqServers {
		t.Run(srv.name, func(t *testing.T) {
			addr := srv.start(t)
			rdb := redis.NewClient(&redis.Options{Addr: addr})
			t.Cleanup(func() { rdb.Close() })
			const dlq = "dead-letter-stream"
			fields := []string{"order_id", "o-1", "note", "two\twords", "order_id", "o-2"}
			id1 := addDLQEntry(t, rdb, dlq, "orders", "1700000000000-0", "billing", "card declined\nfor good", fields...)
			id2 := addDLQEntry(t, rdb, dlq, "payments", "1700000000001-0", "ledger", strings.Repeat("x", 100), "p", "1")
			foreign, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: dlq, Values: []string{"k", "v"}}).Result()
			if err != nil {
				t.Fatal(err)
			}

			// list: a table, one row per dead letter; values that would
			// break it quoted, long ones clipped.
			code, out, errb := dlqRun("--addr", addr, "list")
			if code != 0 {
				t.Fatalf("list: exit %d: %s", code, errb)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID ") {
				t.Fatalf("list:\n%s", out)
			}
			for i, want := range [][]string{
				{id1, "orders", "1700000000000-0", "billing", "5", `"card declined\nfor good"`, `order_id=o-1 note="two\twords" order_id=o-2`},
				{id2, "payments", "ledger", strings.Repeat("x", 37) + "..."},
				{foreign, "-", "k=v"},
			} {
				for _, w := range want {
					if !strings.Contains(lines[i+1], w) {
						t.Errorf("list row %d %q lacks %q", i, lines[i+1], w)
					}
				}
			}

			// Filters, a count with a pointer to the next page, flags
			// after the subcommand.
			if code, out, _ := dlqRun("list", "--addr", addr, "--source", "payments"); code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, id2) {
				t.Errorf("list --source payments: exit %d\n%s", code, out)
			}
			if code, out, _ := dlqRun("list", "--addr", addr, "--count", "1"); code != 0 || !strings.Contains(out, id1) || !strings.Contains(out, "more: list again with --start '("+id1+"'") {
				t.Errorf("list --count 1: exit %d\n%s", code, out)
			}
			if code, out, _ := dlqRun("list", "--addr", addr, "--start", "("+id2); code != 0 || !strings.Contains(out, foreign) || strings.Contains(out, id2) || strings.Contains(out, "more:") {
				t.Errorf("list --start (%s: exit %d\n%s", id2, code, out)
			}
			if code, out, _ := dlqRun("--addr", addr, "--stream", "empty-dlq", "list"); code != 0 || !strings.Contains(out, "no dead letters in empty-dlq") {
				t.Errorf("list of an empty stream: exit %d\n%s", code, out)
			}

			// list --json: fields as ordered pairs.
			code, out, errb = dlqRun("--addr", addr, "list", "--json", "--group", "billing")
			var listed []struct {
				ID, Stream, Group, Error string
				MessageID                string `json:"message_id"`
				Deliveries               int
				Fields                   [][2]string
			}
			if code != 0 || json.Unmarshal([]byte(out), &listed) != nil || len(listed) != 1 {
				t.Fatalf("list --json: exit %d %s\n%s", code, errb, out)
			}
			l := listed[0]
			if l.ID != id1 || l.Stream != "orders" || l.MessageID != "1700000000000-0" || l.Deliveries != 5 || l.Error != "card declined\nfor good" ||
				!slices.Equal(l.Fields, [][2]string{{"order_id", "o-1"}, {"note", "two\twords"}, {"order_id", "o-2"}}) {
				t.Errorf("list --json: %+v", l)
			}

			// show: every field on its own line.
			code, out, errb = dlqRun("--addr", addr, "show", id1)
			for _, w := range []string{"id:         " + id1, "source:     orders", "group:      billing", "consumer:   worker-h-1",
				"deliveries: 5", `error:      "card declined\nfor good"`, "fields:     3", "\n  order_id: o-1\n  note: \"two\\twords\"\n  order_id: o-2\n"} {
				if code != 0 || !strings.Contains(out, w) {
					t.Errorf("show %s: exit %d %s, no %q in\n%s", id1, code, errb, w, out)
				}
			}
			if code, out, _ := dlqRun("--addr", addr, "show", foreign, "--json"); code != 0 || !strings.Contains(out, `"fields": [`) || strings.Contains(out, `"stream"`) {
				t.Errorf("show --json %s: exit %d\n%s", foreign, code, out)
			}
			if code, out, _ := dlqRun("--addr", addr, "show", foreign); code != 0 || !strings.Contains(out, "cannot be redriven") {
				t.Errorf("show %s: exit %d\n%s", foreign, code, out)
			}
			if code, _, errb := dlqRun("--addr", addr, "show", "1-1"); code != 1 || !strings.Contains(errb, "no such dead letter") {
				t.Errorf("show 1-1: exit %d, stderr %q", code, errb)
			}

			// redrive one: back in its stream with its fields in order.
			code, out, errb = dlqRun("--addr", addr, "redrive", id1)
			m := regexp.MustCompile(`^redrove (\S+) -> orders (\S+)\n1 redriven\n$`).FindStringSubmatch(out)
			if code != 0 || m == nil || m[1] != id1 || !idRE.MatchString(m[2]) {
				t.Fatalf("redrive %s: exit %d %s\n%s", id1, code, errb, out)
			}
			raw, err := rdb.Do(ctx, "XRANGE", "orders", "-", "+").Slice()
			if err != nil || len(raw) != 1 {
				t.Fatalf("orders: %v, %v", raw, err)
			}
			e := raw[0].([]any)
			if got := fmt.Sprint(e[1]); e[0] != m[2] || got != fmt.Sprint(toAny(fields)) {
				t.Errorf("orders entry %v %s; want %s %v", e[0], got, m[2], fields)
			}

			// Again: gone. A partial batch reports what it did.
			if code, out, errb := dlqRun("--addr", addr, "redrive", id1); code != 1 || !strings.Contains(errb, "no such dead letter") || !strings.Contains(out, "0 redriven") {
				t.Errorf("redrive %s again: exit %d, %q, %q", id1, code, out, errb)
			}
			// --all: the foreign entry stays, reported.
			code, out, errb = dlqRun("--addr", addr, "redrive", "--all")
			if code != 1 || !strings.Contains(out, "redrove "+id2+" -> payments ") || !strings.Contains(out, "1 redriven") || !strings.Contains(errb, foreign) {
				t.Errorf("redrive --all: exit %d\n%s%s", code, out, errb)
			}
			if ids, _ := rdb.XRange(ctx, dlq, "-", "+").Result(); len(ids) != 1 || ids[0].ID != foreign {
				t.Errorf("dlq after redrive --all: %v", ids)
			}
			if n, _ := rdb.XLen(ctx, "payments").Result(); n != 1 {
				t.Errorf("payments has %d entries", n)
			}
		})
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func TestPrintableClip(t *testing.T) {
	cases := []struct{ in, printable string }{
		{"plain words", "plain words"},
		{"", `""`},
		{"tab\there", `"tab\there"`},
		{"line\n", `"line\n"`},
		{"\xff", `"\xff"`},
		{"héllo", "héllo"},
	}
	for _, c := range cases {
		if got := printable(c.in); got != c.printable {
			t.Errorf("printable(%q) = %q, want %q", c.in, got, c.printable)
		}
	}
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{{"short", 10, "short"}, {"exactly10!", 10, "exactly10!"}, {"ééééééééééé", 10, "ééééééé..."}} {
		if got := clip(c.in, c.n); got != c.want {
			t.Errorf("clip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
