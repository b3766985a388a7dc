package stream

// Entry is one entry as an iterator yields it; Fields is only valid until
// the iterator moves. The byte slices alias the stream's storage and must
// not be modified.
type Entry struct {
	ID     ID
	Fields [][]byte // flat field, value, field, value ...
}

// Iterator walks live entries in ID order (or reverse). It seeks with a
// binary search over the nodes, then scans inside one node, like Redis's
// streamIterator.
type Iterator struct {
	s          *Stream
	start, end ID
	rev        bool
	done       bool
	ni         int     // current node
	p          int     // forward: offset of the next entry in the node
	offs       []int32 // reverse: offsets of the current node's entries
	oi         int     // reverse: next index into offs, counting down
	fields     [][]byte
	cur        Entry
	nv         nodeView // node ni in memory, while nv.node.body == nvBody
	nvBody     int32
}

// Range returns an iterator over live entries with start <= ID <= end,
// ascending, or descending when rev is set.
func (s *Stream) Range(start, end ID, rev bool) *Iterator {
	it := &Iterator{}
	s.RangeInto(it, start, end, rev)
	return it
}

// RangeInto is Range reusing its storage (no allocation on the hot path).
func (s *Stream) RangeInto(it *Iterator, start, end ID, rev bool) {
	*it = Iterator{s: s, start: start, end: end, rev: rev, offs: it.offs[:0], fields: it.fields[:0]}
	if end.Less(start) || s.nodes.len() == 0 {
		it.done = true
		return
	}
	if !rev {
		it.ni = max(s.nodeFor(start), 0)
		it.p = -1 // the first entry, once the node is in memory
		return
	}
	it.ni = s.nodeFor(end)
	if it.ni < 0 {
		it.done = true
		return
	}
	it.loadReverse()
}

// node is node ni in memory. The view of the last call is reused while it
// is still node ni's (the stream may have changed between calls).
func (it *Iterator) node() nodeView {
	n := it.s.nodes.at(it.ni)
	if it.nv.node == n && n.body != 0 && n.body == it.nvBody {
		return it.nv
	}
	it.nv = it.s.node(it.ni)
	it.nvBody = n.body
	return it.nv
}

// loadReverse collects the entry offsets of node ni, to walk them back.
func (it *Iterator) loadReverse() {
	n := it.node()
	it.offs = it.offs[:0]
	for p := int(n.first); p < len(n.buf); {
		it.offs = append(it.offs, int32(p))
		_, fl, q := n.entryAt(p)
		p = n.skipFields(q, fl)
	}
	it.oi = len(it.offs) - 1
}

// Next moves to the next entry; false at the end.
func (it *Iterator) Next() bool {
	if it.done {
		return false
	}
	if !it.rev {
		for it.ni < it.s.nodes.len() {
			n := it.node()
			if it.p < 0 {
				it.p = int(n.first)
			}
			if it.p >= len(n.buf) {
				it.ni++
				it.p = -1
				continue
			}
			id, fl, q := n.entryAt(it.p)
			if fl&flagDeleted != 0 || id.Less(it.start) {
				it.p = n.skipFields(q, fl)
				continue
			}
			if it.end.Less(id) {
				break
			}
			it.fields, it.p = n.fields(q, fl, it.fields[:0])
			it.cur = Entry{ID: id, Fields: it.fields}
			return true
		}
		it.done = true
		return false
	}
	for {
		for it.oi < 0 {
			if it.ni == 0 {
				it.done = true
				return false
			}
			it.ni--
			it.loadReverse()
		}
		n := it.node()
		id, fl, q := n.entryAt(int(it.offs[it.oi]))
		it.oi--
		if fl&flagDeleted != 0 || it.end.Less(id) {
			continue
		}
		if id.Less(it.start) {
			it.done = true
			return false
		}
		it.fields, _ = n.fields(q, fl, it.fields[:0])
		it.cur = Entry{ID: id, Fields: it.fields}
		return true
	}
}

// Entry is the current entry.
func (it *Iterator) Entry() Entry { return it.cur }
