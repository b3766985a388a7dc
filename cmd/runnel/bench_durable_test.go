package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/redistest"
)

// Side-by-side durability benchmarks of issue 4: the real runnel binary
// against redis-server 7.0 with appendonly yes and the same appendfsync, in
// the same run and on the same disk. They run only with -bench:
//
//	go test ./cmd/runnel -run '^$' -bench 'BenchmarkDurableXAdd|BenchmarkRestart' -benchtime=1x -count=3
//
// An iteration measures both servers, so ns/op would mix them: it is
// hidden, and the results are custom metrics, runnel_* and redis_*, with
// ratio = Runnel / Redis.

// xaddWindow is how long each server is loaded per iteration of
// BenchmarkDurableXAdd. One slow fsync of the VM's disk (up to ~0.5 s)
// weighs on a window this short: -count gives several samples.
const xaddWindow = time.Second

// benchKey is the stream both benchmarks write.
const benchKey = "bench"

// BenchmarkDurableXAdd measures unpipelined XADD throughput and latency
// with N concurrent connections, each waiting for its reply before sending
// the next command. Under always every reply waits for an fsync, shared by
// the connections waiting at that moment (group commit in Runnel, one fsync
// per event-loop pass in Redis); under everysec it waits for the write to
// the kernel.
func BenchmarkDurableXAdd(b *testing.B) {
	bin := buildBinary(b)
	redisBin := redisServerBin(b)
	for _, policy := range []string{"always", "everysec"} {
		b.Run(policy, func(b *testing.B) {
			// One pair of servers per policy, shared by the client counts.
			rn := newRunnelBench(b, bin, policy)
			rn.start()
			rd := newRedisBench(b, redisBin, policy)
			rd.start()
			for _, clients := range []int{1, 8, 50} {
				b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
					benchXAdd(b, rn.addr, rd.addr, clients)
				})
			}
		})
	}
}

func benchXAdd(b *testing.B, runnelAddr, redisAddr string, clients int) {
	var rn, rd xaddResult
	var fsyncs, records int64
	info := redistest.Dial(b, runnelAddr)
	runRunnel := func() {
		var f0, s0 int64
		rn.add(b, runXAddLoad(b, runnelAddr, clients, xaddWindow, func() { f0, s0 = walCounters(b, info) }))
		f1, s1 := walCounters(b, info)
		fsyncs += f1 - f0
		records += s1 - s0
	}
	runRedis := func() { rd.add(b, runXAddLoad(b, redisAddr, clients, xaddWindow, func() {})) }
	for i := range b.N {
		// Alternate which server goes first, so that neither always
		// meets the disk right after the other's burst of writes.
		if i%2 == 0 {
			runRunnel()
			runRedis()
		} else {
			runRedis()
			runRunnel()
		}
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(rn.rate(), "runnel_xadd/s")
	b.ReportMetric(rd.rate(), "redis_xadd/s")
	b.ReportMetric(rn.rate()/rd.rate(), "ratio")
	b.ReportMetric(rn.percentileMs(50), "runnel_p50_ms")
	b.ReportMetric(rn.percentileMs(99), "runnel_p99_ms")
	b.ReportMetric(rd.percentileMs(50), "redis_p50_ms")
	b.ReportMetric(rd.percentileMs(99), "redis_p99_ms")
	b.ReportMetric(float64(fsyncs)/rn.elapsed.Seconds(), "runnel_fsyncs/s")
	if fsyncs > 0 {
		b.ReportMetric(float64(records)/float64(fsyncs), "runnel_records/fsync")
	}
}

// walCounters reads runnel_fsyncs and runnel_log_seq from INFO persistence.
func walCounters(tb testing.TB, c *redistest.Conn) (fsyncs, seq int64) {
	tb.Helper()
	v := c.DoValue("INFO", "persistence")
	return infoInt(tb, v.Str, "runnel_fsyncs"), infoInt(tb, v.Str, "runnel_log_seq")
}

// infoInt returns the integer field name of an INFO reply.
func infoInt(tb testing.TB, info, name string) int64 {
	tb.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `:(-?\d+)\r?$`).FindStringSubmatch(info)
	if m == nil {
		tb.Fatalf("INFO has no integer field %s:\n%s", name, info)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// xaddResult accumulates the load windows of one server.
type xaddResult struct {
	ops     int
	elapsed time.Duration   // from the start of each window to its last reply, summed
	lat     []time.Duration // of every XADD
}

func (r *xaddResult) add(tb testing.TB, w xaddResult) {
	tb.Helper()
	if w.ops == 0 {
		tb.Fatalf("no XADD completed in %v", w.elapsed)
	}
	r.ops += w.ops
	r.elapsed += w.elapsed
	r.lat = append(r.lat, w.lat...)
}

func (r *xaddResult) rate() float64 { return float64(r.ops) / r.elapsed.Seconds() }

func (r *xaddResult) percentileMs(p int) float64 {
	slices.Sort(r.lat)
	return float64(r.lat[(len(r.lat)-1)*p/100]) / float64(time.Millisecond)
}

// xaddClient is one connection of the load: raw RESP, a reader per
// connection, nothing allocated per command.
type xaddClient struct {
	nc  net.Conn
	r   *bufio.Reader
	cmd []byte
	lat []time.Duration
	end time.Time // when its last reply came
	err error
}

// xadd sends the client's XADD and reads its reply, which must be an entry
// ID.
func (c *xaddClient) xadd() error {
	if _, err := c.nc.Write(c.cmd); err != nil {
		return err
	}
	return c.readReply()
}

// readReply reads one XADD reply, which must be an entry ID.
func (c *xaddClient) readReply() error {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return err
	}
	if len(line) < 4 || line[0] != '$' {
		return fmt.Errorf("XADD answered %q", line)
	}
	n, err := strconv.Atoi(string(line[1 : len(line)-2]))
	if err != nil || n < 3 {
		return fmt.Errorf("XADD answered %q", line)
	}
	_, err = c.r.Discard(n + 2)
	return err
}

// runXAddLoad opens clients connections to addr, each sending unpipelined
// XADDs for window. It returns the XADDs completed, the time from the start
// to the last reply, and the latency of each. atStart runs once every
// connection is ready, just before the clock starts.
func runXAddLoad(tb testing.TB, addr string, clients int, window time.Duration, atStart func()) xaddResult {
	tb.Helper()
	cs := make([]*xaddClient, clients)
	for i := range cs {
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			tb.Fatal(err)
		}
		defer nc.Close()
		// Bounds a stuck server, far past any fsync stall.
		_ = nc.SetDeadline(time.Now().Add(window + 30*time.Second))
		c := &xaddClient{
			nc:  nc,
			r:   bufio.NewReader(nc),
			cmd: redistest.Command("XADD", benchKey, "*", "f", fmt.Sprintf("value-%010d", i)),
			lat: make([]time.Duration, 0, 4096),
		}
		// One XADD before the clock starts: the connection has been
		// accepted and served once.
		if err := c.xadd(); err != nil {
			tb.Fatalf("XADD on %s: %v", addr, err)
		}
		cs[i] = c
	}
	atStart()
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(window)
	for _, c := range cs {
		wg.Go(func() {
			t0 := time.Now()
			for t0.Before(deadline) {
				if c.err = c.xadd(); c.err != nil {
					return
				}
				t1 := time.Now()
				c.lat = append(c.lat, t1.Sub(t0))
				t0 = t1
			}
			c.end = t0
		})
	}
	wg.Wait()
	var res xaddResult
	for _, c := range cs {
		if c.err != nil {
			tb.Fatalf("XADD on %s: %v", addr, c.err)
		}
		res.ops += len(c.lat)
		res.lat = append(res.lat, c.lat...)
		res.elapsed = max(res.elapsed, c.end.Sub(start))
	}
	return res
}

// BenchmarkRestart measures how long a restart takes until the server
// answers PING, and until XLEN answers the number of entries written, with
// a stream of 100k and 1M entries:
//
//   - log: after SHUTDOWN NOSAVE. Runnel replays its whole write-ahead log;
//     Redis loads its AOF, the same XADDs as commands.
//   - checkpoint: after SAVE and SHUTDOWN NOSAVE, Runnel loads the
//     checkpoint (no log after it); Redis's counterpart is an AOF rewritten
//     by BGREWRITEAOF, whose base is an RDB snapshot (aof-use-rdb-preamble
//     yes), as Redis loads no dump.rdb when appendonly is on.
//
// Both servers are filled once per size (pipelined XADDs under everysec:
// the policy does not change what a restart loads), and their files are in
// the page cache when they restart.
func BenchmarkRestart(b *testing.B) {
	bin := buildBinary(b)
	redisBin := redisServerBin(b)
	for _, size := range []struct {
		name    string
		entries int
	}{{"100k", 100_000}, {"1M", 1_000_000}} {
		b.Run("entries="+size.name, func(b *testing.B) {
			n := size.entries
			rn := newRunnelBench(b, bin, "everysec")
			rn.start()
			rd := newRedisBench(b, redisBin, "everysec")
			rd.start()
			fillStream(b, rn.addr, n)
			fillStream(b, rd.addr, n)

			b.Run("log", func(b *testing.B) {
				benchRestart(b, rn, rd, n, func(replayed int64) bool { return replayed >= int64(n) })
			})
			b.Run("checkpoint", func(b *testing.B) {
				c := redistest.Dial(b, rn.addr)
				c.Timeout = time.Minute
				if got := c.Do("SAVE"); string(got) != "+OK\r\n" {
					b.Fatalf("SAVE on Runnel: %q", got)
				}
				rewriteAOF(b, rd.addr)
				benchRestart(b, rn, rd, n, func(replayed int64) bool { return replayed == 0 })
			})
		})
	}
}

// loadedRE reads Runnel's "data loaded" log line.
var loadedRE = regexp.MustCompile(`log_records_replayed=(\d+) .*took=(\S+)`)

// benchRestart stops and restarts both servers b.N times, timing each
// restart. wantReplayed checks the number of log records Runnel replayed,
// so that each variant is sure to measure the path it names.
func benchRestart(b *testing.B, rn, rd *crashServer, entries int, wantReplayed func(int64) bool) {
	var rnPing, rnXlen, rnLoad, rdPing, rdXlen time.Duration
	var replayed int64
	for range b.N {
		shutdownNoSave(b, rn)
		ping, xlen := startTimed(b, rn, entries)
		rnPing, rnXlen = rnPing+ping, rnXlen+xlen
		m := loadedRE.FindStringSubmatch(rn.logLine(`msg="data loaded"`))
		if m == nil {
			b.Fatalf("no data loaded line in Runnel's log:\n%s", rn.logTail(20))
		}
		replayed, _ = strconv.ParseInt(m[1], 10, 64)
		if !wantReplayed(replayed) {
			b.Fatalf("Runnel replayed %d log records, not what this variant measures:\n%s", replayed, rn.logTail(20))
		}
		took, err := time.ParseDuration(m[2])
		if err != nil {
			b.Fatalf("data loaded line: %v", err)
		}
		rnLoad += took

		shutdownNoSave(b, rd)
		ping, xlen = startTimed(b, rd, entries)
		rdPing, rdXlen = rdPing+ping, rdXlen+xlen
	}
	sec := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(sec(rnPing), "runnel_ping_s")
	b.ReportMetric(sec(rnXlen), "runnel_xlen_s")
	b.ReportMetric(sec(rnLoad), "runnel_load_s") // as Runnel logs it: checkpoint and log, without process start
	b.ReportMetric(float64(replayed), "runnel_replayed")
	b.ReportMetric(sec(rdPing), "redis_ping_s")
	b.ReportMetric(sec(rdXlen), "redis_xlen_s")
	b.ReportMetric(float64(rnXlen)/float64(rdXlen), "ratio")
}

// startTimed starts s and measures, from just before the process is
// started, when it first answers PING and when XLEN then answers entries.
// Runnel listens only once loaded; Redis answers -LOADING until it is.
func startTimed(tb testing.TB, s *crashServer, entries int) (ping, xlen time.Duration) {
	tb.Helper()
	type result struct {
		ping, xlen time.Duration
		err        error
	}
	done := make(chan result, 1)
	stop := make(chan struct{})
	defer close(stop)
	starts := s.starts
	t0 := time.Now()
	go func() {
		var r result
		r.err = errors.New("stopped")
		defer func() { done <- r }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if r.ping == 0 && pingOK(s.addr) {
				r.ping = time.Since(t0)
			}
			if r.ping != 0 {
				n, err := xlenOf(s.addr)
				if err != nil {
					r.err = err
					return
				}
				if n == int64(entries) {
					r.xlen, r.err = time.Since(t0), nil
					return
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	s.start() // returns once PING is answered too, or fails the benchmark
	if s.starts != starts+1 {
		tb.Fatalf("%s had to be started %d times (port taken): the time measured is not one start's", s.bin, s.starts-starts)
	}
	select {
	case r := <-done:
		if r.err != nil {
			tb.Fatalf("%s: XLEN %s after the restart: %v", s.bin, benchKey, r.err)
		}
		return r.ping, r.xlen
	case <-time.After(time.Minute):
		tb.Fatalf("%s: XLEN %s never reached %d after the restart", s.bin, benchKey, entries)
		return 0, 0
	}
}

// xlenOf asks XLEN benchKey on a new connection.
func xlenOf(addr string) (int64, error) {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write(redistest.Command("XLEN", benchKey)); err != nil {
		return 0, err
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 4 || line[0] != ':' {
		return 0, fmt.Errorf("XLEN answered %q", line)
	}
	return strconv.ParseInt(line[1:len(line)-2], 10, 64)
}

// fillStream adds n entries to benchKey, pipelined in batches, and checks
// XLEN.
func fillStream(tb testing.TB, addr string, n int) {
	tb.Helper()
	const batch = 1000
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(5 * time.Minute))
	cmd := redistest.Command("XADD", benchKey, "*", "f", "value-0123456789")
	pipe := bytes.Repeat(cmd, batch)
	xc := &xaddClient{nc: nc, r: bufio.NewReaderSize(nc, 64<<10)}
	for sent := 0; sent < n; sent += batch {
		k := min(batch, n-sent)
		if _, err := nc.Write(pipe[:k*len(cmd)]); err != nil {
			tb.Fatal(err)
		}
		for range k {
			if err := xc.readReply(); err != nil {
				tb.Fatalf("filling %s: %v", addr, err)
			}
		}
	}
	if got, err := xlenOf(addr); err != nil || got != int64(n) {
		tb.Fatalf("XLEN after filling %s: %d, %v; want %d", addr, got, err, n)
	}
}

// rewriteAOF runs BGREWRITEAOF on Redis and waits for it to finish.
func rewriteAOF(tb testing.TB, addr string) {
	tb.Helper()
	c := redistest.Dial(tb, addr)
	if v := c.DoValue("BGREWRITEAOF"); v.IsError() {
		tb.Fatalf("BGREWRITEAOF: %s", v.Str)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		info := c.DoValue("INFO", "persistence").Str
		if infoInt(tb, info, "aof_rewrite_in_progress") == 0 && infoInt(tb, info, "aof_rewrite_scheduled") == 0 {
			if !bytes.Contains([]byte(info), []byte("aof_last_bgrewrite_status:ok")) {
				tb.Fatalf("BGREWRITEAOF failed:\n%s", info)
			}
			return
		}
		if time.Now().After(deadline) {
			tb.Fatal("BGREWRITEAOF still running after a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// shutdownNoSave stops s with SHUTDOWN NOSAVE and waits for it to exit.
func shutdownNoSave(tb testing.TB, s *crashServer) {
	tb.Helper()
	nc, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(time.Minute))
	if _, err := nc.Write(redistest.Command("SHUTDOWN", "NOSAVE")); err != nil {
		tb.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(time.Minute):
		tb.Fatalf("%s still running a minute after SHUTDOWN NOSAVE:\n%s", s.bin, s.logTail(20))
	}
	if !s.cmd.ProcessState.Success() {
		tb.Fatalf("%s exited with %v after SHUTDOWN NOSAVE:\n%s", s.bin, s.cmd.ProcessState, s.logTail(20))
	}
	s.cmd = nil
}

// newRunnelBench is a runnel data directory and port, not started yet.
// Automatic checkpoints are off (in Redis too, automatic AOF rewrites), so
// that neither server spends part of a measurement on one.
func newRunnelBench(tb testing.TB, bin, policy string) *crashServer {
	tb.Helper()
	return newRestartableServer(tb, bin, func(port, dir string) []string {
		return []string{"--port", port, "--dir", dir, "--appendfsync", policy,
			"--auto-aof-rewrite-percentage", "0"}
	})
}

// newRedisBench is a redis-server with appendonly yes under policy, on a
// directory and port of its own, not started yet.
func newRedisBench(tb testing.TB, bin, policy string) *crashServer {
	tb.Helper()
	return newRestartableServer(tb, bin, func(port, dir string) []string {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatal(err)
		}
		return []string{"--port", port, "--bind", "127.0.0.1", "--dir", dir,
			"--appendonly", "yes", "--appendfsync", policy, "--save", "",
			"--auto-aof-rewrite-percentage", "0"}
	})
}

// redisServerBin finds redis-server: without it the benchmark is skipped,
// or fails under RUNNEL_REQUIRE_REDIS=1.
func redisServerBin(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "redis-server not found: install Debian's redis-server (apt-get install redis-server)"
		if redistest.RequireRedis() {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return p
}
