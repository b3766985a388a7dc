package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/internal/redistest"
)

// runningServer is a binary started by runOn.
type runningServer struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once Wait returned
}

// stopHard kills the server and waits until it is gone.
func (r *runningServer) stopHard() {
	_ = r.cmd.Process.Kill()
	<-r.exited
}

// runOn starts the binary on dir and returns a client, or the exit error
// and stderr when it refuses to start.
func runOn(tb testing.TB, bin, dir string) (*redis.Client, *runningServer, string, error) {
	tb.Helper()
	port := redistest.FreePort(tb)
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--dir", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	r := &runningServer{cmd: cmd, exited: make(chan struct{})}
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(r.exited)
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-r.exited:
			return nil, nil, stderr.String(), fmt.Errorf("exited: %v", waitErr)
		default:
		}
		if redistest.WaitForPort(addr, 50*time.Millisecond) == nil {
			c := redis.NewClient(&redis.Options{Addr: addr})
			tb.Cleanup(func() {
				c.Close()
				r.stopHard()
			})
			return c, r, "", nil
		}
		if time.Now().After(deadline) {
			r.stopHard()
			tb.Fatalf("runnel neither started nor exited\n%s", stderr.String())
		}
	}
}

func runCheckCmd(args ...string) (int, string) {
	var out, errOut bytes.Buffer
	code := run(append([]string{"check"}, args...), &out, &errOut)
	return code, out.String() + errOut.String()
}

// flipByteIn damages the file at off.
func flipByteIn(tb testing.TB, path string, off int64) {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	data[off] ^= 0x40
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// startFilled starts the binary on a fresh data directory and SETs n keys
// named by key to the values val gives.
func startFilled(tb testing.TB, n int, key func(int) string, val func(int) any) (bin, dir string, c *redis.Client, srv *runningServer) {
	tb.Helper()
	bin = buildBinary(tb)
	dir = filepath.Join(tb.TempDir(), "data")
	c, srv, _, err := runOn(tb, bin, dir)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := c.Set(context.Background(), key(i), val(i), 0).Err(); err != nil {
			tb.Fatal(err)
		}
	}
	return bin, dir, c, srv
}

// TestCorruptLogRefusedThenRepaired damages a record in the middle of the
// log: the server refuses to start, naming the file and the offset;
// `runnel check` reports it; `runnel check --repair` cuts the log there and
// the server starts with every write before the damage.
func TestCorruptLogRefusedThenRepaired(t *testing.T) {
	const n = 300
	ctx := context.Background()
	bin, dir, _, srv := startFilled(t, n, func(i int) string { return fmt.Sprintf("k%03d", i) }, func(i int) any { return i })
	srv.stopHard()
	seg := filepath.Join(dir, "wal", "00000000000000000001.seg")
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	// Records are ~48 bytes: the middle of the used part is mid-log.
	used := int64(bytes.LastIndexFunc(data, func(r rune) bool { return r != 0 })) + 1
	flipByteIn(t, seg, used/2)

	_, _, stderr, err := runOn(t, bin, dir)
	if err == nil {
		t.Fatal("the server started on a log damaged in the middle")
	}
	for _, want := range []string{seg, "offset", "runnel check --repair"} {
		if !strings.Contains(stderr, want) {
			t.Fatalf("the refusal does not mention %q:\n%s", want, stderr)
		}
	}
	if code, out := runCheckCmd(dir); code != 1 || !strings.Contains(out, "log: DAMAGED") {
		t.Fatalf("runnel check: status %d\n%s", code, out)
	}
	code, out := runCheckCmd("--repair", dir)
	if code != 0 || !strings.Contains(out, "dropped") || !strings.Contains(out, "damaged files kept in") {
		t.Fatalf("runnel check --repair: status %d\n%s", code, out)
	}
	t.Logf("repair report:\n%s", out)
	if code, out := runCheckCmd(dir); code != 0 {
		t.Fatalf("runnel check after the repair: status %d\n%s", code, out)
	}
	c, _, stderr, err := runOn(t, bin, dir)
	if err != nil {
		t.Fatalf("the server did not start after the repair: %v\n%s", err, stderr)
	}
	// A prefix survives: k000..k(m-1) present, the rest absent.
	m := 0
	for ; m < n; m++ {
		if v, err := c.Get(ctx, fmt.Sprintf("k%03d", m)).Int(); err != nil || v != m {
			break
		}
	}
	for i := m; i < n; i++ {
		if c.Exists(ctx, fmt.Sprintf("k%03d", i)).Val() != 0 {
			t.Fatalf("k%03d survived after k%03d was dropped: not a prefix", i, m)
		}
	}
	if m < n/4 || m == n {
		t.Fatalf("%d of %d writes survived the repair", m, n)
	}
	// Writes continue after the repaired log.
	if err := c.Set(ctx, "after", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestCorruptCheckpointRefusedThenRepaired damages one key's record in a
// checkpoint: start is refused naming the checkpoint; the repair drops that
// key only.
func TestCorruptCheckpointRefusedThenRepaired(t *testing.T) {
	const n = 50
	ctx := context.Background()
	bin, dir, c, srv := startFilled(t, n, func(i int) string { return fmt.Sprintf("key-%03d", i) }, func(int) any { return strings.Repeat("v", 100) })
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "s", Values: []string{"f", "v"}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	srv.stopHard()
	ckpts, _ := filepath.Glob(filepath.Join(dir, "checkpoint-*.rnl"))
	if len(ckpts) != 1 {
		t.Fatalf("checkpoints: %v", ckpts)
	}
	data, _ := os.ReadFile(ckpts[0])
	i := bytes.Index(data, []byte("key-025"))
	if i < 0 {
		t.Fatal("key-025 not found in the checkpoint")
	}
	flipByteIn(t, ckpts[0], int64(i+20)) // inside its value
	_, _, stderr, err := runOn(t, bin, dir)
	if err == nil || !strings.Contains(stderr, ckpts[0]) || !strings.Contains(stderr, "offset") {
		t.Fatalf("start on a damaged checkpoint: %v\n%s", err, stderr)
	}
	code, out := runCheckCmd("--repair", dir)
	if code != 0 || !strings.Contains(out, "dropped 1: (the key of the damaged record") {
		t.Fatalf("runnel check --repair: status %d\n%s", code, out)
	}
	c, _, stderr, err = runOn(t, bin, dir)
	if err != nil {
		t.Fatalf("the server did not start after the repair: %v\n%s", err, stderr)
	}
	if got := c.DBSize(ctx).Val(); got != n {
		t.Fatalf("%d keys after the repair, want %d (50 strings and the stream, less the damaged key)", got, n)
	}
	if c.Exists(ctx, "key-025").Val() != 0 || c.XLen(ctx, "s").Val() != 1 {
		t.Fatal("the repair kept the damaged key or lost the stream")
	}
}

// TestCorruptNodeLogReportedThenRepaired damages a stream node kept in the
// node log (stream-memory-budget pages every node but the last out): a read
// that needs it gets an error while the server and the other streams go
// on; `runnel check` names the stream; `--repair` drops it.
func TestCorruptNodeLogReportedThenRepaired(t *testing.T) {
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	start := func() (*redis.Client, *runningServer) {
		t.Helper()
		port := redistest.FreePort(t)
		cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--dir", dir, "--stream-memory-budget", "1", "--stream-node-max-entries", "10")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		r := &runningServer{cmd: cmd, exited: make(chan struct{})}
		go func() { cmd.Wait(); close(r.exited) }()
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if err := redistest.WaitForPort(addr, 10*time.Second); err != nil {
			r.stopHard()
			t.Fatalf("runnel did not start: %v\n%s", err, stderr.String())
		}
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		t.Cleanup(func() { c.Close(); r.stopHard() })
		return c, r
	}
	c, srv := start()
	for i := 0; i < 200; i++ {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "s", Values: []string{"f", fmt.Sprintf("value-%04d", i)}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "t", Values: []string{"f", "v"}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	srv.stopHard()
	segs, _ := filepath.Glob(filepath.Join(dir, "nodes", "*.nod"))
	damaged := false
	for _, seg := range segs {
		data, _ := os.ReadFile(seg)
		if i := bytes.Index(data, []byte("value-0050")); i >= 0 {
			flipByteIn(t, seg, int64(i+3))
			damaged = true
		}
	}
	if !damaged {
		t.Fatal("no node of s found in the node log")
	}
	c, srv = start() // starting reads no node: it succeeds
	if err := c.XRange(ctx, "s", "-", "+").Err(); err == nil {
		t.Fatal("XRANGE over a damaged node succeeded")
	}
	c2 := redis.NewClient(&redis.Options{Addr: c.Options().Addr})
	defer c2.Close()
	if n, err := c2.XLen(ctx, "t").Result(); err != nil || n != 1 {
		t.Fatalf("after the failed read, XLEN t: %d, %v", n, err)
	}
	srv.stopHard()
	if code, out := runCheckCmd(dir); code != 1 || !strings.Contains(out, "node log: 1 streams") || !strings.Contains(out, "0/s") {
		t.Fatalf("runnel check: status %d\n%s", code, out)
	}
	if code, out := runCheckCmd("--repair", dir); code != 0 || !strings.Contains(out, "dropped: 0/s") {
		t.Fatalf("runnel check --repair: status %d\n%s", code, out)
	}
	c, _ = start()
	if c.Exists(ctx, "s").Val() != 0 || c.XLen(ctx, "t").Val() != 1 {
		t.Fatal("after the repair: s should be gone and t whole")
	}
}
