package loadgen

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// LatencyOptions configures Latency.
type LatencyOptions struct {
	Addr      string        `json:"addr"`
	Key       string        `json:"key"`       // the stream; deleted before the run
	Rate      float64       `json:"rate"`      // messages per second from the one producer
	Consumers int           `json:"consumers"` // consumers in the one group, one connection each
	Size      int           `json:"size"`      // bytes of a padding field besides the timestamp (0: none)
	N         int64         `json:"n"`         // messages in all; 0: Rate × Duration
	Duration  time.Duration `json:"duration"`  // used when N is 0
	Block     time.Duration `json:"block"`     // XREADGROUP BLOCK; 0: 100ms
	Grace     time.Duration `json:"grace"`     // how long consumers may lag after the last XADD; 0: 10s
}

func (o *LatencyOptions) check() error {
	switch {
	case o.Addr == "" || o.Key == "":
		return errors.New("loadgen: latency needs an address and a key")
	case o.Rate <= 0 || o.Consumers < 1 || o.Size < 0 || o.Block < 0 || o.Grace < 0:
		return errors.New("loadgen: latency needs rate > 0, consumers >= 1, size, block and grace >= 0")
	case o.N < 0 || (o.N == 0 && o.Duration <= 0):
		return errors.New("loadgen: latency needs n > 0 or a positive duration")
	}
	return nil
}

func (o *LatencyOptions) params() string {
	return fmt.Sprintf("rate=%g consumers=%d size=%d", o.Rate, o.Consumers, o.Size)
}

// latencyGroup is the consumer group of a Latency run.
const latencyGroup = "runnel-bench-latency"

// tsField is the field that carries the send time (unix ns) of an entry.
var tsField = []byte("ts")

// Latency publishes at a fixed rate from one producer (each entry carries
// its send time in unix nanoseconds as field "ts") while o.Consumers
// consumers of one group wait in XREADGROUP BLOCK and XACK what they get.
// The histogram holds the end-to-end latency of every message, from just
// before its XADD is written to just after the reply that delivered it is
// read. It fails unless every message arrived and none is left pending.
func Latency(ctx context.Context, o LatencyOptions) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.Block == 0 {
		o.Block = 100 * time.Millisecond
	}
	if o.Grace == 0 {
		o.Grace = 10 * time.Second
	}
	total := o.N
	if total == 0 {
		total = max(1, int64(o.Rate*o.Duration.Seconds()))
	}
	if err := deleteKeys(ctx, o.Addr, o.Key); err != nil {
		return nil, err
	}
	conns, closeAll, err := dialAll(ctx, o.Addr, 1+o.Consumers)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	if err := conns[0].Do("XGROUP", "CREATE", o.Key, latencyGroup, "$", "MKSTREAM"); err != nil {
		return nil, err
	}

	var (
		received atomic.Int64 // messages delivered, all consumers
		giveUp   atomic.Int64 // unix ns after which consumers stop waiting; 0: not yet set
		abort    atomic.Bool  // set when any goroutine fails
		last     atomic.Int64 // unix ns of the latest delivery
	)
	hists := make([]*hdrhistogram.Histogram, o.Consumers)
	errs := make([]error, 1+o.Consumers)
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		errs[0] = publish(conns[0], &o, total, &abort)
		if errs[0] != nil {
			abort.Store(true)
		}
		giveUp.Store(time.Now().Add(o.Grace).UnixNano())
	})
	for i := range o.Consumers {
		hists[i] = NewHistogram()
		wg.Go(func() {
			l := &listener{c: conns[1+i], o: &o, total: total, received: &received, last: &last, giveUp: &giveUp, abort: &abort, h: hists[i]}
			errs[1+i] = l.run("c" + strconv.Itoa(i))
			if errs[1+i] != nil {
				abort.Store(true)
			}
		})
	}
	wg.Wait()
	// The run ends with the last delivery, not when the consumers have
	// noticed that nothing more will come.
	elapsed := time.Duration(last.Load() - start.UnixNano())
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	h := NewHistogram()
	for _, hi := range hists {
		h.Merge(hi)
	}
	if n := received.Load(); n != total || h.TotalCount() != total {
		return nil, fmt.Errorf("loadgen: latency: %d messages received (%d timed), want %d", n, h.TotalCount(), total)
	}
	pending, err := conns[0].PendingCount(o.Key, latencyGroup)
	if err != nil {
		return nil, err
	}
	if pending != 0 {
		return nil, fmt.Errorf("loadgen: latency: %d messages pending after the run", pending)
	}
	r := &Result{Workload: "latency", Params: o.params(), Options: o}
	r.finish(total, elapsed, h)
	return r, nil
}

// publish sends total XADDs paced at o.Rate: it sends every message due by
// now in one write (one at a time when it keeps up), reads the replies and
// sleeps until the next one is due.
func publish(c *Conn, o *LatencyOptions, total int64, abort *atomic.Bool) error {
	pad := make([]byte, o.Size)
	for i := range pad {
		pad[i] = 'p'
	}
	argc := 5
	if o.Size > 0 {
		argc += 2
	}
	nsPerMsg := float64(time.Second) / o.Rate
	start := time.Now()
	var sent int64
	for sent < total && !abort.Load() {
		now := time.Now()
		due := min(total, int64(float64(now.Sub(start))/nsPerMsg)+1)
		if due <= sent {
			time.Sleep(start.Add(time.Duration(float64(sent) * nsPerMsg)).Sub(now))
			continue
		}
		for range due - sent {
			c.Cmd(argc)
			c.ArgString("XADD")
			c.ArgString(o.Key)
			c.ArgString("*")
			c.Arg(tsField)
			c.ArgInt(time.Now().UnixNano())
			if o.Size > 0 {
				c.ArgString("p")
				c.Arg(pad)
			}
		}
		if err := c.Flush(); err != nil {
			return err
		}
		for range due - sent {
			if err := c.R.Skip(); err != nil {
				return fmt.Errorf("loadgen: XADD: %w", err)
			}
		}
		sent = due
	}
	return nil
}

// listener is one consumer of a Latency run.
type listener struct {
	c        *Conn
	o        *LatencyOptions
	total    int64
	received *atomic.Int64
	last     *atomic.Int64
	giveUp   *atomic.Int64
	abort    *atomic.Bool
	h        *hdrhistogram.Histogram
}

func (l *listener) run(name string) error {
	read := encodeCommand("XREADGROUP", "GROUP", latencyGroup, name, "COUNT", "1000",
		"BLOCK", strconv.FormatInt(max(1, l.o.Block.Milliseconds()), 10), "STREAMS", l.o.Key, ">")
	b := Batch{Field: tsField}
	acked := 0
	for {
		done := l.received.Load() >= l.total || l.abort.Load()
		if g := l.giveUp.Load(); !done && g != 0 && time.Now().UnixNano() > g {
			return fmt.Errorf("loadgen: latency: %d of %d messages received within %v of the last XADD", l.received.Load(), l.total, l.o.Grace)
		}
		if !done {
			l.c.Raw(read)
		}
		if err := l.c.Flush(); err != nil {
			return err
		}
		if acked > 0 {
			n, err := l.c.R.ReadInt()
			if err != nil {
				return fmt.Errorf("loadgen: XACK: %w", err)
			}
			if n != int64(acked) {
				return fmt.Errorf("loadgen: XACK acknowledged %d of %d messages", n, acked)
			}
			acked = 0
		}
		if done {
			return nil
		}
		b.Reset()
		if err := l.c.R.ReadEntries(&b); err != nil {
			return fmt.Errorf("loadgen: XREADGROUP: %w", err)
		}
		now := time.Now().UnixNano()
		for i := range b.Len() {
			ts, ok := parseInt(b.Value(i))
			if !ok {
				return fmt.Errorf("loadgen: entry %v has no %q timestamp", b.IDs[i], tsField)
			}
			record(l.h, time.Duration(now-ts))
		}
		if b.Len() > 0 {
			l.received.Add(int64(b.Len()))
			for t := l.last.Load(); t < now && !l.last.CompareAndSwap(t, now); t = l.last.Load() {
			}
			appendXAck(l.c, l.o.Key, latencyGroup, b.IDs)
			acked = b.Len()
		}
	}
}
