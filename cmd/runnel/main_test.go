package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/runnel-io/runnel/internal/config"
	"github.com/runnel-io/runnel/internal/redistest"
)

var built struct {
	once sync.Once
	bin  string
	err  error
	out  []byte
}

// buildBinary compiles cmd/runnel once per test binary run (into a
// directory removed by TestMain).
func buildBinary(tb testing.TB) string {
	tb.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "runnel-bin")
		if err != nil {
			built.err = err
			return
		}
		built.bin = filepath.Join(dir, "runnel")
		built.out, built.err = exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput()
	})
	if built.err != nil {
		tb.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.bin != "" {
		os.RemoveAll(filepath.Dir(built.bin))
	}
	os.Exit(code)
}

// startBinary runs `runnel --port P --dir D` and waits until it answers.
func startBinary(tb testing.TB, bin string, extra ...string) (addr string, cmd *exec.Cmd, stderr *bytes.Buffer) {
	tb.Helper()
	port := redistest.FreePort(tb)
	dir := filepath.Join(tb.TempDir(), "data")
	args := append([]string{"--port", fmt.Sprint(port), "--dir", dir}, extra...)
	cmd = exec.Command(bin, args...)
	stderr = &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	if err := redistest.WaitForPort(addr, 10*time.Second); err != nil {
		tb.Fatalf("runnel did not start: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(dir); err != nil {
		tb.Fatalf("data directory not created: %v", err)
	}
	return addr, cmd, stderr
}

func needTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := name + " not found: install Debian's redis-tools (apt-get install redis-tools)"
		if redistest.RequireRedis() {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return p
}

func TestBinary(t *testing.T) {
	bin := buildBinary(t)

	t.Run("BadParameter", func(t *testing.T) {
		out, err := exec.Command(bin, "--no-such-param", "1").CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("exit: %v, want status 1", err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 1 || !strings.Contains(lines[0], "no-such-param") {
			t.Fatalf("output %q: want one line naming the parameter", out)
		}
	})

	t.Run("VersionAndHelp", func(t *testing.T) {
		for _, arg := range []string{"--version", "--help"} {
			out, err := exec.Command(bin, arg).CombinedOutput()
			if err != nil || len(out) == 0 {
				t.Fatalf("%s: %v %q", arg, err, out)
			}
		}
	})

	t.Run("GracefulSIGTERM", func(t *testing.T) {
		addr, cmd, stderr := startBinary(t, bin)
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		defer rdb.Close()
		if err := rdb.Set(context.Background(), "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no exit after SIGTERM")
		}
	})

	t.Run("RedisCLI", func(t *testing.T) {
		cli := needTool(t, "redis-cli")
		addr, _, _ := startBinary(t, bin)
		_, port, _ := net.SplitHostPort(addr)
		run := func(args ...string) string {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, cli, append([]string{"-p", port}, args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
			}
			return strings.TrimSpace(string(out))
		}
		if got := run("SET", "greeting", "hello"); got != "OK" {
			t.Fatalf("SET: %q", got)
		}
		if got := run("GET", "greeting"); got != "hello" {
			t.Fatalf("GET: %q", got)
		}
		if got := run("-3", "HELLO", "3"); !strings.Contains(got, "proto") {
			t.Fatalf("HELLO 3 under -3: %q", got)
		}
		if got := run("-3", "GET", "greeting"); got != "\"hello\"" && got != "hello" {
			t.Fatalf("GET under -3: %q", got)
		}
		// Commands on stdin, as a pipe (redis-cli reads one per line).
		c := exec.Command(cli, "-p", port)
		c.Stdin = strings.NewReader("INCR n\nINCR n\nGET n\n")
		out, err := c.CombinedOutput()
		if err != nil || strings.Fields(string(out))[2] != "2" {
			t.Fatalf("piped commands: %v %q", err, out)
		}
		// Interactive mode needs a terminal: script(1) provides one. With
		// TERM=dumb, redis-cli's line editor reads plain lines instead of
		// querying the cursor position, which a script cannot answer.
		if script, err := exec.LookPath("script"); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c := exec.CommandContext(ctx, script, "-qec", cli+" -p "+port, "/dev/null")
			c.Env = append(os.Environ(), "TERM=dumb")
			c.Stdin = strings.NewReader("PING\nGET greeting\nQUIT\n")
			out, err := c.CombinedOutput()
			if err != nil || !strings.Contains(string(out), port+"> PONG") || !strings.Contains(string(out), "hello") {
				t.Fatalf("interactive redis-cli: %v %q", err, out)
			}
		}
	})

	t.Run("RedisBenchmark", func(t *testing.T) {
		bench := needTool(t, "redis-benchmark")
		addr, _, stderr := startBinary(t, bin)
		_, port, _ := net.SplitHostPort(addr)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, bench, "-p", port, "-t", "ping,set,get,incr,mset", "-n", "20000", "-q").CombinedOutput()
		if err != nil {
			t.Fatalf("redis-benchmark: %v\n%s\n%s", err, out, stderr)
		}
		text := string(out)
		if strings.Contains(strings.ToLower(text), "error") {
			t.Fatalf("redis-benchmark reported errors:\n%s", text)
		}
		for _, test := range []string{"PING_INLINE: ", "PING_MBULK: ", "SET: ", "GET: ", "INCR: ", "MSET (10 keys): "} {
			if !strings.Contains(text, test) {
				t.Fatalf("redis-benchmark output lacks %s:\n%s", test, text)
			}
		}
		t.Logf("redis-benchmark:\n%s", text)
	})
}

// TestMemoryLimitFromMaxmemory: maxmemory becomes the runtime's soft memory
// limit, CONFIG SET changes it, 0 removes it, and GOMEMLIMIT in the
// environment wins.
func TestMemoryLimitFromMaxmemory(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	t.Setenv("GOGC", "100")    // leave the collector's percentage alone
	t.Setenv("GOMEMLIMIT", "") // restored after the test
	os.Unsetenv("GOMEMLIMIT")
	cfg := config.New()
	if err := cfg.ParseArgs([]string{"--maxmemory", "1gb"}); err != nil {
		t.Fatal(err)
	}
	tuneGC(cfg)
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Fatalf("limit with maxmemory 1gb: %d", got)
	}
	for _, c := range []struct {
		set  string
		want int64
	}{{"300mb", 300 << 20}, {"0", math.MaxInt64}} {
		if err := cfg.Set([]string{"maxmemory", c.set}, config.SetOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := debug.SetMemoryLimit(-1); got != c.want {
			t.Fatalf("limit after CONFIG SET maxmemory %s: %d, want %d", c.set, got, c.want)
		}
	}

	t.Setenv("GOMEMLIMIT", "123MiB")
	debug.SetMemoryLimit(123 << 20) // what the runtime read from it at start
	cfg = config.New()
	if err := cfg.ParseArgs([]string{"--maxmemory", "1gb"}); err != nil {
		t.Fatal(err)
	}
	tuneGC(cfg)
	if got := debug.SetMemoryLimit(-1); got != 123<<20 {
		t.Fatalf("GOMEMLIMIT was overridden: %d", got)
	}
}

// TestGCPercent: GOGC leaves at least heapHeadroom above the live heap,
// never less than defaultGCPercent, and is bounded for an empty heap.
func TestGCPercent(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, maxGCPercent},
		{1, maxGCPercent},
		{4 << 20, 1600},               // 64 MB of room above 4 MB
		{64 << 20, 100},               // goal 128 MB
		{256 << 20, defaultGCPercent}, // 25% is 64 MB
		{8 << 30, defaultGCPercent},
	} {
		if got := gcPercent(c.live); got != c.want {
			t.Errorf("gcPercent(%d) = %d, want %d", c.live, got, c.want)
		}
	}
}
