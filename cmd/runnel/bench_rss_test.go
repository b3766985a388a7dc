package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/redistest"
)

// BenchmarkPagedRSS is issue 4's "RSS against data size for a stream ten
// times the memory budget", side by side with redis-server:
//
//	go test ./cmd/runnel -run '^$' -bench BenchmarkPagedRSS -benchtime=1x -count=2
//
// Each iteration fills one stream with data bytes of entry payload (100-byte
// values), as pipelined XADDs over a few connections, into
//
//   - Runnel with --stream-memory-budget (32mb) and appendfsync everysec,
//     automatic checkpoints as by default. everysec makes the fill fast,
//     but it weighs on RSS: the write-ahead log keeps each record in
//     memory until the fsync that covers it (up to a second of writes, so
//     that a failed write can be retried), and its buffer keeps the
//     capacity it grew to;
//   - redis-server without persistence (appendonly no, save ""), which
//     holds the whole stream in memory: the reference for a stream that
//     has to fit in RAM.
//
// After the fill it reports both processes' RSS (VmRSS, and the peak VmHWM
// of the fill), Redis's used_memory, and Runnel's stream node bytes in
// memory and node log size from INFO persistence. Runnel then reads history
// from the start of the stream (the oldest nodes, long paged out) in pages
// of XRANGE ... COUNT 10000, the time of a page including the client's
// decoding of the reply; Redis reads the same for reference. Finally Runnel
// takes a checkpoint (SAVE), is killed and restarted: the restart time runs
// from exec until XLEN answers the full count, and the first history page
// read again must equal the one read before.
//
// The node log is in the page cache when history is read and at the
// restart: the figures are those of a warm disk.
//
// Manual runs: RUNNEL_PAGED_BUDGET_MB sets the budget,
// RUNNEL_PAGED_APPENDFSYNC Runnel's policy (always is the default policy of
// a deployment), and RUNNEL_PAGED_DATA_MB a comma-separated list of data
// sizes in MB that replaces the default 1x and 10x the budget, e.g.
//
//	RUNNEL_PAGED_BUDGET_MB=64 RUNNEL_PAGED_DATA_MB=2048 go test ./cmd/runnel -run '^$' -bench BenchmarkPagedRSS -benchtime=1x -timeout 30m
//
// MB are MiB throughout, as in Redis's memory units.
func BenchmarkPagedRSS(b *testing.B) {
	cfg := pagedConfigFromEnv(b)
	bin := buildBinary(b)
	// Skips (or fails under RUNNEL_REQUIRE_REDIS=1) before anything is
	// filled, rather than after Runnel's half of the first case.
	redisServerBin(b)
	for _, c := range cfg.cases {
		b.Run(c.name, func(b *testing.B) {
			entries := int(c.dataMB << 20 / pagedValueLen)
			if entries < xrangeCount {
				b.Fatalf("%d MB make %d entries: fewer than one history page of %d", c.dataMB, entries, xrangeCount)
			}
			var sum pagedResult
			for range b.N {
				sum.add(benchPagedRunnel(b, bin, cfg, entries))
				sum.add(benchPagedRedis(b, entries))
			}
			n := float64(b.N)
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(entries)*pagedValueLen/(1<<20), "runnel_data_MB")
			b.ReportMetric(mb(sum.runnelRSS)/n, "runnel_rss_MB")
			b.ReportMetric(mb(sum.redisRSS)/n, "redis_rss_MB")
			b.ReportMetric(float64(sum.runnelRSS)/float64(sum.redisRSS), "ratio")
			b.ReportMetric(mb(sum.runnelPeak)/n, "runnel_peak_rss_MB")
			b.ReportMetric(mb(sum.redisPeak)/n, "redis_peak_rss_MB")
			b.ReportMetric(mb(sum.redisUsed)/n, "redis_used_memory_MB")
			b.ReportMetric(mb(sum.streamMem)/n, "runnel_stream_mem_MB")
			b.ReportMetric(mb(sum.nodeLog)/n, "runnel_node_log_MB")
			b.ReportMetric(mb(sum.disk)/n, "runnel_disk_MB")
			b.ReportMetric(ms(sum.xrange)/n, "xrange_10k_ms")
			b.ReportMetric(ms(sum.redisXrange)/n, "redis_xrange_10k_ms")
			b.ReportMetric(mb(sum.rssAfterXrange)/n, "runnel_rss_after_xrange_MB")
			b.ReportMetric(sum.save.Seconds()/n, "runnel_save_s")
			b.ReportMetric(sum.restart.Seconds()/n, "runnel_restart_s")
			b.ReportMetric(sum.load.Seconds()/n, "runnel_load_s")
			b.ReportMetric(mb(sum.rssAfterRestart)/n, "runnel_rss_after_restart_MB")
		})
	}
}

const (
	pagedValueLen = 100    // bytes of each entry's single value
	pagedConns    = 4      // connections filling the stream together
	pagedBatch    = 1000   // XADDs per pipelined write
	xrangeCount   = 10_000 // entries per history page
	xrangePages   = 5      // history pages read, one after the other
)

// pagedConfig is what BenchmarkPagedRSS runs: Runnel's budget and fsync
// policy, and the data sizes.
type pagedConfig struct {
	budgetMB int64
	policy   string
	cases    []pagedCase
}

type pagedCase struct {
	name   string
	dataMB int64
}

// pagedConfigFromEnv is the default configuration, or the one a manual run
// sets in the environment.
func pagedConfigFromEnv(tb testing.TB) pagedConfig {
	tb.Helper()
	cfg := pagedConfig{budgetMB: 32, policy: "everysec"}
	if v := os.Getenv("RUNNEL_PAGED_BUDGET_MB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			tb.Fatalf("RUNNEL_PAGED_BUDGET_MB=%q: want a positive number of MB", v)
		}
		cfg.budgetMB = n
	}
	if v := os.Getenv("RUNNEL_PAGED_APPENDFSYNC"); v != "" {
		cfg.policy = v
	}
	v := os.Getenv("RUNNEL_PAGED_DATA_MB")
	if v == "" {
		cfg.cases = []pagedCase{
			{"data=1xbudget", cfg.budgetMB},
			{"data=10xbudget", 10 * cfg.budgetMB},
		}
		return cfg
	}
	for s := range strings.SplitSeq(v, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n <= 0 {
			tb.Fatalf("RUNNEL_PAGED_DATA_MB=%q: want positive numbers of MB, comma-separated", v)
		}
		cfg.cases = append(cfg.cases, pagedCase{fmt.Sprintf("data=%dMB", n), n})
	}
	return cfg
}

// pagedResult is what one iteration measured (sums, over several).
type pagedResult struct {
	runnelRSS, runnelPeak, streamMem, nodeLog, disk int64
	rssAfterXrange, rssAfterRestart                 int64
	xrange, save, restart, load                     time.Duration
	redisRSS, redisPeak, redisUsed                  int64
	redisXrange                                     time.Duration
}

func (r *pagedResult) add(o pagedResult) {
	r.runnelRSS += o.runnelRSS
	r.runnelPeak += o.runnelPeak
	r.streamMem += o.streamMem
	r.nodeLog += o.nodeLog
	r.disk += o.disk
	r.rssAfterXrange += o.rssAfterXrange
	r.rssAfterRestart += o.rssAfterRestart
	r.xrange += o.xrange
	r.save += o.save
	r.restart += o.restart
	r.load += o.load
	r.redisRSS += o.redisRSS
	r.redisPeak += o.redisPeak
	r.redisUsed += o.redisUsed
	r.redisXrange += o.redisXrange
}

func mb(n int64) float64         { return float64(n) / (1 << 20) }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchPagedRunnel fills a new Runnel, measures it, restarts it, and
// removes its data directory.
func benchPagedRunnel(b *testing.B, bin string, cfg pagedConfig, entries int) pagedResult {
	b.Helper()
	budget := cfg.budgetMB << 20
	rn := newRestartableServer(b, bin, func(port, dir string) []string {
		return []string{"--port", port, "--dir", dir, "--appendfsync", cfg.policy,
			"--stream-memory-budget", fmt.Sprintf("%dmb", cfg.budgetMB)}
	})
	rn.start()
	fillPaged(b, rn.addr, entries)
	c := redistest.Dial(b, rn.addr)
	c.Timeout = time.Minute
	// An automatic checkpoint may still be running: the figures are those
	// of a server at rest.
	info := waitNoCheckpoint(b, c)

	var r pagedResult
	r.runnelRSS, r.runnelPeak = procMemory(b, rn.cmd.Process.Pid)
	r.streamMem = infoInt(b, info, "runnel_stream_memory_bytes")
	r.nodeLog = infoInt(b, info, "runnel_node_log_bytes")
	r.disk = infoInt(b, info, "runnel_disk_bytes")
	// The memory budget is what paging promises for the node bytes in
	// memory (eviction runs between commands, hence a little slack); a
	// server past it, or one that paged nothing out, measures no paging.
	if r.streamMem > budget+budget/8 {
		b.Fatalf("runnel_stream_memory_bytes %d after the fill, budget %d:\n%s", r.streamMem, budget, info)
	}
	if entries*pagedValueLen > int(budget) && r.nodeLog == 0 {
		b.Fatalf("%d bytes of values in a budget of %d, yet the node log is empty:\n%s", entries*pagedValueLen, budget, info)
	}

	first, xr := readHistory(b, c, entries)
	r.xrange = xr
	r.rssAfterXrange, _ = procMemory(b, rn.cmd.Process.Pid)

	t0 := time.Now()
	if got := c.Do("SAVE"); string(got) != "+OK\r\n" {
		b.Fatalf("SAVE: %q", got)
	}
	r.save = time.Since(t0)
	c.Close()
	rn.kill()
	_, r.restart = startTimed(b, rn, entries)
	m := loadedRE.FindStringSubmatch(rn.logLine(`msg="data loaded"`))
	if m == nil {
		b.Fatalf("no data loaded line in Runnel's log:\n%s", rn.logTail(20))
	}
	if m[1] != "0" {
		b.Fatalf("Runnel replayed %s log records after SAVE: not the checkpoint restart measured here:\n%s", m[1], rn.logTail(20))
	}
	took, err := time.ParseDuration(m[2])
	if err != nil {
		b.Fatalf("data loaded line: %v", err)
	}
	r.load = took
	r.rssAfterRestart, _ = procMemory(b, rn.cmd.Process.Pid)

	c = redistest.Dial(b, rn.addr)
	c.Timeout = time.Minute
	again := c.DoValue("XRANGE", benchKey, "-", "+", "COUNT", strconv.Itoa(xrangeCount))
	if err := redistest.CompareExact(first, again); err != nil {
		b.Fatalf("first history page after the restart differs from before: %v", err)
	}
	c.Close()
	rn.kill()
	// Several iterations would otherwise keep every data directory until
	// the benchmark ends.
	if err := os.RemoveAll(rn.logDir); err != nil {
		b.Fatal(err)
	}
	return r
}

// benchPagedRedis fills a redis-server without persistence and measures it.
// The server stays (StartRedis stops it when the benchmark ends), emptied so
// that further iterations do not add up its memory.
func benchPagedRedis(b *testing.B, entries int) pagedResult {
	b.Helper()
	rd := redistest.StartRedis(b)
	fillPaged(b, rd.Addr(), entries)
	c := rd.Dial(b)
	c.Timeout = time.Minute
	pid := int(infoInt(b, c.DoValue("INFO", "server").Str, "process_id"))
	var r pagedResult
	r.redisRSS, r.redisPeak = procMemory(b, pid)
	r.redisUsed = infoInt(b, c.DoValue("INFO", "memory").Str, "used_memory")
	_, r.redisXrange = readHistory(b, c, entries)
	if got := c.Do("FLUSHALL", "SYNC"); string(got) != "+OK\r\n" {
		b.Fatalf("FLUSHALL on Redis: %q", got)
	}
	return r
}

// fillPaged adds entries to benchKey with 100-byte values, pipelined in
// batches over pagedConns connections, and checks XLEN. Every value is
// distinct: the connection and a counter, then filler.
func fillPaged(tb testing.TB, addr string, entries int) {
	tb.Helper()
	errs := make([]error, pagedConns)
	var wg sync.WaitGroup
	for i := range pagedConns {
		n := entries / pagedConns
		if i < entries%pagedConns {
			n++
		}
		wg.Go(func() { errs[i] = fillPagedConn(addr, i, n) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			tb.Fatalf("filling %s, connection %d: %v", addr, i, err)
		}
	}
	if got, err := xlenOf(addr); err != nil || got != int64(entries) {
		tb.Fatalf("XLEN after filling %s: %d, %v; want %d", addr, got, err, entries)
	}
}

// pagedValue is the value of connection conn's n-th entry.
func pagedValue(conn, n int) string {
	v := fmt.Sprintf("%02d:%012d:", conn, n)
	return v + strings.Repeat("payload-", pagedValueLen/8+1)[:pagedValueLen-len(v)]
}

// fillPagedConn sends n XADDs on one connection, pagedBatch per write,
// reading a batch's replies before sending the next.
func fillPagedConn(addr string, conn, n int) error {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(20 * time.Minute))
	cmd := redistest.Command("XADD", benchKey, "*", "v", pagedValue(conn, 0))
	// Where the counter's digits sit in cmd: the value ends just before
	// the final CRLF, and its digits follow "NN:".
	digits := len(cmd) - 2 - pagedValueLen + 3
	buf := make([]byte, 0, pagedBatch*len(cmd))
	xc := &xaddClient{nc: nc, r: bufio.NewReaderSize(nc, 64<<10)}
	for sent := 0; sent < n; {
		k := min(pagedBatch, n-sent)
		buf = buf[:0]
		for i := range k {
			off := len(buf)
			buf = append(buf, cmd...)
			d := buf[off+digits : off+digits+12]
			for j, v := len(d)-1, sent+i; j >= 0; j, v = j-1, v/10 {
				d[j] = '0' + byte(v%10)
			}
		}
		if _, err := nc.Write(buf); err != nil {
			return err
		}
		for range k {
			if err := xc.readReply(); err != nil {
				return err
			}
		}
		sent += k
	}
	return nil
}

// readHistory reads xrangePages consecutive pages of xrangeCount entries
// from the start of benchKey, checking each entry's shape, and returns the
// first page and the mean time of a page.
func readHistory(tb testing.TB, c *redistest.Conn, entries int) (first redistest.Value, mean time.Duration) {
	tb.Helper()
	pages := min(xrangePages, entries/xrangeCount)
	start := "-"
	var total time.Duration
	for p := range pages {
		t0 := time.Now()
		v := c.DoValue("XRANGE", benchKey, start, "+", "COUNT", strconv.Itoa(xrangeCount))
		total += time.Since(t0)
		if v.IsError() || len(v.Elems) != xrangeCount {
			tb.Fatalf("XRANGE page %d from %s: %d entries, want %d (%s)", p, start, len(v.Elems), xrangeCount, v.Str)
		}
		for i, e := range v.Elems {
			if len(e.Elems) != 2 || len(e.Elems[1].Elems) != 2 || e.Elems[1].Elems[0].Str != "v" || len(e.Elems[1].Elems[1].Str) != pagedValueLen {
				tb.Fatalf("XRANGE page %d: entry %d is not one %d-byte value v", p, i, pagedValueLen)
			}
		}
		if p == 0 {
			first = v
		}
		start = "(" + v.Elems[len(v.Elems)-1].Elems[0].Str
	}
	return first, total / time.Duration(pages)
}

// waitNoCheckpoint waits until no checkpoint is running and returns INFO
// persistence then.
func waitNoCheckpoint(tb testing.TB, c *redistest.Conn) string {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		info := c.DoValue("INFO", "persistence").Str
		if infoInt(tb, info, "rdb_bgsave_in_progress") == 0 {
			return info
		}
		if time.Now().After(deadline) {
			tb.Fatalf("a checkpoint is still running after a minute:\n%s", info)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// procStatusRE reads a memory line of /proc/<pid>/status, in kB.
var procStatusRE = regexp.MustCompile(`(?m)^(VmRSS|VmHWM):\s+(\d+) kB$`)

// procMemory returns the resident set of process pid and its peak, in
// bytes.
func procMemory(tb testing.TB, pid int) (rss, peak int64) {
	tb.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatalf("reading a process's memory (Linux /proc): %v", err)
	}
	for _, m := range procStatusRE.FindAllSubmatch(status, -1) {
		n, _ := strconv.ParseInt(string(m[2]), 10, 64)
		if string(m[1]) == "VmRSS" {
			rss = n << 10
		} else {
			peak = n << 10
		}
	}
	if rss == 0 || peak == 0 {
		tb.Fatalf("no VmRSS and VmHWM in /proc/%d/status:\n%s", pid, status)
	}
	return rss, peak
}
