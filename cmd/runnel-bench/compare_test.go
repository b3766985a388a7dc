package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/loadgen"
	"github.com/runnel-io/runnel/internal/redistest"
)

// needRedisServer skips the test without redis-server on PATH, or fails it
// under RUNNEL_REQUIRE_REDIS=1 (redistest's convention).
func needRedisServer(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		msg := "redis-server not found: install Debian's redis-server (apt-get install redis-server) to run compare's end-to-end tests"
		if redistest.RequireRedis() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, math.NaN()},
		{[]float64{7}, 7},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5, 5, 1, 9, 5}, 5},
		{[]float64{10, 20}, 15},
	}
	for _, tc := range tests {
		in := append([]float64(nil), tc.in...)
		got := median(tc.in)
		if !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("median(%v) = %g, want %g", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("median modified its input: %v, was %v", tc.in, in)
			}
		}
	}
}

func TestCompareMetric(t *testing.T) {
	ops := func(v float64) metric { return metric{higherBetter: true, target: ratioTarget(v)} }
	lat := func(v float64) metric { return metric{name: "p99", target: ratioTarget(v)} }
	cpu := metric{target: runnelTarget(1)}
	nan := math.NaN()
	tests := []struct {
		name          string
		m             metric
		redis, runnel []float64
		want          comparison
	}{
		{"throughput met", ops(1.2), []float64{100, 90, 110}, []float64{130, 120, 125}, comparison{100, 125, 1.25, true, true}},
		{"throughput met exactly", ops(1.5), []float64{100}, []float64{150}, comparison{100, 150, 1.5, true, true}},
		{"throughput missed", ops(1.0), []float64{100, 200}, []float64{140}, comparison{150, 140, 140.0 / 150, true, false}},
		{"latency met", lat(1.0), []float64{400, 500, 450}, []float64{300, 420, 900}, comparison{450, 420, 420.0 / 450, true, true}},
		{"latency equal is met", lat(1.0), []float64{500}, []float64{500}, comparison{500, 500, 1, true, true}},
		{"latency missed", lat(1.0), []float64{400}, []float64{401}, comparison{400, 401, 401.0 / 400, true, false}},
		{"memory at half", lat(0.5), []float64{100}, []float64{50}, comparison{100, 50, 0.5, true, true}},
		{"no redis runs", ops(1.0), nil, []float64{1}, comparison{nan, 1, nan, true, false}},
		{"redis zero", ops(1.0), []float64{0}, []float64{1}, comparison{0, 1, nan, true, false}},
		{"no target", metric{higherBetter: true}, []float64{100}, []float64{50}, comparison{100, 50, 0.5, false, false}},
		// An absolute target judges Runnel alone, whatever Redis did.
		{"runnel below", cpu, []float64{0.1}, []float64{0.9}, comparison{0.1, 0.9, 9, true, true}},
		{"runnel at the bound", cpu, []float64{5}, []float64{1}, comparison{5, 1, 0.2, true, false}},
		{"runnel below, redis zero", cpu, []float64{0}, []float64{0.5}, comparison{0, 0.5, nan, true, true}},
		{"runnel missing", cpu, []float64{0.5}, nil, comparison{0.5, nan, nan, true, false}},
	}
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) || math.Abs(a-b) < 1e-12 }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := compareMetric(tc.m, tc.redis, tc.runnel)
			if !same(got.redis, tc.want.redis) || !same(got.runnel, tc.want.runnel) || !same(got.ratio, tc.want.ratio) || got.judged != tc.want.judged || got.met != tc.want.met {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	byName := map[string]*workload{}
	for _, w := range compareWorkloads {
		byName[w.name] = w
	}
	tput := func(v ...float64) []*loadgen.Result {
		var rs []*loadgen.Result
		for _, x := range v {
			rs = append(rs, &loadgen.Result{OpsPerSec: x})
		}
		return rs
	}
	lat := func(v ...int64) []*loadgen.Result { // p99, p99.9 pairs in µs
		var rs []*loadgen.Result
		for i := 0; i < len(v); i += 2 {
			rs = append(rs, &loadgen.Result{P99: v[i], P999: v[i+1]})
		}
		return rs
	}
	mem := func(v ...float64) []*loadgen.Result { // bytes per entry, per pending entry pairs
		var rs []*loadgen.Result
		for i := 0; i < len(v); i += 2 {
			rs = append(rs, &loadgen.Result{Memory: &loadgen.MemoryResult{BytesPerEntry: v[i], BytesPerPending: v[i+1]}})
		}
		return rs
	}
	cpu := func(v ...float64) []*loadgen.Result {
		var rs []*loadgen.Result
		for _, x := range v {
			rs = append(rs, &loadgen.Result{Idle: &loadgen.IdleResult{CPUPercent: x}})
		}
		return rs
	}
	tests := []struct {
		w             string
		redis, runnel []*loadgen.Result
		want          row
	}{
		{"xadd-c50-p1", tput(1000, 3000, 2000), tput(2100, 1900, 2500),
			row{"xadd-c50-p1", "2000 ops/s", "2100 ops/s", "1.05×", "≥ 1.0×", "yes"}},
		{"xadd-c50-p16", tput(1000), tput(1100),
			row{"xadd-c50-p16", "1000 ops/s", "1100 ops/s", "1.10×", "≥ 1.2×", "no"}},
		{"latency-5k", lat(400, 1000, 500, 2000, 450, 1500), lat(300, 1600, 420, 1400, 900, 3000),
			row{"latency-5k", "p99 0.45 ms, p99.9 1.5 ms", "p99 0.42 ms, p99.9 1.6 ms", "p99 0.93×, p99.9 1.07×", "p99 and p99.9 ≤ 1.0×", "no"}},
		{"latency-5k", lat(400, 1000), lat(400, 999),
			row{"latency-5k", "p99 0.4 ms, p99.9 1 ms", "p99 0.4 ms, p99.9 0.999 ms", "p99 1.00×, p99.9 1.00×", "p99 and p99.9 ≤ 1.0×", "yes"}},
		{"consume-2x4", nil, tput(1),
			row{"consume-2x4", "n/a", "1 ops/s", "n/a", "≥ 1.2×", "no"}},
		{"fanout-8x2", tput(500000), tput(250000),
			row{"fanout-8x2", "500000 ops/s", "250000 ops/s", "0.50×", "—", "—"}},
		{"streams-10k", tput(100, 300), tput(400, 600),
			row{"streams-10k", "200 ops/s", "500 ops/s", "2.50×", "—", "—"}},
		{"memory-1m", mem(120, 90, 122, 88, 121, 87), mem(100, 45, 104, 44, 103.5, 60),
			row{"memory-1m", "per entry 121 B, per pending 88 B", "per entry 104 B, per pending 45 B", "per entry 0.86×, per pending 0.51×", "per entry ≤ 1.0×, per pending ≤ 0.5×", "no"}},
		{"memory-1m", mem(120, 90), mem(120, 45),
			row{"memory-1m", "per entry 120 B, per pending 90 B", "per entry 120 B, per pending 45 B", "per entry 1.00×, per pending 0.50×", "per entry ≤ 1.0×, per pending ≤ 0.5×", "yes"}},
		{"idle-10k", cpu(0.8, 0.9, 0.7), cpu(0.3, 0.35, 0.31),
			row{"idle-10k", "0.8% of a core", "0.31% of a core", "0.39×", "Runnel < 1% of a core", "yes"}},
		{"idle-10k", cpu(0.1), cpu(1.5),
			row{"idle-10k", "0.1% of a core", "1.5% of a core", "15.00×", "Runnel < 1% of a core", "no"}},
	}
	for _, tc := range tests {
		if got := summarize(byName[tc.w], tc.redis, tc.runnel); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.w, got, tc.want)
		}
	}
}

func TestMethod(t *testing.T) {
	ws, err := selectWorkloads("latency-5k,memory-1m,idle-10k,streams-10k")
	if err != nil {
		t.Fatal(err)
	}
	got := method(ws, 3, sizing{duration: 80 * time.Millisecond, scale: 0.01})
	want := "each workload on redis-server, Runnel, redis-server, Runnel... 3 time(s) each (fresh servers per workload " +
		"(per run for memory-1m), both with maxclients 20000, a fresh key per run, deleted after it); medians; at scale 0.01: " +
		"latency-5k runs of 80ms; streams-10k 100 streams, runs of 80ms; memory-1m 10000 entries, RSS stable over 100ms; " +
		"idle-10k 100 clients, CPU over 200ms"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got = method(ws[2:3], 1, sizing{duration: 8 * time.Second, scale: 1})
	if want := "at scale 1: memory-1m 1000000 entries, RSS stable over 1s"; !strings.HasSuffix(got, want) {
		t.Errorf("got %s, want it to end with %s", got, want)
	}
}

func TestSelectWorkloads(t *testing.T) {
	tests := []struct {
		only    string
		want    string
		wantErr string
	}{
		{"", "xadd-c50-p1 xadd-c50-p16 xadd-c50-always consume-2x4 latency-5k latency-5k-always latency-5k-everysec fanout-8x2 streams-10k memory-1m idle-10k", ""},
		{"idle-10k,fanout-8x2", "fanout-8x2 idle-10k", ""},
		{"latency-5k,xadd-c50-p1", "xadd-c50-p1 latency-5k", ""},
		{" consume-2x4 , consume-2x4,", "consume-2x4", ""},
		{"xadd", "", `unknown workload "xadd"`},
		{",", "", "names no workload"},
	}
	for _, tc := range tests {
		ws, err := selectWorkloads(tc.only)
		var names []string
		for _, w := range ws {
			names = append(names, w.name)
		}
		if got := strings.Join(names, " "); got != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("selectWorkloads(%q) = %q, %v; want %q, error containing %q", tc.only, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"--runs": "--runs", "0.01": "0.01", "a b": "'a b'", "": "''", "it's": `'it'\''s'`} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestCompareUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"help", []string{"--help"}, 0, "Usage: runnel-bench compare"},
		{"bad runs", []string{"--runs", "0"}, 2, "--runs must be at least 1"},
		{"bad scale", []string{"--scale", "0"}, 2, "--scale must be positive"},
		{"unknown workload", []string{"--only", "nope"}, 2, `unknown workload "nope"`},
		{"stray argument", []string{"extra"}, 2, `unexpected argument "extra"`},
		{"missing runnel binary", []string{"--runnel", "/nonexistent/runnel"}, 2, "--runnel"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "missing runnel binary" {
				needRedisServer(t) // checked before --runnel
			}
			code, out, errOut := runBench(t, append([]string{"compare"}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(errOut, tc.wantStderr) || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, no stdout, stderr containing %q", code, out, errOut, tc.wantCode, tc.wantStderr)
			}
		})
	}
}

// Without redis-server on PATH, compare says what to install and exits 2.
func TestCompareWithoutRedis(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	code, out, errOut := runBench(t, "compare", "--runs", "1")
	if code != 2 || out != "" || !strings.Contains(errOut, "apt-get install redis-server") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 and the package to install", code, out, errOut)
	}
}

// emptyDir fails the test unless dir has nothing left in it.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("%s not cleaned up: %v", dir, left)
	}
}

var (
	rowRE      = regexp.MustCompile(`(?m)^\| ([a-z0-9-]+) \| (.*) \| (.*) \| (.*) \| (.*) \| (yes|no|—) \|$`)
	memCellRE  = regexp.MustCompile(`^per entry (-?[\d.]+) B, per pending (-?[\d.]+) B$`)
	memRatioRE = regexp.MustCompile(`^per entry (-?\d+\.\d\d|n/a)×?, per pending (-?\d+\.\d\d|n/a)×?$`)
	cpuCellRE  = regexp.MustCompile(`^([\d.]+)% of a core$`)
	opsCellRE  = regexp.MustCompile(`^(\d+) ops/s$`)
	latCellRE  = regexp.MustCompile(`^p99 ([\d.]+) ms, p99\.9 ([\d.]+) ms$`)
	ratioRE    = regexp.MustCompile(`^\d+\.\d\d×$`)
	latRatioRE = regexp.MustCompile(`^p99 \d+\.\d\d×, p99\.9 \d+\.\d\d×$`)
	progressRE = regexp.MustCompile(`(?m)^([a-z0-9-]+) run (\d)/2 (redis|runnel): `)
)

func TestCompareEndToEnd(t *testing.T) {
	needRedisServer(t)
	tmp := t.TempDir()
	outFile := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	args := []string{"compare", "--runs", "2", "--scale", "0.01", "--only", "latency-5k,xadd-c50-p1,idle-10k,memory-1m,streams-10k,fanout-8x2", "--tmpdir", tmp, "--out", outFile}
	// compare builds ./cmd/runnel itself here: allow for a cold build cache.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, &stdout, &stderr)
	out, errOut := stdout.String(), stderr.String()
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	t.Logf("stdout:\n%s", out)

	rows := rowRE.FindAllStringSubmatch(out, -1)
	names := []string{"xadd-c50-p1", "latency-5k", "fanout-8x2", "streams-10k", "memory-1m", "idle-10k"}
	var got []string
	for _, m := range rows {
		got = append(got, m[1])
	}
	if !slices.Equal(got, names) {
		t.Fatalf("want one row each for %q, in that order; got %q", names, rows)
	}
	// Throughput rows: xadd-c50-p1 has a target, fan-out and streams not.
	for i, m := range rows[:4] {
		if i == 1 {
			continue
		}
		for _, cell := range m[2:4] {
			if c := opsCellRE.FindStringSubmatch(cell); c == nil || c[1] == "0" {
				t.Errorf("%s: median %q, want a positive ops/s", m[1], cell)
			}
		}
		target, met := "≥ 1.0×", m[6]
		if i > 0 {
			target = "—"
			if met != "—" {
				t.Errorf("%s: met %q, want — (not judged)", m[1], met)
			}
		}
		if !ratioRE.MatchString(m[4]) || m[5] != target {
			t.Errorf("%s: ratio %q, target %q; want target %q", m[1], m[4], m[5], target)
		}
	}
	if m := rows[4]; true {
		for _, cell := range m[2:4] {
			c := memCellRE.FindStringSubmatch(cell)
			if c == nil {
				t.Errorf("%s: median %q, want bytes per entry and per pending entry", m[1], cell)
				continue
			}
			// Both servers are processes of their own, new for each run:
			// 10,000 entries of 64 bytes of values must show.
			if f, err := strconv.ParseFloat(c[1], 64); err != nil || f <= 0 {
				t.Errorf("%s: median %q, want positive bytes per entry", m[1], cell)
			}
		}
		if !memRatioRE.MatchString(m[4]) || m[5] != "per entry ≤ 1.0×, per pending ≤ 0.5×" {
			t.Errorf("%s: ratio %q, target %q", m[1], m[4], m[5])
		}
	}
	if m := rows[5]; true {
		for _, cell := range m[2:4] {
			if c := cpuCellRE.FindStringSubmatch(cell); c == nil {
				t.Errorf("%s: median %q, want a CPU share", m[1], cell)
			}
		}
		if m[5] != "Runnel < 1% of a core" || m[6] == "—" {
			t.Errorf("%s: target %q, met %q: want Runnel < 1%% of a core, judged", m[1], m[5], m[6])
		}
	}
	for _, m := range rows[1:2] {
		for _, cell := range m[2:4] {
			c := latCellRE.FindStringSubmatch(cell)
			if c == nil {
				t.Errorf("%s: median %q, want p99 and p99.9 in ms", m[1], cell)
				continue
			}
			for _, v := range c[1:] {
				if f, err := strconv.ParseFloat(v, 64); err != nil || f <= 0 {
					t.Errorf("%s: median %q, want positive numbers", m[1], cell)
				}
			}
		}
		if !latRatioRE.MatchString(m[4]) || m[5] != "p99 and p99.9 ≤ 1.0×" {
			t.Errorf("%s: ratio %q, target %q", m[1], m[4], m[5])
		}
	}
	for _, want := range []string{"| workload | Redis median | Runnel median | ratio | target | met? |", "- CPU: ", "- Kernel: ", "- Go: go", "- redis-server: Redis server v=", "- Runnel: Runnel server v=", "- Commit: ", "- Date: ", "- Command: `"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	facts, _, _ := strings.Cut(out, "| workload")
	if !strings.Contains(facts, "compare --runs 2 --scale 0.01 --only latency-5k,xadd-c50-p1,idle-10k") {
		t.Errorf("the command line should precede the table:\n%s", facts)
	}
	for _, want := range []string{"(per run for memory-1m)", "memory-1m 10000 entries", "idle-10k 100 clients, CPU over 200ms", "streams-10k 100 streams"} {
		if !strings.Contains(facts, want) {
			t.Errorf("the Method line lacks %q:\n%s", want, facts)
		}
	}
	selected, err := selectWorkloads("latency-5k,xadd-c50-p1,idle-10k,memory-1m,streams-10k,fanout-8x2")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range selected {
		if !strings.Contains(out, "- `"+w.name+"`: "+w.about+".\n") {
			t.Errorf("the Workloads list lacks %s", w.name)
		}
	}

	// Alternation: each workload runs on Redis, Runnel, Redis, Runnel.
	var order []string
	for _, m := range progressRE.FindAllStringSubmatch(errOut, -1) {
		order = append(order, m[1]+" "+m[2]+" "+m[3])
	}
	var wantOrder []string
	for _, n := range names {
		wantOrder = append(wantOrder, n+" 1 redis", n+" 1 runnel", n+" 2 redis", n+" 2 runnel")
	}
	if strings.Join(order, ",") != strings.Join(wantOrder, ",") {
		t.Errorf("runs in order %q, want %q", order, wantOrder)
	}

	if b, err := os.ReadFile(outFile); err != nil || !bytes.Equal(b, []byte(out)) {
		t.Errorf("--out file (%v) differs from stdout:\n%s", err, b)
	}
	emptyDir(t, tmp)
}

// Cancelling compare (SIGINT in main) stops the servers and removes the
// temporary directory.
func TestCompareInterrupted(t *testing.T) {
	needRedisServer(t)
	tmp := t.TempDir()
	bin := filepath.Join(t.TempDir(), "runnel")
	if b, err := exec.Command("go", "build", "-o", bin, "github.com/runnel-io/runnel/cmd/runnel").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"compare", "--runs", "1", "--duration", "1m", "--only", "xadd-c50-p16", "--tmpdir", tmp, "--runnel", bin}, &out, &errOut)
	if code != 1 || out.Len() != 0 || !strings.Contains(errOut.String(), "context deadline exceeded") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 with the context's error", code, out.String(), errOut.String())
	}
	if deadline, _ := ctx.Deadline(); time.Since(deadline) > 10*time.Second {
		t.Errorf("compare returned %v after it was cancelled", time.Since(deadline))
	}
	emptyDir(t, tmp)
}
