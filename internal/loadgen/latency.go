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
	total := o.N
	if total == 0 {
		total = max(1, int64(o.Rate*o.Duration.Seconds()))
	}
	d := delivery{
		workload: "latency", addr: o.Addr, key: o.Key, groups: []string{latencyGroup}, consumers: o.Consumers,
		count: 1000, block: o.Block, grace: o.Grace, total: total, rate: o.Rate, size: o.Size,
	}
	_, elapsed, h, err := d.run(ctx)
	if err != nil {
		return nil, err
	}
	r := &Result{Workload: "latency", Params: o.params(), Options: o}
	r.finish(total, elapsed, h)
	return r, nil
}

// delivery is one producer and groups of consumers blocked in XREADGROUP
// on one stream, every entry carrying its send time: the core of Latency
// (one group, paced) and FanOut (many groups, paced or pipelined).
type delivery struct {
	workload     string   // for messages
	addr, key    string   // the stream is deleted first
	groups       []string // created at the (empty) stream's end
	consumers    int      // per group, one connection each
	count        int      // XREADGROUP COUNT
	block, grace time.Duration
	total        int64   // entries published; every group must get them all
	rate         float64 // > 0: paced at rate entries/s; 0: pipeline XADDs per write, as fast as replies come
	pipeline     int
	size         int // bytes of a padding field besides the timestamp (0: none)
}

// run returns how many messages each group got, the time from the start to
// the last delivery and the merged end-to-end histogram (one sample per
// message and group). It fails unless every group got every entry and none
// is left pending.
func (d *delivery) run(ctx context.Context) (perGroup []int64, elapsed time.Duration, _ *hdrhistogram.Histogram, _ error) {
	if d.block == 0 {
		d.block = 100 * time.Millisecond
	}
	if d.grace == 0 {
		d.grace = 10 * time.Second
	}
	if err := deleteKeys(ctx, d.addr, d.key); err != nil {
		return nil, 0, nil, err
	}
	nc := len(d.groups) * d.consumers
	conns, closeAll, err := dialAll(ctx, d.addr, 1+nc)
	if err != nil {
		return nil, 0, nil, err
	}
	defer closeAll()
	for _, g := range d.groups {
		if err := conns[0].Do("XGROUP", "CREATE", d.key, g, "$", "MKSTREAM"); err != nil {
			return nil, 0, nil, err
		}
	}

	var (
		giveUp atomic.Int64 // unix ns after which consumers stop waiting; 0: not yet set
		abort  atomic.Bool  // set when any goroutine fails
		last   atomic.Int64 // unix ns of the latest delivery
	)
	received := make([]atomic.Int64, len(d.groups)) // messages delivered, per group
	hists := make([]*hdrhistogram.Histogram, nc)
	errs := make([]error, 1+nc)
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		errs[0] = d.publish(conns[0], &abort)
		if errs[0] != nil {
			abort.Store(true)
		}
		giveUp.Store(time.Now().Add(d.grace).UnixNano())
	})
	for i := range nc {
		hists[i] = NewHistogram()
		g := i / d.consumers
		wg.Go(func() {
			l := &listener{c: conns[1+i], d: d, group: d.groups[g], received: &received[g], last: &last, giveUp: &giveUp, abort: &abort, h: hists[i]}
			errs[1+i] = l.run("c" + strconv.Itoa(i%d.consumers))
			if errs[1+i] != nil {
				abort.Store(true)
			}
		})
	}
	wg.Wait()
	// The run ends with the last delivery, not when the consumers have
	// noticed that nothing more will come.
	elapsed = time.Duration(last.Load() - start.UnixNano())
	if err := ctx.Err(); err != nil {
		return nil, 0, nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, 0, nil, err
	}
	h := NewHistogram()
	for _, hi := range hists {
		h.Merge(hi)
	}
	perGroup = make([]int64, len(d.groups))
	for i, g := range d.groups {
		perGroup[i] = received[i].Load()
		if perGroup[i] != d.total {
			errs = append(errs, fmt.Errorf("loadgen: %s: group %s got %d messages, want %d", d.workload, g, perGroup[i], d.total))
		}
		pending, err := conns[0].PendingCount(d.key, g)
		if err != nil {
			return nil, 0, nil, err
		}
		if pending != 0 {
			errs = append(errs, fmt.Errorf("loadgen: %s: group %s has %d messages pending after the run", d.workload, g, pending))
		}
	}
	if want := d.total * int64(len(d.groups)); h.TotalCount() != want {
		errs = append(errs, fmt.Errorf("loadgen: %s: %d messages timed, want %d", d.workload, h.TotalCount(), want))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, 0, nil, err
	}
	return perGroup, elapsed, h, nil
}

// publish sends d.total XADDs. Paced (d.rate > 0), it sends every message
// due by now in one write (one at a time when it keeps up), reads the
// replies and sleeps until the next one is due; otherwise it sends batches
// of d.pipeline and reads their replies before the next batch.
func (d *delivery) publish(c *Conn, abort *atomic.Bool) error {
	pad := make([]byte, d.size)
	for i := range pad {
		pad[i] = 'p'
	}
	argc := 5
	if d.size > 0 {
		argc += 2
	}
	nsPerMsg := float64(time.Second) / d.rate
	start := time.Now()
	var sent int64
	for sent < d.total && !abort.Load() {
		due := min(d.total, sent+int64(d.pipeline))
		if d.rate > 0 {
			now := time.Now()
			due = min(d.total, int64(float64(now.Sub(start))/nsPerMsg)+1)
			if due <= sent {
				time.Sleep(start.Add(time.Duration(float64(sent) * nsPerMsg)).Sub(now))
				continue
			}
		}
		for range due - sent {
			c.Cmd(argc)
			c.ArgString("XADD")
			c.ArgString(d.key)
			c.ArgString("*")
			c.Arg(tsField)
			c.ArgInt(time.Now().UnixNano())
			if d.size > 0 {
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

// listener is one consumer of a delivery run.
type listener struct {
	c        *Conn
	d        *delivery
	group    string
	received *atomic.Int64 // its group's deliveries
	last     *atomic.Int64
	giveUp   *atomic.Int64
	abort    *atomic.Bool
	h        *hdrhistogram.Histogram
}

func (l *listener) run(name string) error {
	read := encodeCommand("XREADGROUP", "GROUP", l.group, name, "COUNT", strconv.Itoa(l.d.count),
		"BLOCK", strconv.FormatInt(max(1, l.d.block.Milliseconds()), 10), "STREAMS", l.d.key, ">")
	b := Batch{Field: tsField}
	acked := 0
	for {
		done := l.received.Load() >= l.d.total || l.abort.Load()
		if g := l.giveUp.Load(); !done && g != 0 && time.Now().UnixNano() > g {
			return fmt.Errorf("loadgen: %s: group %s: %d of %d messages received within %v of the last XADD", l.d.workload, l.group, l.received.Load(), l.d.total, l.d.grace)
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
			appendXAck(l.c, l.d.key, l.group, b.IDs)
			acked = b.Len()
		}
	}
}
