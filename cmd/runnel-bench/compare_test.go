package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	ops := metric{higherBetter: true}
	lat := metric{name: "p99"}
	nan := math.NaN()
	tests := []struct {
		name          string
		m             metric
		target        float64
		redis, runnel []float64
		want          comparison
	}{
		{"throughput met", ops, 1.2, []float64{100, 90, 110}, []float64{130, 120, 125}, comparison{100, 125, 1.25, true}},
		{"throughput met exactly", ops, 1.5, []float64{100}, []float64{150}, comparison{100, 150, 1.5, true}},
		{"throughput missed", ops, 1.0, []float64{100, 200}, []float64{140}, comparison{150, 140, 140.0 / 150, false}},
		{"latency met", lat, 1.0, []float64{400, 500, 450}, []float64{300, 420, 900}, comparison{450, 420, 420.0 / 450, true}},
		{"latency equal is met", lat, 1.0, []float64{500}, []float64{500}, comparison{500, 500, 1, true}},
		{"latency missed", lat, 1.0, []float64{400}, []float64{401}, comparison{400, 401, 401.0 / 400, false}},
		{"no redis runs", ops, 1.0, nil, []float64{1}, comparison{nan, 1, nan, false}},
		{"redis zero", ops, 1.0, []float64{0}, []float64{1}, comparison{0, 1, nan, false}},
	}
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) || math.Abs(a-b) < 1e-12 }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := compareMetric(tc.m, tc.target, tc.redis, tc.runnel)
			if !same(got.redis, tc.want.redis) || !same(got.runnel, tc.want.runnel) || !same(got.ratio, tc.want.ratio) || got.met != tc.want.met {
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
	}
	for _, tc := range tests {
		if got := summarize(byName[tc.w], tc.redis, tc.runnel); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.w, got, tc.want)
		}
	}
}

func TestSelectWorkloads(t *testing.T) {
	tests := []struct {
		only    string
		want    string
		wantErr string
	}{
		{"", "xadd-c50-p1 xadd-c50-p16 xadd-c50-always consume-2x4 latency-5k", ""},
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
	rowRE      = regexp.MustCompile(`(?m)^\| ([a-z0-9-]+) \| (.*) \| (.*) \| (.*) \| (.*) \| (yes|no) \|$`)
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
	args := []string{"compare", "--runs", "2", "--scale", "0.01", "--only", "latency-5k,xadd-c50-p1", "--tmpdir", tmp, "--out", outFile}
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
	if len(rows) != 2 || rows[0][1] != "xadd-c50-p1" || rows[1][1] != "latency-5k" {
		t.Fatalf("want one row each for xadd-c50-p1 and latency-5k, in that order; got %q", rows)
	}
	for _, m := range rows[:1] {
		for _, cell := range m[2:4] {
			if c := opsCellRE.FindStringSubmatch(cell); c == nil || c[1] == "0" {
				t.Errorf("%s: median %q, want a positive ops/s", m[1], cell)
			}
		}
		if !ratioRE.MatchString(m[4]) || m[5] != "≥ 1.0×" {
			t.Errorf("%s: ratio %q, target %q", m[1], m[4], m[5])
		}
	}
	for _, m := range rows[1:] {
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
	if facts, _, _ := strings.Cut(out, "| workload"); !strings.Contains(facts, "compare --runs 2 --scale 0.01 --only latency-5k,xadd-c50-p1") {
		t.Errorf("the command line should precede the table:\n%s", facts)
	}

	// Alternation: each workload runs on Redis, Runnel, Redis, Runnel.
	var order []string
	for _, m := range progressRE.FindAllStringSubmatch(errOut, -1) {
		order = append(order, m[1]+" "+m[2]+" "+m[3])
	}
	wantOrder := []string{
		"xadd-c50-p1 1 redis", "xadd-c50-p1 1 runnel", "xadd-c50-p1 2 redis", "xadd-c50-p1 2 runnel",
		"latency-5k 1 redis", "latency-5k 1 runnel", "latency-5k 2 redis", "latency-5k 2 runnel",
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
