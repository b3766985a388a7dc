package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// ManyStreamsOptions configures ManyStreams.
type ManyStreamsOptions struct {
	Addr      string        `json:"addr"`
	Prefix    string        `json:"prefix"`    // stream i is Prefix:i; all are deleted and recreated before the run
	Streams   int           `json:"streams"`   // streams, each with one consumer group
	Producers int           `json:"producers"` // producer connections
	Consumers int           `json:"consumers"` // consumer connections, each a consumer of its own name
	Pipeline  int           `json:"pipeline"`  // XADDs (producers) or XREADGROUPs (consumers) per write
	Count     int           `json:"count"`     // XREADGROUP COUNT
	Size      int           `json:"size"`      // bytes of each field value
	Fields    int           `json:"fields"`    // field-value pairs per entry
	Duration  time.Duration `json:"duration"`
}

func (o *ManyStreamsOptions) check() error {
	switch {
	case o.Addr == "" || o.Prefix == "":
		return errors.New("loadgen: many-streams needs an address and a key prefix")
	case o.Streams < 1 || o.Producers < 1 || o.Consumers < 1 || o.Pipeline < 1 || o.Count < 1 || o.Fields < 1 || o.Size < 0:
		return errors.New("loadgen: many-streams needs streams, producers, consumers, pipeline, count and fields >= 1, size >= 0")
	case o.Duration <= 0:
		return errors.New("loadgen: many-streams needs a positive duration")
	}
	return nil
}

func (o *ManyStreamsOptions) params() string {
	return fmt.Sprintf("streams=%d producers=%d consumers=%d pipeline=%d count=%d size=%d fields=%d",
		o.Streams, o.Producers, o.Consumers, o.Pipeline, o.Count, o.Size, o.Fields)
}

// manyGroup is the consumer group of every stream of a ManyStreams run.
const manyGroup = "runnel-bench-many"

// StreamKeys returns the keys of a ManyStreams run: prefix:0 ... prefix:n-1.
func StreamKeys(prefix string, n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = []byte(prefix + ":" + strconv.Itoa(i))
	}
	return keys
}

// DeleteStreams deletes the streams of a ManyStreams run, pipelined.
func DeleteStreams(ctx context.Context, addr, prefix string, n int) error {
	return perKey(ctx, addr, StreamKeys(prefix, n), func(c *Conn, key []byte) {
		c.Cmd(2)
		c.ArgString("DEL")
		c.Arg(key)
	}, func(c *Conn, _ []byte) error { return c.R.Skip() })
}

// perKey sends, on a connection of its own, the commands send appends for
// each key, 500 keys per write, and reads the replies of each key with recv.
func perKey(ctx context.Context, addr string, keys [][]byte, send func(*Conn, []byte), recv func(*Conn, []byte) error) error {
	c, release, err := dialOne(ctx, addr)
	if err != nil {
		return err
	}
	defer release()
	const batch = 500
	for lo := 0; lo < len(keys); lo += batch {
		part := keys[lo:min(lo+batch, len(keys))]
		for _, k := range part {
			send(c, k)
		}
		if err := c.Flush(); err != nil {
			return err
		}
		for _, k := range part {
			if err := recv(c, k); err != nil {
				return fmt.Errorf("loadgen: %s: %w", k, err)
			}
		}
	}
	return ctx.Err()
}

// ManyStreams spreads producers and consumers over o.Streams streams, each
// created empty with one group (DEL, then XGROUP CREATE ... 0 MKSTREAM,
// not timed). For o.Duration, each of o.Producers connections sends
// batches of o.Pipeline XADDs, each to a stream drawn at random; each of
// o.Consumers connections sends batches of o.Pipeline XREADGROUP COUNT
// o.Count ... > (no BLOCK), each on a stream drawn at random, and XACKs
// what it got in the write of its next batch. Ops are entries added plus
// messages delivered (and acked), per second of the run; latency is per
// round trip (a producer's batch, or a consumer's XACKs and reads). It
// fails unless the streams hold exactly the entries added and nothing is
// left pending.
func ManyStreams(ctx context.Context, o ManyStreamsOptions) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	keys := StreamKeys(o.Prefix, o.Streams)
	createHead, createTail := encodeArgs("XGROUP", "CREATE"), encodeArgs(manyGroup, "0", "MKSTREAM")
	err := perKey(ctx, o.Addr, keys, func(c *Conn, k []byte) {
		c.Cmd(2)
		c.ArgString("DEL")
		c.Arg(k)
		c.Cmd(6)
		c.Raw(createHead)
		c.Arg(k)
		c.Raw(createTail)
	}, func(c *Conn, _ []byte) error {
		if err := c.R.Skip(); err != nil {
			return err
		}
		return c.R.Skip()
	})
	if err != nil {
		return nil, err
	}
	conns, closeAll, err := dialAll(ctx, o.Addr, o.Producers+o.Consumers)
	if err != nil {
		return nil, err
	}
	defer closeAll()

	hists := make([]*hdrhistogram.Histogram, len(conns))
	counts := make([]int64, len(conns)) // entries added or delivered
	errs := make([]error, len(conns))
	start := time.Now()
	end := start.Add(o.Duration)
	var wg sync.WaitGroup
	for i, c := range conns {
		hists[i] = NewHistogram()
		// A fixed seed per connection: runs draw the same keys.
		rng := rand.New(rand.NewPCG(uint64(i), 0x5eed))
		wg.Go(func() {
			if i < o.Producers {
				counts[i], errs[i] = manyProduce(c, &o, keys, rng, end, hists[i])
			} else {
				counts[i], errs[i] = manyConsume(c, &o, keys, "c"+strconv.Itoa(i-o.Producers), rng, end, hists[i])
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
	r := &Result{Workload: "many-streams", Params: o.params(), Options: o}
	h := NewHistogram()
	for i := range conns {
		h.Merge(hists[i])
		if i < o.Producers {
			r.Added += counts[i]
		} else {
			r.Delivered += counts[i]
		}
	}

	// Every XADD landed and every delivery was acked.
	var length, pending int64
	err = perKey(ctx, o.Addr, keys, func(c *Conn, k []byte) {
		c.Cmd(2)
		c.ArgString("XLEN")
		c.Arg(k)
		c.Cmd(3)
		c.ArgString("XPENDING")
		c.Arg(k)
		c.ArgString(manyGroup)
	}, func(c *Conn, _ []byte) error {
		n, err := c.R.ReadInt()
		if err != nil {
			return err
		}
		p, err := c.readPendingSummary()
		length, pending = length+n, pending+p
		return err
	})
	if err != nil {
		return nil, err
	}
	if length != r.Added || pending != 0 || r.Delivered > r.Added {
		return nil, fmt.Errorf("loadgen: many-streams: %d entries added, %d delivered; the streams hold %d, %d pending: want all added, none pending", r.Added, r.Delivered, length, pending)
	}
	r.finish(r.Added+r.Delivered, elapsed, h)
	return r, nil
}

// encodeArgs encodes arguments without the array header, to follow a
// header written with Cmd.
func encodeArgs(args ...string) []byte {
	c := &Conn{}
	for _, a := range args {
		c.ArgString(a)
	}
	return c.buf
}

// manyProduce is one producer of a ManyStreams run; it returns the entries
// it added.
func manyProduce(c *Conn, o *ManyStreamsOptions, keys [][]byte, rng *rand.Rand, end time.Time, h *hdrhistogram.Histogram) (int64, error) {
	// Everything after the key is the same in every XADD.
	val := bytes.Repeat([]byte{'v'}, o.Size)
	tail := &Conn{}
	tail.ArgString("*")
	for i := range o.Fields {
		tail.ArgString("f" + strconv.Itoa(i))
		tail.Arg(val)
	}
	var added int64
	for time.Now().Before(end) {
		for range o.Pipeline {
			c.Cmd(3 + 2*o.Fields)
			c.ArgString("XADD")
			c.Arg(keys[rng.IntN(len(keys))])
			c.Raw(tail.buf)
		}
		t0 := time.Now()
		if err := c.Flush(); err != nil {
			return added, err
		}
		for range o.Pipeline {
			if err := c.R.Skip(); err != nil {
				return added, fmt.Errorf("loadgen: XADD: %w", err)
			}
		}
		record(h, time.Since(t0))
		added += int64(o.Pipeline)
	}
	return added, nil
}

// manyConsume is one consumer of a ManyStreams run; it returns the
// messages it got (and acked). Its last write only acks.
func manyConsume(c *Conn, o *ManyStreamsOptions, keys [][]byte, name string, rng *rand.Rand, end time.Time, h *hdrhistogram.Histogram) (int64, error) {
	head := encodeArgs("XREADGROUP", "GROUP", manyGroup, name, "COUNT", strconv.Itoa(o.Count), "STREAMS")
	gt := encodeArgs(">")
	slots := make([]int, o.Pipeline) // the stream each read of the batch went to
	batches := make([]Batch, o.Pipeline)
	acks := make([]int, 0, o.Pipeline) // IDs of each XACK in the next write
	var delivered int64
	for {
		done := !time.Now().Before(end)
		if !done {
			for j := range slots {
				slots[j] = rng.IntN(len(keys))
				c.Cmd(9)
				c.Raw(head)
				c.Arg(keys[slots[j]])
				c.Raw(gt)
			}
		}
		if done && len(acks) == 0 {
			return delivered, nil
		}
		t0 := time.Now()
		if err := c.Flush(); err != nil {
			return delivered, err
		}
		for _, want := range acks {
			n, err := c.R.ReadInt()
			if err != nil {
				return delivered, fmt.Errorf("loadgen: XACK: %w", err)
			}
			if n != int64(want) {
				return delivered, fmt.Errorf("loadgen: XACK acknowledged %d of %d messages", n, want)
			}
		}
		acks = acks[:0]
		if done {
			return delivered, nil
		}
		for j := range batches {
			b := &batches[j]
			b.Reset()
			if err := c.R.ReadEntries(b); err != nil {
				return delivered, fmt.Errorf("loadgen: XREADGROUP: %w", err)
			}
		}
		record(h, time.Since(t0))
		for j := range batches {
			if n := batches[j].Len(); n > 0 {
				delivered += int64(n)
				appendXAckKey(c, keys[slots[j]], manyGroup, batches[j].IDs)
				acks = append(acks, n)
			}
		}
	}
}
