package stream

// Paging: a stream larger than memory keeps the bytes of its older nodes
// outside memory, through a Pager (internal/nodestore writes them to the
// data directory). Paging changes where a node's bytes are, never what they
// are, so every operation gives the same result whether a node is in
// memory or not: the core stays deterministic.
//
// A node is in one of three states:
//
//	resident      buf holds its bytes; onDisk false: no valid copy outside
//	cached        buf holds its bytes; onDisk true: ref names an equal copy
//	paged         buf nil; onDisk true: its bytes are only behind ref
//
// Reads page a node in (cached); a change to a paged or cached node's bytes
// (XDEL, trimming part of a node) drops its copy (resident again). Evict
// moves nodes out, least recently used first by a CLOCK over the nodes in
// memory: a cached node is just dropped, a resident one is written out
// first. The last node (where XADD appends) always stays in memory.

// PageRef names a node's bytes kept by a Pager. The core never looks
// inside it.
type PageRef struct {
	A uint64
	B uint64
}

// Pager keeps nodes' bytes outside memory. Its methods do I/O; the stream
// calls them under the key's lock, and only PageIn on a read.
type Pager interface {
	// PageOut stores the bytes of a node and returns their name; b is
	// not kept.
	PageOut(b []byte) (PageRef, error)
	// PageIn returns the bytes stored under ref, in a new slice the
	// stream keeps.
	PageIn(ref PageRef) ([]byte, error)
	// Drop tells that ref is no longer part of the stream (its node was
	// removed, changed or duplicated away); the Pager frees it when no
	// durable state refers to it any more.
	Drop(ref PageRef)
}

// PageError is the panic value of a read whose node cannot be paged in (an
// I/O error or a damaged copy): no reply can be built from the stream. The
// server recovers it as it does any panic in a command: the client gets an
// error and the other clients go on.
type PageError struct {
	Ref PageRef
	Err error
}

func (e *PageError) Error() string { return "stream: paging in a node: " + e.Err.Error() }
func (e *PageError) Unwrap() error { return e.Err }

// Meter counts the memory that streams' node bytes take, across streams:
// a stream reports every change of its ResidentBytes (a memory budget
// decides from the total when to Evict). It is called under the stream's
// key lock; streams under other locks call it concurrently.
type Meter interface {
	Add(delta int64)
}

// SetPager lets the stream keep nodes outside memory through p (nil: every
// node stays in memory; only a stream without paged nodes may go back to
// nil), reporting its memory to m (nil: to nobody). The bytes in memory so
// far are reported at once.
func (s *Stream) SetPager(p Pager, m Meter) {
	s.pager = p
	if s.meter != nil {
		s.meter.Add(-s.resident)
	}
	s.meter = m
	if m != nil {
		m.Add(s.resident)
	}
}

// Meter returns the stream's meter, nil if none.
func (s *Stream) Meter() Meter { return s.meter }

// addResident changes the bytes in memory and tells the meter.
func (s *Stream) addResident(delta int64) {
	s.resident += delta
	if s.meter != nil && delta != 0 {
		s.meter.Add(delta)
	}
}

// Pager returns the stream's pager, nil if none.
func (s *Stream) Pager() Pager { return s.pager }

// ResidentBytes is the memory held by the stream's node bytes.
func (s *Stream) ResidentBytes() int64 { return s.resident }

// PagedNodes is the number of nodes whose bytes are only outside memory.
func (s *Stream) PagedNodes() int64 { return s.npaged }

// node returns node i with its bytes in memory, paging them in if needed,
// and marks it used for the CLOCK.
func (s *Stream) node(i int) *node {
	n := &s.nodes[i]
	if n.buf == nil && n.onDisk {
		b, err := s.pager.PageIn(n.ref)
		if err != nil {
			panic(&PageError{Ref: n.ref, Err: err})
		}
		n.buf = b[:len(b):len(b)]
		s.addResident(int64(len(b)))
		s.npaged--
		s.clock = append(s.clock, n.master)
	}
	n.used = true
	return n
}

// mutable is node i about to have its bytes changed: any copy outside
// memory becomes stale and is dropped.
func (s *Stream) mutable(i int) *node {
	n := s.node(i)
	if n.onDisk {
		s.pager.Drop(n.ref)
		n.onDisk, n.ref = false, PageRef{}
	}
	return n
}

// forget accounts for node n leaving the stream (removeNode).
func (s *Stream) forget(n *node) {
	s.addResident(-int64(len(n.buf)))
	if n.onDisk {
		if n.buf == nil {
			s.npaged--
		}
		s.pager.Drop(n.ref)
	}
}

// Evict moves nodes out of memory, least recently used first, until at
// most keep bytes of node data stay in memory or only the last node is
// left in it. A node never written out is written through the pager; if
// that fails the node stays and the error is returned. It does nothing
// without a pager.
func (s *Stream) Evict(keep int64) error {
	if s.pager == nil || s.resident <= keep {
		return nil
	}
	s.settle() // the tail's reservation must not be shared with a paged node
	// Each entry of the clock is visited at most twice: once to clear a
	// used bit, once to evict.
	for budget := 2 * len(s.clock); s.resident > keep && budget > 0 && len(s.clock) > 0; budget-- {
		master := s.clock[0]
		s.clock = s.clock[1:]
		i := s.nodeFor(master)
		if i < 0 || s.nodes[i].master != master || i == len(s.nodes)-1 {
			if i == len(s.nodes)-1 && i >= 0 && s.nodes[i].master == master {
				s.clock = append(s.clock, master) // the tail: later
			}
			continue // a node removed since
		}
		n := &s.nodes[i]
		if n.buf == nil {
			continue
		}
		if n.used {
			n.used = false
			s.clock = append(s.clock, master)
			continue
		}
		if !n.onDisk {
			ref, err := s.pager.PageOut(n.buf)
			if err != nil {
				s.clock = append(s.clock, master)
				return err
			}
			n.ref, n.onDisk = ref, true
		}
		s.addResident(-int64(len(n.buf)))
		s.npaged++
		n.buf = nil
	}
	if len(s.clock) > 64 && len(s.clock) > 2*(len(s.nodes)-int(s.npaged)) {
		s.compactClock()
	}
	return nil
}

// compactClock drops the entries of nodes no longer in memory, so that the
// clock of a stream appended to and trimmed forever stays bounded.
func (s *Stream) compactClock() {
	out := s.clock[:0]
	for _, m := range s.clock {
		if i := s.nodeFor(m); i >= 0 && s.nodes[i].master == m && s.nodes[i].buf != nil {
			out = append(out, m)
		}
	}
	s.clock = out
}

// noteResident enters node i, just given bytes in memory, in the clock.
func (s *Stream) noteResident(i int) {
	s.clock = append(s.clock, s.nodes[i].master)
	if len(s.clock) > 1024 && len(s.clock) > 2*(len(s.nodes)-int(s.npaged)) {
		s.compactClock()
	}
}

// recount recomputes the memory accounting from the nodes (after a decode
// or a copy) and rebuilds the clock.
func (s *Stream) recount() {
	if s.meter != nil {
		s.meter.Add(-s.resident)
	}
	s.resident, s.npaged, s.clock = 0, 0, s.clock[:0]
	for i := range s.nodes {
		n := &s.nodes[i]
		if n.buf == nil && n.onDisk {
			s.npaged++
			continue
		}
		s.resident += int64(len(n.buf))
		s.clock = append(s.clock, n.master)
	}
	if s.meter != nil {
		s.meter.Add(s.resident)
	}
}

// PageRefs calls fn with the PageRef of every node that has a copy outside
// memory (recovery adopts them in the node log).
func (s *Stream) PageRefs(fn func(PageRef)) {
	for i := range s.nodes {
		if n := &s.nodes[i]; n.onDisk {
			fn(n.ref)
		}
	}
}

// Free is called when the stream leaves the keyspace for good (DEL,
// FLUSHALL, expiry, an overwrite): the copies of its nodes are dropped and
// its memory taken off the meter. The stream must not be used after.
func (s *Stream) Free() {
	if s.pager != nil {
		for i := range s.nodes {
			if n := &s.nodes[i]; n.onDisk {
				s.pager.Drop(n.ref)
				n.onDisk = false
			}
		}
	}
	s.SetPager(nil, nil)
	s.nodes, s.clock, s.resident, s.npaged = nil, nil, 0, 0
}

// WriteBehind gives every node but the last, that has no copy outside
// memory yet, one (through the pager), keeping it in memory: a checkpoint
// then refers to it instead of copying its bytes, and evicting it later
// costs no write. It stops at the pager's first error (the nodes left are
// written out whole by the checkpoint).
func (s *Stream) WriteBehind() error {
	if s.pager == nil {
		return nil
	}
	for i := 0; i+1 < len(s.nodes); i++ {
		n := &s.nodes[i]
		if n.onDisk || n.buf == nil {
			continue
		}
		ref, err := s.pager.PageOut(n.buf)
		if err != nil {
			return err
		}
		n.ref, n.onDisk = ref, true
	}
	return nil
}

// Relocate gives new copies to up to limit nodes whose copy move picks (the
// node log compacts a sparse segment this way: once nothing refers to its
// records it can go). A paged node is read back and written anew and stays
// paged; a cached node is written from memory. It returns how many nodes
// moved, and stops at the pager's first error.
func (s *Stream) Relocate(move func(PageRef) bool, limit int) (int, error) {
	if s.pager == nil {
		return 0, nil
	}
	moved := 0
	for i := range s.nodes {
		if moved >= limit {
			break
		}
		n := &s.nodes[i]
		if !n.onDisk || !move(n.ref) {
			continue
		}
		b := n.buf
		if b == nil {
			var err error
			if b, err = s.pager.PageIn(n.ref); err != nil {
				return moved, err
			}
		}
		ref, err := s.pager.PageOut(b)
		if err != nil {
			return moved, err
		}
		s.pager.Drop(n.ref)
		n.ref = ref
		moved++
	}
	return moved, nil
}
