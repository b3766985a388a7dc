package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// MemoryOptions configures Memory.
type MemoryOptions struct {
	Addr     string        `json:"addr"`
	Key      string        `json:"key"`      // the stream; deleted before the baseline
	N        int64         `json:"n"`        // entries added, then all delivered and left pending
	Size     int           `json:"size"`     // bytes of each of the 4 field values
	Schemas  int           `json:"schemas"`  // 1..4: how many field-name sets entries draw from
	Pipeline int           `json:"pipeline"` // XADDs per write
	Count    int           `json:"count"`    // XREADGROUP COUNT
	Settle   time.Duration `json:"settle"`   // longest wait for RSS to settle, per reading; 0: 30s
	Stable   time.Duration `json:"stable"`   // RSS has settled once its readings over this long span at most 0.1% of it (64 KiB if more); 0: 1s
}

func (o *MemoryOptions) check() error {
	switch {
	case o.Addr == "" || o.Key == "":
		return errors.New("loadgen: memory needs an address and a key")
	case o.N < 1 || o.Size < 1 || o.Pipeline < 1 || o.Count < 1:
		return errors.New("loadgen: memory needs n, size, pipeline and count >= 1")
	case o.Schemas < 1 || o.Schemas > len(eventSchemas):
		return fmt.Errorf("loadgen: memory needs schemas between 1 and %d", len(eventSchemas))
	case o.Settle < 0 || o.Stable < 0:
		return errors.New("loadgen: memory needs settle and stable >= 0")
	}
	return nil
}

func (o *MemoryOptions) params() string {
	return fmt.Sprintf("n=%d fields=4 size=%d schemas=%d", o.N, o.Size, o.Schemas)
}

// eventSchemas are the field names of the entries Memory adds: a stream of
// mixed events, as an order service would publish, rather than f0..f3 in
// every entry (which both servers store once per node).
var eventSchemas = [4][4]string{
	{"order_id", "customer_id", "amount", "currency"},
	{"order_id", "payment_id", "amount", "method"},
	{"order_id", "carrier", "tracking_no", "status"},
	{"user_id", "session_id", "page", "referrer"},
}

// memoryGroup is the consumer group of a Memory run.
const memoryGroup = "runnel-bench-memory"

// readsPerWrite is how many XREADGROUPs Memory sends per write.
const readsPerWrite = 4

// MemoryResult is what Memory read from the server's RSS (INFO memory
// used_memory_rss), each reading taken once RSS had settled.
type MemoryResult struct {
	RSSBase         int64    `json:"rss_base"`          // after DEL and MEMORY PURGE, before the first XADD
	RSSEntries      int64    `json:"rss_entries"`       // after the N XADDs
	RSSPending      int64    `json:"rss_pending"`       // after the N entries were delivered and left pending
	BytesPerEntry   float64  `json:"bytes_per_entry"`   // (RSSEntries - RSSBase) / N
	BytesPerPending float64  `json:"bytes_per_pending"` // (RSSPending - RSSEntries) / N
	Unsettled       []string `json:"unsettled,omitempty"`
}

func (m *MemoryResult) String() string {
	mib := func(b int64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB" }
	s := fmt.Sprintf("%.1f bytes/entry, %.1f bytes/pending entry (RSS %s, %s with the entries, %s with them pending)",
		m.BytesPerEntry, m.BytesPerPending, mib(m.RSSBase), mib(m.RSSEntries), mib(m.RSSPending))
	if len(m.Unsettled) > 0 {
		s += fmt.Sprintf(" (RSS still moving at the %v reading)", m.Unsettled)
	}
	return s
}

// Memory measures what the server's resident memory grows by per stream
// entry and per pending entry. On one connection: DEL the key and read RSS
// (the baseline); add o.N entries of 4 fields of o.Size random characters
// (field names from the first o.Schemas of eventSchemas, drawn per entry),
// o.Pipeline XADDs per write, and read RSS; create a group at 0 and
// deliver every entry to one consumer with XREADGROUP COUNT o.Count,
// readsPerWrite per write, without acking, and read RSS. Each reading
// first sends MEMORY PURGE (Redis gives jemalloc's dirty pages back, Runnel
// Go's free pages), then polls used_memory_rss every
// 100ms until its readings over o.Stable span at most 0.1% of it (64 KiB
// if that is more), or until o.Settle has passed (the result says so).
// Bytes per entry is the growth from the baseline over o.N; bytes per
// pending entry the growth from the second reading over o.N. Throughput and latency are
// those of the XADDs (per write). It fails unless o.N entries end up
// pending. The stream is left in place.
func Memory(ctx context.Context, o MemoryOptions) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.Settle == 0 {
		o.Settle = 30 * time.Second
	}
	if o.Stable == 0 {
		o.Stable = time.Second
	}
	c, release, err := dialOne(ctx, o.Addr)
	if err != nil {
		return nil, err
	}
	defer release()
	m := &MemoryResult{}
	reading := func(name string) (int64, error) {
		rss, ok, err := settledRSS(ctx, c, o.Settle, o.Stable)
		if !ok {
			m.Unsettled = append(m.Unsettled, name)
		}
		return rss, err
	}

	if err := c.Do("DEL", o.Key); err != nil {
		return nil, err
	}
	if m.RSSBase, err = reading("baseline"); err != nil {
		return nil, err
	}
	h := NewHistogram()
	start := time.Now()
	if err := addEvents(c, &o, h); err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	if m.RSSEntries, err = reading("entries"); err != nil {
		return nil, err
	}
	if err := c.Do("XGROUP", "CREATE", o.Key, memoryGroup, "0"); err != nil {
		return nil, err
	}
	if err := deliverAll(c, &o); err != nil {
		return nil, err
	}
	if n, err := c.PendingCount(o.Key, memoryGroup); err != nil {
		return nil, err
	} else if n != o.N {
		return nil, fmt.Errorf("loadgen: memory: %d entries pending, want %d", n, o.N)
	}
	if m.RSSPending, err = reading("pending"); err != nil {
		return nil, err
	}
	m.BytesPerEntry = float64(m.RSSEntries-m.RSSBase) / float64(o.N)
	m.BytesPerPending = float64(m.RSSPending-m.RSSEntries) / float64(o.N)
	r := &Result{Workload: "memory", Params: o.params(), Options: o, Memory: m}
	r.finish(o.N, elapsed, h)
	return r, nil
}

// addEvents adds o.N entries to o.Key, o.Pipeline per write.
func addEvents(c *Conn, o *MemoryOptions, h *hdrhistogram.Histogram) error {
	var names [len(eventSchemas)][4][]byte // field names, RESP-encoded
	for s := range names {
		for f := range names[s] {
			names[s][f] = encodeArgs(eventSchemas[s][f])
		}
	}
	rng := rand.New(rand.NewPCG(1, 2)) // the same entries every run
	val := make([]byte, o.Size)
	for left := o.N; left > 0; {
		k := min(left, int64(o.Pipeline))
		for range k {
			s := rng.IntN(o.Schemas)
			c.Cmd(11)
			c.ArgString("XADD")
			c.ArgString(o.Key)
			c.ArgString("*")
			for f := range 4 {
				c.Raw(names[s][f])
				randomText(rng, val)
				c.Arg(val)
			}
		}
		t0 := time.Now()
		if err := c.Flush(); err != nil {
			return err
		}
		for range k {
			if err := c.R.Skip(); err != nil {
				return fmt.Errorf("loadgen: XADD: %w", err)
			}
		}
		record(h, time.Since(t0))
		left -= k
	}
	return nil
}

// textChars are the characters of random values (base64url).
const textChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// randomText fills b with random characters, 10 per draw.
func randomText(rng *rand.Rand, b []byte) {
	var x uint64
	for i := range b {
		if i%10 == 0 {
			x = rng.Uint64()
		}
		b[i] = textChars[x&63]
		x >>= 6
	}
}

// deliverAll reads every entry of o.Key into memoryGroup as consumer "c",
// leaving them pending: XREADGROUP COUNT o.Count, readsPerWrite per write,
// each reply read whole.
func deliverAll(c *Conn, o *MemoryOptions) error {
	read := encodeCommand("XREADGROUP", "GROUP", memoryGroup, "c", "COUNT", strconv.Itoa(o.Count), "STREAMS", o.Key, ">")
	var b Batch // IDs only: counting is all it is for
	var got int64
	for got < o.N {
		k := min(readsPerWrite, (o.N-got+int64(o.Count)-1)/int64(o.Count))
		for range k {
			c.Raw(read)
		}
		if err := c.Flush(); err != nil {
			return err
		}
		n := 0
		for range k {
			b.Reset()
			if err := c.R.ReadEntries(&b); err != nil {
				return fmt.Errorf("loadgen: XREADGROUP: %w", err)
			}
			n += b.Len()
		}
		if n == 0 {
			return fmt.Errorf("loadgen: memory: XREADGROUP delivered %d entries of %d, then nothing", got, o.N)
		}
		got += int64(n)
	}
	return nil
}

// settledRSS sends MEMORY PURGE, then polls INFO memory's used_memory_rss
// every 100ms until the readings of the last stable span at most 0.1% of
// it (64 KiB if that is more), and returns it; after maxWait it returns
// the last reading with ok false.
func settledRSS(ctx context.Context, c *Conn, maxWait, stable time.Duration) (rss int64, ok bool, _ error) {
	if err := c.Do("MEMORY", "PURGE"); err != nil {
		return 0, false, err
	}
	type sample struct {
		at  time.Time
		rss int64
	}
	var window []sample // the readings of the last stable, and the one just before
	deadline := time.Now().Add(maxWait)
	for {
		v, err := c.InfoFloat("memory", "used_memory_rss")
		if err != nil {
			return 0, false, err
		}
		now := time.Now()
		rss = int64(v[0])
		window = append(window, sample{now, rss})
		for len(window) > 1 && now.Sub(window[1].at) >= stable {
			window = window[1:]
		}
		if now.Sub(window[0].at) >= stable {
			lo, hi := rss, rss
			for _, s := range window {
				lo, hi = min(lo, s.rss), max(hi, s.rss)
			}
			if hi-lo <= max(64<<10, rss/1000) {
				return rss, true, nil
			}
		}
		if now.After(deadline) {
			return rss, false, nil
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return 0, false, err
		}
	}
}
