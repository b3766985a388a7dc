package loadgen

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
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
