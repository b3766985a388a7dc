package main

import (
	"sync"
)

// ledger counts an effect (a notification sent, an order counted) per
// order ID, so that an effect had twice shows as a duplicate. It is safe
// for concurrent use.
type ledger struct {
	mu    sync.Mutex
	times map[string]int // effects per order ID
	by    map[string]int // effects per source, e.g. "email"
}

func newLedger() *ledger {
	return &ledger{times: map[string]int{}, by: map[string]int{}}
}

// add records one effect on orderID, by source (may be "").
func (l *ledger) add(orderID, source string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.times[orderID]++
	l.by[source]++
}

// distinct is how many orders had the effect.
func (l *ledger) distinct() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.times)
}

// duplicates is how many effects repeated an earlier one on the same
// order: the sum over orders of (times - 1).
func (l *ledger) duplicates() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return duplicates(l.times)
}

// bySource is how many effects source had.
func (l *ledger) bySource(source string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.by[source]
}

// has reports whether orderID had the effect.
func (l *ledger) has(orderID string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.times[orderID] > 0
}

func duplicates(times map[string]int) int {
	d := 0
	for _, n := range times {
		d += n - 1
	}
	return d
}
