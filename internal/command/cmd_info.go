package command

// INFO (redis.io/commands/info): the sections and fields clients and tools
// parse, in Redis 7.0's order and format.

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func init() { registrations = append(registrations, registerInfo) }

func registerInfo(t *Table) {
	t.add(&Command{Name: "info", Arity: -1, Flags: Loading | Stale | NoKeyspace, Run: cmdInfo})
}

// infoSection writes one section's fields.
type infoSection struct {
	name  string
	write func(x *Ctx, b *infoBuilder)
	// inDefault: part of INFO with no argument; extra: only with "all" /
	// "everything" or by name (commandstats, latencystats).
	inDefault bool
}

var infoSections = []infoSection{
	{"server", infoServer, true},
	{"clients", infoClients, true},
	{"memory", infoMemory, true},
	{"persistence", infoPersistence, true},
	{"stats", infoStats, true},
	{"replication", infoReplication, true},
	{"cpu", infoCPU, true},
	{"modules", func(*Ctx, *infoBuilder) {}, true},
	{"commandstats", infoCommandstats, false},
	{"errorstats", infoErrorstats, true},
	{"cluster", func(_ *Ctx, b *infoBuilder) { b.kv("cluster_enabled", "0") }, true},
	{"keyspace", infoKeyspace, true},
}

type infoBuilder struct{ strings.Builder }

func (b *infoBuilder) kv(k, v string) {
	b.WriteString(k)
	b.WriteByte(':')
	b.WriteString(v)
	b.WriteString("\r\n")
}

func (b *infoBuilder) kvi(k string, v int64) { b.kv(k, strconv.FormatInt(v, 10)) }

// INFO [section [section ...]]
func cmdInfo(x *Ctx) {
	x.W.Verbatim("txt", genInfo(x, x.Args[1:]))
}

func genInfo(x *Ctx, args [][]byte) string {
	want := map[string]bool{}
	all, everything, def := false, false, len(args) == 0
	for _, a := range args {
		s := strings.ToLower(string(a))
		switch s {
		case "all":
			all = true
		case "everything":
			everything = true
		case "default":
			def = true
		default:
			want[s] = true
		}
	}
	var b infoBuilder
	n := 0
	for _, sec := range infoSections {
		include := want[sec.name] || everything ||
			(all && sec.name != "modules") || (def && sec.inDefault)
		if !include {
			continue
		}
		if n > 0 {
			b.WriteString("\r\n")
		}
		n++
		b.WriteString("# ")
		if sec.name == "cpu" {
			b.WriteString("CPU")
		} else {
			b.WriteString(strings.ToUpper(sec.name[:1]) + sec.name[1:])
		}
		b.WriteString("\r\n")
		sec.write(x, &b)
	}
	return b.String()
}

func infoServer(x *Ctx, b *infoBuilder) {
	e := x.Env
	now := time.Now()
	up := now.Sub(e.StartTime)
	b.kv("redis_version", RedisVersion)
	b.kv("redis_git_sha1", "00000000")
	b.kv("redis_git_dirty", "0")
	b.kv("redis_build_id", "0")
	b.kv("redis_mode", "standalone")
	b.kv("os", osName())
	b.kv("arch_bits", strconv.Itoa(strconv.IntSize))
	b.kv("monotonic_clock", "POSIX clock_gettime")
	b.kv("multiplexing_api", "epoll")
	b.kv("atomicvar_api", "c11-builtin")
	b.kv("gcc_version", "0.0.0")
	b.kvi("process_id", int64(os.Getpid()))
	b.kv("process_supervised", "no")
	b.kv("run_id", e.RunID)
	b.kvi("tcp_port", int64(e.Port))
	b.kvi("server_time_usec", now.UnixMicro())
	b.kvi("uptime_in_seconds", int64(up/time.Second))
	b.kvi("uptime_in_days", int64(up/(24*time.Hour)))
	b.kvi("hz", int64(e.hz()))
	b.kvi("configured_hz", int64(e.hz()))
	b.kvi("lru_clock", now.Unix()&(1<<24-1))
	exe, _ := os.Executable()
	b.kv("executable", exe)
	b.kv("config_file", e.ConfigFile)
	b.kv("io_threads_active", "0")
	b.kv("runnel_version", RunnelVersion)
	b.kv("go_version", runtime.Version())
}

func osName() string {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return runtime.GOOS
	}
	str := func(a [65]int8) string {
		var sb strings.Builder
		for _, c := range a {
			if c == 0 {
				break
			}
			sb.WriteByte(byte(c))
		}
		return sb.String()
	}
	return str(u.Sysname) + " " + str(u.Release) + " " + str(u.Machine)
}

func infoClients(x *Ctx, b *infoBuilder) {
	e := x.Env
	b.kvi("connected_clients", int64(e.Srv.NumClients()))
	b.kv("cluster_connections", "0")
	b.kvi("maxclients", int64(e.maxClients()))
	b.kv("client_recent_max_input_buffer", "0")
	b.kv("client_recent_max_output_buffer", "0")
	keys, noKey := e.KS.BlockingKeys()
	b.kvi("blocked_clients", e.BlockedClients.Load())
	b.kv("tracking_clients", "0")
	b.kvi("clients_in_timeout_table", e.timeoutClients.Load())
	b.kvi("total_blocking_keys", keys)
	b.kvi("total_blocking_keys_on_nokey", noKey)
}

func infoMemory(x *Ctx, b *infoBuilder) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := readRSS()
	used := int64(ms.HeapAlloc)
	b.kvi("used_memory", used)
	b.kv("used_memory_human", humanBytes(used))
	b.kvi("used_memory_rss", rss)
	b.kv("used_memory_rss_human", humanBytes(rss))
	b.kvi("used_memory_peak", int64(ms.HeapSys))
	b.kv("used_memory_peak_human", humanBytes(int64(ms.HeapSys)))
	b.kvi("used_memory_startup", 0)
	b.kvi("used_memory_dataset", used)
	b.kvi("total_system_memory", totalSystemMemory())
	b.kv("total_system_memory_human", humanBytes(totalSystemMemory()))
	maxmem := x.Env.maxMemory()
	b.kvi("maxmemory", maxmem)
	b.kv("maxmemory_human", humanBytes(maxmem))
	b.kv("maxmemory_policy", x.Env.maxMemoryPolicy())
	if used > 0 {
		b.kv("mem_fragmentation_ratio", fmt.Sprintf("%.2f", float64(rss)/float64(used)))
	} else {
		b.kv("mem_fragmentation_ratio", "0.00")
	}
	b.kv("mem_allocator", "go-"+runtime.Version())
	b.kv("lazyfree_pending_objects", "0")
	b.kvi("go_heap_objects", int64(ms.HeapObjects))
	b.kvi("go_gc_cycles", int64(ms.NumGC))
	// The runtime's soft memory limit (maxmemory or GOMEMLIMIT; 0: none).
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 {
		limit = 0
	}
	b.kvi("go_memory_limit", limit)
}

func readRSS() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func totalSystemMemory() int64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

// humanBytes formats like Redis's bytesToHuman.
func humanBytes(n int64) string {
	d := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1024*1024:
		return fmt.Sprintf("%.2fK", d/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.2fM", d/(1024*1024))
	case n < 1024*1024*1024*1024:
		return fmt.Sprintf("%.2fG", d/(1024*1024*1024))
	default:
		return fmt.Sprintf("%.2fT", d/(1024*1024*1024*1024))
	}
}

// PersistenceInfo is the state INFO persistence reports; internal/app fills
// it from the store (Env.Persistence).
type PersistenceInfo struct {
	Enabled                   bool   // a data directory is open
	CheckpointInProgress      bool   // rdb_bgsave_in_progress
	CheckpointOK              bool   // rdb_last_bgsave_status
	LastCheckpointSec         int64  // rdb_last_bgsave_time_sec (-1: none)
	CurrentCheckpointSec      int64  // rdb_current_bgsave_time_sec (-1: none)
	Checkpoints               int64  // rdb_saves
	WriteOK                   bool   // aof_last_write_status
	Policy                    string // appendfsync in force
	LastFsync                 int64  // unix ms of the last successful fsync
	FsyncLatencyUs            int64  // how long it took
	Fsyncs, FailedFsyncs      int64
	LogSeq, DurableSeq        uint64 // newest record logged, made durable
	PendingBytes              int64  // logged, not yet durable
	LogSinceCheckpoint        int64  // what a restart replays, in bytes
	CheckpointSeq             uint64 // the newest checkpoint covers records up to it
	CheckpointSize, DiskBytes int64
	LastWriteError            string // "" when healthy
	NodeMemory                int64  // stream node bytes in memory
	NodeMemoryBudget          int64  // stream-memory-budget (0: none)
	NodeDiskBytes             int64  // the node log's files
	NodeLiveBytes             int64  // of which nodes still referenced
}

func infoPersistence(x *Ctx, b *infoBuilder) {
	e := x.Env
	p := PersistenceInfo{CheckpointOK: true, WriteOK: true, LastCheckpointSec: -1, CurrentCheckpointSec: -1}
	loading := e.Loading()
	if !loading && e.Persistence != nil {
		p = e.Persistence()
	}
	b.kv("loading", boolDigit(loading))
	b.kv("async_loading", "0")
	b.kvi("rdb_changes_since_last_save", e.KS.Dirty())
	b.kv("rdb_bgsave_in_progress", boolDigit(p.CheckpointInProgress))
	b.kvi("rdb_last_save_time", e.LastSave.Load())
	b.kv("rdb_last_bgsave_status", okErr(p.CheckpointOK))
	b.kvi("rdb_last_bgsave_time_sec", p.LastCheckpointSec)
	b.kvi("rdb_current_bgsave_time_sec", p.CurrentCheckpointSec)
	b.kvi("rdb_saves", p.Checkpoints)
	b.kv("aof_enabled", boolDigit(p.Enabled))
	b.kv("aof_rewrite_in_progress", "0")
	b.kv("aof_rewrite_scheduled", "0")
	b.kv("aof_last_rewrite_time_sec", "-1")
	b.kv("aof_current_rewrite_time_sec", "-1")
	b.kv("aof_last_bgrewrite_status", "ok")
	b.kv("aof_last_write_status", okErr(p.WriteOK))
	if loading {
		e.infoLoading(b)
	}
	if !p.Enabled {
		return
	}
	// Runnel's own fields: the write-ahead log and the checkpoints.
	b.kv("runnel_appendfsync", p.Policy)
	b.kvi("runnel_last_fsync_ms", p.LastFsync)
	b.kvi("runnel_fsync_latency_us", p.FsyncLatencyUs)
	b.kvi("runnel_fsyncs", p.Fsyncs)
	b.kvi("runnel_failed_fsyncs", p.FailedFsyncs)
	b.kv("runnel_log_seq", strconv.FormatUint(p.LogSeq, 10))
	b.kv("runnel_log_durable_seq", strconv.FormatUint(p.DurableSeq, 10))
	b.kvi("runnel_log_pending_bytes", p.PendingBytes)
	b.kvi("runnel_log_since_checkpoint_bytes", p.LogSinceCheckpoint)
	b.kv("runnel_checkpoint_seq", strconv.FormatUint(p.CheckpointSeq, 10))
	b.kvi("runnel_checkpoint_bytes", p.CheckpointSize)
	b.kvi("runnel_disk_bytes", p.DiskBytes)
	b.kvi("runnel_stream_memory_bytes", p.NodeMemory)
	b.kvi("runnel_stream_memory_budget", p.NodeMemoryBudget)
	b.kvi("runnel_node_log_bytes", p.NodeDiskBytes)
	b.kvi("runnel_node_log_live_bytes", p.NodeLiveBytes)
	if p.LastWriteError != "" {
		b.kv("runnel_last_write_error", p.LastWriteError)
	}
}

func boolDigit(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

func okErr(ok bool) string {
	if ok {
		return "ok"
	}
	return "err"
}

func infoStats(x *Ctx, b *infoBuilder) {
	e := x.Env
	srv := e.Srv
	var total int64
	for _, c := range e.table.All() {
		total += c.stats.calls.Load()
		for _, s := range c.Sub {
			total += s.stats.calls.Load()
		}
	}
	b.kvi("total_connections_received", srv.TotalConnections.Load())
	b.kvi("total_commands_processed", total)
	b.kv("instantaneous_ops_per_sec", "0")
	b.kvi("total_net_input_bytes", srv.NetInputBytes.Load())
	b.kvi("total_net_output_bytes", srv.NetOutputBytes.Load())
	b.kv("instantaneous_input_kbps", "0.00")
	b.kv("instantaneous_output_kbps", "0.00")
	b.kvi("rejected_connections", srv.RejectedConns.Load())
	b.kv("sync_full", "0")
	b.kv("sync_partial_ok", "0")
	b.kv("sync_partial_err", "0")
	b.kvi("expired_keys", e.KS.Expired.Load())
	b.kv("expired_stale_perc", "0.00")
	b.kv("expired_time_cap_reached_count", "0")
	b.kv("evicted_keys", "0")
	b.kv("evicted_clients", "0")
	b.kvi("keyspace_hits", e.KS.Hits.Load())
	b.kvi("keyspace_misses", e.KS.Misses.Load())
	b.kvi("pubsub_channels", int64(e.PubSub.NumChannels()))
	b.kvi("pubsub_patterns", int64(e.PubSub.NumPat()))
	b.kv("pubsubshard_channels", "0")
	b.kv("latest_fork_usec", "0")
	b.kv("total_forks", "0")
	b.kv("unexpected_error_replies", "0")
	b.kvi("total_error_replies", e.Stats.ErrorReplies.Load())
	b.kvi("total_reads_processed", total)
	b.kvi("total_writes_processed", total)
	b.kvi("client_paused_clients", int64(srv.PausedClients()))
}

func infoReplication(x *Ctx, b *infoBuilder) {
	b.kv("role", "master")
	b.kv("connected_slaves", "0")
	b.kv("master_failover_state", "no-failover")
	b.kv("master_replid", x.Env.RunID)
	b.kv("master_replid2", "0000000000000000000000000000000000000000")
	b.kv("master_repl_offset", "0")
	b.kv("second_repl_offset", "-1")
	b.kv("repl_backlog_active", "0")
	b.kv("repl_backlog_size", "1048576")
	b.kv("repl_backlog_first_byte_offset", "0")
	b.kv("repl_backlog_histlen", "0")
}

func infoCPU(_ *Ctx, b *infoBuilder) {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) string {
		return fmt.Sprintf("%d.%06d", t.Sec, t.Usec)
	}
	b.kv("used_cpu_sys", tv(self.Stime))
	b.kv("used_cpu_user", tv(self.Utime))
	b.kv("used_cpu_sys_children", tv(children.Stime))
	b.kv("used_cpu_user_children", tv(children.Utime))
}

func infoCommandstats(x *Ctx, b *infoBuilder) {
	var line func(c *Command)
	line = func(c *Command) {
		calls := c.stats.calls.Load()
		rej, failed := c.stats.rejected.Load(), c.stats.failed.Load()
		if calls > 0 || rej > 0 || failed > 0 {
			usec := c.stats.usec.Load()
			per := 0.0
			if calls > 0 {
				per = float64(usec) / float64(calls)
			}
			b.kv("cmdstat_"+c.Name, fmt.Sprintf("calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
				calls, usec, per, rej, failed))
		}
		subs := make([]string, 0, len(c.Sub))
		for name := range c.Sub {
			subs = append(subs, name)
		}
		sort.Strings(subs)
		for _, name := range subs {
			line(c.Sub[name])
		}
	}
	for _, c := range x.Env.table.All() {
		line(c)
	}
}

func infoErrorstats(x *Ctx, b *infoBuilder) {
	counts := x.Env.Stats.ErrorCounts()
	codes := make([]string, 0, len(counts))
	for code := range counts {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		b.kv("errorstat_"+code, "count="+strconv.FormatInt(counts[code], 10))
	}
}

func infoKeyspace(x *Ctx, b *infoBuilder) {
	ks := x.Env.KS
	for db := 0; db < ks.Databases(); db++ {
		keys := ks.DBSize(db)
		if keys == 0 {
			continue
		}
		b.kv("db"+strconv.Itoa(db), fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", keys, ks.ExpiresCount(db)))
	}
}

// resetStats clears what CONFIG RESETSTAT clears.
func (e *Env) resetStats() {
	e.Stats.Reset()
	for _, c := range e.table.All() {
		c.stats.reset()
		for _, s := range c.Sub {
			s.stats.reset()
		}
	}
	e.KS.Hits.Store(0)
	e.KS.Misses.Store(0)
	e.KS.Expired.Store(0)
	e.Srv.TotalConnections.Store(0)
	e.Srv.RejectedConns.Store(0)
	e.Srv.NetInputBytes.Store(0)
	e.Srv.NetOutputBytes.Store(0)
}
