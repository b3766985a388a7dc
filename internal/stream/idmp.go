package stream

import (
	"crypto/sha256"
	"encoding/binary"
)

// IDMP (Redis 8.6): idempotent XADD. Each producer ID (pid) has its own
// table of idempotent IDs (iid) mapped to the stream ID they produced, in
// the order they were recorded. A table keeps at most idmp-maxsize iids
// (the oldest goes first) for at most idmp-duration seconds, judged at the
// time the caller passes in, so replaying operations expires the same iids.

// IDMPConfig is a stream's idmp-duration (seconds) and idmp-maxsize.
type IDMPConfig struct{ Duration, MaxSize int64 }

// DefaultIDMPConfig is stream-idmp-duration and stream-idmp-maxsize's
// default, used by IDMPLookup and IDMPRecord for a stream never configured.
var DefaultIDMPConfig = IDMPConfig{Duration: 100, MaxSize: 100}

type idmpState struct {
	cfg    IDMPConfig
	cfgSet bool
	pids   map[string]*idmpPID
	iids   int64 // tracked across all pids
	added  int64 // lifetime
	dups   int64 // lifetime
}

type idmpRec struct {
	id ID
	at int64 // unix ms when recorded
}

type idmpPID struct {
	byIID map[string]idmpRec
	order []string // iids, oldest first from head
	head  int
}

func (s *Stream) idmpState() *idmpState {
	if s.idmp == nil {
		s.idmp = &idmpState{}
	}
	return s.idmp
}

func (st *idmpState) effective(def IDMPConfig) IDMPConfig {
	if st.cfgSet {
		return st.cfg
	}
	return def
}

// expire forgets p's iids recorded duration seconds or more before now,
// and drops p when it has none left.
func (st *idmpState) expire(pid string, p *idmpPID, now int64, cfg IDMPConfig) {
	for p.head < len(p.order) {
		iid := p.order[p.head]
		if now < p.byIID[iid].at+cfg.Duration*1000 {
			break
		}
		st.evictHead(p)
	}
	if p.head == len(p.order) {
		delete(st.pids, pid)
	}
}

func (st *idmpState) evictHead(p *idmpPID) {
	iid := p.order[p.head]
	p.order[p.head] = ""
	p.head++
	delete(p.byIID, iid)
	st.iids--
	if p.head > len(p.order)/2 && p.head > 16 {
		p.order = append(p.order[:0], p.order[p.head:]...)
		p.head = 0
	}
}

// IDMPLookup returns the ID recorded for (pid, iid) if still tracked at nowMs.
func (s *Stream) IDMPLookup(pid, iid []byte, nowMs int64) (ID, bool) {
	return s.IDMPLookupWith(pid, iid, nowMs, DefaultIDMPConfig)
}

// IDMPLookupWith is IDMPLookup with the server's defaults for a stream
// never configured by XCFGSET.
func (s *Stream) IDMPLookupWith(pid, iid []byte, nowMs int64, def IDMPConfig) (ID, bool) {
	st := s.idmp
	if st == nil {
		return ID{}, false
	}
	p := st.pids[string(pid)]
	if p == nil {
		return ID{}, false
	}
	st.expire(string(pid), p, nowMs, st.effective(def))
	r, ok := p.byIID[string(iid)]
	return r.id, ok
}

// IDMPRecord records (pid, iid) → id at nowMs, evicting by size and age.
func (s *Stream) IDMPRecord(pid, iid []byte, id ID, nowMs int64) {
	s.IDMPRecordWith(pid, iid, id, nowMs, DefaultIDMPConfig)
}

// IDMPRecordWith is IDMPRecord with the server's defaults for a stream
// never configured by XCFGSET. Recording an iid already tracked replaces
// its ID and keeps its place and time.
func (s *Stream) IDMPRecordWith(pid, iid []byte, id ID, nowMs int64, def IDMPConfig) {
	st := s.idmpState()
	cfg := st.effective(def)
	if st.pids == nil {
		st.pids = make(map[string]*idmpPID)
	}
	p := st.pids[string(pid)]
	if p != nil {
		st.expire(string(pid), p, nowMs, cfg)
	}
	if p = st.pids[string(pid)]; p == nil {
		p = &idmpPID{byIID: make(map[string]idmpRec)}
		st.pids[string(pid)] = p
	}
	if r, ok := p.byIID[string(iid)]; ok {
		r.id = id
		p.byIID[string(iid)] = r
		return
	}
	key := string(iid)
	p.byIID[key] = idmpRec{id: id, at: nowMs}
	p.order = append(p.order, key)
	st.iids++
	st.added++
	for int64(len(p.order)-p.head) > max(cfg.MaxSize, 1) {
		st.evictHead(p)
	}
}

// IDMPDuplicate counts a duplicate (iids-duplicates).
func (s *Stream) IDMPDuplicate() { s.idmpState().dups++ }

// IDMP returns the configuration; ok false if never set (use the server
// defaults).
func (s *Stream) IDMP() (IDMPConfig, bool) {
	if s.idmp == nil || !s.idmp.cfgSet {
		return IDMPConfig{}, false
	}
	return s.idmp.cfg, true
}

// SetIDMP is XCFGSET; a change clears the tracked IIDs. The first XCFGSET
// compares with DefaultIDMPConfig; SetIDMPWith takes the server's defaults.
func (s *Stream) SetIDMP(c IDMPConfig) { s.SetIDMPWith(c, DefaultIDMPConfig) }

// SetIDMPWith is SetIDMP for a stream whose current configuration, when
// never set, is def. Setting the values in force keeps the history.
func (s *Stream) SetIDMPWith(c, def IDMPConfig) {
	st := s.idmpState()
	if st.effective(def) != c {
		st.pids = nil
		st.iids = 0
	}
	st.cfg, st.cfgSet = c, true
}

// IDMPStats are XINFO's pids-tracked, iids-tracked, iids-added, iids-duplicates.
func (s *Stream) IDMPStats() (pids, iids, added, dups int64) {
	if s.idmp == nil {
		return 0, 0, 0, 0
	}
	st := s.idmp
	return int64(len(st.pids)), st.iids, st.added, st.dups
}

func (st *idmpState) dup() *idmpState {
	d := *st
	if st.pids != nil {
		d.pids = make(map[string]*idmpPID, len(st.pids))
		for k, p := range st.pids {
			dp := &idmpPID{byIID: make(map[string]idmpRec, len(p.byIID)), order: append([]string(nil), p.order[p.head:]...)}
			for ik, r := range p.byIID {
				dp.byIID[ik] = r
			}
			d.pids[k] = dp
		}
	}
	return &d
}

// size estimates the bytes of the IDMP tables.
func (st *idmpState) size() int64 {
	size := int64(96)
	for k, p := range st.pids {
		size += 96 + int64(len(k))
		for _, iid := range p.order[p.head:] {
			size += 64 + 2*int64(len(iid))
		}
	}
	return size
}

// IDMPAutoID is IDMPAUTO's idempotent ID: a 32-byte digest of the
// field/value pairs that does not depend on their order. Each pair is
// hashed with SHA-256 (field and value length-prefixed, so that names
// count and no two pairs collide by concatenation); the digests are added
// as four 64-bit lanes, which is commutative, so equal multisets of pairs
// give equal IDs.
func IDMPAutoID(fv [][]byte) []byte {
	return AppendIDMPAutoID(make([]byte, 0, 32), fv)
}

// AppendIDMPAutoID appends IDMPAutoID(fv) to dst.
func AppendIDMPAutoID(dst []byte, fv [][]byte) []byte {
	var sum [4]uint64
	var lenBuf [8]byte
	h := sha256.New()
	var d [sha256.Size]byte
	for i := 0; i+1 < len(fv); i += 2 {
		h.Reset()
		binary.BigEndian.PutUint64(lenBuf[:], uint64(len(fv[i])))
		h.Write(lenBuf[:])
		h.Write(fv[i])
		binary.BigEndian.PutUint64(lenBuf[:], uint64(len(fv[i+1])))
		h.Write(lenBuf[:])
		h.Write(fv[i+1])
		h.Sum(d[:0])
		for l := range sum {
			sum[l] += binary.BigEndian.Uint64(d[8*l:])
		}
	}
	for _, v := range sum {
		dst = binary.BigEndian.AppendUint64(dst, v)
	}
	return dst
}
