// Command runnel is a Redis-protocol server for Redis Streams.
//
// It is invoked the way redis-server is:
//
//	runnel [path/to/runnel.conf] [--name value ...]
//
// Every configuration parameter can be given in the file or as a flag; flags
// win. SIGTERM and SIGINT (and the SHUTDOWN command) stop it gracefully.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"syscall"
	"time"

	"github.com/runnel-io/runnel/internal/app"
	"github.com/runnel-io/runnel/internal/command"
	"github.com/runnel-io/runnel/internal/config"
	"github.com/runnel-io/runnel/internal/server"
	"github.com/runnel-io/runnel/internal/store"
)

const usage = `Usage: runnel [/path/to/runnel.conf] [options] [-]
       runnel - (read config from stdin)
       runnel -v or --version
       runnel -h or --help
       runnel check [--repair] DIR (examine or repair a data directory)
       runnel dlq list|show|redrive ... (dead letters of the streams library; runnel dlq -h)

Every redis.conf parameter is accepted as a file directive or as --name value.
Defaults: port 6379, bind 127.0.0.1 -::1, dir ./data, appendfsync always.

Examples:
       runnel (run the server with the default configuration)
       runnel /etc/runnel/runnel.conf
       runnel --port 7777
       runnel --port 7777 --dir /var/lib/runnel --requirepass s3cret
       runnel /etc/myrunnel.conf --loglevel verbose
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "check" {
		return runCheck(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "dlq" {
		return runDLQ(args[1:], stdout, stderr)
	}
	cfg := config.New()
	switch err := cfg.ParseArgs(args); {
	case errors.Is(err, config.ErrVersion):
		fmt.Fprintf(stdout, "Runnel server v=%s redis_version=%s\n", command.RunnelVersion, command.RedisVersion)
		return 0
	case errors.Is(err, config.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0
	case err != nil:
		fmt.Fprintln(stderr, err)
		return 1
	}
	log, closeLog, err := newLogger(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer closeLog()
	tuneGC(cfg)

	a := app.New(cfg, log)
	if err := a.ApplyRenames(); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	// Clients are served while the data directory loads, as Redis does:
	// until it is loaded they get -LOADING, and INFO shows the progress.
	listeners, err := a.Listen()
	if err != nil {
		log.Error("cannot start", "err", err)
		fmt.Fprintln(stderr, err)
		return 1
	}
	a.BeginLoading()
	for _, l := range listeners {
		go func() {
			if err := a.Serve(l); err != nil && !errors.Is(err, server.ErrServerClosed) {
				log.Error("listener failed", "addr", l.Addr().String(), "err", err)
			}
		}()
	}
	if err := a.OpenStore(app.StoreOptions{}); err != nil {
		log.Error("cannot start", "err", err)
		fmt.Fprintln(stderr, err)
		if !errors.Is(err, store.ErrLocked) && !errors.Is(err, store.ErrNewerFormat) {
			fmt.Fprintf(stderr, "If the data directory is damaged, `runnel check %s` tells what, and `runnel check --repair %s` drops it (see README).\n", cfg.Dir(), cfg.Dir())
		}
		return 1
	}
	for _, l := range listeners {
		log.Info("Ready to accept connections", "addr", l.Addr().String())
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case s := <-sig:
		log.Info("Received signal, scheduling shutdown", "signal", s.String())
	case <-a.ShutdownRequested():
		log.Info("User requested shutdown")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		log.Warn("shutdown did not finish cleanly", "err", err)
	}
	log.Info("Runnel is now ready to exit, bye bye...")
	return 0
}

// defaultGCPercent is the collector's GOGC unless the environment sets
// one. Go's default of 100 lets the heap grow to twice the live data
// before a collection. Runnel's live heap is mostly long-lived bytes
// without pointers (node bytes, node headers, log buffers), which a
// collection marks without scanning, and its command path allocates
// nothing: collections are cheap and rare, so a heap a quarter above the
// live data costs no measurable throughput and saves a third of the RSS
// (ARCHITECTURE.md, Streams larger than RAM).
const defaultGCPercent = 25

// tuneGC keeps GOGC at defaultGCPercent with at least heapHeadroom of room
// (keepHeapHeadroom) unless GOGC is set, and gives the
// runtime maxmemory as its soft memory limit unless GOMEMLIMIT is set:
// near the limit the collector runs more often and returns freed memory to
// the system promptly, where it otherwise returns it slowly (a fill of a
// stream larger than the budget frees node bytes at the rate it writes
// them: at the end of a 20 GB fill 570 MB of freed heap were still held).
// CONFIG SET maxmemory applies at once; 0 removes the limit.
func tuneGC(cfg *config.Config) {
	if _, set := os.LookupEnv("GOGC"); !set {
		keepHeapHeadroom()
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	apply := func() error {
		debug.SetMemoryLimit(memoryLimit(cfg.MaxMemory()))
		return nil
	}
	_ = apply()
	cfg.OnChange(apply, "maxmemory")
}

// heapHeadroom is the least the heap may grow above the live data before a
// collection. GOGC alone scales with the live heap: at 25% a server with a
// few megabytes live (its buffers, small streams) was collected after every
// megabyte or so allocated, 28 times in 8 s at 5,000 messages/s, each
// collection stopping the world for up to a millisecond on a busy 2-core
// machine, which made the p99.9 of end-to-end latency. With 64 MB of room
// a small heap is collected rarely, and a large one keeps its 25%.
const heapHeadroom = 64 << 20

// maxGCPercent bounds gcPercent for a nearly empty heap: the runtime's
// smallest heap goal (4 MB at GOGC 100) scales with it to heapHeadroom.
const maxGCPercent = 100 * heapHeadroom / (4 << 20)

// gcPercent is the GOGC that leaves at least heapHeadroom above a live heap
// of live bytes, and never less than defaultGCPercent.
func gcPercent(live uint64) int {
	if live == 0 {
		return maxGCPercent
	}
	return int(min(maxGCPercent, max(defaultGCPercent, heapHeadroom*100/live)))
}

// gcSentinel is garbage whose finalizer runs once per collection.
type gcSentinel struct{ _ [16]byte }

// keepHeapHeadroom sets GOGC to gcPercent of the live heap each collection
// finds, from a finalizer that re-arms itself, so the goal follows a heap
// that grows fast (loading a checkpoint) without a polling goroutine; the
// soft memory limit, from maxmemory, still bounds the heap.
func keepHeapHeadroom() {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	cur := gcPercent(0)
	debug.SetGCPercent(cur)
	var arm func()
	arm = func() {
		runtime.SetFinalizer(new(gcSentinel), func(*gcSentinel) {
			metrics.Read(sample)
			if p := gcPercent(sample[0].Value.Uint64()); p > cur*11/10 || p < cur*9/10 {
				debug.SetGCPercent(p)
				cur = p
			}
			arm()
		})
	}
	arm()
}

// memoryLimit is the runtime's soft memory limit for maxmemory (0: none).
func memoryLimit(maxmemory uint64) int64 {
	if maxmemory == 0 || maxmemory > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(maxmemory)
}

// newLogger builds the logger from loglevel and logfile ("" is stderr).
func newLogger(cfg *config.Config) (*slog.Logger, func(), error) {
	var w io.Writer = os.Stderr
	closeFn := func() {}
	if path := cfg.String("logfile"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("can't open the log file %s: %w", path, err)
		}
		w = f
		closeFn = func() { f.Close() }
	}
	level := slog.LevelInfo
	switch cfg.LogLevel() {
	case config.LogDebug:
		level = slog.LevelDebug
	case config.LogVerbose:
		level = slog.LevelDebug + 2
	case config.LogWarning:
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), closeFn, nil
}
