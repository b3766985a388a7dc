package difftest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/runnel-io/runnel/internal/command"
	"github.com/runnel-io/runnel/internal/redistest"
)

func TestConfigCommands(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		// Parameters whose defaults Runnel shares with Redis.
		for _, name := range []string{"maxclients", "timeout", "databases", "hz", "slowlog-max-len",
			"slowlog-log-slower-than", "proto-max-bulk-len", "client-query-buffer-limit",
			"notify-keyspace-events", "stream-node-max-entries", "stream-node-max-bytes",
			"client-output-buffer-limit", "maxmemory", "maxmemory-policy", "tcp-keepalive",
			"protected-mode", "requirepass", "MAXCLIENTS", "no-such-parameter"} {
			p.Do("CONFIG", "GET", name)
		}
		p.DoSorted("CONFIG", "GET", "slowlog*")
		p.DoSorted("CONFIG", "GET", "stream-node-*", "hz", "maxclients")
		p.DoSorted("CONFIG", "GET", "*max-*-entries")
		p.Do("CONFIG", "SET", "hz", "20", "slowlog-max-len", "10")
		p.DoSorted("CONFIG", "GET", "hz", "slowlog-max-len")
		p.Do("CONFIG", "SET", "notify-keyspace-events", "KEA")
		p.Do("CONFIG", "GET", "notify-keyspace-events")
		p.Do("CONFIG", "SET", "notify-keyspace-events", "")
		for _, bad := range [][]string{
			{"maxclients", "abc"}, {"hz", "-1"}, {"no-such", "1"}, {"databases", "3"},
			{"maxmemory-policy", "bogus"}, {"notify-keyspace-events", "Q"}, {"hz", "10", "hz", "11"},
			{"protected-mode", "maybe"}, {"timeout"}, {"hz", "10", "timeout"},
		} {
			p.Do(append([]string{"CONFIG", "SET"}, bad...)...)
		}
		p.Do("CONFIG", "GET")
		p.Do("CONFIG")
		p.Do("CONFIG", "NOSUCH")
		p.Do("CONFIG", "HELP")
		p.Do("CONFIG", "RESETSTAT")
		p.Do("CONFIG", "RESETSTAT", "extra")
		p.Do("CONFIG", "REWRITE")
	})
}

// info parses an INFO reply into section -> field -> value.
func info(tb testing.TB, c *redistest.Conn, section string) map[string]map[string]string {
	tb.Helper()
	v := c.DoValue("INFO", section)
	out := map[string]map[string]string{}
	cur := ""
	for _, line := range strings.Split(v.Str, "\r\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "# "):
			cur = strings.ToLower(line[2:])
			out[cur] = map[string]string{}
		default:
			k, val, ok := strings.Cut(line, ":")
			if !ok || cur == "" {
				tb.Fatalf("malformed INFO line %q", line)
			}
			out[cur][k] = val
		}
	}
	return out
}

// TestInfoFields checks that INFO has the sections and fields clients and
// tools parse, and that the counters that follow from the commands run
// (dirty, hits, misses, errors, commandstats calls) agree with Redis.
func TestInfoFields(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("INFO", "nosuchsection")
		before := [2]map[string]map[string]string{info(t, p.Runnel, "persistence"), info(t, p.Redis, "persistence")}
		p.Do("CONFIG", "RESETSTAT")
		p.Do("SET", "a", "1")
		p.Do("SET", "b", "2")
		p.Do("GET", "a")
		p.Do("GET", "missing")
		p.Do("SET", "a")
		p.Do("NOSUCH")
		p.Do("SELECT", "99")
		p.Do("SELECT", "3")
		p.Do("SET", "c", "1")
		p.Do("SELECT", "0")

		all := [2]map[string]map[string]string{info(t, p.Runnel, "everything"), info(t, p.Redis, "everything")}
		for _, sec := range []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "commandstats", "errorstats", "cluster", "keyspace"} {
			if all[0][sec] == nil {
				t.Errorf("INFO everything lacks section %s", sec)
			}
		}
		parsed := map[string][]string{
			"server":      {"redis_version", "redis_mode", "os", "arch_bits", "process_id", "run_id", "tcp_port", "uptime_in_seconds", "uptime_in_days", "hz", "executable", "config_file"},
			"clients":     {"connected_clients", "maxclients", "blocked_clients"},
			"memory":      {"used_memory", "used_memory_human", "used_memory_rss", "used_memory_peak", "maxmemory", "maxmemory_human", "maxmemory_policy", "mem_fragmentation_ratio"},
			"persistence": {"loading", "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time", "aof_enabled"},
			"stats":       {"total_connections_received", "total_commands_processed", "rejected_connections", "expired_keys", "evicted_keys", "keyspace_hits", "keyspace_misses", "pubsub_channels", "pubsub_patterns", "total_error_replies"},
			"replication": {"role", "connected_slaves", "master_replid", "master_repl_offset"},
			"cpu":         {"used_cpu_sys", "used_cpu_user"},
			"cluster":     {"cluster_enabled"},
		}
		for sec, fields := range parsed {
			for _, f := range fields {
				if _, ok := all[0][sec][f]; !ok {
					t.Errorf("INFO %s lacks %s", sec, f)
				}
			}
		}
		same := map[string][]string{
			"server":      {"redis_mode", "arch_bits"},
			"clients":     {"blocked_clients"},
			"replication": {"role", "connected_slaves"},
			"cluster":     {"cluster_enabled"},
			"stats":       {"keyspace_hits", "keyspace_misses", "total_error_replies", "expired_keys", "pubsub_channels", "pubsub_patterns"},
			"errorstats":  {"errorstat_ERR"},
			"keyspace":    {"db0", "db3"},
		}
		// Runnel reports the Redis release whose stream surface it
		// implements (redis-streams-spec.md §10), the oracle its own 7.0.
		if v := all[0]["server"]["redis_version"]; v != command.RedisVersion {
			t.Errorf("INFO redis_version %q, want %q", v, command.RedisVersion)
		}
		for sec, fields := range same {
			for _, f := range fields {
				if r, s := all[0][sec][f], all[1][sec][f]; r != s {
					t.Errorf("INFO %s %s: runnel %q, redis %q", sec, f, r, s)
				}
			}
		}
		for _, cmd := range []string{"cmdstat_set", "cmdstat_get", "cmdstat_select"} {
			r, s := stripUsec(all[0]["commandstats"][cmd]), stripUsec(all[1]["commandstats"][cmd])
			if r != s {
				t.Errorf("INFO commandstats %s: runnel %q, redis %q", cmd, r, s)
			}
		}
		dirty := func(i int, m map[string]map[string]string) int {
			n, _ := strconv.Atoi(m["persistence"]["rdb_changes_since_last_save"])
			return n
		}
		if dr, ds := dirty(0, all[0])-dirty(0, before[0]), dirty(1, all[1])-dirty(1, before[1]); dr != ds {
			t.Errorf("dirty grew by %d on Runnel, %d on Redis", dr, ds)
		}
		if all[0]["server"]["runnel_version"] == "" {
			t.Error("INFO server lacks runnel_version")
		}
	})
}

// stripUsec drops the timing fields of a commandstats line.
func stripUsec(s string) string {
	var keep []string
	for _, f := range strings.Split(s, ",") {
		if !strings.HasPrefix(f, "usec") {
			keep = append(keep, f)
		}
	}
	return strings.Join(keep, ",")
}
