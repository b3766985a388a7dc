package server

import (
	"sync"
	"sync/atomic"
	"time"
)

// pauseState implements CLIENT PAUSE: until a deadline, commands of the
// paused kind wait before running.
type pauseState struct {
	mu      sync.Mutex
	cond    *sync.Cond
	until   time.Time
	all     bool // pause every command, not only writes
	timer   *time.Timer
	waiting int
	paused  bool
	// active mirrors paused for the lock-free check every command makes;
	// a command that passed it just before a pause runs, as one already in
	// flight would.
	active atomic.Bool
}

// Pause pauses clients until d from now: every command when all is set,
// otherwise only commands that may write. A later pause can only extend the
// deadline or widen the kind, as in Redis.
func (s *Server) Pause(d time.Duration, all bool) {
	p := &s.pause
	p.mu.Lock()
	defer p.mu.Unlock()
	until := time.Now().Add(d)
	if !p.paused || until.After(p.until) {
		p.until = until
	}
	p.all = p.all || all
	if !p.paused {
		p.all = all
	}
	p.paused = true
	p.active.Store(true)
	if p.timer != nil {
		p.timer.Stop()
	}
	p.timer = time.AfterFunc(time.Until(p.until), s.expirePause)
}

func (s *Server) expirePause() {
	p := &s.pause
	p.mu.Lock()
	if p.paused && !time.Now().Before(p.until) {
		p.paused = false
		p.active.Store(false)
		p.cond.Broadcast()
	}
	p.mu.Unlock()
}

// Unpause ends a pause.
func (s *Server) Unpause() {
	p := &s.pause
	p.mu.Lock()
	p.paused = false
	p.active.Store(false)
	p.all = false
	if p.timer != nil {
		p.timer.Stop()
	}
	p.cond.Broadcast()
	p.mu.Unlock()
}

func (s *Server) isPaused() bool { return s.pause.active.Load() }

// WaitPause blocks while a pause applies to a command (write tells whether
// it may write). It reports whether it waited.
func (s *Server) WaitPause(write bool) bool {
	p := &s.pause
	if !p.active.Load() {
		return false // the common case takes no lock
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	waited := false
	for p.paused && (p.all || write) {
		waited = true
		p.waiting++
		p.cond.Wait()
		p.waiting--
	}
	return waited
}

// PausedClients is the number of clients waiting on a pause (INFO).
func (s *Server) PausedClients() int {
	p := &s.pause
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waiting
}
