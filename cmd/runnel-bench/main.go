// Command runnel-bench measures a server that speaks RESP (Runnel or
// redis-server alike: it sends only standard commands) on stream
// workloads, and prints one line per run, or one JSON object with --json.
//
//	runnel-bench --addr 127.0.0.1:6379 --workload produce --conns 50 --pipeline 16
//	runnel-bench --workload consume --n 100000 --groups 2 --consumers 4 --count 100
//	runnel-bench --workload latency --rate 5000 --consumers 2 --duration 10s
//	runnel-bench --workload fan-out --n 100000 --groups 8 --consumers 2
//	runnel-bench --workload many-streams --streams 10000 --producers 8 --consumers 8
//	runnel-bench --workload memory --n 1000000
//	runnel-bench --workload idle --clients 10000 --window 10s
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
latency percentiles (HDR histogram, µs resolution), or for memory and idle
their own figures:

  produce   --conns connections each send --pipeline XADDs per write, entries
            of --fields fields of --size bytes, optionally XADD MAXLEN ~
            --maxlen; latency is per pipeline batch.
  consume   pre-fills a stream with --n entries, then --groups groups of
            --consumers consumers loop XREADGROUP COUNT --count and XACK until
            each group has read everything; fails unless every group got all
            entries and nothing is left pending. Latency is per round trip.
  latency   one producer publishes --rate messages/s carrying their send time;
            --consumers consumers of one group wait in XREADGROUP BLOCK and
            XACK; latency is end to end, from before XADD to delivery.
  fan-out   one producer publishes --n entries (a send time and a --size
            padding field), --pipeline XADDs per write as fast as replies come
            (default 16), or paced at --rate messages/s when --rate is given;
            --groups groups (default 8) of --consumers consumers (default 2)
            loop XREADGROUP COUNT --count BLOCK 100 and XACK (in the next
            write). Ops/s = messages delivered, all groups together, from the
            first XADD to the last delivery; latency is end to end per message
            and group. Fails unless every group got every entry and nothing
            is left pending.
  many-streams
            --streams streams <key>:0.. (default 10000), each deleted and
            created with one group (not timed); for --duration, --producers
            connections (default 8) send --pipeline XADDs per write (default
            16) each to a random stream, --consumers connections (default 8)
            send --pipeline XREADGROUP COUNT --count (default 10, no BLOCK)
            per write, each on a random stream, and XACK what they got in the
            next write. Ops/s = (entries added + messages delivered) per
            second; latency is per round trip. Fails unless the streams hold
            every entry added and nothing is left pending.
  memory    bytes of resident memory per entry and per pending entry, from
            INFO memory used_memory_rss: DEL --key and read RSS; add --n
            entries (default 1000000) of 4 fields of --size random bytes
            (default 16; field names drawn per entry from --schemas event
            schemas, 1-4, default 4), --pipeline XADDs per write (default
            256), read RSS; XGROUP CREATE at 0 and deliver every entry to one
            consumer without acking (XREADGROUP COUNT --count, default 1000,
            4 per write), read RSS. Each reading sends MEMORY PURGE, then
            polls RSS every 100ms until the readings over --stable (default
            1s) span at most 0.1% of it (64 KiB if more), waiting at most --settle
            (default 30s). Bytes/entry = RSS growth over the XADDs / n;
            bytes/pending entry = RSS growth over the reads / n. Use a fresh
            server: RSS counts everything the process holds.
  idle      --clients connections (default 10000), each blocked in XREADGROUP
            GROUP g c<i> BLOCK 0 on one empty stream; once INFO clients shows
            them all blocked and --settle (default 1s) has passed, the
            server's CPU (INFO cpu used_cpu_sys + used_cpu_user) over --window
            (default 10s), in % of one core. Raises this process's open files
            limit to the hard limit; fails if that or the server's maxclients
            is too low for --clients.

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
		workload  = fs.String("workload", "produce", "produce, consume, latency, fan-out, many-streams, memory or idle")
		key       = fs.String("key", "", "stream key (default runnel-bench:<workload>)")
		conns     = fs.Int("conns", 50, "produce: connections")
		pipeline  = fs.Int("pipeline", 1, "produce: XADDs per write; fan-out, memory: XADDs per write (without this flag 16, 256); many-streams: XADDs or XREADGROUPs per write (without this flag 16)")
		fill      = fs.Int("fill-pipeline", 256, "consume: XADDs per write while pre-filling")
		size      = fs.Int("size", 64, "bytes of each field value (latency, fan-out: of a padding field besides the timestamp, 0 for none; memory: 16 without this flag)")
		fields    = fs.Int("fields", 1, "produce, consume, many-streams: field-value pairs per entry")
		maxLen    = fs.Int64("maxlen", 0, "produce: add MAXLEN ~ `n` to each XADD (0: no trimming)")
		groups    = fs.Int("groups", 2, "consume: consumer groups; fan-out: consumer groups (without this flag 8)")
		consumers = fs.Int("consumers", 0, "consume: consumers per group (default 4); latency: consumers in the group (default 2); fan-out: consumers per group (default 2); many-streams: consumer connections (default 8)")
		count     = fs.Int("count", 100, "consume, fan-out: XREADGROUP COUNT; many-streams, memory: XREADGROUP COUNT (without this flag 10, 1000)")
		rate      = fs.Float64("rate", 5000, "latency: messages per second; fan-out: pace the producer at this rate (without this flag: unpaced, pipelined)")
		duration  = fs.Duration("duration", 10*time.Second, "produce, latency: how long to run when --n is 0; many-streams: how long to run")
		n         = fs.Int64("n", 0, "produce: entries to add (0: run for --duration); consume: entries to pre-fill (0: 100000); latency: messages (0: rate × duration); fan-out: entries (0: 100000); memory: entries (0: 1000000)")
		streams   = fs.Int("streams", 10000, "many-streams: streams")
		producers = fs.Int("producers", 8, "many-streams: producer connections")
		schemas   = fs.Int("schemas", 4, "memory: field-name sets entries draw from (1-4)")
		stable    = fs.Duration("stable", 0, "memory: RSS has settled once its readings over this long span at most 0.1% of it, or 64 KiB (0: 1s)")
		settle    = fs.Duration("settle", 0, "memory: longest wait for RSS to settle, per reading (0: 30s); idle: pause between the last client blocking and the window (0: 1s)")
		clients   = fs.Int("clients", 10000, "idle: connections blocked in XREADGROUP BLOCK 0")
		window    = fs.Duration("window", 10*time.Second, "idle: how long the server's CPU is measured")
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
	// Flags whose default depends on the workload take it only when unset.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	or := func(name string, v, def int) int {
		if set[name] {
			return v
		}
		return def
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
	case "fan-out":
		o := loadgen.FanOutOptions{
			Addr: *addr, Key: *key, N: *n, Groups: or("groups", *groups, 8), Consumers: or("consumers", *consumers, 2),
			Count: *count, Size: *size, Pipeline: or("pipeline", *pipeline, 16),
		}
		if o.N == 0 {
			o.N = 100_000
		}
		if set["rate"] {
			o.Rate = *rate
		}
		r, err = loadgen.FanOut(ctx, o)
	case "many-streams":
		r, err = loadgen.ManyStreams(ctx, loadgen.ManyStreamsOptions{
			Addr: *addr, Prefix: *key, Streams: *streams, Producers: *producers, Consumers: or("consumers", *consumers, 8),
			Pipeline: or("pipeline", *pipeline, 16), Count: or("count", *count, 10), Size: *size, Fields: *fields, Duration: *duration,
		})
	case "memory":
		o := loadgen.MemoryOptions{
			Addr: *addr, Key: *key, N: *n, Size: or("size", *size, 16), Schemas: *schemas,
			Pipeline: or("pipeline", *pipeline, 256), Count: or("count", *count, 1000), Settle: *settle, Stable: *stable,
		}
		if o.N == 0 {
			o.N = 1_000_000
		}
		r, err = loadgen.Memory(ctx, o)
	case "idle":
		r, err = loadgen.Idle(ctx, loadgen.IdleOptions{Addr: *addr, Key: *key, Clients: *clients, Window: *window, Settle: *settle})
	default:
		fmt.Fprintf(stderr, "runnel-bench: unknown workload %q (want produce, consume, latency, fan-out, many-streams, memory or idle)\n", *workload)
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
