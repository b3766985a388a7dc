package command

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runnel-io/runnel/internal/resp"
)

type respWriter = resp.Writer

// cmdStats are one command's INFO commandstats counters.
type cmdStats struct {
	calls, usec, rejected, failed atomic.Int64
}

func (s *cmdStats) record(d time.Duration, failed bool) {
	s.calls.Add(1)
	s.usec.Add(int64(d / time.Microsecond))
	if failed {
		s.failed.Add(1)
	}
}

func (s *cmdStats) reset() {
	s.calls.Store(0)
	s.usec.Store(0)
	s.rejected.Store(0)
	s.failed.Store(0)
}

// Stats are the server-wide counters of INFO stats and errorstats.
type Stats struct {
	TotalCommands atomic.Int64
	ErrorReplies  atomic.Int64

	errMu  sync.Mutex
	errors map[string]int64 // error code (first word) -> count
}

// maxErrorCodes bounds errorstats, as Redis does (ERRORSTATS_LIMIT).
const maxErrorCodes = 128

func (s *Stats) countError(msg string) {
	s.ErrorReplies.Add(1)
	code, _, _ := strings.Cut(msg, " ")
	s.errMu.Lock()
	if s.errors == nil {
		s.errors = make(map[string]int64)
	}
	if _, ok := s.errors[code]; ok || len(s.errors) < maxErrorCodes {
		s.errors[code]++
	}
	s.errMu.Unlock()
}

// ErrorCounts returns a copy of the per-code error counts.
func (s *Stats) ErrorCounts() map[string]int64 {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	out := make(map[string]int64, len(s.errors))
	for k, v := range s.errors {
		out[k] = v
	}
	return out
}

// Reset clears the counters (CONFIG RESETSTAT).
func (s *Stats) Reset() {
	s.TotalCommands.Store(0)
	s.ErrorReplies.Store(0)
	s.errMu.Lock()
	s.errors = nil
	s.errMu.Unlock()
}

// Slowlog keeps the slowest commands (SLOWLOG).
type Slowlog struct {
	mu      sync.Mutex
	entries []SlowlogEntry // newest first
	nextID  int64
	// Threshold and MaxLen read the configuration on each use.
	Threshold func() time.Duration // negative disables, 0 logs everything
	MaxLen    func() int
}

// SlowlogEntry is one SLOWLOG GET item.
type SlowlogEntry struct {
	ID       int64
	Time     int64 // unix seconds
	Duration time.Duration
	Args     []string
	Addr     string
	Name     string
}

func (l *Slowlog) maybeAdd(x *Ctx, args [][]byte, start time.Time, d time.Duration) {
	if l.Threshold == nil {
		return
	}
	th := l.Threshold()
	if th < 0 || d < th {
		return
	}
	// Redis keeps at most 32 arguments, each cut to 128 bytes.
	const maxArgs, maxLen = 32, 128
	n := min(len(args), maxArgs)
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if i == maxArgs-1 && len(args) > maxArgs {
			out = append(out, "... ("+itoa(int64(len(args)-maxArgs+1))+" more arguments)")
			break
		}
		a := args[i]
		if len(a) > maxLen {
			out = append(out, string(a[:maxLen])+"... ("+itoa(int64(len(a)-maxLen))+" more bytes)")
		} else {
			out = append(out, string(a))
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := SlowlogEntry{ID: l.nextID, Time: start.Unix(), Duration: d, Args: out, Addr: x.C.Addr(), Name: x.C.Name()}
	l.nextID++
	l.entries = append([]SlowlogEntry{e}, l.entries...)
	if m := l.MaxLen(); len(l.entries) > m {
		l.entries = l.entries[:max(m, 0)]
	}
}

// Get returns up to n newest entries (n < 0: all).
func (l *Slowlog) Get(n int) []SlowlogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n < 0 || n > len(l.entries) {
		n = len(l.entries)
	}
	return append([]SlowlogEntry(nil), l.entries[:n]...)
}

// Len is the number of entries.
func (l *Slowlog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// Reset empties the log.
func (l *Slowlog) Reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
