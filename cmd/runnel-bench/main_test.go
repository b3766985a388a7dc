package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/app/apptest"
	"github.com/runnel-io/runnel/internal/redistest"
)

// startRunnel runs an in-memory Runnel until the test ends and returns its
// address.
func startRunnel(tb testing.TB) string {
	_, addr := apptest.Start(tb)
	return addr
}

// benchServers are the servers the workload tests run against.
var benchServers = []struct {
	name  string
	start func(testing.TB) string
}{
	{"runnel", startRunnel},
	{"redis", func(tb testing.TB) string { return redistest.StartRedis(tb).Addr() }},
}

// runBench runs the command with args and returns its status and output.
func runBench(tb testing.TB, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

var lineRE = regexp.MustCompile(`^(produce|consume|latency) [^:]+: \d+ ops/s p50=[\d.]+ms p99=[\d.]+ms p99\.9=[\d.]+ms max=[\d.]+ms ops=(\d+)\n$`)

func TestRunWorkloads(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantOps string
		prefix  string
	}{
		{"produce", []string{"--workload", "produce", "--conns", "3", "--pipeline", "4", "--n", "1000", "--size", "16", "--fields", "2"}, "1000", "produce conns=3 pipeline=4 size=16 fields=2: "},
		{"produce maxlen", []string{"--workload", "produce", "--conns", "2", "--n", "500", "--maxlen", "100"}, "500", "produce conns=2 pipeline=1 size=64 fields=1 maxlen=~100: "},
		{"consume", []string{"--workload", "consume", "--n", "1000", "--groups", "2", "--consumers", "2", "--count", "50"}, "2000", "consume n=1000 groups=2 consumers=2 count=50 size=64 fields=1: "},
		{"latency", []string{"--workload", "latency", "--rate", "2000", "--n", "200"}, "200", "latency rate=2000 consumers=2 size=64: "},
	}
	for _, srv := range benchServers {
		t.Run(srv.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					// A server of its own: the clients of the workload
					// before may still be leaving.
					addr := srv.start(t)
					code, out, errOut := runBench(t, append([]string{"--addr", addr}, tc.args...)...)
					if code != 0 {
						t.Fatalf("exit %d, stderr %q", code, errOut)
					}
					m := lineRE.FindStringSubmatch(out)
					if m == nil || !strings.HasPrefix(out, tc.prefix) || m[2] != tc.wantOps {
						t.Fatalf("output %q: want one line starting %q with ops=%s", out, tc.prefix, tc.wantOps)
					}

					code, out, errOut = runBench(t, append([]string{"--addr", addr, "--json"}, tc.args...)...)
					if code != 0 {
						t.Fatalf("--json: exit %d, stderr %q", code, errOut)
					}
					var r struct {
						Workload  string         `json:"workload"`
						Ops       json.Number    `json:"ops"`
						OpsPerSec float64        `json:"ops_per_sec"`
						P99       int64          `json:"p99_us"`
						Options   map[string]any `json:"options"`
					}
					if err := json.Unmarshal([]byte(out), &r); err != nil {
						t.Fatalf("--json output %q: %v", out, err)
					}
					if r.Workload != tc.args[1] || r.Ops.String() != tc.wantOps || r.OpsPerSec <= 0 || r.P99 <= 0 || r.Options["addr"] != addr {
						t.Fatalf("--json output %q: want workload %s, ops %s, positive rate and p99, options with the address", out, tc.args[1], tc.wantOps)
					}
				})
			}
		})
	}
}

// TestRunNewWorkloads runs fan-out, many-streams, memory and idle from the
// command line, tiny, and checks their line and JSON.
func TestRunNewWorkloads(t *testing.T) {
	tests := []struct {
		name string
		args []string
		line *regexp.Regexp
		json func(t *testing.T, r map[string]any)
	}{
		{"fan-out", []string{"--workload", "fan-out", "--n", "300", "--groups", "3", "--count", "20"},
			regexp.MustCompile(`^fan-out n=300 groups=3 consumers=2 count=20 size=64 pipeline=16: \d+ ops/s p50=[\d.]+ms .* ops=900\n$`),
			func(t *testing.T, r map[string]any) {
				if g, ok := r["per_group"].([]any); !ok || len(g) != 3 || g[0] != 300.0 {
					t.Errorf("per_group %v, want 3 × 300", r["per_group"])
				}
			}},
		{"fan-out paced", []string{"--workload", "fan-out", "--n", "100", "--groups", "1", "--consumers", "1", "--rate", "1000"},
			regexp.MustCompile(`^fan-out n=100 groups=1 consumers=1 count=100 size=64 rate=1000: \d+ ops/s .* ops=100\n$`), nil},
		{"many-streams", []string{"--workload", "many-streams", "--streams", "50", "--producers", "2", "--consumers", "1", "--duration", "100ms"},
			regexp.MustCompile(`^many-streams streams=50 producers=2 consumers=1 pipeline=16 count=10 size=64 fields=1: \d+ ops/s .* ops=\d+ added=\d+ delivered=\d+\n$`),
			func(t *testing.T, r map[string]any) {
				if a, _ := r["added"].(float64); a <= 0 || r["ops"].(float64) != a+r["delivered"].(float64) {
					t.Errorf("added %v, delivered %v, ops %v: want ops = added + delivered > 0", r["added"], r["delivered"], r["ops"])
				}
			}},
		{"memory", []string{"--workload", "memory", "--n", "20000", "--stable", "100ms", "--settle", "2s"},
			regexp.MustCompile(`^memory n=20000 fields=4 size=16 schemas=4: -?[\d.]+ bytes/entry, -?[\d.]+ bytes/pending entry \(RSS [\d.]+ MiB, [\d.]+ MiB with the entries, [\d.]+ MiB with them pending\)`),
			func(t *testing.T, r map[string]any) {
				m, _ := r["memory"].(map[string]any)
				if m == nil || m["rss_base"].(float64) <= 0 || m["rss_entries"] == nil || m["bytes_per_entry"] == nil || m["bytes_per_pending"] == nil {
					t.Errorf("memory %v, want the RSS readings and bytes per entry and per pending entry", r["memory"])
				}
			}},
		{"idle", []string{"--workload", "idle", "--clients", "30", "--window", "100ms", "--settle", "10ms"},
			regexp.MustCompile(`^idle clients=30 window=100ms: [\d.e-]+% of a core \([\d.e-]+ s CPU in [\d.]+ s\) with 30 clients blocked\n$`),
			func(t *testing.T, r map[string]any) {
				i, _ := r["idle"].(map[string]any)
				if i == nil || i["clients"] != 30.0 || i["window_seconds"].(float64) < 0.1 || i["cpu_percent"] == nil {
					t.Errorf("idle %v, want 30 clients, a window of 0.1s or more and a CPU share", r["idle"])
				}
			}},
	}
	for _, srv := range benchServers {
		t.Run(srv.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					// A server of its own: the clients of the workload
					// before may still be leaving, and idle counts every
					// blocked client.
					addr := srv.start(t)
					code, out, errOut := runBench(t, append([]string{"--addr", addr}, tc.args...)...)
					if code != 0 || !tc.line.MatchString(out) {
						t.Fatalf("exit %d, stdout %q, stderr %q; want exit 0 and a line matching %s", code, out, errOut, tc.line)
					}
					code, out, errOut = runBench(t, append([]string{"--addr", addr, "--json"}, tc.args...)...)
					var r map[string]any
					if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
						t.Fatalf("--json: exit %d, stdout %q, stderr %q", code, out, errOut)
					}
					if r["workload"] != tc.args[1] || r["options"].(map[string]any)["addr"] != addr {
						t.Errorf("--json: %s, want workload %s and the options with the address", out, tc.args[1])
					}
					if tc.json != nil {
						tc.json(t, r)
					}
				})
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	closed := func() string { // an address where nothing listens
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"help", []string{"--help"}, 0, "Usage: runnel-bench"},
		{"unknown workload", []string{"--workload", "nope"}, 2, `unknown workload "nope"`},
		{"help lists the workloads", []string{"--help"}, 0, "many-streams"},
		{"bad memory options", []string{"--workload", "memory", "--schemas", "9"}, 1, "schemas between 1 and 4"},
		{"unknown flag", []string{"--nope"}, 2, "flag provided but not defined"},
		{"stray argument", []string{"extra"}, 2, `unexpected argument "extra"`},
		{"bad options", []string{"--workload", "produce", "--conns", "0", "--n", "1"}, 1, "conns"},
		{"nothing listening", []string{"--addr", closed, "--n", "1"}, 1, "connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runBench(t, tc.args...)
			if code != tc.wantCode || !strings.Contains(errOut, tc.wantStderr) || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, no stdout, stderr containing %q", code, out, errOut, tc.wantCode, tc.wantStderr)
			}
		})
	}
}
