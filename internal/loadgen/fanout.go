package loadgen

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// FanOutOptions configures FanOut.
type FanOutOptions struct {
	Addr      string        `json:"addr"`
	Key       string        `json:"key"`       // the stream; deleted before the run
	N         int64         `json:"n"`         // entries published; every group reads them all
	Groups    int           `json:"groups"`    // consumer groups, created before the first XADD
	Consumers int           `json:"consumers"` // consumers per group, one connection each
	Count     int           `json:"count"`     // XREADGROUP COUNT
	Size      int           `json:"size"`      // bytes of a padding field besides the timestamp (0: none)
	Pipeline  int           `json:"pipeline"`  // XADDs per write when Rate is 0
	Rate      float64       `json:"rate"`      // > 0: the producer is paced at Rate entries/s; 0: pipelined
	Block     time.Duration `json:"block"`     // XREADGROUP BLOCK; 0: 100ms
	Grace     time.Duration `json:"grace"`     // how long consumers may lag after the last XADD; 0: 10s
}

func (o *FanOutOptions) check() error {
	switch {
	case o.Addr == "" || o.Key == "":
		return errors.New("loadgen: fan-out needs an address and a key")
	case o.N < 1 || o.Groups < 1 || o.Consumers < 1 || o.Count < 1 || o.Pipeline < 1:
		return errors.New("loadgen: fan-out needs n, groups, consumers, count and pipeline >= 1")
	case o.Size < 0 || o.Rate < 0 || o.Block < 0 || o.Grace < 0:
		return errors.New("loadgen: fan-out needs size, rate, block and grace >= 0")
	}
	return nil
}

func (o *FanOutOptions) params() string {
	s := fmt.Sprintf("n=%d groups=%d consumers=%d count=%d size=%d", o.N, o.Groups, o.Consumers, o.Count, o.Size)
	if o.Rate > 0 {
		return s + fmt.Sprintf(" rate=%g", o.Rate)
	}
	return s + fmt.Sprintf(" pipeline=%d", o.Pipeline)
}

// FanOut publishes o.N entries to one stream from one producer (paced at
// o.Rate, or o.Pipeline XADDs per write as fast as the replies come) while
// o.Groups groups of o.Consumers consumers each wait in XREADGROUP COUNT
// o.Count BLOCK o.Block and XACK what they get (in the write of their next
// read). Every entry carries its send time, as in Latency. The result
// counts the messages delivered to all groups (o.N × o.Groups) over the
// time from the start of publishing to the last delivery; latency is end to
// end, per message and group. It fails unless every group got every entry
// and none is left pending.
func FanOut(ctx context.Context, o FanOutOptions) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	d := delivery{
		workload: "fan-out", addr: o.Addr, key: o.Key, consumers: o.Consumers, count: o.Count,
		block: o.Block, grace: o.Grace, total: o.N, rate: o.Rate, pipeline: o.Pipeline, size: o.Size,
	}
	for g := range o.Groups {
		d.groups = append(d.groups, groupName(g))
	}
	perGroup, elapsed, h, err := d.run(ctx)
	if err != nil {
		return nil, err
	}
	r := &Result{Workload: "fan-out", Params: o.params(), Options: o, PerGroup: perGroup}
	r.finish(o.N*int64(o.Groups), elapsed, h)
	return r, nil
}
