package stream

// Paging: a stream larger than memory keeps the bytes of its older nodes
// outside memory, through a Pager (internal/nodestore writes them to the
// data directory). Paging changes where a node's bytes are, never what they
// are, so every operation gives the same result whether a node is in
// memory or not: the core stays deterministic.
//
// A node is in one of three states:
//
//	resident      body holds its bytes; onDisk false: no valid copy outside
//	cached        body holds its bytes; onDisk true: ref names an equal copy
//	paged         no body; ref names the only copy of its bytes
//
// Reads page a node in (cached); a change to a paged or cached node's bytes
// (XDEL, trimming part of a node) drops its copy (resident again). Evict
// moves nodes out, least recently used first by a CLOCK over the nodes in
// memory: a cached node is just dropped, a resident one is written out
// first. The last node (where XADD appends) always stays in memory.
//
// Bodies live in fixed chunks (bodyChunk), so a nodeView's pointer stays
// valid while other nodes come and go, and a freed body is reused by the
// next node given bytes: the memory for bodies follows the nodes in
// memory, not the stream's length.

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

// bodyChunk is the number of bodies allocated together.
const bodyChunk = 256

// body returns n's body, nil while n is paged.
func (s *Stream) body(n *node) *nodeBody {
	if n.body == 0 {
		return nil
	}
	k := uint32(n.body - 1)
	return &s.bodies[k/bodyChunk][k%bodyChunk]
}

// setBody gives n a body holding b, which must be zero.
func (s *Stream) setBody(n *node, b nodeBody) *nodeBody {
	var k int32
	if f := len(s.freeBodies); f > 0 {
		k = s.freeBodies[f-1]
		s.freeBodies = s.freeBodies[:f-1]
	} else {
		k = int32(s.nbodies)
		if s.nbodies%bodyChunk == 0 {
			s.bodies = append(s.bodies, new([bodyChunk]nodeBody))
		}
		s.nbodies++
	}
	n.body = k + 1
	p := &s.bodies[k/bodyChunk][k%bodyChunk]
	*p = b
	return p
}

// dropBody frees n's body (its bytes leave memory).
func (s *Stream) dropBody(n *node) {
	*s.body(n) = nodeBody{}
	s.freeBodies = append(s.freeBodies, n.body-1)
	n.body = 0
}

// onDisk reports whether n has a copy outside memory.
func (s *Stream) onDisk(n *node) bool {
	b := s.body(n)
	return b == nil || b.onDisk
}

// node returns node i with its bytes in memory, paging them in if needed,
// and marks it used for the CLOCK.
func (s *Stream) node(i int) nodeView {
	n := s.nodes.at(i)
	if n.body == 0 {
		return s.pageIn(n)
	}
	k := uint32(n.body - 1)
	b := &s.bodies[k/bodyChunk][k%bodyChunk]
	b.used = true
	return nodeView{n, b}
}

// pageIn reads paged node n back into memory.
func (s *Stream) pageIn(n *node) nodeView {
	buf, err := s.pager.PageIn(n.ref)
	if err != nil {
		panic(&PageError{Ref: n.ref, Err: err})
	}
	b := s.setBody(n, nodeBody{buf: buf[:len(buf):len(buf)], onDisk: true, used: true})
	b.parseMaster()
	s.addResident(int64(len(buf)))
	s.npaged--
	s.clock = append(s.clock, n.master)
	return nodeView{n, b}
}

// mutable is node i about to have its bytes changed: any copy outside
// memory becomes stale and is dropped.
func (s *Stream) mutable(i int) nodeView {
	n := s.node(i)
	if n.onDisk {
		s.pager.Drop(n.ref)
		n.onDisk, n.ref = false, PageRef{}
	}
	return n
}

// forget accounts for node n leaving the stream (removeNode).
func (s *Stream) forget(n *node) {
	b := s.body(n)
	if b == nil {
		s.npaged--
		s.pager.Drop(n.ref)
		return
	}
	s.addResident(-int64(len(b.buf)))
	if b.onDisk {
		s.pager.Drop(n.ref)
	}
	s.dropBody(n)
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
	// Each entry of the clock is visited at most twice: once to clear a
	// used bit, once to evict.
	for budget := 2 * len(s.clock); s.resident > keep && budget > 0 && len(s.clock) > 0; budget-- {
		master := s.clock[0]
		s.clock = s.clock[1:]
		i := s.nodeFor(master)
		if i < 0 || s.nodes.at(i).master != master || i == s.nodes.len()-1 {
			if i == s.nodes.len()-1 && i >= 0 && s.nodes.at(i).master == master {
				s.clock = append(s.clock, master) // the tail: later
			}
			continue // a node removed since
		}
		n := s.nodes.at(i)
		b := s.body(n)
		if b == nil {
			continue
		}
		if b.used {
			b.used = false
			s.clock = append(s.clock, master)
			continue
		}
		if !b.onDisk {
			ref, err := s.pager.PageOut(b.buf)
			if err != nil {
				s.clock = append(s.clock, master)
				return err
			}
			n.ref, b.onDisk = ref, true
		}
		s.addResident(-int64(len(b.buf)))
		s.npaged++
		s.dropBody(n)
	}
	if len(s.clock) > 64 && len(s.clock) > 2*(s.nodes.len()-int(s.npaged)) {
		s.compactClock()
	}
	return nil
}

// compactClock drops the entries of nodes no longer in memory, so that the
// clock of a stream appended to and trimmed forever stays bounded.
func (s *Stream) compactClock() {
	out := s.clock[:0]
	for _, m := range s.clock {
		if i := s.nodeFor(m); i >= 0 && s.nodes.at(i).master == m && s.nodes.at(i).body != 0 {
			out = append(out, m)
		}
	}
	s.clock = out
}

// noteResident enters node i, just given bytes in memory, in the clock.
func (s *Stream) noteResident(i int) {
	s.clock = append(s.clock, s.nodes.at(i).master)
	if len(s.clock) > 1024 && len(s.clock) > 2*(s.nodes.len()-int(s.npaged)) {
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
	for i := range s.nodes.len() {
		n := s.nodes.at(i)
		b := s.body(n)
		if b == nil {
			s.npaged++
			continue
		}
		s.resident += int64(len(b.buf))
		s.clock = append(s.clock, n.master)
	}
	if s.meter != nil {
		s.meter.Add(s.resident)
	}
}

// PageRefs calls fn with the PageRef of every node that has a copy outside
// memory (recovery adopts them in the node log).
func (s *Stream) PageRefs(fn func(PageRef)) {
	for i := range s.nodes.len() {
		if n := s.nodes.at(i); s.onDisk(n) {
			fn(n.ref)
		}
	}
}

// Free is called when the stream leaves the keyspace for good (DEL,
// FLUSHALL, expiry, an overwrite): the copies of its nodes are dropped and
// its memory taken off the meter. The stream must not be used after.
func (s *Stream) Free() {
	if s.pager != nil {
		for i := range s.nodes.len() {
			if n := s.nodes.at(i); s.onDisk(n) {
				s.pager.Drop(n.ref)
			}
		}
	}
	s.SetPager(nil, nil)
	s.nodes, s.clock, s.resident, s.npaged = nodeList{}, nil, 0, 0
	s.bodies, s.nbodies, s.freeBodies = nil, 0, nil
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
	for i := 0; i+1 < s.nodes.len(); i++ {
		n := s.nodes.at(i)
		b := s.body(n)
		if b == nil || b.onDisk {
			continue
		}
		ref, err := s.pager.PageOut(b.buf)
		if err != nil {
			return err
		}
		n.ref, b.onDisk = ref, true
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
	for i := range s.nodes.len() {
		if moved >= limit {
			break
		}
		n := s.nodes.at(i)
		if !s.onDisk(n) || !move(n.ref) {
			continue
		}
		var b []byte
		if body := s.body(n); body != nil {
			b = body.buf
		} else {
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
