// Command runnel-bench measures a server that speaks RESP (Runnel or
// redis-server alike: it sends only standard commands) on stream
// workloads, and prints one line per run, or one JSON object with --json.
//
//	runnel-bench --addr 127.0.0.1:6379 --workload produce --conns 50 --pipeline 16
//	runnel-bench --workload consume --n 100000 --groups 2 --consumers 4 --count 100
//	runnel-bench --workload latency --rate 5000 --consumers 2 --duration 10s
//
// runnel-bench compare starts redis-server and Runnel side by side and
// prints a markdown table of issue 5's target workloads (compare.go):
//
//	runnel-bench compare --runs 3 --out BENCHMARKS.md
//
// The workloads live in internal/loadgen; this file only parses flags.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/runnel-io/runnel/internal/loadgen"
)

const usageHead = `Usage: runnel-bench [flags]
       runnel-bench compare [flags] (Runnel vs redis-server; see compare --help)

Runs one stream workload against a RESP server and prints its throughput and
latency percentiles (HDR histogram, µs resolution):

  produce  --conns connections each send --pipeline XADDs per write, entries of
           --fields fields of --size bytes, optionally XADD MAXLEN ~ --maxlen;
           latency is per pipeline batch.
  consume  pre-fills a stream with --n entries, then --groups groups of
           --consumers consumers loop XREADGROUP COUNT --count and XACK until
           each group has read everything; fails unless every group got all
           entries and nothing is left pending. Latency is per round trip.
  latency  one producer publishes --rate messages/s carrying their send time;
           --consumers consumers of one group wait in XREADGROUP BLOCK and
           XACK; latency is end to end, from before XADD to delivery.

The stream key (--key, default runnel-bench:<workload>) is deleted before the
run and left in place after it.

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args, runs the workload and prints its result. It returns the
// exit status: 0 on success, 1 if the run failed, 2 for bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "compare" {
		return runCompare(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("runnel-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHead)
		fs.PrintDefaults()
	}
	var (
		addr      = fs.String("addr", "127.0.0.1:6379", "server `host:port`")
		workload  = fs.String("workload", "produce", "produce, consume or latency")
		key       = fs.String("key", "", "stream key (default runnel-bench:<workload>)")
		conns     = fs.Int("conns", 50, "produce: connections")
		pipeline  = fs.Int("pipeline", 1, "produce: XADDs per write")
		fill      = fs.Int("fill-pipeline", 256, "consume: XADDs per write while pre-filling")
		size      = fs.Int("size", 64, "bytes of each field value (latency: of a padding field besides the timestamp; 0 for none)")
		fields    = fs.Int("fields", 1, "produce, consume: field-value pairs per entry")
		maxLen    = fs.Int64("maxlen", 0, "produce: add MAXLEN ~ `n` to each XADD (0: no trimming)")
		groups    = fs.Int("groups", 2, "consume: consumer groups")
		consumers = fs.Int("consumers", 0, "consume: consumers per group (default 4); latency: consumers in the group (default 2)")
		count     = fs.Int("count", 100, "consume: XREADGROUP COUNT")
		rate      = fs.Float64("rate", 5000, "latency: messages per second")
		duration  = fs.Duration("duration", 10*time.Second, "produce, latency: how long to run when --n is 0")
		n         = fs.Int64("n", 0, "produce: entries to add (0: run for --duration); consume: entries to pre-fill (0: 100000); latency: messages (0: rate × duration)")
		asJSON    = fs.Bool("json", false, "print the result as one JSON object")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "runnel-bench: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *key == "" {
		*key = "runnel-bench:" + *workload
	}

	var (
		r   *loadgen.Result
		err error
	)
	switch *workload {
	case "produce":
		r, err = loadgen.Produce(ctx, loadgen.ProduceOptions{
			Addr: *addr, Key: *key, Conns: *conns, Pipeline: *pipeline, Size: *size, Fields: *fields,
			MaxLen: *maxLen, N: *n, Duration: *duration,
		})
	case "consume":
		o := loadgen.ConsumeOptions{
			Addr: *addr, Key: *key, N: *n, Groups: *groups, Consumers: *consumers, Count: *count,
			Size: *size, Fields: *fields, Pipeline: *fill,
		}
		if o.N == 0 {
			o.N = 100_000
		}
		if o.Consumers == 0 {
			o.Consumers = 4
		}
		r, err = loadgen.Consume(ctx, o)
	case "latency":
		o := loadgen.LatencyOptions{
			Addr: *addr, Key: *key, Rate: *rate, Consumers: *consumers, Size: *size, N: *n, Duration: *duration,
		}
		if o.Consumers == 0 {
			o.Consumers = 2
		}
		r, err = loadgen.Latency(ctx, o)
	default:
		fmt.Fprintf(stderr, "runnel-bench: unknown workload %q (want produce, consume or latency)\n", *workload)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "runnel-bench: %s: %v\n", *workload, err)
		return 1
	}
	if *asJSON {
		b, err := json.Marshal(r)
		if err != nil {
			fmt.Fprintf(stderr, "runnel-bench: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	fmt.Fprintln(stdout, r)
	return 0
}
