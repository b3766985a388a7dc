package stream

import (
	"bytes"
	"math"
	"sort"
)

// Group is a consumer group.
type Group struct {
	name        []byte
	lastID      ID    // last-delivered-id
	entriesRead int64 // -1 when unknown
	pel         pel
	nacked      int64 // unowned (XNACKed) PEL entries
	seq         uint32
	consumers   []*Consumer // ordered by name
	byIdx       []*Consumer // by index; index 0 means unowned
	free        []uint32    // unused indexes, reused last in first out

	// scratch for ClaimIdle.
	claimIDs []ID
	claimAux []claimItem
}

// Consumer is a consumer of a group.
type Consumer struct {
	name   []byte
	idx    uint32
	seen   int64
	active int64
	pel    idSet
}

// GroupCount is the number of groups.
func (s *Stream) GroupCount() int { return len(s.groups) }

func (s *Stream) groupIndex(name []byte) (int, bool) {
	i := sort.Search(len(s.groups), func(i int) bool { return bytes.Compare(s.groups[i].name, name) >= 0 })
	return i, i < len(s.groups) && bytes.Equal(s.groups[i].name, name)
}

// Group finds a group by name, nil if missing.
func (s *Stream) Group(name []byte) *Group {
	if i, ok := s.groupIndex(name); ok {
		return s.groups[i]
	}
	return nil
}

// Groups calls fn for each group in name order (Redis's rax order).
func (s *Stream) Groups(fn func(*Group) bool) {
	for _, g := range s.groups {
		if !fn(g) {
			return
		}
	}
}

// capEntriesRead applies Redis 8.2's cap: entries-read cannot exceed
// entries-added (#14259); -1 stays "unknown".
func (s *Stream) capEntriesRead(n int64) int64 {
	if n >= 0 && uint64(n) > s.entriesAdded {
		return int64(s.entriesAdded)
	}
	return n
}

// CreateGroup adds a group; false if it exists. entriesRead -1 is invalid.
// 8.2 caps entriesRead at EntriesAdded.
func (s *Stream) CreateGroup(name []byte, last ID, entriesRead int64) (*Group, bool) {
	i, ok := s.groupIndex(name)
	if ok {
		return s.groups[i], false
	}
	g := &Group{
		name:        bytes.Clone(name),
		lastID:      last,
		entriesRead: s.capEntriesRead(entriesRead),
		byIdx:       []*Consumer{nil},
	}
	s.groups = append(s.groups, nil)
	copy(s.groups[i+1:], s.groups[i:])
	s.groups[i] = g
	return g, true
}

// DestroyGroup removes a group; false if missing.
func (s *Stream) DestroyGroup(name []byte) bool {
	i, ok := s.groupIndex(name)
	if !ok {
		return false
	}
	copy(s.groups[i:], s.groups[i+1:])
	s.groups[len(s.groups)-1] = nil
	s.groups = s.groups[:len(s.groups)-1]
	return true
}

// SetGroupID is XGROUP SETID: last-delivered-id and entries-read (-1
// invalid; capped at EntriesAdded).
func (s *Stream) SetGroupID(g *Group, last ID, entriesRead int64) {
	g.lastID = last
	g.entriesRead = s.capEntriesRead(entriesRead)
}

// Name is the group's name.
func (g *Group) Name() []byte { return g.name }

// LastID is last-delivered-id.
func (g *Group) LastID() ID { return g.lastID }

// RaiseLastID sets last-delivered-id to id if id is greater (XCLAIM
// LASTID); entries-read is unchanged. It reports whether it changed.
func (g *Group) RaiseLastID(id ID) bool {
	if g.lastID.Less(id) {
		g.lastID = id
		return true
	}
	return false
}

// EntriesRead is entries-read, or -1 when invalid (nil in replies).
func (g *Group) EntriesRead() int64 { return g.entriesRead }

// PendingCount is the size of the group PEL.
func (g *Group) PendingCount() int64 { return g.pel.n }

// NackedCount is the number of unowned (XNACKed) PEL entries (8.8).
func (g *Group) NackedCount() int64 { return g.nacked }

// ConsumerCount is the number of consumers.
func (g *Group) ConsumerCount() int { return len(g.consumers) }

func (g *Group) consumerIndex(name []byte) (int, bool) {
	i := sort.Search(len(g.consumers), func(i int) bool { return bytes.Compare(g.consumers[i].name, name) >= 0 })
	return i, i < len(g.consumers) && bytes.Equal(g.consumers[i].name, name)
}

// Consumer finds a consumer, nil if missing.
func (g *Group) Consumer(name []byte) *Consumer {
	if i, ok := g.consumerIndex(name); ok {
		return g.consumers[i]
	}
	return nil
}

// Consumers calls fn for each consumer in name order.
func (g *Group) Consumers(fn func(*Consumer) bool) {
	for _, c := range g.consumers {
		if !fn(c) {
			return
		}
	}
}

// CreateConsumer adds a consumer with seen-time now and active-time -1;
// created is false if it existed (then it is returned unchanged).
func (g *Group) CreateConsumer(name []byte, nowMs int64) (c *Consumer, created bool) {
	i, ok := g.consumerIndex(name)
	if ok {
		return g.consumers[i], false
	}
	c = &Consumer{name: bytes.Clone(name), seen: nowMs, active: -1}
	if k := len(g.free); k > 0 {
		c.idx = g.free[k-1]
		g.free = g.free[:k-1]
		g.byIdx[c.idx] = c
	} else {
		c.idx = uint32(len(g.byIdx))
		g.byIdx = append(g.byIdx, c)
	}
	g.consumers = append(g.consumers, nil)
	copy(g.consumers[i+1:], g.consumers[i:])
	g.consumers[i] = c
	return c, true
}

// DeleteConsumer removes a consumer and its pending entries from the group
// PEL (NACKed entries are not its own and stay); it returns how many it had
// and whether it existed.
func (g *Group) DeleteConsumer(name []byte) (pending int64, existed bool) {
	i, ok := g.consumerIndex(name)
	if !ok {
		return 0, false
	}
	c := g.consumers[i]
	pending = c.pel.n
	c.pel.ascend(MinID, func(id ID) bool {
		if pc, j, ok := g.pel.get(id); ok {
			g.pel.remove(pc, j)
		}
		return true
	})
	c.pel = idSet{}
	copy(g.consumers[i:], g.consumers[i+1:])
	g.consumers[len(g.consumers)-1] = nil
	g.consumers = g.consumers[:len(g.consumers)-1]
	g.byIdx[c.idx] = nil
	g.free = append(g.free, c.idx)
	return pending, true
}

// Name is the consumer's name.
func (c *Consumer) Name() []byte { return c.name }

// SeenTime is the last attempted interaction, unix ms.
func (c *Consumer) SeenTime() int64 { return c.seen }

// ActiveTime is the last successful interaction, unix ms, -1 if never.
func (c *Consumer) ActiveTime() int64 { return c.active }

// PendingCount is the consumer's PEL size.
func (c *Consumer) PendingCount() int64 { return c.pel.n }

// Touch sets seen-time (every XREADGROUP/XCLAIM/XAUTOCLAIM by it).
func (c *Consumer) Touch(nowMs int64) { c.seen = nowMs }

// nextSeq hands out claim-order sequence numbers. When the 32-bit counter
// runs out, the PEL is renumbered in claim order, which keeps the order.
func (g *Group) nextSeq() uint32 {
	if g.seq == math.MaxUint32 {
		g.renumber()
	}
	g.seq++
	return g.seq
}

func (g *Group) renumber() {
	type ent struct {
		k ordKey
		c *pelChunk
		i int
	}
	all := make([]ent, 0, g.pel.n)
	if g.pel.tree != nil {
		g.pel.tree.Ascend(func(r pelRef) bool {
			for i := 0; i < int(r.c.n); i++ {
				all = append(all, ent{r.c.key(i), r.c, i})
			}
			return true
		})
	}
	sort.Slice(all, func(a, b int) bool { return all[a].k.less(all[b].k) })
	for n, e := range all {
		e.c.setSeq(e.i, uint32(n))
	}
	g.seq = uint32(len(all))
	for _, c := range g.pel.heap {
		c.recomputeMin()
	}
	for i := len(g.pel.heap)/2 - 1; i >= 0; i-- {
		g.pel.heapDown(i)
	}
}

func (g *Group) dup() *Group {
	d := &Group{
		name:        bytes.Clone(g.name),
		lastID:      g.lastID,
		entriesRead: g.entriesRead,
		pel:         g.pel.clone(),
		nacked:      g.nacked,
		seq:         g.seq,
		consumers:   make([]*Consumer, len(g.consumers)),
		byIdx:       make([]*Consumer, len(g.byIdx)),
		free:        append([]uint32(nil), g.free...),
	}
	for i, c := range g.consumers {
		dc := &Consumer{name: bytes.Clone(c.name), idx: c.idx, seen: c.seen, active: c.active, pel: c.pel.clone()}
		d.consumers[i] = dc
		d.byIdx[c.idx] = dc
	}
	return d
}

// rangeHasTombstones is streamRangeHasTombstones(s, start, NULL) as of
// Redis 7.4 (#13338): whether an entry after start may have been deleted.
func (s *Stream) rangeHasTombstones(start ID) bool {
	if s.length == 0 || s.maxDeleted.IsZero() {
		return false
	}
	return !s.maxDeleted.Less(start)
}

// estimateDistance is streamEstimateDistanceFromFirstEverEntry: the
// logical read counter of id, or -1 when it cannot be known (spec §5).
func (s *Stream) estimateDistance(id ID) int64 {
	added := int64(s.entriesAdded)
	if added == 0 {
		return 0
	}
	if s.length == 0 && !s.lastID.Less(id) {
		return added
	}
	if !id.IsZero() && id.Less(s.maxDeleted) {
		return -1
	}
	switch id.Compare(s.lastID) {
	case 0:
		return added
	case 1:
		return -1
	}
	if s.maxDeleted.IsZero() || s.maxDeleted.Less(s.firstID) {
		switch id.Compare(s.firstID) {
		case -1:
			return added - s.length
		case 0:
			return added - s.length + 1
		}
	}
	return -1
}

// Lag is the group's lag (spec §5); ok false means unknown (nil).
func (s *Stream) Lag(g *Group) (lag int64, ok bool) {
	added := int64(s.entriesAdded)
	switch {
	case added == 0, s.length == 0:
		return 0, true
	case g.lastID.Less(s.firstID) && s.maxDeleted.Less(s.firstID):
		return s.length, true
	case g.entriesRead != -1 && !s.rangeHasTombstones(g.lastID):
		return added - g.entriesRead, true
	}
	if n := s.estimateDistance(g.lastID); n != -1 {
		return added - n, true
	}
	return 0, false
}

// advanceGroup records that id was delivered to g (XREADGROUP ">"): the
// entries-read bookkeeping of streamReplyWithRange as of 7.4/8.0 (#13958),
// then last-delivered-id.
func (s *Stream) advanceGroup(g *Group, id ID) {
	if g.entriesRead != -1 && !g.lastID.Less(s.firstID) && !s.rangeHasTombstones(g.lastID) {
		g.entriesRead++
	} else if s.entriesAdded > 0 {
		g.entriesRead = s.estimateDistance(id)
	}
	g.lastID = id
}
