package stream

import (
	"errors"
	"sort"

	"github.com/runnel-io/runnel/internal/engine"
)

// Errors of the core. The command layer maps them to Redis's texts
// (internal/command/errors_stream.go).
var (
	ErrIDTooSmall   = errors.New("stream: ID equal or smaller than the top item")
	ErrIDExhausted  = errors.New("stream: last possible ID exhausted")
	ErrTooLarge     = errors.New("stream: elements too large")
	ErrSetIDSmall   = errors.New("stream: XSETID ID smaller than the top item")
	ErrSetIDMaxDel  = errors.New("stream: XSETID ID smaller than the given max deleted ID")
	ErrSetIDCurDel  = errors.New("stream: XSETID ID smaller than the current max deleted ID")
	ErrSetIDEntries = errors.New("stream: XSETID entries_added smaller than the length")
)

// Limits are the node limits in force when an entry is added
// (stream-node-max-entries, stream-node-max-bytes; 0 means no limit).
type Limits struct {
	MaxEntries int64
	MaxBytes   int64
}

// maxListpack is STREAM_LISTPACK_MAX_SIZE: no entry may be larger, and
// stream-node-max-bytes of 0 or above it means this.
const maxListpack = 1 << 30

// Stream is a stream value. It implements engine.Value.
//
// Entries live in nodes (node.go) kept in a slice ordered by master ID:
// seeking an ID is a binary search over the nodes and a scan of one node.
// Removing the head node (trimming) is O(1); removing a middle node (XDEL
// of its last live entry) moves the node headers after it.
type Stream struct {
	nodes        nodeList
	length       int64
	lastID       ID
	firstID      ID
	maxDeleted   ID
	entriesAdded uint64
	groups       []*Group // ordered by name, as Redis's rax
	idmp         *idmpState

	// arena is the page that sealed nodes are copied into (seal). The tail
	// node's buffer is reserved in it when its size can be guessed
	// (reserve); resvCap > 0 while that reservation is open.
	arena   []byte
	resvOff int
	resvCap int
	sealLen int // length of the last sealed node, the guess for the next
	// scratch for internal reads; the stream is never used concurrently.
	it     Iterator
	fields [][]byte

	// Paging (page.go): where nodes go when memory is short, the bytes of
	// node data in memory, the nodes paged out, and the CLOCK of the
	// nodes in memory (their master IDs, oldest first).
	pager    Pager
	meter    Meter
	resident int64
	npaged   int64
	clock    []ID
	// The bodies of the nodes in memory (page.go): chunks of bodyChunk,
	// nbodies of them used or free, the free ones listed.
	bodies     []*[bodyChunk]nodeBody
	nbodies    int
	freeBodies []int32
}

// New returns an empty stream.
func New() *Stream { return &Stream{} }

// Type implements engine.Value.
func (s *Stream) Type() string { return "stream" }

// Encoding implements engine.Value.
func (s *Stream) Encoding() string { return "stream" }

// Len is the number of live entries (XLEN).
func (s *Stream) Len() int64 { return s.length }

// LastID is last-generated-id; it never decreases except by SetID.
func (s *Stream) LastID() ID { return s.lastID }

// FirstID is the ID of the first live entry, 0-0 when empty.
func (s *Stream) FirstID() ID { return s.firstID }

// MaxDeletedID is max-deleted-entry-id.
func (s *Stream) MaxDeletedID() ID { return s.maxDeleted }

// EntriesAdded is the lifetime count of added entries.
func (s *Stream) EntriesAdded() uint64 { return s.entriesAdded }

// Nodes is the number of macro nodes (XINFO radix-tree-keys).
func (s *Stream) Nodes() int64 { return int64(s.nodes.len()) }

// RadixNodes is a plausible radix-tree-nodes figure for XINFO: a rax of n
// 16-byte keys has about two nodes per key (Redis reports 1 when empty,
// 6 for two keys).
func (s *Stream) RadixNodes() int64 {
	switch n := int64(s.nodes.len()); n {
	case 0:
		return 1
	case 1:
		return 2
	default:
		return 2*n + 2
	}
}

// NextID resolves "*" at time nowMs: ms = max(nowMs, last.ms), seq 0 if
// nowMs > last.ms, else last+1. ErrIDExhausted if last is MaxID.
func (s *Stream) NextID(nowMs uint64) (ID, error) {
	if s.lastID == MaxID {
		return ID{}, ErrIDExhausted
	}
	if nowMs > s.lastID.Ms {
		return ID{nowMs, 0}, nil
	}
	id, _ := s.lastID.Incr()
	return id, nil
}

// SeqID resolves "<ms>-*": ErrIDTooSmall if ms < last.ms or the sequence
// would overflow. On an empty stream "0-*" gives 0-1. ErrIDExhausted if
// last is MaxID (XADD checks that first).
func (s *Stream) SeqID(ms uint64) (ID, error) {
	if s.lastID == MaxID {
		return ID{}, ErrIDExhausted
	}
	if ms == s.lastID.Ms {
		if s.lastID.Seq == ^uint64(0) {
			return ID{}, ErrIDTooSmall
		}
		return ID{ms, s.lastID.Seq + 1}, nil
	}
	if ms < s.lastID.Ms {
		return ID{}, ErrIDTooSmall
	}
	return ID{ms, 0}, nil
}

// CheckID validates an explicit XADD ID: ErrIDExhausted if last is MaxID,
// ErrIDTooSmall unless id > last.
func (s *Stream) CheckID(id ID) error {
	if s.lastID == MaxID {
		return ErrIDExhausted
	}
	if !s.lastID.Less(id) {
		return ErrIDTooSmall
	}
	return nil
}

// CheckSize reports ErrTooLarge when fv cannot be stored (more than 1 GB
// of field and value bytes). Redis checks this before the ID ordering.
func CheckSize(fv [][]byte) error {
	var total int64
	for _, b := range fv {
		total += int64(len(b))
	}
	if total > maxListpack {
		return ErrTooLarge
	}
	return nil
}

// Append adds an entry with an ID already checked (> LastID). fv is the
// flat field/value list; it is copied. ErrTooLarge if it cannot be stored;
// ErrIDTooSmall, as a guard, if id is not above LastID.
//
// A new node starts, as in streamAppendItem, when the tail node holds
// MaxEntries entries (live and deleted), or when its listpack size plus
// the new field and value bytes reaches MaxBytes.
func (s *Stream) Append(id ID, fv [][]byte, lim Limits) error {
	var total int64
	for _, b := range fv {
		total += int64(len(b))
	}
	if total > maxListpack {
		return ErrTooLarge
	}
	if !s.lastID.Less(id) {
		return ErrIDTooSmall
	}
	maxBytes := lim.MaxBytes
	if maxBytes <= 0 || maxBytes > maxListpack {
		maxBytes = maxListpack
	}
	var n nodeView
	if k := s.nodes.len(); k > 0 {
		t := s.nodes.at(k - 1)
		if t.lpBytes()+total >= maxBytes || lim.MaxEntries > 0 && t.count() >= lim.MaxEntries {
			if b := s.body(t); b != nil {
				s.seal(nodeView{t, b})
			}
		} else {
			// The last node may be paged out when XDEL removed the one
			// after it.
			n = s.mutable(k - 1)
		}
	}
	same := true
	if n.node == nil {
		buf := s.reserve(s.sealLen + s.sealLen/8 + 64)
		h, b := newNode(id, fv, buf)
		t := s.nodes.push(h)
		n = nodeView{t, s.setBody(t, b)}
		s.addResident(int64(len(n.buf)))
		s.noteResident(s.nodes.len() - 1)
	} else {
		same = n.sameFields(fv)
	}
	before := len(n.buf)
	n.appendEntry(id, fv, same)
	s.addResident(int64(len(n.buf) - before))
	s.length++
	s.entriesAdded++
	s.lastID = id
	if s.length == 1 {
		s.firstID = id
	}
	return nil
}

// Pages for sealed nodes grow from arenaMin to arenaMax bytes.
const (
	arenaMin = 4 << 10
	arenaMax = 128 << 10
)

// seal moves a full node's bytes from its growable buffer into the arena
// page, so that full nodes waste neither append slack nor size-class
// rounding. A page lives as long as any node in it: trimming frees pages
// in order; a page with nodes removed from the middle keeps their bytes
// until its last node goes. A node that grew inside its reservation is
// sealed in place.
func (s *Stream) seal(n nodeView) {
	s.sealLen = len(n.buf)
	if s.resvCap > 0 && s.inReservation(n.nodeBody) {
		s.settle()
		return
	}
	s.settle()
	b := n.buf
	if cap(b) == len(b) {
		return
	}
	if len(b) > arenaMax/2 {
		n.buf = append(make([]byte, 0, len(b)), b...)
		return
	}
	s.arenaRoom(len(b))
	off := len(s.arena)
	s.arena = append(s.arena, b...)
	n.buf = s.arena[off:len(s.arena):len(s.arena)]
}

// arenaRoom starts a new page unless the current one has size bytes free.
func (s *Stream) arenaRoom(size int) {
	if cap(s.arena)-len(s.arena) >= size {
		return
	}
	page := min(max(2*cap(s.arena), arenaMin), arenaMax)
	for page < size {
		page *= 2
	}
	s.arena = make([]byte, 0, page)
}

// reserve returns an empty buffer of capacity size carved from the arena
// for a new tail node, so that appends fill it in place and sealing it
// costs no copy; nil when size is too big to guess well.
func (s *Stream) reserve(size int) []byte {
	s.settle()
	if s.sealLen == 0 || size > arenaMax/2 {
		return nil
	}
	s.arenaRoom(size)
	off := len(s.arena)
	s.arena = s.arena[:off+size]
	s.resvOff, s.resvCap = off, size
	return s.arena[off : off : off+size]
}

// inReservation reports whether n's bytes still live in the open
// reservation (they move out when n outgrows it).
func (s *Stream) inReservation(n *nodeBody) bool {
	return len(n.buf) > 0 && cap(n.buf) == s.resvCap && &n.buf[0] == &s.arena[s.resvOff]
}

// settle closes the reservation: the tail node keeps what it used, the
// rest goes back to the page.
func (s *Stream) settle() {
	if s.resvCap == 0 {
		return
	}
	if n := s.tailBody(); n != nil && s.inReservation(n) {
		s.arena = s.arena[:s.resvOff+len(n.buf)]
		n.buf = n.buf[:len(n.buf):len(n.buf)]
	} else {
		s.arena = s.arena[:s.resvOff]
	}
	s.resvCap = 0
}

// tailBody is the last node's body, nil if none.
func (s *Stream) tailBody() *nodeBody {
	if k := s.nodes.len(); k > 0 {
		return s.body(s.nodes.at(k - 1))
	}
	return nil
}

// nodeFor returns the index of the last node whose master ID is <= id,
// or -1.
func (s *Stream) nodeFor(id ID) int {
	i := sort.Search(s.nodes.len(), func(i int) bool { return id.Less(s.nodes.at(i).master) })
	return i - 1
}

// Lookup returns the live entry with ID id; fields are valid until the
// stream changes. The scratch slice is reused for the fields.
func (s *Stream) Lookup(id ID, scratch [][]byte) (Entry, bool) {
	i := s.nodeFor(id)
	if i < 0 {
		return Entry{}, false
	}
	n := s.node(i)
	p, flags, ok := n.find(id)
	if !ok || flags&flagDeleted != 0 {
		return Entry{}, false
	}
	_, _, q := n.entryAt(p)
	f, _ := n.fields(q, flags, scratch[:0])
	return Entry{ID: id, Fields: f}, true
}

// Exists reports whether id is a live entry.
func (s *Stream) Exists(id ID) bool {
	i := s.nodeFor(id)
	if i < 0 {
		return false
	}
	_, flags, ok := s.node(i).find(id)
	return ok && flags&flagDeleted == 0
}

// Last returns the last live entry (XREAD "+", XINFO last-entry).
func (s *Stream) Last(scratch [][]byte) (Entry, bool) {
	for i := s.nodes.len() - 1; i >= 0; i-- {
		n := s.node(i)
		found := -1
		var flags byte
		for p := int(n.first); p < len(n.buf); {
			_, fl, q := n.entryAt(p)
			if fl&flagDeleted == 0 {
				found, flags = p, fl
			}
			p = n.skipFields(q, fl)
		}
		if found >= 0 {
			id, _, q := n.entryAt(found)
			f, _ := n.fields(q, flags, scratch[:0])
			return Entry{ID: id, Fields: f}, true
		}
	}
	return Entry{}, false
}

// firstLive is the ID of the first live entry.
func (s *Stream) firstLive() (ID, bool) {
	for i := range s.nodes.len() {
		if s.nodes.at(i).deleted == 0 && s.nodes.at(i).live > 0 {
			// Nothing deleted: the first entry, the master, is live; no
			// need to page the node in.
			return s.nodes.at(i).master, true
		}
		n := s.node(i)
		for p := int(n.first); p < len(n.buf); {
			id, fl, q := n.entryAt(p)
			if fl&flagDeleted == 0 {
				return id, true
			}
			p = n.skipFields(q, fl)
		}
	}
	return ID{}, false
}

// updateFirst recomputes first_id after deletions.
func (s *Stream) updateFirst() {
	if s.length == 0 {
		s.firstID = ID{}
		return
	}
	s.firstID, _ = s.firstLive()
}

// Delete removes a live entry (XDEL): it updates max-deleted-entry-id and
// first ID. PELs are untouched. It reports whether the entry existed.
func (s *Stream) Delete(id ID) bool {
	if !s.deleteEntry(id) {
		return false
	}
	if s.maxDeleted.Less(id) {
		s.maxDeleted = id
	}
	if s.length == 0 || id == s.firstID {
		s.updateFirst()
	}
	return true
}

// deleteEntry flags a live entry deleted and drops its node when the node
// has no live entry left. Counters other than the length are the caller's.
func (s *Stream) deleteEntry(id ID) bool {
	i := s.nodeFor(id)
	if i < 0 {
		return false
	}
	n := s.node(i)
	p, flags, ok := n.find(id)
	if !ok || flags&flagDeleted != 0 {
		return false
	}
	n = s.mutable(i)
	n.buf[p] |= flagDeleted
	n.live--
	n.deleted++
	s.length--
	if n.live == 0 {
		s.removeNode(i)
	}
	return true
}

// removeNode drops node i.
func (s *Stream) removeNode(i int) {
	s.forget(s.nodes.at(i))
	s.nodes.remove(i)
}

// SetID is XSETID after its argument checks, returning one of the ErrSetID*
// errors. entriesAdded < 0 and maxDeleted nil mean "not given". The checks
// run in Redis's order: the given max deleted ID, the current one (7.2+),
// the top item, then entries_added against the length. An empty stream
// may lower its last ID. A given max deleted ID of 0-0 changes nothing.
func (s *Stream) SetID(last ID, entriesAdded int64, maxDeleted *ID) error {
	if maxDeleted != nil && last.Less(*maxDeleted) {
		return ErrSetIDMaxDel
	}
	if last.Less(s.maxDeleted) {
		return ErrSetIDCurDel
	}
	if s.length > 0 {
		top, _ := s.Last(nil)
		if last.Less(top.ID) {
			return ErrSetIDSmall
		}
		if entriesAdded >= 0 && s.length > entriesAdded {
			return ErrSetIDEntries
		}
	}
	s.lastID = last
	if entriesAdded >= 0 {
		s.entriesAdded = uint64(entriesAdded)
	}
	if maxDeleted != nil && !maxDeleted.IsZero() {
		s.maxDeleted = *maxDeleted
	}
	return nil
}

// Dup returns a deep copy, groups and IDMP state included (COPY); it
// implements engine.Duplicator.
func (s *Stream) Dup() engine.Value {
	d := &Stream{
		length:       s.length,
		lastID:       s.lastID,
		firstID:      s.firstID,
		maxDeleted:   s.maxDeleted,
		entriesAdded: s.entriesAdded,
	}
	for i := range s.nodes.len() {
		// A copy owns its bytes: paged nodes come back into memory (the
		// copy may evict them again through its own pager).
		n := s.node(i)
		h := *n.node
		h.ref, h.body = PageRef{}, 0
		c := d.nodes.push(h)
		b := d.setBody(c, *n.nodeBody)
		b.buf = append(make([]byte, 0, len(b.buf)+1), b.buf...)
		b.onDisk, b.used = false, false
		if i < s.nodes.len()-1 {
			d.seal(nodeView{c, b})
		}
	}
	d.pager = s.pager // the copy reports to no meter until SetPager
	d.recount()
	if len(s.groups) > 0 {
		d.groups = make([]*Group, len(s.groups))
		for i, g := range s.groups {
			d.groups[i] = g.dup()
		}
	}
	if s.idmp != nil {
		d.idmp = s.idmp.dup()
	}
	return d
}

// bufCap is the memory node i's bytes take: 0 while paged.
func (s *Stream) bufCap(i int) int64 {
	if b := s.body(s.nodes.at(i)); b != nil {
		return int64(cap(b.buf)) + bodySize
	}
	return 0
}

// Sizes used by ObjectSize, in bytes.
const (
	streamSize   = 256 // Stream struct with its slices
	nodeHdrSize  = 64  // node header
	bodySize     = 40  // node body, while in memory
	groupSize    = 160 // Group struct
	consumerSize = 96  // Consumer struct and its set header
	pelEntrySize = 25  // group PEL chunk bytes per entry (2688/pelChunkCap)
	idEntrySize  = 8   // consumer PEL bytes per entry (packed IDs)
)

// ObjectSize implements engine.MemorySizer (MEMORY USAGE): the bytes the
// stream uses, sampling at most samples nodes (0: all) as Redis's
// objectComputeSize does: the first nodes' average stands for all but the
// last, which is counted exactly.
func (s *Stream) ObjectSize(samples int64) int64 {
	size := int64(streamSize) + s.nodes.capBytes()
	k := int64(s.nodes.len())
	if samples <= 0 || samples > k {
		samples = k
	}
	var sampled int64
	for i := int64(0); i < samples; i++ {
		sampled += s.bufCap(int(i))
	}
	if samples == k {
		size += sampled
	} else {
		size += sampled / samples * (k - 1)
		size += s.bufCap(int(k - 1))
	}
	for _, g := range s.groups {
		size += groupSize + int64(len(g.name)) + g.pel.n*pelEntrySize
		for _, c := range g.consumers {
			size += consumerSize + int64(len(c.name)) + c.pel.n*idEntrySize
		}
	}
	if s.idmp != nil {
		size += s.idmp.size()
	}
	return size
}
