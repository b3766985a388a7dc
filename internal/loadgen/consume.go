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

// ConsumeOptions configures Consume.
type ConsumeOptions struct {
	Addr      string `json:"addr"`
	Key       string `json:"key"`       // the stream; deleted and refilled before the run
	N         int64  `json:"n"`         // entries pre-filled; every group reads them all
	Groups    int    `json:"groups"`    // consumer groups, each reading from the start
	Consumers int    `json:"consumers"` // consumers per group, one connection each
	Count     int    `json:"count"`     // XREADGROUP COUNT
	Size      int    `json:"size"`      // bytes of each field value
	Fields    int    `json:"fields"`    // field-value pairs per entry
	Pipeline  int    `json:"pipeline"`  // XADDs per write while pre-filling
}

func (o *ConsumeOptions) check() error {
	switch {
	case o.Addr == "" || o.Key == "":
		return errors.New("loadgen: consume needs an address and a key")
	case o.N < 1 || o.Groups < 1 || o.Consumers < 1 || o.Count < 1 || o.Fields < 1 || o.Pipeline < 1 || o.Size < 0:
		return errors.New("loadgen: consume needs n, groups, consumers, count, fields and pipeline >= 1, size >= 0")
	}
	return nil
}

func (o *ConsumeOptions) params() string {
	return fmt.Sprintf("n=%d groups=%d consumers=%d count=%d size=%d fields=%d", o.N, o.Groups, o.Consumers, o.Count, o.Size, o.Fields)
}

// groupName is the name of the i-th consumer group of a run.
func groupName(i int) string { return "runnel-bench-g" + strconv.Itoa(i) }

// Consume pre-fills a stream with o.N entries, creates o.Groups groups at
// its start and lets o.Consumers consumers per group loop XREADGROUP
// COUNT o.Count ... > and XACK of what they got (the XACK is sent in the
// same write as the next XREADGROUP) until their group has read everything.
// The result counts the messages delivered to all groups over the time
// from the first read to the last; latency is per round trip. It fails
// unless every group got exactly o.N messages and none is left pending.
func Consume(ctx context.Context, o ConsumeOptions) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if err := prefill(ctx, &o); err != nil {
		return nil, err
	}
	conns, closeAll, err := dialAll(ctx, o.Addr, o.Groups*o.Consumers)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	for g := range o.Groups {
		if err := conns[0].Do("XGROUP", "CREATE", o.Key, groupName(g), "0"); err != nil {
			return nil, err
		}
	}

	delivered := make([]atomic.Int64, o.Groups)
	hists := make([]*hdrhistogram.Histogram, len(conns))
	errs := make([]error, len(conns))
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range conns {
		hists[i] = NewHistogram()
		g := i / o.Consumers
		wg.Go(func() {
			errs[i] = consumeLoop(c, &o, groupName(g), "c"+strconv.Itoa(i%o.Consumers), &delivered[g], hists[i])
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	r := &Result{Workload: "consume", Params: o.params(), Options: o, PerGroup: make([]int64, o.Groups)}
	h := NewHistogram()
	var ops int64
	for i := range conns {
		h.Merge(hists[i])
	}
	for g := range o.Groups {
		n := delivered[g].Load()
		r.PerGroup[g] = n
		ops += n
		if n != o.N {
			errs = append(errs, fmt.Errorf("loadgen: group %s got %d messages, want %d", groupName(g), n, o.N))
		}
		pending, err := conns[0].PendingCount(o.Key, groupName(g))
		if err != nil {
			return nil, err
		}
		if pending != 0 {
			errs = append(errs, fmt.Errorf("loadgen: group %s has %d messages pending after the run", groupName(g), pending))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r.finish(ops, elapsed, h)
	return r, nil
}

// prefill deletes o.Key and adds o.N entries, o.Pipeline per write.
func prefill(ctx context.Context, o *ConsumeOptions) error {
	if err := deleteKeys(ctx, o.Addr, o.Key); err != nil {
		return err
	}
	c, release, err := dialOne(ctx, o.Addr)
	if err != nil {
		return err
	}
	defer release()
	cmd := xaddCommand(o.Key, 0, o.Fields, o.Size)
	for left := o.N; left > 0; {
		k := min(left, int64(o.Pipeline))
		for range k {
			c.Raw(cmd)
		}
		if err := c.Flush(); err != nil {
			return err
		}
		for range k {
			if err := c.R.Skip(); err != nil {
				return fmt.Errorf("loadgen: pre-fill XADD: %w", err)
			}
		}
		left -= k
	}
	return nil
}

// consumeLoop is one consumer of a Consume run: it reads until its group
// has nothing new, acking each batch in the write of the next read.
func consumeLoop(c *Conn, o *ConsumeOptions, group, consumer string, delivered *atomic.Int64, h *hdrhistogram.Histogram) error {
	read := encodeCommand("XREADGROUP", "GROUP", group, consumer, "COUNT", strconv.Itoa(o.Count), "STREAMS", o.Key, ">")

	var b Batch
	acked := 0
	for {
		c.Raw(read)
		t0 := time.Now()
		if err := c.Flush(); err != nil {
			return err
		}
		if acked > 0 {
			n, err := c.R.ReadInt()
			if err != nil {
				return fmt.Errorf("loadgen: XACK: %w", err)
			}
			if n != int64(acked) {
				return fmt.Errorf("loadgen: XACK acknowledged %d of %d messages", n, acked)
			}
		}
		b.Reset()
		if err := c.R.ReadEntries(&b); err != nil {
			return fmt.Errorf("loadgen: XREADGROUP: %w", err)
		}
		record(h, time.Since(t0))
		if b.Len() == 0 {
			return nil
		}
		delivered.Add(int64(b.Len()))
		appendXAck(c, o.Key, group, b.IDs)
		acked = b.Len()
	}
}

// appendXAck appends XACK key group id...
func appendXAck(c *Conn, key, group string, ids []ID) {
	c.Cmd(3 + len(ids))
	c.ArgString("XACK")
	c.ArgString(key)
	appendAckIDs(c, group, ids)
}

// appendXAckKey is appendXAck for a key held as bytes.
func appendXAckKey(c *Conn, key []byte, group string, ids []ID) {
	c.Cmd(3 + len(ids))
	c.ArgString("XACK")
	c.Arg(key)
	appendAckIDs(c, group, ids)
}

func appendAckIDs(c *Conn, group string, ids []ID) {
	c.ArgString(group)
	for _, id := range ids {
		c.ArgID(id)
	}
}

// encodeCommand encodes one command.
func encodeCommand(args ...string) []byte {
	c := &Conn{}
	c.Cmd(len(args))
	for _, a := range args {
		c.ArgString(a)
	}
	return c.buf
}
