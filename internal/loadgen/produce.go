package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// ProduceOptions configures Produce.
type ProduceOptions struct {
	Addr     string        `json:"addr"`
	Key      string        `json:"key"`      // the stream; deleted before the run
	Conns    int           `json:"conns"`    // connections, each in its own goroutine
	Pipeline int           `json:"pipeline"` // XADDs per write
	Size     int           `json:"size"`     // bytes of each field value
	Fields   int           `json:"fields"`   // field-value pairs per entry
	MaxLen   int64         `json:"maxlen"`   // > 0: XADD key MAXLEN ~ MaxLen
	N        int64         `json:"n"`        // entries to add in all; 0: run for Duration
	Duration time.Duration `json:"duration"` // used when N is 0
}

func (o *ProduceOptions) check() error {
	switch {
	case o.Addr == "" || o.Key == "":
		return errors.New("loadgen: produce needs an address and a key")
	case o.Conns < 1 || o.Pipeline < 1 || o.Fields < 1 || o.Size < 0 || o.MaxLen < 0:
		return errors.New("loadgen: produce needs conns, pipeline and fields >= 1, size and maxlen >= 0")
	case o.N < 0 || (o.N == 0 && o.Duration <= 0):
		return errors.New("loadgen: produce needs n > 0 or a positive duration")
	}
	return nil
}

func (o *ProduceOptions) params() string {
	s := fmt.Sprintf("conns=%d pipeline=%d size=%d fields=%d", o.Conns, o.Pipeline, o.Size, o.Fields)
	if o.MaxLen > 0 {
		s += fmt.Sprintf(" maxlen=~%d", o.MaxLen)
	}
	return s
}

// xaddCommand encodes one XADD key [MAXLEN ~ n] * f0 v f1 v ... of the
// given shape. All XADDs of a produce run are identical: the server picks
// the IDs.
func xaddCommand(key string, maxLen int64, fields, size int) []byte {
	c := &Conn{}
	argc := 3 + 2*fields
	if maxLen > 0 {
		argc += 3
	}
	c.Cmd(argc)
	c.ArgString("XADD")
	c.ArgString(key)
	if maxLen > 0 {
		c.ArgString("MAXLEN")
		c.ArgString("~")
		c.ArgInt(maxLen)
	}
	c.ArgString("*")
	val := bytes.Repeat([]byte{'v'}, size)
	for i := range fields {
		c.ArgString("f" + strconv.Itoa(i))
		c.Arg(val)
	}
	return c.buf
}

// Produce adds entries to one stream from o.Conns connections, each sending
// batches of o.Pipeline XADDs in one write and reading their replies before
// the next batch. Latency is measured per batch, from the write to the last
// reply. The stream is deleted first and left in place afterwards.
func Produce(ctx context.Context, o ProduceOptions) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if err := deleteKeys(ctx, o.Addr, o.Key); err != nil {
		return nil, err
	}
	cmd := xaddCommand(o.Key, o.MaxLen, o.Fields, o.Size)
	batch := bytes.Repeat(cmd, o.Pipeline)
	conns, closeAll, err := dialAll(ctx, o.Addr, o.Conns)
	if err != nil {
		return nil, err
	}
	defer closeAll()

	var remaining atomic.Int64 // entries not yet claimed by a connection (N > 0)
	remaining.Store(o.N)
	hists := make([]*hdrhistogram.Histogram, len(conns))
	counts := make([]int64, len(conns))
	errs := make([]error, len(conns))
	start := time.Now()
	end := start.Add(o.Duration)
	var wg sync.WaitGroup
	for i, c := range conns {
		hists[i] = NewHistogram()
		wg.Go(func() {
			h, p := hists[i], int64(o.Pipeline)
			for {
				k := p
				if o.N > 0 {
					left := remaining.Add(-p) + p // claimed before this batch
					if left <= 0 {
						return
					}
					k = min(p, left)
				} else if !time.Now().Before(end) {
					return
				}
				t0 := time.Now()
				if err := c.Write(batch[:k*int64(len(cmd))]); err != nil {
					errs[i] = err
					return
				}
				for range k {
					if err := c.R.Skip(); err != nil {
						errs[i] = fmt.Errorf("loadgen: XADD: %w", err)
						return
					}
				}
				record(h, time.Since(t0))
				counts[i] += k
			}
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
	h := NewHistogram()
	var ops int64
	for i := range conns {
		h.Merge(hists[i])
		ops += counts[i]
	}
	r := &Result{Workload: "produce", Params: o.params(), Options: o}
	r.finish(ops, elapsed, h)
	return r, nil
}

// deleteKeys deletes keys on a connection of its own.
func deleteKeys(ctx context.Context, addr string, keys ...string) error {
	c, release, err := dialOne(ctx, addr)
	if err != nil {
		return err
	}
	defer release()
	return c.Do(append([]string{"DEL"}, keys...)...)
}
