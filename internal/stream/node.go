package stream

import "math"

// Macro nodes. A node is one []byte holding up to stream-node-max-entries
// entries, like one Redis listpack. Its layout:
//
//	+-----------+--------+-----+--------+----------+-----+----------+
//	| nfields   | len(f1)| f1  |  ...   | entry 1  | ... | entry N  |
//	+-----------+--------+-----+--------+----------+-----+----------+
//	  master entry: the first entry's field names
//
// and each entry:
//
//	+-------------------+---------------+-------------------------------+
//	| head: flags+ms    | seq delta     | SAMEFIELDS: len(v1) v1 ...    |
//	| (prefix varint)   | zigzag varint | else: n, len(f1) f1 len(v1)...|
//	+-------------------+---------------+-------------------------------+
//
// All lengths are unsigned varints. The head holds the two flag bits in
// the low bits of its first byte, so XDEL flips flagDeleted in place, then
// id.Ms-master.Ms. The seq delta is int64(id.Seq-master.Seq) zigzagged: the
// seq of a later millisecond is often below the master's. An entry whose
// field names equal the master's (same count, same order) stores only its
// values (SAMEFIELDS), as Redis does. Deleted entries stay until the whole
// node goes, when its live count reaches 0.
//
// Every node has a header (node) that stays in memory, paged or not: the
// master and last IDs, the live and deleted counts, the size the Redis
// listpack would have (listpack.go), and where a copy of its bytes is
// kept. The header holds no pointer, so a stream of millions of paged
// nodes is one pointer-free array the garbage collector never scans. The
// bytes and what is decoded from them (nodeBody) exist only while the node
// is in memory (page.go).

const (
	flagDeleted    = 1 << 0
	flagSameFields = 1 << 1
)

type node struct {
	master  ID      // ID of the first entry ever added: the node's key
	last    ID      // ID of the last entry in the node, deleted or not
	ref     PageRef // the copy outside memory: while paged, or when body.onDisk
	live    int32   // entries not deleted
	deleted int32   // entries flagged deleted
	lpFixed uint32  // listpack size without the live and deleted counters
	body    int32   // 1 + index of the bytes in Stream.bodies; 0 while paged
}

// nodeBody is what a node has in memory only: its bytes and the offsets
// decoded from them.
type nodeBody struct {
	buf     []byte
	nf      int32 // master field count
	mfStart int32 // offset of the first master field
	first   int32 // offset of the first entry
	onDisk  bool  // the node's ref names a copy equal to buf
	used    bool  // touched since the CLOCK last passed (page.go)
}

// nodeView is a node with its bytes in memory (Stream.node). It holds
// pointers into the stream: it is valid until the stream's node headers
// move (a node is added or removed) or the node is evicted.
type nodeView struct {
	*node
	*nodeBody
}

// lpBytes is the size of the equivalent Redis listpack. Redis's listpack
// size is 32 bits; lpFixed saturates there (only a node grown past 4 GB
// by a single entry of tiny fields could reach it).
func (n *node) lpBytes() int64 {
	return int64(n.lpFixed) + lpIntSize(int64(n.live)) + lpIntSize(int64(n.deleted))
}

// addLP adds an entry's listpack bytes to lpFixed, saturating.
func (n *node) addLP(d int64) {
	n.lpFixed = uint32(min(int64(n.lpFixed)+d, math.MaxUint32))
}

// count is live plus deleted entries, Redis's node fill.
func (n *node) count() int64 { return int64(n.live) + int64(n.deleted) }

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// uvarint decodes an unsigned varint at b[p:]; the data is our own, so it
// trusts it.
func uvarint(b []byte, p int) (uint64, int) {
	c := b[p]
	if c < 0x80 {
		return uint64(c), p + 1
	}
	v := uint64(c & 0x7f)
	var s uint
	for {
		p++
		s += 7
		c = b[p]
		if c < 0x80 {
			return v | uint64(c)<<s, p + 1
		}
		v |= uint64(c&0x7f) << s
	}
}

// appendHead writes the entry head: flags in bits 0-1 of the first byte,
// then the 64-bit ms delta, 5 bits in the first byte and 7 per later byte.
func appendHead(b []byte, flags byte, ms uint64) []byte {
	c := flags | byte(ms&0x1f)<<2
	ms >>= 5
	if ms == 0 {
		return append(b, c)
	}
	b = append(b, c|0x80)
	return appendUvarint(b, ms)
}

func readHead(b []byte, p int) (flags byte, ms uint64, np int) {
	c := b[p]
	flags, ms = c&3, uint64(c>>2&0x1f)
	if c < 0x80 {
		return flags, ms, p + 1
	}
	hi, np := uvarint(b, p+1)
	return flags, ms | hi<<5, np
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// newNode starts a node whose master entry has fv's field names, in buf
// if it is not nil; it returns the header and the body.
func newNode(id ID, fv [][]byte, buf []byte) (node, nodeBody) {
	nf := len(fv) / 2
	if buf == nil {
		size := 10
		for i := 0; i < len(fv); i += 2 {
			size += 5 + len(fv[i])
		}
		buf = make([]byte, 0, size)
	}
	buf = appendUvarint(buf, uint64(nf))
	mfStart := len(buf)
	for i := 0; i < len(fv); i += 2 {
		buf = appendUvarint(buf, uint64(len(fv[i])))
		buf = append(buf, fv[i]...)
	}
	return node{master: id, lpFixed: uint32(min(lpMasterSize(fv), math.MaxUint32))},
		nodeBody{buf: buf, nf: int32(nf), mfStart: int32(mfStart), first: int32(len(buf))}
}

// parseMaster fills the offsets of a body whose buf was just read back
// (the bytes are our own, checked by the pager's checksum).
func (b *nodeBody) parseMaster() {
	nf, p := uvarint(b.buf, 0)
	b.nf, b.mfStart = int32(nf), int32(p)
	for i := uint64(0); i < nf; i++ {
		l, q := uvarint(b.buf, p)
		p = q + int(l)
	}
	b.first = int32(p)
}

// sameFields reports whether fv's field names are the master's.
func (n nodeView) sameFields(fv [][]byte) bool {
	if len(fv)/2 != int(n.nf) {
		return false
	}
	b, p := n.buf, int(n.mfStart)
	for i := 0; i < len(fv); i += 2 {
		l, q := uvarint(b, p)
		f := fv[i]
		if int(l) != len(f) || string(b[q:q+int(l)]) != string(f) {
			return false
		}
		p = q + int(l)
	}
	return true
}

// appendEntry encodes one entry at the end of the node.
func (n nodeView) appendEntry(id ID, fv [][]byte, same bool) {
	var flags byte
	if same {
		flags = flagSameFields
	}
	b := appendHead(n.buf, flags, id.Ms-n.master.Ms)
	b = appendUvarint(b, zigzag(int64(id.Seq-n.master.Seq)))
	if same {
		for i := 1; i < len(fv); i += 2 {
			b = appendUvarint(b, uint64(len(fv[i])))
			b = append(b, fv[i]...)
		}
	} else {
		b = appendUvarint(b, uint64(len(fv)/2))
		for _, x := range fv {
			b = appendUvarint(b, uint64(len(x)))
			b = append(b, x...)
		}
	}
	n.buf = b
	n.addLP(lpEntrySize(id, n.master, fv, same))
	n.live++
	n.last = id
}

// entryAt decodes the head of the entry at p: its ID, flags, where its
// fields start.
func (n nodeView) entryAt(p int) (id ID, flags byte, fields int) {
	flags, ms, q := readHead(n.buf, p)
	z, q := uvarint(n.buf, q)
	return ID{n.master.Ms + ms, n.master.Seq + uint64(unzigzag(z))}, flags, q
}

// skipFields returns the offset after the fields starting at p.
func (n nodeView) skipFields(p int, flags byte) int {
	b := n.buf
	cnt := int(n.nf)
	if flags&flagSameFields == 0 {
		c, q := uvarint(b, p)
		cnt, p = 2*int(c), q
	}
	for ; cnt > 0; cnt-- {
		l, q := uvarint(b, p)
		p = q + int(l)
	}
	return p
}

// fields appends the entry's flat field/value list to dst and returns it
// with the offset after the entry. The slices alias the node; their
// capacity is clipped so that appending to one cannot touch the node.
func (n nodeView) fields(p int, flags byte, dst [][]byte) ([][]byte, int) {
	b := n.buf
	if flags&flagSameFields != 0 {
		mp := int(n.mfStart)
		for i := int32(0); i < n.nf; i++ {
			fl, q := uvarint(b, mp)
			mp = q + int(fl)
			vl, r := uvarint(b, p)
			p = r + int(vl)
			dst = append(dst, b[q:mp:mp], b[r:p:p])
		}
		return dst, p
	}
	c, p := uvarint(b, p)
	for i := uint64(0); i < 2*c; i++ {
		l, q := uvarint(b, p)
		p = q + int(l)
		dst = append(dst, b[q:p:p])
	}
	return dst, p
}

// find locates the entry id in the node: its offset and flags.
func (n nodeView) find(id ID) (p int, flags byte, ok bool) {
	// Live entries are in ID order; a deleted one may be out of order when
	// XSETID lowered the last ID below it and later entries went after it
	// (Redis allows it and its iterators skip such tombstones), so only a
	// live entry ends the scan, and a live match wins over a deleted one.
	tomb, tombFlags := -1, byte(0)
	for p = int(n.first); p < len(n.buf); {
		eid, fl, q := n.entryAt(p)
		live := fl&flagDeleted == 0
		if eid == id {
			if live {
				return p, fl, true
			}
			tomb, tombFlags = p, fl
		} else if live && id.Less(eid) {
			break
		}
		p = n.skipFields(q, fl)
	}
	if tomb >= 0 {
		return tomb, tombFlags, true
	}
	return 0, 0, false
}
