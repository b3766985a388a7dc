package stream

import "math"

// Pending is a group PEL entry. Consumer is nil for NACKed (unowned) entries.
type Pending struct {
	ID            ID
	Consumer      *Consumer
	DeliveryTime  int64 // unix ms; 0 for NACKed entries
	DeliveryCount int64
}

func (g *Group) pending(c *pelChunk, i int) Pending {
	return Pending{ID: c.id(i), Consumer: g.byIdx[c.owners[i]], DeliveryTime: c.time(i), DeliveryCount: c.count(i)}
}

// PendingRange calls fn for group PEL entries with start <= ID <= end in ID
// order, only those of consumer c when c is not nil. fn must not change the
// group.
func (g *Group) PendingRange(start, end ID, c *Consumer, fn func(Pending) bool) {
	if c == nil {
		g.pel.ascend(start, end, func(pc *pelChunk, i int) bool { return fn(g.pending(pc, i)) })
		return
	}
	c.pel.ascend(start, func(id ID) bool {
		if end.Less(id) {
			return false
		}
		pc, i, ok := g.pel.get(id)
		return !ok || fn(g.pending(pc, i))
	})
}

// ConsumerPendingRange calls fn for c's PEL entries with ID >= start, in ID order.
func (g *Group) ConsumerPendingRange(c *Consumer, start ID, fn func(Pending) bool) {
	g.PendingRange(start, MaxID, c, fn)
}

// PendingFirstLast returns the smallest and greatest pending IDs.
func (g *Group) PendingFirstLast() (first, last ID, ok bool) {
	if g.pel.n == 0 {
		return ID{}, ID{}, false
	}
	lo, _ := g.pel.tree.Min()
	hi, _ := g.pel.tree.Max()
	return lo.c.id(0), hi.c.last(), true
}

// PendingOf returns the PEL entry for id.
func (g *Group) PendingOf(id ID) (Pending, bool) {
	pc, i, ok := g.pel.get(id)
	if !ok {
		return Pending{}, false
	}
	return g.pending(pc, i), true
}

// add puts a new entry in the PEL, owned by to (nil: unowned).
func (g *Group) add(id ID, to *Consumer, t, count int64) {
	var idx uint32
	if to != nil {
		idx = to.idx
		to.pel.insert(id)
	} else {
		g.nacked++
	}
	g.pel.insert(id, t, count, g.nextSeq(), idx)
}

// moveTo gives entry i of pc to consumer to (nil: unowned) with delivery
// time t, moving it to the end of its claim order.
func (g *Group) moveTo(pc *pelChunk, i int, to *Consumer, t int64) {
	var idx uint32
	if to != nil {
		idx = to.idx
	}
	if from := pc.owners[i]; from != idx {
		id := pc.id(i)
		if from == 0 {
			g.nacked--
		} else {
			g.byIdx[from].pel.remove(id)
		}
		if to == nil {
			g.nacked++
		} else {
			to.pel.insert(id)
		}
	}
	seq := g.nextSeq()
	g.pel.setOrder(pc, i, t, idx, seq)
}

// drop removes entry i of pc from the group and its owner.
func (g *Group) drop(pc *pelChunk, i int) {
	if o := pc.owners[i]; o == 0 {
		g.nacked--
	} else {
		g.byIdx[o].pel.remove(pc.id(i))
	}
	g.pel.remove(pc, i)
}

// Ack removes id from the group PEL and its owner's; false if not pending.
func (g *Group) Ack(id ID) bool {
	pc, i, ok := g.pel.get(id)
	if ok {
		g.drop(pc, i)
	}
	return ok
}

// ReadNew is one delivery by XREADGROUP ">": entries with ID > group last
// ID, at most count (0: no limit), in order. For each, fn is called with the
// entry; the group's last ID and entries-read advance; unless noAck the
// entry enters the PEL owned by c (reassigned if already pending) with
// delivery count 1 and time now. c.ActiveTime becomes now if anything was
// added to the PEL. It returns the number delivered. fn must not read the
// stream through ReadNew, ReadHistory or the claim methods.
func (s *Stream) ReadNew(g *Group, c *Consumer, count int64, noAck bool, nowMs int64, fn func(Entry)) int64 {
	start, ok := g.lastID.Incr()
	if !ok {
		return 0
	}
	it := &s.it
	s.RangeInto(it, start, MaxID, false)
	var n int64
	for it.Next() {
		e := it.Entry()
		s.advanceGroup(g, e.ID)
		fn(e)
		if !noAck {
			if pc, i, ok := g.pel.get(e.ID); ok {
				pc.setCount(i, 1)
				g.moveTo(pc, i, c, nowMs)
			} else {
				g.add(e.ID, c, nowMs, 1)
			}
			c.active = nowMs
		}
		n++
		if count > 0 && n == count {
			break
		}
	}
	return n
}

// ReadHistory is XREADGROUP with an explicit ID: c's pending entries with ID
// > after, at most count (0: no limit). Each gets delivery count +1 and
// time now; fn gets the entry, with ok false when the entry was deleted from
// the stream (its PEL entry is then left as it is, as Redis does). NACKed
// entries are not c's. after = MaxID reads nothing.
func (s *Stream) ReadHistory(g *Group, c *Consumer, after ID, count int64, nowMs int64, fn func(e Entry, ok bool)) {
	from, ok := after.Incr()
	if !ok {
		return
	}
	var n int64
	c.pel.ascend(from, func(id ID) bool {
		if e, ok := s.Lookup(id, s.fields); ok {
			s.fields = e.Fields[:0]
			fn(e, true)
			if pc, i, ok := g.pel.get(id); ok {
				pc.setCount(i, pc.count(i)+1)
				g.pel.setOrder(pc, i, nowMs, pc.owners[i], g.nextSeq())
			}
		} else {
			fn(Entry{ID: id}, false)
		}
		n++
		return count <= 0 || n < count
	})
}

// ClaimOpts are XCLAIM's resolved options.
type ClaimOpts struct {
	NowMs        int64
	MinIdle      int64
	DeliveryTime int64 // delivery time to set (IDLE/TIME resolved, clamped)
	RetryCount   int64 // -1: not given
	Force        bool
	JustID       bool
}

// Claim is one XCLAIM of id to c, after the caller resolved its options:
// minIdle (ms), deliveryTime (unix ms to set), retryCount (<0: not given),
// force, justID. It returns the entry (when claimed and live), and what
// happened: claimed false if not claimed; deleted true if the PEL entry
// was dropped because the stream entry no longer exists.
//
// As in Redis: a FORCE-created entry starts with delivery count 1 and is
// then claimed like any other (so 2 without JUSTID); NACKed and
// FORCE-created entries ignore the idle check; c's active time is set for
// each entry claimed.
func (s *Stream) Claim(g *Group, c *Consumer, id ID, o ClaimOpts, scratch [][]byte) (e Entry, claimed, deleted bool) {
	pc, i, pending := g.pel.get(id)
	if !s.Exists(id) {
		if pending {
			g.drop(pc, i)
			return Entry{ID: id}, false, true
		}
		return Entry{}, false, false
	}
	if !pending {
		if !o.Force {
			return Entry{}, false, false
		}
		count := int64(1)
		switch {
		case o.RetryCount >= 0:
			count = o.RetryCount
		case !o.JustID:
			count++
		}
		g.add(id, c, o.DeliveryTime, count)
	} else {
		if pc.owners[i] != 0 && o.MinIdle > 0 && o.NowMs-pc.time(i) < o.MinIdle {
			return Entry{}, false, false
		}
		switch {
		case o.RetryCount >= 0:
			pc.setCount(i, o.RetryCount)
		case !o.JustID:
			pc.setCount(i, pc.count(i)+1)
		}
		g.moveTo(pc, i, c, o.DeliveryTime)
	}
	c.active = o.NowMs
	if o.JustID {
		return Entry{ID: id}, true, false
	}
	e, _ = s.Lookup(id, scratch)
	return e, true, false
}

// AutoClaim is XAUTOCLAIM: it scans the group PEL from start, visiting at
// most count*10 entries, claims idle ones to c (claimed entries and dropped
// deleted IDs each count toward count) and returns the next start (0-0 at
// the end). fn gets each claimed entry (Fields nil with justID).
func (s *Stream) AutoClaim(g *Group, c *Consumer, start ID, minIdle, count int64, justID bool, nowMs int64,
	fn func(Entry), deleted func(ID)) (next ID) {
	attempts := count * 10
	cursor := start
	for attempts > 0 && count > 0 {
		pc, i, ok := g.pel.ceil(cursor)
		if !ok {
			return ID{}
		}
		attempts--
		id := pc.id(i)
		after, more := id.Incr()
		switch {
		case !s.Exists(id):
			g.drop(pc, i)
			deleted(id)
			count--
		case minIdle > 0 && pc.owners[i] != 0 && nowMs-pc.time(i) < minIdle:
		default:
			if !justID {
				pc.setCount(i, pc.count(i)+1)
			}
			g.moveTo(pc, i, c, nowMs)
			c.active = nowMs
			if justID {
				fn(Entry{ID: id})
			} else {
				e, _ := s.Lookup(id, s.fields)
				s.fields = e.Fields[:0]
				fn(e)
			}
			count--
		}
		if !more {
			return ID{}
		}
		cursor = after
	}
	if pc, i, ok := g.pel.ceil(cursor); ok {
		return pc.id(i)
	}
	return ID{}
}

// ClaimIdle is XREADGROUP CLAIM (8.4): claims up to count (0: no limit)
// pending entries idle >= minIdle to c, NACKed first (FIFO), then oldest
// delivery first. fn gets each entry with its idle time and delivery count
// before this delivery (a NACKed entry's delivery time is 0, so its idle
// time is nowMs). Entries whose stream entry is gone are skipped and left
// pending. Each claimed entry gets delivery count +1 and time now.
//
// The candidates are found with pel.claimOrder: the cost grows with the
// entries claimed and skipped, not with the PEL's size.
func (s *Stream) ClaimIdle(g *Group, c *Consumer, minIdle, count, nowMs int64, fn func(e Entry, idle, deliveries int64)) int64 {
	ids := g.claimIDs[:0]
	g.claimAux = g.pel.claimOrder(g.claimAux,
		func(k ordKey) bool { return k.t == nackedTime || nowMs-k.t >= minIdle },
		func(id ID) bool {
			if s.Exists(id) {
				ids = append(ids, id)
			}
			return count <= 0 || int64(len(ids)) < count
		})
	g.claimIDs = ids[:0]
	for _, id := range ids {
		pc, i, _ := g.pel.get(id)
		idle, deliveries := nowMs-pc.time(i), pc.count(i)
		pc.setCount(i, deliveries+1)
		g.moveTo(pc, i, c, nowMs)
		e, _ := s.Lookup(id, s.fields)
		s.fields = e.Fields[:0]
		fn(e, idle, deliveries)
	}
	if len(ids) > 0 {
		c.active = nowMs
	}
	return int64(len(ids))
}

// NextClaimTime is when XREADGROUP CLAIM minIdle could next take a pending
// entry of g (unix ms): the delivery time of the first entry in claim order
// whose stream entry exists, plus minIdle (a NACKed entry's time is 0).
// ok is false when no such entry exists. A blocked XREADGROUP ... CLAIM is
// re-run then (spec §7).
func (s *Stream) NextClaimTime(g *Group, minIdle int64) (at int64, ok bool) {
	var found ID
	g.claimAux = g.pel.claimOrder(g.claimAux, func(ordKey) bool { return true }, func(id ID) bool {
		if s.Exists(id) {
			found, ok = id, true
			return false
		}
		return true
	})
	if !ok {
		return 0, false
	}
	pc, i, _ := g.pel.get(found)
	t := pc.time(i)
	if minIdle > math.MaxInt64-t {
		return math.MaxInt64, true
	}
	return t + minIdle, true
}

// NackMode is XNACK's mode (8.8).
type NackMode uint8

// XNACK modes.
const (
	NackSilent NackMode = iota
	NackFail
	NackFatal
)

// Nack is XNACK for one ID; retryCount < 0 means not given. It reports
// whether the ID was processed. A pending entry becomes unowned, with
// delivery time 0, at the end of the NACK zone; its delivery count is set
// by RETRYCOUNT, else decremented (SILENT, not below 0), kept (FAIL) or
// set to the maximum (FATAL). With force, an ID not pending whose stream
// entry exists gets a new unowned entry with count RETRYCOUNT, or the
// maximum for FATAL, or 0.
func (g *Group) Nack(s *Stream, id ID, mode NackMode, retryCount int64, force bool) bool {
	if pc, i, ok := g.pel.get(id); ok {
		cnt := pc.count(i)
		switch {
		case retryCount >= 0:
			cnt = retryCount
		case mode == NackSilent:
			// Redis's delivery_count is unsigned: a count incremented
			// past LLONG_MAX (negative here) is still above zero.
			if cnt != 0 {
				cnt--
			}
		case mode == NackFatal:
			cnt = math.MaxInt64
		}
		pc.setCount(i, cnt)
		g.moveTo(pc, i, nil, 0)
		return true
	}
	if !force || !s.Exists(id) {
		return false
	}
	var cnt int64
	switch {
	case retryCount >= 0:
		cnt = retryCount
	case mode == NackFatal:
		cnt = math.MaxInt64
	}
	g.add(id, nil, 0, cnt)
	return true
}
