package command

// Helpers shared by the stream command groups (cmd_stream*.go): argument
// parsing with Redis's replies, stream lookup and entry replies.

import (
	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/stream"
)

// streamScratch is a connection's reusable storage for the stream
// commands, so that reading entries allocates nothing per command.
type streamScratch struct {
	it  stream.Iterator
	ids []readID
	// touched are the streams the running command (or EXEC) used: after
	// it they evict nodes if the memory budget is exceeded (paging.go).
	touched []*stream.Stream
}

// iterator returns the connection's entry iterator (a fresh one without a
// session, as in unit tests). One command uses it at a time.
func (x *Ctx) iterator() *stream.Iterator {
	if x.S == nil {
		return new(stream.Iterator)
	}
	return &x.S.stream.it
}

// streamID parses argument i as a stream ID (spec §2.1), replying with the
// ID error when it is not one. missingSeq is the sequence of an incomplete
// ID (0, or max for range ends); strict refuses "-" and "+".
func (x *Ctx) streamID(i int, missingSeq uint64, strict bool) (stream.ID, bool) {
	id, ok := stream.ParseID(x.Args[i], missingSeq, strict)
	if !ok {
		x.Error(msgStreamID)
	}
	return id, ok
}

// rangeBound parses an XRANGE/XPENDING/XAUTOCLAIM bound: "-", "+", an ID,
// or "(" followed by a strict ID, which is made inclusive by incrementing
// (start) or decrementing (end) it. It replies on error.
func (x *Ctx) rangeBound(i int, end bool) (stream.ID, bool) {
	b := x.Args[i]
	missing := uint64(0)
	if end {
		missing = ^uint64(0)
	}
	if len(b) > 0 && b[0] == '(' {
		id, ok := stream.ParseID(b[1:], missing, true)
		if !ok {
			x.Error(msgStreamID)
			return id, false
		}
		if end {
			if id, ok = id.Decr(); !ok {
				x.Error(msgIntervalEnd)
			}
			return id, ok
		}
		if id, ok = id.Incr(); !ok {
			x.Error(msgIntervalStart)
		}
		return id, ok
	}
	return x.streamID(i, missing, false)
}

// lookupStream finds the stream at key. It returns nil (and ok) when the key
// is missing, and replies WRONGTYPE with ok false when it holds another
// type. write selects lookupKeyWrite semantics (no hit/miss statistics).
func (x *Ctx) lookupStream(key []byte, write bool) (s *stream.Stream, ok bool) {
	var e engine.Entry
	var found bool
	if write {
		e, found = x.Tx.Lookup(x.DB, key, engine.LookupWrite)
	} else {
		e, found = lookupRead(x, key, 0)
	}
	if !found {
		return nil, true
	}
	s, isStream := e.Value().(*stream.Stream)
	if !isStream {
		x.Error(msgWrongType)
		return nil, false
	}
	x.touchStream(s)
	return s, true
}

// existingStream is lookupStream for commands that need the key: a missing
// key replies "no such key" (XSETID, XCFGSET, XINFO). ok is false when it
// replied.
func (x *Ctx) existingStream(key []byte, write bool) (*stream.Stream, bool) {
	s, ok := x.lookupStream(key, write)
	if ok && s == nil {
		x.Error(msgNoSuchKey)
		return nil, false
	}
	return s, ok
}

// validStreamIDs parses every argument from i on as a strict ID, replying
// with the ID error at the first that is not one: Redis checks them all
// before changing anything (XDEL, XACK).
func (x *Ctx) validStreamIDs(i int) bool {
	for ; i < len(x.Args); i++ {
		if _, ok := x.streamID(i, 0, true); !ok {
			return false
		}
	}
	return true
}

// countStreamIDs calls fn with each argument from i on, as an ID already
// checked by validStreamIDs, and counts the calls that report true.
func (x *Ctx) countStreamIDs(i int, fn func(stream.ID) bool) int64 {
	n := int64(0)
	for ; i < len(x.Args); i++ {
		id, _ := stream.ParseID(x.Args[i], 0, true)
		if fn(id) {
			n++
		}
	}
	return n
}

// writeStreamID writes an ID as a bulk string without allocating.
func (x *Ctx) writeStreamID(id stream.ID) {
	var buf [44]byte
	x.W.Bulk(id.Append(buf[:0]))
}

// writeEntry writes [id, [field, value, ...]].
func (x *Ctx) writeEntry(e stream.Entry) {
	x.W.Array(2)
	x.writeStreamID(e.ID)
	x.W.Array(len(e.Fields))
	for _, f := range e.Fields {
		x.W.Bulk(f)
	}
}

// writeDeletedEntry writes [id, nil] for a pending entry whose stream entry
// is gone (XREADGROUP history, XCLAIM).
func (x *Ctx) writeDeletedEntry(id stream.ID) {
	x.W.Array(2)
	x.writeStreamID(id)
	x.W.NullArray()
}

// streamLimits are the node limits in force (spec §6).
func (x *Ctx) streamLimits() stream.Limits {
	if x.Env.Cfg == nil {
		return stream.Limits{MaxEntries: 100, MaxBytes: 4096}
	}
	p := x.Params()
	return stream.Limits{MaxEntries: p.NodeMaxEntries, MaxBytes: p.NodeMaxBytes}
}
