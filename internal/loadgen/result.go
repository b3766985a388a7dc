package loadgen

import (
	"strconv"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds: latencies are recorded in microseconds from 1 µs to 60 s
// with 3 significant digits.
const (
	histMin    = 1
	histMax    = 60_000_000
	histDigits = 3
)

// NewHistogram returns an empty latency histogram in microseconds.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMin, histMax, histDigits)
}

// record adds one latency, clamped to the histogram's range.
func record(h *hdrhistogram.Histogram, d time.Duration) {
	us := d.Microseconds()
	us = min(max(us, histMin), histMax)
	_ = h.RecordValue(us) // cannot fail: us is within range
}

// Result is what a workload measured.
type Result struct {
	Workload  string        `json:"workload"`
	Params    string        `json:"params"`  // the options that matter, as in the summary line
	Options   any           `json:"options"` // the options struct the workload ran with
	Ops       int64         `json:"ops"`     // entries added (produce) or messages delivered (consume, latency)
	Duration  time.Duration `json:"-"`
	Seconds   float64       `json:"seconds"`
	OpsPerSec float64       `json:"ops_per_sec"`
	Samples   int64         `json:"samples"` // latency samples in the histogram
	P50       int64         `json:"p50_us"`
	P99       int64         `json:"p99_us"`
	P999      int64         `json:"p999_us"`
	Max       int64         `json:"max_us"`
	PerGroup  []int64       `json:"per_group,omitempty"` // consume, fan-out: messages delivered to each group
	Added     int64         `json:"added,omitempty"`     // many-streams: entries added
	Delivered int64         `json:"delivered,omitempty"` // many-streams: messages delivered (and acked)
	Memory    *MemoryResult `json:"memory,omitempty"`    // memory: what RSS said
	Idle      *IdleResult   `json:"idle,omitempty"`      // idle: the server's CPU while clients wait

	// Latency is the histogram (µs) behind the percentiles: per pipeline
	// batch for produce, per XREADGROUP+XACK round trip for consume, end to
	// end per message for latency.
	Latency *hdrhistogram.Histogram `json:"-"`
}

// finish fills the derived fields from ops, d and h.
func (r *Result) finish(ops int64, d time.Duration, h *hdrhistogram.Histogram) {
	r.Ops, r.Duration, r.Latency = ops, d, h
	r.Seconds = d.Seconds()
	if d > 0 {
		r.OpsPerSec = float64(ops) / d.Seconds()
	}
	r.Samples = h.TotalCount()
	r.P50 = h.ValueAtQuantile(50)
	r.P99 = h.ValueAtQuantile(99)
	r.P999 = h.ValueAtQuantile(99.9)
	r.Max = h.Max()
}

// String is the one-line summary, e.g.
// "produce conns=50 pipeline=1 size=64 fields=1: 123456 ops/s p50=0.21ms p99=0.9ms p99.9=2.1ms max=5ms ops=987".
// Memory and idle results lead with their own figures instead.
func (r *Result) String() string {
	var b strings.Builder
	b.WriteString(r.Workload)
	if r.Params != "" {
		b.WriteByte(' ')
		b.WriteString(r.Params)
	}
	b.WriteString(": ")
	switch {
	case r.Memory != nil:
		b.WriteString(r.Memory.String())
		return b.String()
	case r.Idle != nil:
		b.WriteString(r.Idle.String())
		return b.String()
	}
	b.WriteString(strconv.FormatFloat(r.OpsPerSec, 'f', 0, 64))
	b.WriteString(" ops/s")
	for _, p := range []struct {
		name string
		us   int64
	}{{"p50", r.P50}, {"p99", r.P99}, {"p99.9", r.P999}, {"max", r.Max}} {
		b.WriteString(" " + p.name + "=" + formatMs(p.us))
	}
	b.WriteString(" ops=" + strconv.FormatInt(r.Ops, 10))
	if r.Added > 0 || r.Delivered > 0 {
		b.WriteString(" added=" + strconv.FormatInt(r.Added, 10) + " delivered=" + strconv.FormatInt(r.Delivered, 10))
	}
	return b.String()
}

// formatMs formats microseconds as milliseconds with 3 significant digits.
func formatMs(us int64) string {
	ms := float64(us) / 1000
	if ms >= 100 {
		return strconv.FormatFloat(ms, 'f', 0, 64) + "ms"
	}
	return strconv.FormatFloat(ms, 'g', 3, 64) + "ms"
}
