package loadgen

import (
	"context"
	"errors"
	"math"
	"net"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/app/apptest"
	"github.com/runnel-io/runnel/internal/redistest"
	"github.com/runnel-io/runnel/internal/resp"
)

// servers are the targets every workload test runs against: an in-process
// Runnel without a data directory, and Debian's redis-server (skipped with
// redistest's message when it is not installed).
var servers = []struct {
	name  string
	start func(testing.TB) string
}{
	{"runnel", StartRunnel},
	{"redis", func(tb testing.TB) string { return redistest.StartRedis(tb).Addr() }},
}

// StartRunnel runs an in-memory Runnel until the test ends and returns its
// address.
func StartRunnel(tb testing.TB) string {
	_, addr := apptest.Start(tb)
	return addr
}

// dialT opens a connection for checks, closed when the test ends.
func dialT(tb testing.TB, addr string) *Conn {
	tb.Helper()
	c, err := Dial(context.Background(), addr)
	if err != nil {
		tb.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	tb.Cleanup(func() { c.Close() })
	return c
}

func xlen(tb testing.TB, addr, key string) int64 {
	tb.Helper()
	n, err := dialT(tb, addr).DoInt("XLEN", key)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// checkSane asserts what every Result must satisfy.
func checkSane(tb testing.TB, r *Result, workload string) {
	tb.Helper()
	switch {
	case r.Workload != workload:
		tb.Errorf("workload %q, want %q", r.Workload, workload)
	case r.Ops <= 0 || r.OpsPerSec <= 0 || r.Duration <= 0:
		tb.Errorf("ops %d, ops/s %g, duration %v: want all positive", r.Ops, r.OpsPerSec, r.Duration)
	case r.Samples <= 0 || r.Samples != r.Latency.TotalCount():
		tb.Errorf("%d samples, histogram has %d", r.Samples, r.Latency.TotalCount())
	case !(0 < r.P50 && r.P50 <= r.P99 && r.P99 <= r.P999 && r.P999 <= r.Max):
		tb.Errorf("percentiles out of order: p50=%d p99=%d p99.9=%d max=%d", r.P50, r.P99, r.P999, r.Max)
	}
	tb.Log(r)
}

func TestWorkloads(t *testing.T) {
	tests := []struct {
		name  string
		run   func(ctx context.Context, addr string) (*Result, error)
		check func(tb testing.TB, addr string, r *Result)
	}{
		{
			name: "produce n",
			run: func(ctx context.Context, addr string) (*Result, error) {
				return Produce(ctx, ProduceOptions{Addr: addr, Key: "p", Conns: 4, Pipeline: 8, Size: 16, Fields: 2, N: 3001})
			},
			check: func(tb testing.TB, addr string, r *Result) {
				checkSane(tb, r, "produce")
				if r.Ops != 3001 || xlen(tb, addr, "p") != 3001 {
					tb.Errorf("ops %d, XLEN %d; want 3001 both", r.Ops, xlen(tb, addr, "p"))
				}
				if r.Samples != 376 { // 375 full batches of 8 and one of 1
					tb.Errorf("%d batches timed, want 376", r.Samples)
				}
			},
		},
		{
			name: "produce maxlen",
			run: func(ctx context.Context, addr string) (*Result, error) {
				return Produce(ctx, ProduceOptions{Addr: addr, Key: "pm", Conns: 2, Pipeline: 16, Size: 8, Fields: 1, MaxLen: 100, N: 2000})
			},
			check: func(tb testing.TB, addr string, r *Result) {
				checkSane(tb, r, "produce")
				if n := xlen(tb, addr, "pm"); r.Ops != 2000 || n < 100 || n > 300 {
					tb.Errorf("ops %d, XLEN %d; want 2000 and about 100 (MAXLEN ~ 100)", r.Ops, n)
				}
			},
		},
		{
			name: "produce duration",
			run: func(ctx context.Context, addr string) (*Result, error) {
				return Produce(ctx, ProduceOptions{Addr: addr, Key: "pd", Conns: 3, Pipeline: 4, Size: 64, Fields: 1, Duration: 200 * time.Millisecond})
			},
			check: func(tb testing.TB, addr string, r *Result) {
				checkSane(tb, r, "produce")
				if r.Ops%4 != 0 || xlen(tb, addr, "pd") != r.Ops || r.Duration < 200*time.Millisecond {
					tb.Errorf("ops %d over %v, XLEN %d: want whole batches of 4, all in the stream, at least 200ms", r.Ops, r.Duration, xlen(tb, addr, "pd"))
				}
			},
		},
		{
			name: "consume",
			run: func(ctx context.Context, addr string) (*Result, error) {
				return Consume(ctx, ConsumeOptions{Addr: addr, Key: "c", N: 2000, Groups: 2, Consumers: 3, Count: 50, Size: 16, Fields: 2, Pipeline: 100})
			},
			check: func(tb testing.TB, addr string, r *Result) {
				checkSane(tb, r, "consume")
				if r.Ops != 4000 || !slices.Equal(r.PerGroup, []int64{2000, 2000}) {
					tb.Errorf("ops %d, per group %v; want 4000, [2000 2000]", r.Ops, r.PerGroup)
				}
				c := dialT(tb, addr)
				for g := range 2 {
					if n, err := c.PendingCount("c", groupName(g)); err != nil || n != 0 {
						tb.Errorf("group %d: %d pending, %v; want 0", g, n, err)
					}
				}
			},
		},
		{
			name: "latency",
			run: func(ctx context.Context, addr string) (*Result, error) {
				return Latency(ctx, LatencyOptions{Addr: addr, Key: "l", Rate: 2000, Consumers: 2, Size: 16, N: 400})
			},
			check: func(tb testing.TB, addr string, r *Result) {
				checkSane(tb, r, "latency")
				if r.Ops != 400 || r.Samples != 400 || xlen(tb, addr, "l") != 400 {
					tb.Errorf("ops %d, samples %d, XLEN %d; want 400 each", r.Ops, r.Samples, xlen(tb, addr, "l"))
				}
				// 400 messages at 2000/s take at least 200ms to publish.
				if r.Duration < 199*time.Millisecond {
					tb.Errorf("400 messages at 2000/s took %v, want at least 200ms", r.Duration)
				}
			},
		},
		{
			name: "fan-out",
			run: func(ctx context.Context, addr string) (*Result, error) {
				return FanOut(ctx, FanOutOptions{Addr: addr, Key: "f", N: 1000, Groups: 3, Consumers: 2, Count: 50, Size: 16, Pipeline: 8})
			},
			check: func(tb testing.TB, addr string, r *Result) {
				checkSane(tb, r, "fan-out")
				if r.Ops != 3000 || r.Samples != 3000 || !slices.Equal(r.PerGroup, []int64{1000, 1000, 1000}) || xlen(tb, addr, "f") != 1000 {
					tb.Errorf("ops %d, samples %d, per group %v, XLEN %d; want 3000, 3000, [1000 1000 1000], 1000", r.Ops, r.Samples, r.PerGroup, xlen(tb, addr, "f"))
				}
				c := dialT(tb, addr)
				for g := range 3 {
					if n, err := c.PendingCount("f", groupName(g)); err != nil || n != 0 {
						tb.Errorf("group %d: %d pending, %v; want 0", g, n, err)
					}
				}
			},
		},
		{
			name: "fan-out paced",
			run: func(ctx context.Context, addr string) (*Result, error) {
				return FanOut(ctx, FanOutOptions{Addr: addr, Key: "fp", N: 200, Groups: 2, Consumers: 1, Count: 10, Pipeline: 1, Rate: 2000})
			},
			check: func(tb testing.TB, addr string, r *Result) {
				checkSane(tb, r, "fan-out")
				// 200 entries at 2000/s take at least 100ms to publish.
				if r.Ops != 400 || r.Duration < 99*time.Millisecond {
					tb.Errorf("ops %d in %v; want 400 in at least 100ms", r.Ops, r.Duration)
				}
			},
		},
		{
			name: "many-streams",
			run: func(ctx context.Context, addr string) (*Result, error) {
				return ManyStreams(ctx, ManyStreamsOptions{Addr: addr, Prefix: "ms", Streams: 200, Producers: 2, Consumers: 2,
					Pipeline: 4, Count: 5, Size: 8, Fields: 2, Duration: 200 * time.Millisecond})
			},
			check: func(tb testing.TB, addr string, r *Result) {
				checkSane(tb, r, "many-streams")
				if r.Added <= 0 || r.Delivered <= 0 || r.Delivered > r.Added || r.Ops != r.Added+r.Delivered || r.Added%4 != 0 {
					tb.Errorf("added %d, delivered %d, ops %d: want whole batches of 4 added, some delivered, ops their sum", r.Added, r.Delivered, r.Ops)
				}
				var total int64
				keys := StreamKeys("ms", 200)
				for _, k := range keys {
					total += xlen(tb, addr, string(k))
				}
				if total != r.Added {
					tb.Errorf("the streams hold %d entries, want %d", total, r.Added)
				}
				if err := DeleteStreams(context.Background(), addr, "ms", 200); err != nil {
					tb.Fatal(err)
				}
				if n, err := dialT(tb, addr).DoInt("EXISTS", string(keys[0]), string(keys[199])); err != nil || n != 0 {
					tb.Errorf("after DeleteStreams, EXISTS = %d, %v; want 0", n, err)
				}
			},
		},
		{
			name: "memory",
			run: func(ctx context.Context, addr string) (*Result, error) {
				// The in-process Runnel shares the test's heap: hand the
				// garbage of the earlier tests back to the system first, or
				// the entries would reuse it without RSS growing.
				debug.FreeOSMemory()
				return Memory(ctx, MemoryOptions{Addr: addr, Key: "m", N: 100_000, Size: 16, Schemas: 4, Pipeline: 256, Count: 1000,
					Settle: 3 * time.Second, Stable: 100 * time.Millisecond})
			},
			check: func(tb testing.TB, addr string, r *Result) {
				tb.Log(r)
				m := r.Memory
				if r.Workload != "memory" || m == nil || r.Ops != 100_000 || r.OpsPerSec <= 0 || r.Samples != 391 { // 390 writes of 256, one of 160
					tb.Fatalf("got %+v, want a memory result of 100000 XADDs in 391 writes", r)
				}
				if xlen(tb, addr, "m") != 100_000 {
					tb.Errorf("XLEN %d, want 100000", xlen(tb, addr, "m"))
				}
				if n, err := dialT(tb, addr).PendingCount("m", memoryGroup); err != nil || n != 100_000 {
					tb.Errorf("%d pending, %v; want 100000", n, err)
				}
				// 100,000 entries of 4 × 16 random bytes take well over 2 MB
				// in any server; 10 KB each would be absurd.
				if !(m.RSSBase > 0 && m.BytesPerEntry > 20 && m.BytesPerEntry < 10_000) {
					tb.Errorf("RSS %d → %d: %.1f bytes/entry, want 20 to 10000", m.RSSBase, m.RSSEntries, m.BytesPerEntry)
				}
				// The in-process Runnel shares its RSS with the test and its
				// garbage, which the pending entries can reuse: only Redis,
				// a process of its own, is held to a plausible figure.
				if !strings.Contains(tb.Name(), "runnel") && !(m.BytesPerPending > 10 && m.BytesPerPending < 10_000) {
					tb.Errorf("RSS %d → %d: %.1f bytes/pending entry, want 10 to 10000", m.RSSEntries, m.RSSPending, m.BytesPerPending)
				}
			},
		},
		{
			name: "idle",
			run: func(ctx context.Context, addr string) (*Result, error) {
				return Idle(ctx, IdleOptions{Addr: addr, Key: "i", Clients: 50, Window: 300 * time.Millisecond, Settle: 10 * time.Millisecond})
			},
			check: func(tb testing.TB, addr string, r *Result) {
				tb.Log(r)
				ir := r.Idle
				if r.Workload != "idle" || ir == nil || r.Ops != 50 || ir.Clients != 50 {
					tb.Fatalf("got %+v, want an idle result of 50 clients", r)
				}
				if ir.WindowSeconds < 0.3 || ir.CPUSeconds < 0 || !(ir.CPUPercent >= 0) || math.Abs(ir.CPUPercent-100*ir.CPUSeconds/ir.WindowSeconds) > 1e-9 {
					tb.Errorf("%+v: want a window of at least 0.3s and CPU%% = 100 × CPU seconds / window", ir)
				}
				// The clients are gone once Idle returns.
				c := dialT(tb, addr)
				deadline := time.Now().Add(5 * time.Second)
				for {
					n, err := blockedClients(c)
					if err != nil {
						tb.Fatal(err)
					}
					if n == 0 {
						break
					}
					if time.Now().After(deadline) {
						tb.Fatalf("%d clients still blocked after the run", n)
					}
					time.Sleep(10 * time.Millisecond)
				}
			},
		},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			addr := srv.start(t)
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					r, err := tc.run(ctx, addr)
					if err != nil {
						t.Fatal(err)
					}
					tc.check(t, addr, r)
				})
			}
		})
	}
}

func TestWorkloadOptionErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func() (*Result, error)
	}{
		{"produce without n or duration", func() (*Result, error) {
			return Produce(ctx, ProduceOptions{Addr: "x", Key: "k", Conns: 1, Pipeline: 1, Fields: 1})
		}},
		{"produce without conns", func() (*Result, error) {
			return Produce(ctx, ProduceOptions{Addr: "x", Key: "k", Pipeline: 1, Fields: 1, N: 1})
		}},
		{"consume without groups", func() (*Result, error) {
			return Consume(ctx, ConsumeOptions{Addr: "x", Key: "k", N: 1, Consumers: 1, Count: 1, Fields: 1, Pipeline: 1})
		}},
		{"latency without rate", func() (*Result, error) {
			return Latency(ctx, LatencyOptions{Addr: "x", Key: "k", Consumers: 1, N: 1})
		}},
		{"fan-out without groups", func() (*Result, error) {
			return FanOut(ctx, FanOutOptions{Addr: "x", Key: "k", N: 1, Consumers: 1, Count: 1, Pipeline: 1})
		}},
		{"many-streams without duration", func() (*Result, error) {
			return ManyStreams(ctx, ManyStreamsOptions{Addr: "x", Prefix: "k", Streams: 1, Producers: 1, Consumers: 1, Pipeline: 1, Count: 1, Fields: 1})
		}},
		{"memory with 5 schemas", func() (*Result, error) {
			return Memory(ctx, MemoryOptions{Addr: "x", Key: "k", N: 1, Size: 1, Schemas: 5, Pipeline: 1, Count: 1})
		}},
		{"idle without window", func() (*Result, error) {
			return Idle(ctx, IdleOptions{Addr: "x", Key: "k", Clients: 1})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r, err := tc.run(); err == nil {
				t.Fatalf("got %v, want an options error", r)
			}
		})
	}
}

// TestWorkloadCancel: cancelling the context stops a run that would go on
// for an hour, and the workload reports the context's error.
func TestWorkloadCancel(t *testing.T) {
	addr := StartRunnel(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := Produce(ctx, ProduceOptions{Addr: addr, Key: "k", Conns: 2, Pipeline: 1, Fields: 1, Duration: time.Hour})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want %v", err, context.DeadlineExceeded)
	}
}

// fakeServer answers DEL with :1 and every other command with an error
// reply, so that a workload meets an error in its hot path.
func fakeServer(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			tb.Cleanup(func() { nc.Close() })
			go func() {
				r := resp.NewReader(nc)
				for {
					args, err := r.ReadCommand()
					if errors.Is(err, resp.ErrIncomplete) {
						if r.Fill() != nil {
							return
						}
						continue
					}
					if err != nil || len(args) == 0 {
						return
					}
					reply := "-ERR injected\r\n"
					if strings.EqualFold(string(args[0]), "DEL") {
						reply = ":1\r\n"
					}
					if _, err := nc.Write([]byte(reply)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// TestWorkloadReplyError: an error reply in the hot path fails the run with
// that reply.
func TestWorkloadReplyError(t *testing.T) {
	addr := fakeServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Produce(ctx, ProduceOptions{Addr: addr, Key: "k", Conns: 2, Pipeline: 4, Fields: 1, N: 100})
	var re *Error
	if !errors.As(err, &re) || re.Msg != "ERR injected" {
		t.Fatalf("got %v, want the reply error ERR injected", err)
	}
}

// TestIdleLimits: too few open files or too low a maxclients fail before
// any client connects, saying what to raise.
func TestIdleLimits(t *testing.T) {
	addr := StartRunnel(t)
	c := dialT(t, addr)
	if err := c.Do("CONFIG", "SET", "maxclients", "20"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err := Idle(ctx, IdleOptions{Addr: addr, Key: "i", Clients: 20, Window: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "maxclients is 20") || !strings.Contains(err.Error(), "--maxclients 21") {
		t.Errorf("got %v, want an error naming maxclients 20 and asking for 21", err)
	}
	if n, err := c.DoInt("EXISTS", "i"); err != nil || n != 0 {
		t.Errorf("EXISTS i = %d, %v: the check should come before any setup", n, err)
	}

	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	const many = 50_000_000
	if l.Max >= many {
		t.Skipf("the hard open files limit (%d) allows %d clients", l.Max, many)
	}
	_, err = Idle(ctx, IdleOptions{Addr: addr, Key: "i", Clients: many, Window: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "ulimit -Hn") {
		t.Errorf("got %v, want an error naming the hard open files limit", err)
	}
}
