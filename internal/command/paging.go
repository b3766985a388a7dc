package command

import (
	"sync/atomic"

	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/stream"
)

// Streams larger than memory. With a data directory open, Env.Pager keeps
// stream nodes on disk (internal/nodestore through internal/store): every
// stream a command uses learns the pager and the shared meter of node bytes
// in memory (touchStream), and once the command (or EXEC) is done, still
// under its locks, the streams it used evict their least recently used
// nodes while the total is above stream-memory-budget. Eviction happens
// only between commands, so the entries a handler holds (they alias node
// bytes) stay valid while it runs.

// nodeMeter counts the node bytes in memory across all streams.
type nodeMeter struct{ bytes atomic.Int64 }

// Add implements stream.Meter.
func (m *nodeMeter) Add(delta int64) { m.bytes.Add(delta) }

// NodeMemory is the memory the streams' node bytes take, all streams.
func (e *Env) NodeMemory() int64 { return e.nodes.bytes.Load() }

// AttachPager gives s the pager and the meter (streams loaded from a
// checkpoint get them this way; the commands attach the others).
func (e *Env) AttachPager(s *stream.Stream) {
	if e.Pager != nil && s.Meter() == nil {
		s.SetPager(e.Pager, &e.nodes)
	}
}

// touchStream notes that the running command uses s.
func (x *Ctx) touchStream(s *stream.Stream) {
	if x.Env.Pager == nil || x.S == nil {
		return
	}
	x.Env.AttachPager(s)
	x.S.stream.touched = append(x.S.stream.touched, s)
}

// evictStreams brings the node bytes in memory back under the budget,
// from the streams the command used. It runs with the command's locks.
func (x *Ctx) evictStreams() {
	if x.S == nil || len(x.S.stream.touched) == 0 {
		return
	}
	touched := x.S.stream.touched
	x.S.stream.touched = touched[:0]
	e := x.Env
	limit := e.streamMemoryBudget()
	if limit <= 0 {
		clear(touched)
		return
	}
	over := e.nodes.bytes.Load() - limit
	for _, s := range touched {
		if over <= 0 {
			break
		}
		before := s.ResidentBytes()
		if err := s.Evict(max(0, before-over)); err != nil && e.Log != nil {
			// The nodes stay in memory; the next command tries again.
			e.Log.Warn("paging stream nodes out failed", "err", err)
		}
		over -= before - s.ResidentBytes()
	}
	clear(touched) // let freed streams go
}

func (e *Env) streamMemoryBudget() int64 {
	if e.Cfg == nil {
		return 0
	}
	return e.Cfg.StreamMemoryBudget()
}

// EvictIdle brings the node bytes in memory back under the budget from any
// stream, used or not: streams that no command touches again keep their
// nodes until this runs (internal/app calls it periodically). It takes
// each shard's lock in turn.
func (e *Env) EvictIdle() {
	limit := e.streamMemoryBudget()
	if e.Pager == nil || limit <= 0 || e.nodes.bytes.Load() <= limit {
		return
	}
	e.KS.SweepShards(func(v engine.Value) bool {
		s, ok := v.(*stream.Stream)
		if !ok || s.Meter() == nil {
			return true
		}
		over := e.nodes.bytes.Load() - limit
		if over <= 0 {
			return false
		}
		if err := s.Evict(max(0, s.ResidentBytes()-over)); err != nil && e.Log != nil {
			e.Log.Warn("paging stream nodes out failed", "err", err)
		}
		return true
	})
}

// CompactNodes gives new copies to up to limit stream nodes kept in sparse
// node-log segments (Env.SparseNodes), so that those segments die and the
// next checkpoint deletes them: the space of nodes rewritten by XDEL comes
// back even in a stream that is never trimmed. It takes each shard's lock
// in turn and returns how many nodes moved.
func (e *Env) CompactNodes(limit int) int {
	if e.Pager == nil || e.SparseNodes == nil {
		return 0
	}
	sparse := e.SparseNodes()
	if len(sparse) == 0 {
		return 0
	}
	moved := 0
	e.KS.SweepShards(func(v engine.Value) bool {
		s, ok := v.(*stream.Stream)
		if !ok || s.Meter() == nil {
			return true
		}
		n, err := s.Relocate(func(r stream.PageRef) bool { return sparse[r.A] }, limit-moved)
		moved += n
		if err != nil {
			if e.Log != nil {
				e.Log.Warn("compacting the node log failed", "err", err)
			}
			return false
		}
		return moved < limit
	})
	return moved
}

// WriteBehindAll gives every stream node not yet in the node log a copy
// there (stream.WriteBehind), taking each shard's lock in turn. A
// checkpoint calls it before it locks the whole keyspace, so that writing
// the nodes, and the node log's syncs when its buffer fills, stall one
// shard at a time instead of every client: the pause then only writes the
// nodes sealed meanwhile. It stops at the first error.
func (e *Env) WriteBehindAll() error {
	if e.Pager == nil {
		return nil
	}
	var err error
	e.KS.SweepShards(func(v engine.Value) bool {
		if s, ok := v.(*stream.Stream); ok {
			err = s.WriteBehind()
		}
		return err == nil
	})
	return err
}
