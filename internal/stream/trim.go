package stream

// RefMode is KEEPREF, DELREF or ACKED (Redis 8.2).
type RefMode uint8

// Reference modes for trimming and XDELEX/XACKDEL.
const (
	KeepRef RefMode = iota
	DelRef
	Acked
)

// Trim describes a trimming (XTRIM, XADD with MAXLEN/MINID).
type Trim struct {
	MinID  bool  // MINID strategy, else MAXLEN
	MaxLen int64 // MAXLEN threshold
	Min    ID    // MINID threshold
	Approx bool  // "~"
	Limit  int64 // LIMIT; 0 unlimited. The caller applies the default (100*node entries for ~).
	Ref    RefMode
}

// Trim removes entries as Redis's streamTrim (spec §6) and returns the
// number deleted. Trimming never changes max-deleted-entry-id.
//
// It walks the nodes from the head:
//  1. MAXLEN: stop once length <= maxlen.
//  2. Stop if LIMIT is set and deleted + the node's live entries > LIMIT
//     (checked before deciding anything about the node).
//  3. The node is in range if (MAXLEN) length - live >= maxlen or (MINID)
//     its last entry, deleted or not, is below minid. In range with
//     KEEPREF, the whole node goes.
//  4. Out of range with "~": stop.
//  5. Otherwise mark its entries deleted one by one until the condition
//     holds; ACKED skips entries some group still references, DELREF
//     drops every group's PEL entry for each ID passed (tombstones too,
//     #15581).
//  6. A node left without live entries goes (#15815; Redis 7.0 kept it).
//     After a node in range the walk goes on (8.2 fix #14623, which lets
//     "~" with DELREF/ACKED look past a node it could not remove whole);
//     after any other node it stops.
func (s *Stream) Trim(t Trim) int64 {
	var deleted int64
	for i := 0; i < s.nodes.len(); {
		if !t.MinID && s.length <= t.MaxLen {
			break
		}
		n := s.nodes.at(i)
		live := int64(n.live)
		if t.Limit > 0 && deleted+live > t.Limit {
			break
		}
		var inRange bool
		if t.MinID {
			inRange = n.last.Less(t.Min)
		} else {
			inRange = s.length-live >= t.MaxLen
		}
		if inRange && t.Ref == KeepRef {
			s.length -= live
			deleted += live
			s.removeNode(i)
			continue
		}
		if !inRange && t.Approx {
			break
		}
		v := s.node(i)
		for p := int(v.first); p < len(v.buf); {
			id, fl, q := v.entryAt(p)
			if t.MinID && !id.Less(t.Min) || !t.MinID && s.length <= t.MaxLen {
				break
			}
			if t.Ref == DelRef {
				s.dropRefs(id)
			}
			if fl&flagDeleted == 0 && (t.Ref != Acked || !s.referenced(id)) {
				v = s.mutable(i)
				v.buf[p] |= flagDeleted
				v.live--
				v.deleted++
				s.length--
				deleted++
			}
			p = v.skipFields(q, fl)
		}
		if n.live == 0 {
			s.removeNode(i)
		} else {
			i++
		}
		if !inRange {
			break
		}
	}
	if deleted > 0 {
		s.updateFirst()
	}
	return deleted
}

// referenced reports whether a group still needs id (ACKED): a group has
// not been delivered it yet (id > last-delivered-id), or holds it pending.
func (s *Stream) referenced(id ID) bool {
	for _, g := range s.groups {
		if g.lastID.Less(id) {
			return true
		}
		if _, _, ok := g.pel.get(id); ok {
			return true
		}
	}
	return false
}

// dropRefs removes id from every group's PEL (DELREF).
func (s *Stream) dropRefs(id ID) {
	for _, g := range s.groups {
		if pc, i, ok := g.pel.get(id); ok {
			g.drop(pc, i)
		}
	}
}

// DeleteResult is XDELEX/XACKDEL's per-ID reply: -1 no such ID, 1 deleted,
// 2 kept because still referenced.
type DeleteResult int8

// DeleteEx is XDELEX for one ID. KEEPREF is XDEL; DELREF also drops the ID
// from every group's PEL, even when the entry is already gone (the reply
// is then -1); ACKED deletes only an entry no group references (2
// otherwise). Deleting updates max-deleted-entry-id as XDEL does.
func (s *Stream) DeleteEx(id ID, mode RefMode) DeleteResult {
	switch mode {
	case Acked:
		if !s.Exists(id) {
			return -1
		}
		if s.referenced(id) {
			return 2
		}
	case DelRef:
		ok := s.Delete(id)
		s.dropRefs(id)
		if ok {
			return 1
		}
		return -1
	}
	if s.Delete(id) {
		return 1
	}
	return -1
}

// AckDelete is XACKDEL for one ID in group g (g may be nil: missing group).
// The ID is acknowledged in g, then deleted per mode. 1: acknowledged or
// deleted (KEEPREF answers 1 for an entry already gone but pending in g);
// 2: kept because another group still references it (ACKED); -1: neither
// pending in g nor in the stream, or g is nil.
func (s *Stream) AckDelete(g *Group, id ID, mode RefMode) DeleteResult {
	if g == nil {
		return -1
	}
	acked := g.Ack(id)
	var ok bool
	switch mode {
	case Acked:
		if s.referenced(id) {
			if acked || s.Exists(id) {
				return 2
			}
			return -1
		}
		ok = s.Delete(id)
	case DelRef:
		ok = s.Delete(id)
		s.dropRefs(id)
	default:
		ok = s.Delete(id)
	}
	if ok || acked {
		return 1
	}
	return -1
}
