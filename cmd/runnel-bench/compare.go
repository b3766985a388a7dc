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

Runs issue 5's target workloads on redis-server and on Runnel, side by side,
and prints a markdown table of medians with the Runnel/Redis ratio, the target
and whether it is met, preceded by the machine, the date, the commit and the
command line (--out writes the same markdown to a file, e.g. BENCHMARKS.md).

redis-server is taken from PATH; nothing is installed: without it, compare
says what to install and exits 2. Runnel is the binary given by --runnel, or
./cmd/runnel built once with go build. For each workload, both servers are
started on free loopback ports, each with a data directory of its own in a
temporary directory (Redis with appendonly yes and save '', both with automatic
AOF rewrites off), and the workload runs on Redis, Runnel, Redis, Runnel...
--runs times each, on a fresh key each time. The servers are stopped and the
temporary directory removed at the end, also on error or interrupt. Progress
(every run's one-line result) goes to stderr. The exit status is 0 when every
run succeeded, whether or not the targets are met; 1 when one failed.

Workloads (durations are --duration × --scale):
`

const redisMissing = "redis-server not found on PATH: install Debian's redis-server (apt-get install redis-server) and run again"

// workload is one row of the comparison.
type workload struct {
	name        string
	about       string
	runnelFsync string // appendfsync of each server
	redisFsync  string
	latency     bool    // compare p99 and p99.9, lower is better; otherwise ops/s, higher is better
	target      float64 // throughput: Runnel/Redis >= target; latency: each ratio <= target
	run         func(ctx context.Context, addr, key string, s sizing) (*loadgen.Result, error)
}

// sizing is how long (or how much) each run is.
type sizing struct {
	duration time.Duration // --duration × --scale
	scale    float64
}

func produceRun(conns, pipeline int) func(context.Context, string, string, sizing) (*loadgen.Result, error) {
	return func(ctx context.Context, addr, key string, s sizing) (*loadgen.Result, error) {
		return loadgen.Produce(ctx, loadgen.ProduceOptions{
			Addr: addr, Key: key, Conns: conns, Pipeline: pipeline, Size: 64, Fields: 1, Duration: s.duration,
		})
	}
}

// consumeEntries is the consume workload's stream length at scale 1.
const consumeEntries = 200_000

var compareWorkloads = []*workload{
	{
		name:  "xadd-c50-p1",
		about: "XADD of one 64-byte field, 50 connections, no pipeline; each server at its default (Runnel appendfsync always, Redis everysec)",
		// Runnel's default against Redis's usual AOF setting.
		runnelFsync: "always", redisFsync: "everysec", target: 1.0, run: produceRun(50, 1),
	},
	{
		name:        "xadd-c50-p16",
		about:       "XADD of one 64-byte field, 50 connections, pipeline 16; both appendfsync everysec",
		runnelFsync: "everysec", redisFsync: "everysec", target: 1.2, run: produceRun(50, 16),
	},
	{
		name:        "xadd-c50-always",
		about:       "XADD of one 64-byte field, 50 connections, no pipeline; both appendfsync always",
		runnelFsync: "always", redisFsync: "always", target: 1.5, run: produceRun(50, 1),
	},
	{
		name:        "consume-2x4",
		about:       "200,000 × scale entries pre-filled (not timed), 2 groups × 4 consumers loop XREADGROUP COUNT 100 + XACK; Runnel appendfsync always, Redis everysec",
		runnelFsync: "always", redisFsync: "everysec", target: 1.2,
		run: func(ctx context.Context, addr, key string, s sizing) (*loadgen.Result, error) {
			return loadgen.Consume(ctx, loadgen.ConsumeOptions{
				Addr: addr, Key: key, N: max(100, int64(consumeEntries*s.scale)), Groups: 2, Consumers: 4, Count: 100,
				Size: 64, Fields: 1, Pipeline: 256,
			})
		},
	},
	{
		name:        "latency-5k",
		about:       "5,000 msg/s from one producer, 2 consumers of one group blocked in XREADGROUP (+ XACK); end-to-end p99 and p99.9; Runnel appendfsync always, Redis everysec",
		runnelFsync: "always", redisFsync: "everysec", latency: true, target: 1.0,
		run: func(ctx context.Context, addr, key string, s sizing) (*loadgen.Result, error) {
			return loadgen.Latency(ctx, loadgen.LatencyOptions{
				Addr: addr, Key: key, Rate: 5000, Consumers: 2, Size: 64, Duration: s.duration,
			})
		},
	},
}

// metric is one measured quantity of a workload.
type metric struct {
	name         string // prefix in table cells; "" for the one throughput metric
	higherBetter bool
	get          func(*loadgen.Result) float64
	format       func(float64) string
}

func (w *workload) metrics() []metric {
	if w.latency {
		return []metric{
			{name: "p99", get: func(r *loadgen.Result) float64 { return float64(r.P99) }, format: formatUs},
			{name: "p99.9", get: func(r *loadgen.Result) float64 { return float64(r.P999) }, format: formatUs},
		}
	}
	return []metric{{higherBetter: true, get: func(r *loadgen.Result) float64 { return r.OpsPerSec }, format: formatOps}}
}

func (w *workload) targetText() string {
	if w.latency {
		return fmt.Sprintf("p99 and p99.9 ≤ %.1f×", w.target)
	}
	return fmt.Sprintf("≥ %.1f×", w.target)
}

// comparison is the outcome of one metric: medians, Runnel/Redis ratio and
// whether the target is met (false when the ratio is undefined).
type comparison struct {
	redis, runnel, ratio float64
	met                  bool
}

func compareMetric(m metric, target float64, redis, runnel []float64) comparison {
	c := comparison{redis: median(redis), runnel: median(runnel)}
	c.ratio = ratio(c.runnel, c.redis)
	if !math.IsNaN(c.ratio) {
		if m.higherBetter {
			c.met = c.ratio >= target
		} else {
			c.met = c.ratio <= target
		}
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

// ratio returns runnel/redis, NaN unless both are finite and redis > 0.
func ratio(runnel, redis float64) float64 {
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
	met := true
	for _, m := range w.metrics() {
		values := func(rs []*loadgen.Result) []float64 {
			v := make([]float64, len(rs))
			for i, r := range rs {
				v[i] = m.get(r)
			}
			return v
		}
		c := compareMetric(m, w.target, values(redis), values(runnel))
		met = met && c.met
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
	if met {
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
	fs.Float64Var(&cfg.scale, "scale", 1, "multiplies each run's duration and the consume workload's entries")
	fs.DurationVar(&cfg.duration, "duration", 8*time.Second, "length of a produce or latency run at scale 1")
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
	fmt.Fprintf(&b, "- Method: each workload on redis-server, Runnel, redis-server, Runnel... %d time(s) each (fresh servers per workload, a fresh key per run); medians; produce and latency runs of %v\n\n", cfg.runs, sz.duration)
	b.WriteString("| workload | Redis median | Runnel median | ratio | target | met? |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.workload, r.redis, r.runnel, r.ratio, r.target, r.met)
	}
	b.WriteString("\nRatio = Runnel / Redis: higher is better for throughput, lower for latency.\n\nWorkloads:\n\n")
	for _, w := range cfg.only {
		fmt.Fprintf(&b, "- `%s`: %s.\n", w.name, w.about)
	}
	b.WriteString("\nEvery run, in order:\n\n")
	for _, d := range details {
		fmt.Fprintf(&b, "- %s\n", d)
	}
	return b.String(), nil
}

// runWorkload starts a redis-server and a Runnel with w's settings and runs
// w on them alternately, runs times each.
func runWorkload(ctx context.Context, w *workload, runs int, sz sizing, root, redisBin, runnelBin string, progress io.Writer) (redis, runnel []*loadgen.Result, err error) {
	rd, err := startServer(ctx, "redis", redisBin, filepath.Join(root, w.name+"-redis"), func(port, dir string) []string {
		return []string{"--port", port, "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "no",
			"--appendonly", "yes", "--appendfsync", w.redisFsync, "--save", "",
			"--auto-aof-rewrite-percentage", "0"}
	})
	if err != nil {
		return nil, nil, err
	}
	defer rd.stop()
	rn, err := startServer(ctx, "runnel", runnelBin, filepath.Join(root, w.name+"-runnel"), func(port, dir string) []string {
		return []string{"--port", port, "--bind", "127.0.0.1", "--dir", dir,
			"--appendfsync", w.runnelFsync, "--auto-aof-rewrite-percentage", "0"}
	})
	if err != nil {
		return nil, nil, err
	}
	defer rn.stop()

	for i := range runs {
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
			if err := deleteKey(ctx, s.addr, key); err != nil {
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
			for _, m := range w.metrics() {
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
		s := &server{name: name, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), logPath: base + ".log", exited: make(chan struct{})}
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
