package stream

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"

	"github.com/google/btree"
)

// Checkpoint encoding. A checkpoint writes each stream as a sequence of
// parts of bounded size (EncodeParts) and a restart rebuilds the stream from
// them (Decoder). Entries are stored as the nodes' own bytes, so loading is a
// copy and one validating scan per node, not an append per entry.
//
// Every part has the same frame:
//
//	+------+---------+--------------+---------+------------+
//	| kind | index   | version      | records | crc32c     |
//	| u8   | uvarint | u8, part 0   |   ...   | u32 LE     |
//	+------+---------+--------------+---------+------------+
//
// kind is partFirst for part 0 (then the format version follows) and
// partNext after it; index counts the parts from 0. The CRC-32C is chained:
// part i's trailer is the checksum of the bytes of parts 0..i without their
// trailers, so a part that is damaged, missing, repeated or from another
// stream is refused even when its own bytes are intact.
//
// Records follow in a fixed order; each starts with its tag byte. IDs are
// two uvarints (ms, seq), signed numbers zigzag varints, names a uvarint
// length and the bytes.
//
//	'S' stream     length, last ID, first ID, max deleted ID, entries added,
//	               node count, bytes of all nodes but the last, group count,
//	               IDMP present (u8)
//	'N' node       master ID, byte length, the node's bytes (node.go)  × nodes
//	    or
//	'O' paged      master ID, last ID, live, deleted, listpack size without
//	               the counters, PageRef (two uvarints): a node with a copy
//	               outside memory (page.go), written without its bytes; it
//	               is decoded paged out
//	per group, in name order:
//	'G' group      name, last-delivered ID, entries-read, claim-order counter,
//	               consumer count, PEL size
//	'C' consumer   name, seen-time, active-time, PEL size     × consumers
//	'P' PEL run    pending entries (below) until the group's PEL is complete
//	               or the part ends; the next part resumes with a new run
//	if IDMP state exists:
//	'I' IDMP       configured (u8), duration, max size, iids added,
//	               duplicates, pid count
//	per pid, in name order:
//	'D' pid        name, iid count
//	'E' iid run    iids (name, stream ID, recorded-at time) oldest first,
//	               until the pid's iids are complete or the part ends
//
// A node's header is not written but for its master ID (the node's bytes
// hold the entries as deltas to it): the decoder recomputes the last ID,
// the live and deleted counts, the listpack size and the offsets in the
// scan that validates the bytes, so that they cannot disagree.
//
// A pending entry is its ID (the first of a run in full; later ones as the
// ms delta, then seq-prev.seq-1 when the ms delta is 0, else the seq), its
// delivery time as a delta to the previous entry's, its delivery count, its
// claim-order sequence as a delta, and its owner: the consumer's position in
// name order from 1, 0 when NACKed. Consumer PELs are not written: they are
// the group PEL's entries with that owner.
//
// A record never spans parts. A part ends before the record that would take
// it past MaxPart, unless it holds no record yet; so only a part holding a
// single node or element larger than MaxPart exceeds it.
//
// What is not written is layout, not state: buffer capacities and arena
// pages, PEL and consumer-PEL chunk boundaries, consumer slot numbers and
// their free list, the IDMP order slices' consumed heads. The decoder
// rebuilds them compactly (full chunks, dense slots); none of them changes
// what an operation does or what a later encoding holds.

// Part kinds and the format version.
const (
	partFirst     = 0x01
	partNext      = 0x02
	formatVersion = 2 // 2: 'O' records lost the offsets a page-in recomputes
)

// Record tags.
const (
	recStream   = 'S'
	recNode     = 'N'
	recPaged    = 'O' // a node whose bytes are outside memory: its header and PageRef
	recGroup    = 'G'
	recConsumer = 'C'
	recPEL      = 'P'
	recIDMP     = 'I'
	recPID      = 'D'
	recIIDs     = 'E'
)

const (
	crcSize        = 4
	defaultMaxPart = 1 << 20
	// maxPELEntry bounds a pending entry's encoding: ID 20, time 10,
	// count 10, sequence 5, owner 5.
	maxPELEntry = 50
	// maxPrealloc bounds what a declared count may preallocate before the
	// data behind it arrived, so that a corrupt count cannot exhaust memory.
	maxPrealloc = 1 << 12
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// EncodeOptions tune EncodeParts.
type EncodeOptions struct {
	// MaxPart is the size a part should stay under (a part may exceed it only
	// when a single node or element is larger). Zero means 1 MiB.
	MaxPart int
	// ZeroSeenTime writes every consumer's seen-time as 0 (tests compare the
	// state recovered from the log, which does not record the seen-time of
	// reads that delivered nothing, with the live state).
	ZeroSeenTime bool
	// Inline writes the bytes of paged-out nodes (read through the pager)
	// instead of their PageRefs, so that the encoding does not depend on
	// where the bytes are: for comparisons, and for a copy that must not
	// rely on the pager.
	Inline bool
}

// EncodeParts calls emit with successive parts that together encode the
// complete state of s: its counters, every node's bytes, every group with its
// PEL (owner, delivery time and count, claim order, NACKed state) and
// consumers, and the IDMP tables and settings. emit must not keep the slice
// after it returns: the buffer is reused. The same state always gives the
// same bytes. An error from emit stops the encoding and is returned.
func (s *Stream) EncodeParts(opts EncodeOptions, emit func(part []byte) error) error {
	w := &partWriter{max: opts.MaxPart, emit: emit}
	if w.max <= 0 {
		w.max = defaultMaxPart
	}
	// Paged nodes are written by reference unless Inline asks for their
	// bytes; inline returns the bytes node i is written with, nil for a
	// reference.
	inline := func(i int) []byte {
		n := s.nodes.at(i)
		body := s.body(n)
		switch {
		case s.onDisk(n) && !opts.Inline:
			return nil // a copy is outside memory: refer to it
		case body != nil:
			return body.buf
		}
		b, err := s.pager.PageIn(n.ref)
		if err != nil {
			panic(&PageError{Ref: n.ref, Err: err})
		}
		return b
	}
	var sealed uint64
	for i := 0; i+1 < s.nodes.len(); i++ {
		if b := s.body(s.nodes.at(i)); b != nil && (!b.onDisk || opts.Inline) {
			sealed += uint64(len(b.buf))
		} else if b == nil && opts.Inline {
			sealed += uint64(len(inline(i)))
		}
	}
	// One buffer of the size of the first part, estimated, so that filling
	// it does not grow it step by step.
	est := 64 + int(sealed) + 32*s.nodes.len()
	if b := s.tailBody(); b != nil {
		est += len(b.buf)
	}
	for _, g := range s.groups {
		est += 64 + len(g.name) + 32*len(g.consumers) + 16*int(g.pel.n)
	}
	if s.idmp != nil {
		est += 64 + 48*int(s.idmp.iids)
	}
	w.buf = make([]byte, 0, min(est, w.max+2*binary.MaxVarintLen64+crcSize))
	w.begin()

	b := append(w.buf, recStream)
	b = appendUvarint(b, uint64(s.length))
	b = appendID(b, s.lastID)
	b = appendID(b, s.firstID)
	b = appendID(b, s.maxDeleted)
	b = appendUvarint(b, s.entriesAdded)
	b = appendUvarint(b, uint64(s.nodes.len()))
	b = appendUvarint(b, sealed)
	b = appendUvarint(b, uint64(len(s.groups)))
	if s.idmp != nil {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	w.buf = b

	for i := range s.nodes.len() {
		n := s.nodes.at(i)
		nb := inline(i)
		if nb == nil {
			if err := w.room(1 + 9*binary.MaxVarintLen64); err != nil {
				return err
			}
			b := append(w.buf, recPaged)
			b = appendID(b, n.master)
			b = appendID(b, n.last)
			b = appendUvarint(b, uint64(n.live))
			b = appendUvarint(b, uint64(n.deleted))
			b = appendUvarint(b, uint64(n.lpFixed))
			b = appendUvarint(b, n.ref.A)
			w.buf = appendUvarint(b, n.ref.B)
			continue
		}
		if err := w.room(1 + 2*binary.MaxVarintLen64 + binary.MaxVarintLen64 + len(nb)); err != nil {
			return err
		}
		b := append(w.buf, recNode)
		b = appendID(b, n.master)
		b = appendUvarint(b, uint64(len(nb)))
		w.buf = append(b, nb...)
	}
	for _, g := range s.groups {
		if err := w.group(g, opts.ZeroSeenTime); err != nil {
			return err
		}
	}
	if s.idmp != nil {
		if err := w.idmp(s.idmp); err != nil {
			return err
		}
	}
	return w.flush()
}

// partWriter fills parts and hands them to emit.
type partWriter struct {
	buf   []byte
	max   int
	index uint64
	crc   uint32 // chained checksum of the parts so far
	start int    // where the current part's records start
	emit  func([]byte) error
}

func (w *partWriter) begin() {
	b := w.buf[:0]
	if w.index == 0 {
		b = append(b, partFirst)
		b = appendUvarint(b, 0)
		b = append(b, formatVersion)
	} else {
		b = append(b, partNext)
		b = appendUvarint(b, w.index)
	}
	w.buf, w.start = b, len(b)
}

func (w *partWriter) flush() error {
	w.crc = crc32.Update(w.crc, castagnoli, w.buf)
	w.buf = binary.LittleEndian.AppendUint32(w.buf, w.crc)
	w.index++
	return w.emit(w.buf)
}

// newPart ends the current part when a record of up to n bytes would take
// it past the limit and it already holds a record; it reports whether a
// new part began.
func (w *partWriter) newPart(n int) (bool, error) {
	if len(w.buf) == w.start || len(w.buf)+n+crcSize <= w.max {
		return false, nil
	}
	if err := w.flush(); err != nil {
		return false, err
	}
	w.begin()
	return true, nil
}

// room is newPart for a record that needs no resumption tag.
func (w *partWriter) room(n int) error {
	_, err := w.newPart(n)
	return err
}

func (w *partWriter) group(g *Group, zeroSeen bool) error {
	if err := w.room(1 + 6*binary.MaxVarintLen64 + len(g.name)); err != nil {
		return err
	}
	b := append(w.buf, recGroup)
	b = appendBytes(b, g.name)
	b = appendID(b, g.lastID)
	b = appendUvarint(b, zigzag(g.entriesRead))
	b = appendUvarint(b, uint64(g.seq))
	b = appendUvarint(b, uint64(len(g.consumers)))
	b = appendUvarint(b, uint64(g.pel.n))
	w.buf = b

	// Owners are written as positions in name order: slot numbers are
	// layout (they depend on the history of deletions).
	ord := make([]uint32, len(g.byIdx))
	for i, c := range g.consumers {
		ord[c.idx] = uint32(i + 1)
		if err := w.room(1 + 4*binary.MaxVarintLen64 + len(c.name)); err != nil {
			return err
		}
		seen := c.seen
		if zeroSeen {
			seen = 0
		}
		b := append(w.buf, recConsumer)
		b = appendBytes(b, c.name)
		b = appendUvarint(b, zigzag(seen))
		b = appendUvarint(b, zigzag(c.active))
		w.buf = appendUvarint(b, uint64(c.pel.n))
	}
	if g.pel.tree == nil {
		return nil
	}
	var (
		err      error
		run      bool
		full     bool // the next ID is written in full: a run's first
		prevID   ID
		prevTime int64
		prevSeq  uint32
	)
	g.pel.tree.Ascend(func(r pelRef) bool {
		c := r.c
		for i := 0; i < int(c.n); i++ {
			var fresh bool
			if fresh, err = w.newPart(1 + maxPELEntry); err != nil {
				return false
			}
			if fresh || !run {
				w.buf = append(w.buf, recPEL)
				run, full, prevTime, prevSeq = true, true, 0, 0
			}
			b, id := w.buf, c.id(i)
			if full {
				b, full = appendID(b, id), false
			} else {
				dms := id.Ms - prevID.Ms
				b = appendUvarint(b, dms)
				if dms == 0 {
					b = appendUvarint(b, id.Seq-prevID.Seq-1)
				} else {
					b = appendUvarint(b, id.Seq)
				}
			}
			t := c.time(i)
			b = appendUvarint(b, zigzag(t-prevTime))
			b = appendUvarint(b, uint64(c.count(i)))
			seq := c.seq(i)
			b = appendUvarint(b, zigzag(int64(seq)-int64(prevSeq)))
			w.buf = appendUvarint(b, uint64(ord[c.owners[i]]))
			prevID, prevTime, prevSeq = id, t, seq
		}
		return true
	})
	return err
}

func (w *partWriter) idmp(st *idmpState) error {
	if err := w.room(1 + 6*binary.MaxVarintLen64); err != nil {
		return err
	}
	b := append(w.buf, recIDMP)
	if st.cfgSet {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendUvarint(b, zigzag(st.cfg.Duration))
	b = appendUvarint(b, zigzag(st.cfg.MaxSize))
	b = appendUvarint(b, zigzag(st.added))
	b = appendUvarint(b, zigzag(st.dups))
	w.buf = appendUvarint(b, uint64(len(st.pids)))

	pids := make([]string, 0, len(st.pids))
	for pid := range st.pids {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	for _, pid := range pids {
		p := st.pids[pid]
		if err := w.room(1 + 2*binary.MaxVarintLen64 + len(pid)); err != nil {
			return err
		}
		b := append(w.buf, recPID)
		b = appendBytes(b, []byte(pid))
		w.buf = appendUvarint(b, uint64(len(p.order)-p.head))
		run, prevAt := false, int64(0)
		for _, iid := range p.order[p.head:] {
			fresh, err := w.newPart(1 + 4*binary.MaxVarintLen64 + len(iid))
			if err != nil {
				return err
			}
			if fresh || !run {
				w.buf = append(w.buf, recIIDs)
				run, prevAt = true, 0
			}
			r := p.byIID[iid]
			b := appendUvarint(w.buf, uint64(len(iid)))
			b = append(b, iid...)
			b = appendID(b, r.id)
			w.buf = appendUvarint(b, zigzag(r.at-prevAt))
			prevAt = r.at
		}
	}
	return nil
}

func appendID(b []byte, id ID) []byte {
	return appendUvarint(appendUvarint(b, id.Ms), id.Seq)
}

func appendBytes(b, v []byte) []byte {
	return append(appendUvarint(b, uint64(len(v))), v...)
}

// Decoding.

// ErrCorrupt is wrapped by every error of a Decoder: the parts are damaged,
// truncated, out of order, incomplete or not an encoding of a sound stream.
var ErrCorrupt = errors.New("stream: corrupt checkpoint encoding")

// What the decoder expects next.
const (
	expStream = iota
	expNode
	expGroup
	expConsumer
	expPEL
	expIDMP
	expPID
	expIIDs
	expDone
	expTaken // Stream returned the result
)

// Decoder rebuilds a stream from the parts of EncodeParts, given in order.
// It validates as it goes what Check verifies (node contents and counts,
// entry order, the stream's counters, PEL order, owners and claim-order
// sequences), with bounds-checked reads that never trust the input, so that
// no input makes it panic and what it returns is sound.
type Decoder struct {
	s     *Stream
	err   error // sticky: the first error
	exp   int
	index uint64
	crc   uint32

	// declared by the stream record
	length     int64
	firstID    ID
	nodesLeft  uint64
	sealedLeft uint64 // bytes of the nodes before the last, still to come
	groupsLeft uint64
	hasIDMP    bool

	// the entries seen so far
	live      int64
	prevLive  ID
	haveLive  bool
	firstLive ID
	paged     bool // a node was decoded by reference: its entries are unseen

	// the group being decoded
	g         *Group
	consLeft  uint64
	pendLeft  uint64
	consPend  []int64    // declared PEL size per consumer position
	consOwned []int64    // entries seen per consumer position
	consOpen  []*idChunk // the chunk being filled per consumer position
	chunk     *pelChunk  // the group PEL chunk being filled
	prevPend  ID
	havePend  bool
	nacked    int64
	seqs      []uint32 // claim-order sequences, to prove them unique

	// the IDMP pid being decoded
	pidsLeft uint64
	prevPID  string
	pid      *idmpPID
	iidsLeft uint64
}

// NewDecoder returns a decoder waiting for part 0.
func NewDecoder() *Decoder { return &Decoder{s: New()} }

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Part consumes the next part; it copies what it keeps. Damaged, truncated
// or misordered input returns an error wrapping ErrCorrupt, whatever the
// bytes; after an error every call returns it again.
func (d *Decoder) Part(p []byte) error {
	if d.err != nil {
		return d.err
	}
	if err := d.part(p); err != nil {
		d.err = fmt.Errorf("part %d: %w", d.index, err)
		d.s = nil
		return d.err
	}
	d.index++
	return nil
}

func (d *Decoder) part(p []byte) error {
	if d.exp >= expDone {
		return corrupt("part after the end of the stream")
	}
	if len(p) < 2+crcSize {
		return corrupt("%d bytes: truncated", len(p))
	}
	body := p[:len(p)-crcSize]
	r := reader{b: body}
	kind := r.byte()
	idx := r.uvarint()
	want := byte(partNext)
	if d.index == 0 {
		want = partFirst
	}
	if r.err != nil || kind != want || idx != d.index {
		return corrupt("kind %d index %d where part %d was expected (parts missing or out of order?)", kind, idx, d.index)
	}
	crc := crc32.Update(d.crc, castagnoli, body)
	if got := binary.LittleEndian.Uint32(p[len(body):]); got != crc {
		return corrupt("checksum %08x, want %08x (damaged, or parts out of order)", got, crc)
	}
	d.crc = crc
	if d.index == 0 {
		if v := r.byte(); r.err != nil || v != formatVersion {
			return corrupt("format version %d, this build reads %d", v, formatVersion)
		}
	}
	if r.p == len(body) {
		return corrupt("no record")
	}
	for r.p < len(body) {
		if err := d.record(&r); err != nil {
			return err
		}
	}
	return nil
}

// record decodes one record, or one run of PEL entries or iids.
func (d *Decoder) record(r *reader) error {
	tag := r.byte()
	want := [...]byte{recStream, recNode, recGroup, recConsumer, recPEL, recIDMP, recPID, recIIDs}
	if d.exp >= len(want) {
		return corrupt("record %q after the end", tag)
	}
	paged := d.exp == expNode && tag == recPaged
	if tag != want[d.exp] && !paged {
		return corrupt("record %q where %q was expected", tag, want[d.exp])
	}
	var err error
	switch d.exp {
	case expStream:
		err = d.streamRecord(r)
	case expNode:
		if paged {
			err = d.pagedRecord(r)
		} else {
			err = d.nodeRecord(r)
		}
	case expGroup:
		err = d.groupRecord(r)
	case expConsumer:
		err = d.consumerRecord(r)
	case expPEL:
		err = d.pelRun(r)
	case expIDMP:
		err = d.idmpRecord(r)
	case expPID:
		err = d.pidRecord(r)
	case expIIDs:
		err = d.iidRun(r)
	}
	if err == nil && r.err != nil {
		err = r.err
	}
	return err
}

func (d *Decoder) streamRecord(r *reader) error {
	s := d.s
	length := r.uvarint()
	s.lastID = r.id()
	d.firstID = r.id()
	s.maxDeleted = r.id()
	s.entriesAdded = r.uvarint()
	d.nodesLeft = r.uvarint()
	d.sealedLeft = r.uvarint()
	d.groupsLeft = r.uvarint()
	idmp := r.byte()
	if r.err != nil {
		return r.err
	}
	if length > math.MaxInt64 || idmp > 1 {
		return corrupt("stream record: length %d, IDMP flag %d", length, idmp)
	}
	d.length, d.hasIDMP = int64(length), idmp == 1
	d.exp = expNode
	return d.afterNodes()
}

// afterNodes moves on once every node is in: it checks the stream's
// counters against the entries and closes the node store.
func (d *Decoder) afterNodes() error {
	if d.nodesLeft > 0 {
		return nil
	}
	s := d.s
	if d.sealedLeft != 0 {
		return corrupt("node bytes: %d declared bytes missing", d.sealedLeft)
	}
	if d.live != d.length {
		return corrupt("length %d, live entries %d", d.length, d.live)
	}
	if d.firstID != d.firstLive && !d.paged {
		return corrupt("first ID %v, first live entry %v", d.firstID, d.firstLive)
	}
	s.firstID, s.length = d.firstID, d.length
	if d.haveLive && s.lastID.Less(d.prevLive) && !d.paged {
		return corrupt("last ID %v below entry %v", s.lastID, d.prevLive)
	}
	if k := s.nodes.len(); k > 1 {
		if b := s.body(s.nodes.at(k - 2)); b != nil {
			s.sealLen = len(b.buf)
		}
	}
	d.exp = expGroup
	return d.afterGroups()
}

func (d *Decoder) nodeRecord(r *reader) error {
	s := d.s
	master := r.id()
	b := r.bytes()
	if r.err != nil {
		return r.err
	}
	last := d.nodesLeft == 1
	n, nb, err := d.scanNode(b, master)
	if err != nil {
		return fmt.Errorf("node %d (%v): %w", s.nodes.len(), master, err)
	}
	if last {
		nb.buf = exactCopy(b)
	} else {
		// Sealed nodes are packed into arena pages as seal does; the
		// declared total sizes the pages, so a small stream gets a small
		// page.
		if uint64(len(b)) > d.sealedLeft {
			return corrupt("node bytes exceed the declared %d", d.sealedLeft)
		}
		d.sealedLeft -= uint64(len(b))
		if len(b) > arenaMax/2 {
			nb.buf = exactCopy(b)
		} else {
			if cap(s.arena)-len(s.arena) < len(b) {
				page := max(len(b), int(min(d.sealedLeft+uint64(len(b)), arenaMax)))
				s.arena = make([]byte, 0, page)
			}
			off := len(s.arena)
			s.arena = append(s.arena, b...)
			nb.buf = s.arena[off:len(s.arena):len(s.arena)]
		}
	}
	return d.addNode(n, &nb)
}

// addNode appends a decoded node, with its body unless it is paged, to the
// stream and moves on.
func (d *Decoder) addNode(n node, b *nodeBody) error {
	s := d.s
	t := s.nodes.push(n)
	if b != nil {
		s.setBody(t, *b)
	}
	d.nodesLeft--
	return d.afterNodes()
}

// pagedRecord decodes a node written by reference. Its bytes are not here
// to validate it against: the header is taken as it is (the part's
// checksum covers it, the pager checks the bytes when they are read), and
// the stream's first and last IDs cannot be checked against entries.
func (d *Decoder) pagedRecord(r *reader) error {
	s := d.s
	var n node
	n.master = r.id()
	n.last = r.id()
	live, deleted := r.uvarint(), r.uvarint()
	lpFixed := r.uvarint()
	n.ref = PageRef{A: r.uvarint(), B: r.uvarint()}
	if r.err != nil {
		return r.err
	}
	if live == 0 || live > math.MaxInt32 || deleted > math.MaxInt32 || lpFixed > math.MaxUint32 ||
		n.last.Less(n.master) {
		return corrupt("paged node %d (%v): impossible header", s.nodes.len(), n.master)
	}
	n.live, n.deleted, n.lpFixed = int32(live), int32(deleted), uint32(lpFixed)
	if s.nodes.len() > 0 && !s.nodes.at(s.nodes.len()-1).master.Less(n.master) && !d.paged {
		// Masters normally increase; a tombstone case may break it
		// (decoded bytes are checked entry by entry), which a header
		// cannot tell: only the order of masters is required here.
		return corrupt("paged node %d: master %v not after %v", s.nodes.len(), n.master, s.nodes.at(s.nodes.len()-1).master)
	}
	d.paged = true
	d.live += int64(n.live)
	if !d.haveLive {
		d.firstLive, d.haveLive = n.master, true
	}
	// The entries are unseen: nothing is known of the order of the next
	// node's entries against these.
	d.prevLive = ID{}
	return d.addNode(n, nil)
}

// exactCopy copies b into a buffer of its size (bytes.Clone rounds the
// capacity up to a size class).
func exactCopy(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

// strSize is lpStrSize with its most common case inlined: a string shorter
// than 64 bytes that starts with a character above '9' is no integer, and
// takes its length, one encoding byte and one back-length byte.
func strSize(b []byte) int64 {
	if n := len(b); uint(n-1) < 63 && b[0] > '9' {
		return int64(n) + 2
	}
	return lpStrSize(b)
}

// scanNode validates a node's bytes as Check does, with reads that never
// trust the input, and returns its header (buf unset). Live entries must
// continue the ID order of the nodes before.
func (d *Decoder) scanNode(b []byte, master ID) (node, nodeBody, error) {
	nf, p, ok := readUvarint(b, 0)
	if !ok || nf > uint64(len(b)) {
		return node{}, nodeBody{}, corrupt("bad master entry")
	}
	mfStart := p
	lp := int64(lpHeaderSize+lpEOFSize) + lpIntSize(int64(nf)) + lpIntSize(0)
	for i := uint64(0); i < nf; i++ {
		var l uint64
		if l, p, ok = readUvarint(b, p); !ok || l > uint64(len(b)-p) {
			return node{}, nodeBody{}, corrupt("bad master field %d", i)
		}
		lp += strSize(b[p : p+int(l)])
		p += int(l)
	}
	first := p
	if first > math.MaxInt32 || first == len(b) {
		return node{}, nodeBody{}, corrupt("no entries")
	}
	// The loop is the decoder's hot path: the common cases (one-byte
	// varints, short non-numeric values, small integers) are inlined.
	var live, dead int64
	var last ID
	prev, haveLive := d.prevLive, d.haveLive
	for p < len(b) {
		start := p
		c := b[p]
		p++
		flags, ms := c&3, uint64(c>>2&0x1f)
		if c >= 0x80 {
			var hi uint64
			if hi, p, ok = readUvarint(b, p); !ok || hi >= 1<<59 {
				return node{}, nodeBody{}, corrupt("bad entry head at %d", start)
			}
			ms |= hi << 5
		}
		var z uint64
		if p < len(b) && b[p] < 0x80 {
			z = uint64(b[p])
			p++
		} else if z, p, ok = readUvarintLong(b, p); !ok {
			return node{}, nodeBody{}, corrupt("bad entry at %d", start)
		}
		dseq := unzigzag(z)
		id := ID{master.Ms + ms, master.Seq + uint64(dseq)}
		if start == first && id != master {
			return node{}, nodeBody{}, corrupt("first entry %v", id)
		}
		// lpEntrySize without the fields and values: flags (an integer of
		// 0: 2 bytes) and the ms and seq deltas.
		size := int64(2)
		if ms <= 127 {
			size += 2
		} else {
			size += lpIntSize(int64(ms))
		}
		if uint64(dseq) <= 127 {
			size += 2
		} else {
			size += lpIntSize(dseq)
		}
		same := flags&flagSameFields != 0
		cnt := nf
		if !same {
			if cnt, p, ok = readUvarint(b, p); !ok || cnt > uint64(len(b)-p)/2 {
				return node{}, nodeBody{}, corrupt("bad field count at %d", start)
			}
			size += lpIntSize(int64(cnt))
		}
		lpCount := int64(cnt) + 3
		if !same {
			lpCount += int64(cnt) + 1
		}
		// Fields that equal the master's must be shared (SAMEFIELDS).
		shared := !same && cnt == nf
		mp := mfStart
		for i := uint64(0); i < cnt; i++ {
			if !same {
				var l uint64
				if l, p, ok = readUvarint(b, p); !ok || l > uint64(len(b)-p) {
					return node{}, nodeBody{}, corrupt("bad field at %d", start)
				}
				f := b[p : p+int(l)]
				p += int(l)
				size += strSize(f)
				if shared {
					ml, q, _ := readUvarint(b, mp)
					mp = q + int(ml)
					shared = bytes.Equal(b[q:mp], f)
				}
			}
			var l uint64
			if p < len(b) && b[p] < 0x80 {
				l = uint64(b[p])
				p++
			} else if l, p, ok = readUvarintLong(b, p); !ok {
				return node{}, nodeBody{}, corrupt("bad value at %d", start)
			}
			if l > uint64(len(b)-p) {
				return node{}, nodeBody{}, corrupt("bad value at %d", start)
			}
			// strSize, inlined.
			if v := b[p : p+int(l)]; l-1 < 63 && v[0] > '9' {
				size += int64(l) + 2
			} else {
				size += lpStrSize(v)
			}
			p += int(l)
		}
		if shared {
			return node{}, nodeBody{}, corrupt("entry %v: master fields not shared", id)
		}
		if lpCount <= 127 {
			size += 2
		} else {
			size += lpIntSize(lpCount)
		}
		lp += size
		if flags&flagDeleted != 0 {
			dead++
		} else {
			// Live entries are in ID order; deleted ones may not be (find).
			if haveLive && !prev.Less(id) {
				return node{}, nodeBody{}, corrupt("entry %v after %v", id, prev)
			}
			if !haveLive {
				d.firstLive = id
			}
			prev, haveLive = id, true
			live++
		}
		last = id
	}
	d.prevLive, d.haveLive = prev, haveLive
	if live == 0 || live+dead > math.MaxInt32 {
		return node{}, nodeBody{}, corrupt("%d live, %d deleted entries", live, dead)
	}
	d.live += live
	return node{
			master:  master,
			last:    last,
			live:    int32(live),
			deleted: int32(dead),
			lpFixed: uint32(min(lp, math.MaxUint32)),
		}, nodeBody{
			nf:      int32(nf),
			mfStart: int32(mfStart),
			first:   int32(first),
		}, nil
}

// afterGroups moves on once every group is in.
func (d *Decoder) afterGroups() error {
	if d.groupsLeft > 0 {
		return nil
	}
	d.exp = expDone
	if d.hasIDMP {
		d.exp = expIDMP
	}
	return nil
}

func (d *Decoder) groupRecord(r *reader) error {
	name := r.bytes()
	lastID := r.id()
	er := unzigzag(r.uvarint())
	seq := r.uvarint()
	nc := r.uvarint()
	np := r.uvarint()
	if r.err != nil {
		return r.err
	}
	s := d.s
	if k := len(s.groups); k > 0 && bytes.Compare(s.groups[k-1].name, name) >= 0 {
		return corrupt("group %q after %q", name, s.groups[k-1].name)
	}
	if seq > math.MaxUint32 || nc >= math.MaxUint32 || np > math.MaxInt64 {
		return corrupt("group %q: sequence %d, %d consumers, %d pending", name, seq, nc, np)
	}
	g := &Group{
		name:        bytes.Clone(name),
		lastID:      lastID,
		entriesRead: er,
		seq:         uint32(seq),
		byIdx:       make([]*Consumer, 1, 1+min(nc, maxPrealloc)),
		consumers:   make([]*Consumer, 0, min(nc, maxPrealloc)),
	}
	if s.groups == nil {
		s.groups = make([]*Group, 0, min(d.groupsLeft, maxPrealloc))
	}
	s.groups = append(s.groups, g)
	d.groupsLeft--
	d.g, d.consLeft, d.pendLeft = g, nc, np
	d.consPend, d.consOwned, d.consOpen = d.consPend[:0], d.consOwned[:0], d.consOpen[:0]
	d.chunk, d.havePend, d.nacked, d.seqs = nil, false, 0, d.seqs[:0]
	d.exp = expConsumer
	return d.afterConsumers()
}

// afterConsumers moves on once the group's consumers are in.
func (d *Decoder) afterConsumers() error {
	if d.consLeft > 0 {
		return nil
	}
	d.exp = expPEL
	return d.afterPEL()
}

func (d *Decoder) consumerRecord(r *reader) error {
	name := r.bytes()
	seen := unzigzag(r.uvarint())
	active := unzigzag(r.uvarint())
	np := r.uvarint()
	if r.err != nil {
		return r.err
	}
	g := d.g
	if k := len(g.consumers); k > 0 && bytes.Compare(g.consumers[k-1].name, name) >= 0 {
		return corrupt("group %q: consumer %q after %q", g.name, name, g.consumers[k-1].name)
	}
	if np > d.pendLeft {
		return corrupt("group %q: consumer %q owns %d of %d pending", g.name, name, np, d.pendLeft)
	}
	c := &Consumer{name: bytes.Clone(name), idx: uint32(len(g.byIdx)), seen: seen, active: active}
	g.byIdx = append(g.byIdx, c)
	g.consumers = append(g.consumers, c)
	d.consPend = append(d.consPend, int64(np))
	d.consOwned = append(d.consOwned, 0)
	d.consOpen = append(d.consOpen, nil)
	d.consLeft--
	return d.afterConsumers()
}

func (d *Decoder) pelRun(r *reader) error {
	g := d.g
	if r.p == len(r.b) {
		return corrupt("group %q: empty PEL run", g.name)
	}
	prev, prevTime, prevSeq := ID{}, int64(0), int64(0)
	for i := 0; d.pendLeft > 0 && r.p < len(r.b); i++ {
		var id ID
		if i == 0 {
			id = r.id()
		} else {
			dms := r.uvarint()
			if dms == 0 {
				id = ID{prev.Ms, prev.Seq + r.uvarint() + 1}
			} else {
				id = ID{prev.Ms + dms, r.uvarint()}
			}
		}
		t := prevTime + unzigzag(r.uvarint())
		cnt := r.uvarint()
		seq := prevSeq + unzigzag(r.uvarint())
		owner := r.uvarint()
		if r.err != nil {
			return r.err
		}
		switch {
		case d.havePend && !d.prevPend.Less(id):
			return corrupt("group %q: pending %v after %v", g.name, id, d.prevPend)
		case seq < 0 || seq > int64(g.seq):
			return corrupt("group %q: pending %v: sequence %d above the counter %d", g.name, id, seq, g.seq)
		case owner > uint64(len(g.consumers)):
			return corrupt("group %q: pending %v: owner %d of %d consumers", g.name, id, owner, len(g.consumers))
		}
		prev, prevTime, prevSeq = id, t, seq
		d.prevPend, d.havePend = id, true
		d.seqs = append(d.seqs, uint32(seq))

		if owner == 0 {
			d.nacked++
		} else {
			k := owner - 1
			if d.consOwned[k] == d.consPend[k] {
				return corrupt("group %q: consumer %q owns more than its %d pending", g.name, g.consumers[k].name, d.consPend[k])
			}
			d.consOwned[k]++
			oc := d.consOpen[k]
			if oc == nil {
				oc = newIDChunk(id, int(min(idChunkCap, d.consPend[k]-d.consOwned[k]+1)))
				d.consOpen[k] = oc
			} else {
				oc.insertAt(oc.len(), id)
			}
			if oc.len() == idChunkCap {
				closeIDChunk(&g.consumers[k].pel, oc)
				d.consOpen[k] = nil
			}
		}
		c := d.chunk
		if c == nil {
			c = &pelChunk{}
			d.chunk = c
		}
		var idx uint32
		if owner > 0 {
			idx = g.consumers[owner-1].idx
		}
		c.insertAt(int(c.n), id, t, int64(cnt), uint32(seq), idx)
		if c.n == pelChunkCap {
			closePELChunk(&g.pel, c)
			d.chunk = nil
		}
		d.pendLeft--
	}
	return d.afterPEL()
}

func closeIDChunk(s *idSet, c *idChunk) {
	if s.tree == nil {
		s.tree = btree.NewG(treeDegree, idRefLess)
	}
	c.lo = c.at(0)
	s.tree.ReplaceOrInsert(idRef{c.lo, c})
	s.n += int64(c.len())
}

func closePELChunk(p *pel, c *pelChunk) {
	if p.tree == nil {
		p.tree = btree.NewG(treeDegree, pelRefLess)
	}
	c.lo = c.id(0)
	c.recomputeMin()
	p.tree.ReplaceOrInsert(pelRef{c.lo, c})
	p.heapPush(c)
	p.n += int64(c.n)
}

// afterPEL closes the group once its PEL is in: open chunks go into their
// trees, and the owners' counts and the uniqueness of the claim-order
// sequences are checked.
func (d *Decoder) afterPEL() error {
	if d.pendLeft > 0 {
		return nil
	}
	g := d.g
	if d.chunk != nil {
		closePELChunk(&g.pel, d.chunk)
		d.chunk = nil
	}
	for k, oc := range d.consOpen {
		if oc != nil {
			closeIDChunk(&g.consumers[k].pel, oc)
			d.consOpen[k] = nil
		}
		if d.consOwned[k] != d.consPend[k] {
			return corrupt("group %q: consumer %q owns %d pending, declared %d", g.name, g.consumers[k].name, d.consOwned[k], d.consPend[k])
		}
	}
	g.nacked = d.nacked
	if dup, ok := duplicateSeq(d.seqs, g.seq); ok {
		return corrupt("group %q: claim sequence %d used twice", g.name, dup)
	}
	d.g = nil
	d.exp = expGroup
	return d.afterGroups()
}

// duplicateSeq finds a value used twice in seqs, all <= max: with a bitmap
// when max is small against the count, else by sorting.
func duplicateSeq(seqs []uint32, max uint32) (uint32, bool) {
	if len(seqs) < 2 {
		return 0, false
	}
	if uint64(max) <= 64*uint64(len(seqs))+1<<16 {
		bits := make([]uint64, uint64(max)/64+1)
		for _, v := range seqs {
			w, m := v/64, uint64(1)<<(v%64)
			if bits[w]&m != 0 {
				return v, true
			}
			bits[w] |= m
		}
		return 0, false
	}
	slices.Sort(seqs)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] == seqs[i-1] {
			return seqs[i], true
		}
	}
	return 0, false
}

func (d *Decoder) idmpRecord(r *reader) error {
	set := r.byte()
	st := &idmpState{
		cfg:   IDMPConfig{Duration: unzigzag(r.uvarint()), MaxSize: unzigzag(r.uvarint())},
		added: unzigzag(r.uvarint()),
		dups:  unzigzag(r.uvarint()),
	}
	d.pidsLeft = r.uvarint()
	if r.err != nil {
		return r.err
	}
	if set > 1 {
		return corrupt("IDMP configured flag %d", set)
	}
	st.cfgSet = set == 1
	if d.pidsLeft > 0 {
		st.pids = make(map[string]*idmpPID, min(d.pidsLeft, maxPrealloc))
	}
	d.s.idmp = st
	d.exp = expPID
	return d.afterPIDs()
}

func (d *Decoder) afterPIDs() error {
	if d.pidsLeft == 0 {
		d.exp = expDone
	}
	return nil
}

func (d *Decoder) pidRecord(r *reader) error {
	name := r.bytes()
	n := r.uvarint()
	if r.err != nil {
		return r.err
	}
	st := d.s.idmp
	if len(st.pids) > 0 && d.prevPID >= string(name) {
		return corrupt("IDMP pid %q after %q", name, d.prevPID)
	}
	p := &idmpPID{byIID: make(map[string]idmpRec, min(n, maxPrealloc)), order: make([]string, 0, min(n, maxPrealloc))}
	d.prevPID = string(name)
	st.pids[d.prevPID] = p
	d.pid, d.iidsLeft = p, n
	d.pidsLeft--
	d.exp = expIIDs
	return d.afterIIDs()
}

func (d *Decoder) afterIIDs() error {
	if d.iidsLeft > 0 {
		return nil
	}
	d.pid = nil
	d.exp = expPID
	return d.afterPIDs()
}

func (d *Decoder) iidRun(r *reader) error {
	if r.p == len(r.b) {
		return corrupt("IDMP pid %q: empty iid run", d.prevPID)
	}
	st, p := d.s.idmp, d.pid
	var prevAt int64
	for d.iidsLeft > 0 && r.p < len(r.b) {
		iid := r.bytes()
		id := r.id()
		at := prevAt + unzigzag(r.uvarint())
		if r.err != nil {
			return r.err
		}
		if _, dup := p.byIID[string(iid)]; dup {
			return corrupt("IDMP pid %q: iid %q twice", d.prevPID, iid)
		}
		key := string(iid)
		p.byIID[key] = idmpRec{id: id, at: at}
		p.order = append(p.order, key)
		st.iids++
		prevAt = at
		d.iidsLeft--
	}
	return d.afterIIDs()
}

// Stream returns the decoded stream once every part was given. It fails if
// a part was refused or parts are missing. The stream is handed out once.
func (d *Decoder) Stream() (*Stream, error) {
	if d.err != nil {
		return nil, d.err
	}
	switch d.exp {
	case expDone:
	case expTaken:
		return nil, errors.New("stream: Decoder.Stream called twice")
	default:
		return nil, corrupt("incomplete: parts missing after the %d given", d.index)
	}
	s := d.s
	d.s, d.exp = nil, expTaken
	s.recount()
	return s, nil
}

// reader reads a part's fields; the first failure sticks and later reads
// return zeros, so a record's fields are read first and checked once.
type reader struct {
	b   []byte
	p   int
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = corrupt("truncated or malformed field at %d", r.p)
	}
	r.p = len(r.b)
}

func (r *reader) byte() byte {
	if r.p >= len(r.b) {
		r.fail()
		return 0
	}
	c := r.b[r.p]
	r.p++
	return c
}

func (r *reader) uvarint() uint64 {
	v, p, ok := readUvarint(r.b, r.p)
	if !ok {
		r.fail()
		return 0
	}
	r.p = p
	return v
}

func (r *reader) id() ID {
	ms := r.uvarint()
	return ID{ms, r.uvarint()}
}

// bytes returns a length-prefixed field; it aliases the part.
func (r *reader) bytes() []byte {
	l := r.uvarint()
	if r.err != nil || l > uint64(len(r.b)-r.p) {
		r.fail()
		return nil
	}
	v := r.b[r.p : r.p+int(l)]
	r.p += int(l)
	return v
}

// readUvarint decodes an unsigned varint at b[p:] without trusting it: ok
// is false when it is truncated or overflows 64 bits. The one-byte case is
// inlined.
func readUvarint(b []byte, p int) (v uint64, np int, ok bool) {
	if uint(p) < uint(len(b)) {
		if c := b[p]; c < 0x80 {
			return uint64(c), p + 1, true
		}
	}
	return readUvarintLong(b, p)
}

// readUvarintLong is kept out of line so that readUvarint inlines.
//
//go:noinline
func readUvarintLong(b []byte, p int) (v uint64, np int, ok bool) {
	for s := uint(0); s < 64; s += 7 {
		if p >= len(b) {
			return 0, p, false
		}
		c := b[p]
		p++
		if c < 0x80 {
			if s == 63 && c > 1 {
				return 0, p, false
			}
			return v | uint64(c)<<s, p, true
		}
		v |= uint64(c&0x7f) << s
	}
	return 0, p, false
}
