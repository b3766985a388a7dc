package main

// The compare subcommand: Runnel against redis-server on issue 5's target
// workloads, side by side, as a markdown table.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runnel-io/runnel/internal/loadgen"
)

const compareUsageHead = `Usage: runnel-bench compare [flags]

Runs issue 5's workloads on redis-server and on Runnel, side by side, and
prints a markdown table of medians with the Runnel/Redis ratio, the target
(issue 5's, or "—" for a row shown only for comparison) and whether it is met,
preceded by the machine, the date, the commit and the command line (--out
writes the same markdown to a file, e.g. BENCHMARKS.md).

redis-server is taken from PATH; nothing is installed: without it, compare
says what to install and exits 2. Runnel is the binary given by --runnel, or
./cmd/runnel built once with go build. For each workload (for each run of
memory-1m, whose RSS must start from a new process), both servers are
started on free loopback ports, each with a data directory of its own in a
temporary directory (Redis with appendonly yes and save '', both with automatic
AOF rewrites off and maxclients 20000), and the workload runs on Redis, Runnel,
Redis, Runnel... --runs times each, on a fresh key each time, deleted after
the run. The servers are stopped and the temporary directory removed at the
end, also on error or interrupt. Progress (every run's one-line result) goes
to stderr. The exit status is 0 when every run succeeded, whether or not the
targets are met; 1 when one failed.

The measuring connection and every client a workload opens count against the
open files limit (ulimit -n): idle-10k raises the soft limit to the hard one
and says so when even that is too low; both servers get maxclients 20000.

Workloads (durations are --duration × --scale, sizes are multiplied by
--scale too):
`

const redisMissing = "redis-server not found on PATH: install Debian's redis-server (apt-get install redis-server) and run again"

// workload is one row of the comparison.
type workload struct {
	name        string
	about       string
	runnelFsync string // appendfsync of each server
	redisFsync  string
	freshRuns   bool // new servers for every run, not just every workload
	metrics     []metric
	// size says what one run is at a scale, for the Method line.
	size func(s sizing) string
	run  func(ctx context.Context, addr, key string, s sizing) (*loadgen.Result, error)
	// cleanup frees what a run left on the server; nil: DEL key.
	cleanup func(ctx context.Context, addr, key string, s sizing) error
}

// sizing is how long (or how much) each run is.
type sizing struct {
	duration time.Duration // --duration × --scale
	scale    float64
}

// scaled returns v × scale, at least lo.
func (s sizing) scaled(v, lo int64) int64 { return max(lo, int64(float64(v)*s.scale)) }

// scaledDur returns d × scale, at least lo.
func (s sizing) scaledDur(d, lo time.Duration) time.Duration {
	return max(lo, time.Duration(float64(d)*s.scale))
}

func runsOf(s sizing) string { return "runs of " + s.duration.String() }

func produceRun(conns, pipeline int) func(context.Context, string, string, sizing) (*loadgen.Result, error) {
	return func(ctx context.Context, addr, key string, s sizing) (*loadgen.Result, error) {
		return loadgen.Produce(ctx, loadgen.ProduceOptions{
			Addr: addr, Key: key, Conns: conns, Pipeline: pipeline, Size: 64, Fields: 1, Duration: s.duration,
		})
	}
}

// Sizes at scale 1 (each is multiplied by --scale, with the floor given).
const (
	consumeEntries = 200_000
	fanOutEntries  = 100_000
	manyStreams    = 10_000
	memoryEntries  = 1_000_000
	idleClients    = 10_000
	idleWindow     = 10 * time.Second
)

func (s sizing) consumeN() int64             { return s.scaled(consumeEntries, 100) }
func (s sizing) fanOutN() int64              { return s.scaled(fanOutEntries, 100) }
func (s sizing) streams() int                { return int(s.scaled(manyStreams, 100)) }
func (s sizing) memoryN() int64              { return s.scaled(memoryEntries, 10_000) }
func (s sizing) memoryStable() time.Duration { return s.scaledDur(time.Second, 100*time.Millisecond) }
func (s sizing) idleClients() int            { return int(s.scaled(idleClients, 100)) }
func (s sizing) idleWindow() time.Duration   { return s.scaledDur(idleWindow, 200*time.Millisecond) }
func (s sizing) idleSettle() time.Duration   { return s.scaledDur(time.Second, 100*time.Millisecond) }

// latencyRun is the end-to-end latency workload of issue 5's table.
func latencyRun(ctx context.Context, addr, key string, s sizing) (*loadgen.Result, error) {
	return loadgen.Latency(ctx, loadgen.LatencyOptions{
		Addr: addr, Key: key, Rate: 5000, Consumers: 2, Size: 64, Duration: s.duration,
	})
}

var compareWorkloads = []*workload{
	{
		name:  "xadd-c50-p1",
		about: "XADD of one 64-byte field, 50 connections, no pipeline; each server at its default (Runnel appendfsync always, Redis everysec)",
		// Runnel's default against Redis's usual AOF setting.
		runnelFsync: "always", redisFsync: "everysec", metrics: throughput(ratioTarget(1.0)), size: runsOf, run: produceRun(50, 1),
	},
	{
		name:        "xadd-c50-p16",
		about:       "XADD of one 64-byte field, 50 connections, pipeline 16; both appendfsync everysec",
		runnelFsync: "everysec", redisFsync: "everysec", metrics: throughput(ratioTarget(1.2)), size: runsOf, run: produceRun(50, 16),
	},
	{
		name:        "xadd-c50-always",
		about:       "XADD of one 64-byte field, 50 connections, no pipeline; both appendfsync always",
		runnelFsync: "always", redisFsync: "always", metrics: throughput(ratioTarget(1.5)), size: runsOf, run: produceRun(50, 1),
	},
	{
		name:        "consume-2x4",
		about:       "200,000 × scale entries pre-filled (not timed), 2 groups × 4 consumers loop XREADGROUP COUNT 100 + XACK; Runnel appendfsync always, Redis everysec",
		runnelFsync: "always", redisFsync: "everysec", metrics: throughput(ratioTarget(1.2)),
		size: func(s sizing) string { return fmt.Sprintf("%d entries", s.consumeN()) },
		run: func(ctx context.Context, addr, key string, s sizing) (*loadgen.Result, error) {
			return loadgen.Consume(ctx, loadgen.ConsumeOptions{
				Addr: addr, Key: key, N: s.consumeN(), Groups: 2, Consumers: 4, Count: 100,
				Size: 64, Fields: 1, Pipeline: 256,
			})
		},
	},
	{
		name:        "latency-5k",
		about:       "5,000 msg/s from one producer, 2 consumers of one group blocked in XREADGROUP (+ XACK); end-to-end p99 and p99.9; each server at its default (Runnel appendfsync always, Redis everysec): every Runnel entry is fsynced before it is delivered, no Redis one",
		runnelFsync: "always", redisFsync: "everysec", metrics: latencyMetrics(ratioTarget(1.0)), size: runsOf,
		run: latencyRun,
	},
	{
		// The same durability on both sides: what the servers add to the
		// disk's latency, and what they add without it.
		name:        "latency-5k-always",
		about:       "as latency-5k, both appendfsync always (both fsync every entry before delivering it)",
		runnelFsync: "always", redisFsync: "always", metrics: latencyMetrics(ratioTarget(1.0)), size: runsOf,
		run: latencyRun,
	},
	{
		name:        "latency-5k-everysec",
		about:       "as latency-5k, both appendfsync everysec",
		runnelFsync: "everysec", redisFsync: "everysec", metrics: latencyMetrics(ratioTarget(1.0)), size: runsOf,
		run: latencyRun,
	},
	{
		name: "fanout-8x2",
		about: "one producer sends 100,000 × scale entries (at least 100; a timestamp and one 64-byte field), 16 XADDs per write as fast as replies come, " +
			"to one stream read by 8 groups × 2 consumers looping XREADGROUP COUNT 100 BLOCK 100 + XACK; messages delivered per second, " +
			"all groups together, from the first XADD to the last delivery; every group must get every entry and leave none pending; both appendfsync everysec",
		runnelFsync: "everysec", redisFsync: "everysec", metrics: throughput(noTarget),
		size: func(s sizing) string { return fmt.Sprintf("%d entries", s.fanOutN()) },
		run: func(ctx context.Context, addr, key string, s sizing) (*loadgen.Result, error) {
			return loadgen.FanOut(ctx, loadgen.FanOutOptions{
				Addr: addr, Key: key, N: s.fanOutN(), Groups: 8, Consumers: 2, Count: 100, Size: 64, Pipeline: 16,
			})
		},
	},
	{
		name: "streams-10k",
		about: "10,000 × scale streams (at least 100), each created with one group (not timed); 8 producer connections send 16 XADDs " +
			"(one 64-byte field) per write, each to a random stream, while 8 consumer connections send 16 XREADGROUP COUNT 10 (no BLOCK) " +
			"per write, each on a random stream, and XACK what they got in their next write; ops = entries added + messages delivered, per second; " +
			"the streams must hold every entry added and nothing be left pending; both appendfsync everysec",
		runnelFsync: "everysec", redisFsync: "everysec", metrics: throughput(noTarget),
		size: func(s sizing) string { return fmt.Sprintf("%d streams, runs of %v", s.streams(), s.duration) },
		run: func(ctx context.Context, addr, key string, s sizing) (*loadgen.Result, error) {
			return loadgen.ManyStreams(ctx, loadgen.ManyStreamsOptions{
				Addr: addr, Prefix: key, Streams: s.streams(), Producers: 8, Consumers: 8, Pipeline: 16, Count: 10,
				Size: 64, Fields: 1, Duration: s.duration,
			})
		},
		cleanup: func(ctx context.Context, addr, key string, s sizing) error {
			return loadgen.DeleteStreams(ctx, addr, key, s.streams())
		},
	},
	{
		name: "memory-1m",
		about: "new servers for every run; RSS (INFO memory used_memory_rss) read after DEL, after 1,000,000 × scale entries (at least 10,000) " +
			"of 4 fields × 16-byte random values (base64url characters; field names from 4 event schemas, drawn per entry) added 256 XADDs per write, and after all of them " +
			"were delivered to one consumer and left pending (XREADGROUP COUNT 1000, 4 per write); each reading after MEMORY PURGE, once RSS " +
			"readings 100 ms apart have spanned at most 0.1% of it (64 KiB if more) over 1 s × scale (at least 0.1 s; waiting at most 30 s); bytes per entry and per pending " +
			"entry are the RSS growths over the entry count; Runnel appendfsync always, Redis everysec",
		runnelFsync: "always", redisFsync: "everysec", freshRuns: true,
		metrics: []metric{
			{name: "per entry", get: func(r *loadgen.Result) float64 { return r.Memory.BytesPerEntry }, format: formatBytes, target: ratioTarget(1.0)},
			{name: "per pending", get: func(r *loadgen.Result) float64 { return r.Memory.BytesPerPending }, format: formatBytes, target: ratioTarget(0.5)},
		},
		size: func(s sizing) string {
			return fmt.Sprintf("%d entries, RSS stable over %v", s.memoryN(), s.memoryStable())
		},
		run: func(ctx context.Context, addr, key string, s sizing) (*loadgen.Result, error) {
			return loadgen.Memory(ctx, loadgen.MemoryOptions{
				Addr: addr, Key: key, N: s.memoryN(), Size: 16, Schemas: 4, Pipeline: 256, Count: 1000,
				Settle: 30 * time.Second, Stable: s.memoryStable(),
			})
		},
	},
	{
		name: "idle-10k",
		about: "10,000 × scale clients (at least 100), each its own connection, blocked in XREADGROUP BLOCK 0 on one empty stream's group " +
			"(different consumer names); once all are in blocked_clients and 1 s × scale (at least 0.1 s) has passed, the server's CPU " +
			"(INFO cpu used_cpu_sys + used_cpu_user) over 10 s × scale (at least 0.2 s), in % of one core; the target judges Runnel alone, " +
			"Redis is for reference; Runnel appendfsync always, Redis everysec",
		runnelFsync: "always", redisFsync: "everysec",
		metrics: []metric{{get: func(r *loadgen.Result) float64 { return r.Idle.CPUPercent }, format: formatCPU, target: runnelTarget(1)}},
		size: func(s sizing) string {
			return fmt.Sprintf("%d clients, CPU over %v", s.idleClients(), s.idleWindow())
		},
		run: func(ctx context.Context, addr, key string, s sizing) (*loadgen.Result, error) {
			return loadgen.Idle(ctx, loadgen.IdleOptions{
				Addr: addr, Key: key, Clients: s.idleClients(), Window: s.idleWindow(), Settle: s.idleSettle(),
			})
		},
	},
}

// metric is one measured quantity of a workload, with its target.
type metric struct {
	name         string // prefix in table cells; "" for a workload's only metric
	higherBetter bool
	get          func(*loadgen.Result) float64
	format       func(float64) string
	target       target
}

// target is what a metric must reach.
type target struct {
	kind  targetKind
	value float64
}

type targetKind int

const (
	targetNone     targetKind = iota // shown, not judged
	targetRatio                      // Runnel/Redis at least value (higher is better) or at most value
	targetAbsolute                   // Runnel's own value above value (higher is better) or below it; Redis's is for reference
)

var noTarget = target{}

// ratioTarget: Runnel/Redis ≥ v when higher is better, ≤ v otherwise.
func ratioTarget(v float64) target { return target{targetRatio, v} }

// runnelTarget: Runnel's value > v when higher is better, < v otherwise.
func runnelTarget(v float64) target { return target{targetAbsolute, v} }

func throughput(t target) []metric {
	return []metric{{higherBetter: true, get: func(r *loadgen.Result) float64 { return r.OpsPerSec }, format: formatOps, target: t}}
}

func latencyMetrics(t target) []metric {
	return []metric{
		{name: "p99", get: func(r *loadgen.Result) float64 { return float64(r.P99) }, format: formatUs, target: t},
		{name: "p99.9", get: func(r *loadgen.Result) float64 { return float64(r.P999) }, format: formatUs, target: t},
	}
}

// targetText is the metric's target as the table shows it, without the
// metric's name; "" when it has none.
func (m metric) targetText() string {
	switch m.target.kind {
	case targetRatio:
		op := "≤"
		if m.higherBetter {
			op = "≥"
		}
		return fmt.Sprintf("%s %.1f×", op, m.target.value)
	case targetAbsolute:
		op := "<"
		if m.higherBetter {
			op = ">"
		}
		return fmt.Sprintf("Runnel %s %s", op, m.format(m.target.value))
	}
	return ""
}

// targetText is the target column: "—" when nothing is judged, one phrase
// for metrics sharing a target ("p99 and p99.9 ≤ 1.0×"), else one per
// metric.
func (w *workload) targetText() string {
	var names, parts []string
	first, same := "", true
	for _, m := range w.metrics {
		t := m.targetText()
		if t == "" {
			continue
		}
		if first == "" {
			first = t
		}
		same = same && t == first
		names = append(names, m.name)
		parts = append(parts, strings.TrimSpace(m.name+" "+t))
	}
	switch {
	case len(parts) == 0:
		return "—"
	case same && len(parts) == len(w.metrics):
		return strings.TrimSpace(strings.Join(names, " and ") + " " + first)
	}
	return strings.Join(parts, ", ")
}

// comparison is the outcome of one metric: medians, Runnel/Redis ratio and,
// when the metric has a target, whether it is met (false when the figure
// it judges is undefined).
type comparison struct {
	redis, runnel, ratio float64
	judged, met          bool
}

func compareMetric(m metric, redis, runnel []float64) comparison {
	c := comparison{redis: median(redis), runnel: median(runnel)}
	c.ratio = ratioOf(c.runnel, c.redis)
	v := c.ratio
	switch m.target.kind {
	case targetNone:
		return c
	case targetAbsolute:
		v = c.runnel
	}
	c.judged = true
	if math.IsNaN(v) {
		return c
	}
	switch {
	case m.higherBetter && m.target.kind == targetAbsolute:
		c.met = v > m.target.value
	case m.higherBetter:
		c.met = v >= m.target.value
	case m.target.kind == targetAbsolute:
		c.met = v < m.target.value
	default:
		c.met = v <= m.target.value
	}
	return c
}

// median returns the median of xs (the mean of the middle two for an even
// count), NaN for none. xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratioOf returns runnel/redis, NaN unless both are finite and redis > 0.
func ratioOf(runnel, redis float64) float64 {
	if !(redis > 0) || math.IsNaN(runnel) || math.IsInf(runnel, 0) || math.IsInf(redis, 0) {
		return math.NaN()
	}
	return runnel / redis
}

// row is one line of the table.
type row struct {
	workload, redis, runnel, ratio, target, met string
}

// summarize turns the runs of a workload into its table row.
func summarize(w *workload, redis, runnel []*loadgen.Result) row {
	var cells [3][]string
	met, judged := true, false
	for _, m := range w.metrics {
		values := func(rs []*loadgen.Result) []float64 {
			v := make([]float64, len(rs))
			for i, r := range rs {
				v[i] = m.get(r)
			}
			return v
		}
		c := compareMetric(m, values(redis), values(runnel))
		judged = judged || c.judged
		met = met && (c.met || !c.judged)
		prefix := ""
		if m.name != "" {
			prefix = m.name + " "
		}
		cells[0] = append(cells[0], prefix+m.format(c.redis))
		cells[1] = append(cells[1], prefix+m.format(c.runnel))
		cells[2] = append(cells[2], prefix+formatRatio(c.ratio))
	}
	r := row{workload: w.name, target: w.targetText(), met: "no"}
	r.redis, r.runnel, r.ratio = strings.Join(cells[0], ", "), strings.Join(cells[1], ", "), strings.Join(cells[2], ", ")
	switch {
	case !judged:
		r.met = "—"
	case met:
		r.met = "yes"
	}
	return r
}

func formatOps(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " ops/s"
}

// formatUs formats microseconds as milliseconds with 3 significant digits.
func formatUs(us float64) string {
	if math.IsNaN(us) {
		return "n/a"
	}
	ms := us / 1000
	if ms >= 100 {
		return strconv.FormatFloat(ms, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(ms, 'g', 3, 64) + " ms"
}

// formatBytes formats bytes with 3 significant digits (whole bytes from 100).
func formatBytes(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return sigDigits(v) + " B"
}

// formatCPU formats a CPU share in % of one core, as formatBytes.
func formatCPU(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return sigDigits(v) + "% of a core"
}

// sigDigits formats v with 3 significant digits, or as a whole number from
// 100 on.
func sigDigits(v float64) string {
	if math.Abs(v) >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func formatRatio(r float64) string {
	if math.IsNaN(r) {
		return "n/a"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "×"
}

// compareConfig is what the flags say.
type compareConfig struct {
	runs      int
	scale     float64
	duration  time.Duration
	only      []*workload
	out       string
	runnelBin string
	tmpDir    string
}

// runCompare is `runnel-bench compare`. Its exit status is 0 when every
// run succeeded (whether or not the targets are met), 1 when one failed, 2
// for bad usage or a missing redis-server.
func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("runnel-bench compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), compareUsageHead)
		for _, w := range compareWorkloads {
			fmt.Fprintf(fs.Output(), "  %-16s %s; target %s\n", w.name, w.about, w.targetText())
		}
		fmt.Fprint(fs.Output(), "\nFlags:\n")
		fs.PrintDefaults()
	}
	var (
		cfg  compareConfig
		only string
	)
	fs.IntVar(&cfg.runs, "runs", 3, "runs per server and workload (the table shows medians)")
	fs.Float64Var(&cfg.scale, "scale", 1, "multiplies the size of every run: durations, entries, streams, clients, the memory and idle windows (with the floors the workloads list)")
	fs.DurationVar(&cfg.duration, "duration", 8*time.Second, "length of a produce, latency or streams run at scale 1")
	fs.StringVar(&only, "only", "", "comma-separated workloads to run (default: all)")
	fs.StringVar(&cfg.out, "out", "", "also write the markdown to `file` (e.g. BENCHMARKS.md)")
	fs.StringVar(&cfg.runnelBin, "runnel", "", "runnel `binary` (default: go build ./cmd/runnel into the temporary directory)")
	fs.StringVar(&cfg.tmpDir, "tmpdir", "", "`directory` for the servers' data directories (default: $TMPDIR or /tmp); its disk is what fsync measures")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "runnel-bench compare: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usageErr("unexpected argument %q", fs.Arg(0))
	case cfg.runs < 1:
		return usageErr("--runs must be at least 1")
	case !(cfg.scale > 0) || math.IsInf(cfg.scale, 0):
		return usageErr("--scale must be positive")
	case cfg.duration <= 0:
		return usageErr("--duration must be positive")
	}
	var err error
	if cfg.only, err = selectWorkloads(only); err != nil {
		return usageErr("%v", err)
	}
	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		fmt.Fprintln(stderr, "runnel-bench compare: "+redisMissing)
		return 2
	}
	if cfg.runnelBin != "" {
		if _, err := os.Stat(cfg.runnelBin); err != nil {
			return usageErr("--runnel: %v", err)
		}
	}

	md, err := compare(ctx, &cfg, redisBin, commandLine(args), stderr)
	if err != nil {
		fmt.Fprintf(stderr, "runnel-bench compare: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, md)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(md), 0o644); err != nil {
			fmt.Fprintf(stderr, "runnel-bench compare: %v\n", err)
			return 1
		}
	}
	return 0
}

// selectWorkloads returns the workloads named in the comma-separated list,
// in table order; all of them for "".
func selectWorkloads(list string) ([]*workload, error) {
	if strings.TrimSpace(list) == "" {
		return compareWorkloads, nil
	}
	want := map[string]bool{}
	for n := range strings.SplitSeq(list, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !slices.ContainsFunc(compareWorkloads, func(w *workload) bool { return w.name == n }) {
			names := make([]string, len(compareWorkloads))
			for i, w := range compareWorkloads {
				names[i] = w.name
			}
			return nil, fmt.Errorf("unknown workload %q in --only (want some of %s)", n, strings.Join(names, ", "))
		}
		want[n] = true
	}
	var ws []*workload
	for _, w := range compareWorkloads {
		if want[w.name] {
			ws = append(ws, w)
		}
	}
	if len(ws) == 0 {
		return nil, errors.New("--only names no workload")
	}
	return ws, nil
}

// compare runs the selected workloads and returns the report. Progress
// goes to progress, one line per run.
func compare(ctx context.Context, cfg *compareConfig, redisBin, cmdline string, progress io.Writer) (_ string, err error) {
	root, err := os.MkdirTemp(cfg.tmpDir, "runnel-compare-")
	if err != nil {
		return "", err
	}
	defer func() {
		if rerr := os.RemoveAll(root); rerr != nil && err == nil {
			err = rerr
		}
	}()
	runnelBin := cfg.runnelBin
	if runnelBin == "" {
		runnelBin = filepath.Join(root, "runnel")
		fmt.Fprintf(progress, "building %s\n", runnelBin)
		out, err := exec.CommandContext(ctx, "go", "build", "-o", runnelBin, "github.com/runnel-io/runnel/cmd/runnel").CombinedOutput()
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if err != nil {
			return "", fmt.Errorf("go build ./cmd/runnel (or pass --runnel BIN): %v\n%s", err, out)
		}
	}
	started := time.Now().UTC()
	sz := sizing{duration: time.Duration(float64(cfg.duration) * cfg.scale), scale: cfg.scale}
	sz.duration = max(sz.duration, time.Millisecond)

	var rows []row
	var details []string
	for _, w := range cfg.only {
		redis, runnel, err := runWorkload(ctx, w, cfg.runs, sz, root, redisBin, runnelBin, progress)
		if err != nil {
			return "", err
		}
		rows = append(rows, summarize(w, redis, runnel))
		details = append(details, runDetails(w, redis, runnel))
	}

	var b strings.Builder
	b.WriteString("## Runnel vs redis-server\n\n")
	for _, f := range machineFacts(ctx, redisBin, runnelBin, root, started) {
		fmt.Fprintf(&b, "- %s\n", f)
	}
	fmt.Fprintf(&b, "- Command: `%s`\n", cmdline)
	fmt.Fprintf(&b, "- Method: %s\n\n", method(cfg.only, cfg.runs, sz))
	b.WriteString("| workload | Redis median | Runnel median | ratio | target | met? |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.workload, r.redis, r.runnel, r.ratio, r.target, r.met)
	}
	b.WriteString("\n" + legend + "\n\nWorkloads:\n\n")
	for _, w := range cfg.only {
		fmt.Fprintf(&b, "- `%s`: %s.\n", w.name, w.about)
	}
	b.WriteString("\nEvery run, in order:\n\n")
	for _, d := range details {
		fmt.Fprintf(&b, "- %s\n", d)
	}
	return b.String(), nil
}

// legend explains the ratio and target columns.
const legend = "Ratio = Runnel / Redis: higher is better for throughput (ops/s), lower for latency, memory (bytes) and CPU. " +
	"A target in × is on that ratio; \"Runnel < ...\" judges Runnel's own figure (Redis's is shown for reference); " +
	"\"—\": shown for comparison, not judged."

// method is the Method line: how the runs were arranged and, at this
// scale, how big each selected workload's runs were.
func method(ws []*workload, runs int, sz sizing) string {
	var sizes []string
	fresh := false
	for _, w := range ws {
		sizes = append(sizes, fmt.Sprintf("%s %s", w.name, w.size(sz)))
		fresh = fresh || w.freshRuns
	}
	servers := "fresh servers per workload"
	if fresh {
		var names []string
		for _, w := range ws {
			if w.freshRuns {
				names = append(names, w.name)
			}
		}
		servers += " (per run for " + strings.Join(names, ", ") + ")"
	}
	return fmt.Sprintf("each workload on redis-server, Runnel, redis-server, Runnel... %d time(s) each (%s, "+
		"both with maxclients %d, a fresh key per run, deleted after it); medians; at scale %g: %s",
		runs, servers, compareMaxClients, sz.scale, strings.Join(sizes, "; "))
}

// compareMaxClients is both servers' maxclients: room for idle-10k's
// clients and the measuring connection. Redis lowers it to what its open
// files limit allows, and says so in its log.
const compareMaxClients = 20000

// runWorkload runs w alternately on a redis-server and a Runnel started
// with w's settings, runs times each: the same two servers for every run,
// or new ones for each run when w.freshRuns.
func runWorkload(ctx context.Context, w *workload, runs int, sz sizing, root, redisBin, runnelBin string, progress io.Writer) (redis, runnel []*loadgen.Result, err error) {
	var rd, rn *server
	stopBoth := func() {
		for _, s := range []*server{rd, rn} {
			if s != nil {
				s.stop()
				if w.freshRuns { // the next run has its own directories
					_ = os.RemoveAll(s.base)
				}
			}
		}
		rd, rn = nil, nil
	}
	defer stopBoth()
	maxClients := strconv.Itoa(compareMaxClients)
	for i := range runs {
		if i == 0 || w.freshRuns {
			stopBoth()
			suffix := ""
			if w.freshRuns {
				suffix = fmt.Sprintf("-%d", i+1)
			}
			rd, err = startServer(ctx, "redis", redisBin, filepath.Join(root, w.name+"-redis"+suffix), func(port, dir string) []string {
				return []string{"--port", port, "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "no",
					"--appendonly", "yes", "--appendfsync", w.redisFsync, "--save", "",
					"--auto-aof-rewrite-percentage", "0", "--maxclients", maxClients}
			})
			if err != nil {
				return nil, nil, err
			}
			rn, err = startServer(ctx, "runnel", runnelBin, filepath.Join(root, w.name+"-runnel"+suffix), func(port, dir string) []string {
				return []string{"--port", port, "--bind", "127.0.0.1", "--dir", dir,
					"--appendfsync", w.runnelFsync, "--auto-aof-rewrite-percentage", "0", "--maxclients", maxClients}
			})
			if err != nil {
				return nil, nil, err
			}
		}
		for _, s := range []*server{rd, rn} {
			key := fmt.Sprintf("runnel-bench:compare:%s:%d", w.name, i)
			r, err := w.run(ctx, s.addr, key, sz)
			if err != nil {
				return nil, nil, fmt.Errorf("%s on %s, run %d: %w%s", w.name, s.name, i+1, err, s.exitNote())
			}
			fmt.Fprintf(progress, "%s run %d/%d %s: %v\n", w.name, i+1, runs, s.name, r)
			if s == rd {
				redis = append(redis, r)
			} else {
				runnel = append(runnel, r)
			}
			// Free the memory (not the log) before the next run.
			cleanup := w.cleanup
			if cleanup == nil {
				cleanup = func(ctx context.Context, addr, key string, _ sizing) error { return deleteKey(ctx, addr, key) }
			}
			if err := cleanup(ctx, s.addr, key, sz); err != nil {
				return nil, nil, fmt.Errorf("%s on %s: DEL: %w", w.name, s.name, err)
			}
		}
	}
	return redis, runnel, nil
}

// runDetails lists the value of every run of w, Redis and Runnel in run order.
func runDetails(w *workload, redis, runnel []*loadgen.Result) string {
	list := func(rs []*loadgen.Result) string {
		var parts []string
		for _, r := range rs {
			var ms []string
			for _, m := range w.metrics {
				ms = append(ms, m.format(m.get(r)))
			}
			parts = append(parts, strings.Join(ms, " / "))
		}
		return strings.Join(parts, "; ")
	}
	return fmt.Sprintf("`%s`: Redis %s. Runnel %s.", w.name, list(redis), list(runnel))
}

func deleteKey(ctx context.Context, addr, key string) error {
	c, err := loadgen.Dial(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	return c.Do("DEL", key)
}

// server is a redis-server or runnel process started by compare.
type server struct {
	name    string
	base    string // its log is base.log, its data base/
	addr    string
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
}

// startServer starts bin with args(port, dataDir) on a free loopback port,
// logging to base.log, with its data in base/, and waits until it answers
// PING with something other than -LOADING.
func startServer(ctx context.Context, name, bin, base string, args func(port, dir string) []string) (*server, error) {
	dir := filepath.Join(base, "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &server{name: name, base: base, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), logPath: base + ".log", exited: make(chan struct{})}
		f, err := os.Create(s.logPath)
		if err != nil {
			return nil, err
		}
		s.cmd = exec.Command(bin, args(strconv.Itoa(port), dir)...)
		s.cmd.Dir = base
		s.cmd.Stdout, s.cmd.Stderr = f, f
		err = s.cmd.Start()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		go func() { _ = s.cmd.Wait(); close(s.exited) }()
		err = s.waitReady(ctx, 30*time.Second)
		if err == nil {
			return s, nil
		}
		s.stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if attempt < 3 && strings.Contains(strings.ToLower(s.logTail()), "address already in use") {
			continue
		}
		return nil, fmt.Errorf("start %s (%s %s): %w; last lines of its log:\n%s", name, bin, strings.Join(s.cmd.Args[1:], " "), err, s.logTail())
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("exited: %v", s.cmd.ProcessState)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		err := ping(ctx, s.addr)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ping sends PING on a new connection; an error reply (-LOADING) is an
// error.
func ping(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c, err := loadgen.Dial(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	return c.Do("PING")
}

// stop kills the server (its data is thrown away) and waits for it.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// exitNote says whether the server died, for error messages.
func (s *server) exitNote() string {
	select {
	case <-s.exited:
		return fmt.Sprintf(" (%s exited: %v; last lines of its log:\n%s)", s.name, s.cmd.ProcessState, s.logTail())
	default:
		return ""
	}
}

// logTail returns the last lines of the server's log.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// machineFacts describes where and what was measured.
func machineFacts(ctx context.Context, redisBin, runnelBin, dataDir string, date time.Time) []string {
	cpu := "unknown model"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	kernel := "unknown"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	facts := []string{
		"Date: " + date.Format(time.RFC3339),
		"Commit: " + gitCommit(ctx),
		fmt.Sprintf("CPU: %d × %s", runtime.NumCPU(), cpu),
		fmt.Sprintf("Kernel: %s %s", runtime.GOOS, kernel),
		fmt.Sprintf("Go: %s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH),
		"redis-server: " + commandOutput(ctx, redisBin, "--version"),
		"Runnel: " + commandOutput(ctx, runnelBin, "--version"),
		fmt.Sprintf("Data directories: under %s (%s)", filepath.Dir(dataDir), fsType(dataDir)),
	}
	return facts
}

// commandOutput returns the first line of bin's output for args.
func commandOutput(ctx context.Context, bin string, args ...string) string {
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// gitCommit returns HEAD's commit, marked when the work tree differs from
// it, or "unknown" outside a git checkout. It only reads the repository.
func gitCommit(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if err := exec.CommandContext(ctx, "git", "diff", "--quiet", "HEAD", "--").Run(); err != nil {
		c += " (with uncommitted changes)"
	}
	return c
}

// fsType returns the file system type of the mount holding dir, from
// /proc/mounts ("unknown file system" where that is unavailable).
func fsType(dir string) string {
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "unknown file system"
	}
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	best, typ := "", "unknown file system"
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		mnt := f[1]
		if (dir == mnt || strings.HasPrefix(dir, strings.TrimSuffix(mnt, "/")+"/")) && len(mnt) >= len(best) {
			best, typ = mnt, f[2]
		}
	}
	if typ == "tmpfs" {
		typ += ": fsync costs nothing there; use --tmpdir on a disk"
	}
	return typ
}

// commandLine is the command as it was typed, shell-quoted.
func commandLine(args []string) string {
	prog := os.Args[0]
	if strings.Contains(prog, "go-build") { // go run
		prog = "go run ./cmd/runnel-bench"
	}
	parts := []string{prog, "compare"}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
