package store

import (
	"github.com/runnel-io/runnel/internal/nodestore"
	"github.com/runnel-io/runnel/internal/stream"
)

// NodesDir is the node log's directory inside the data directory.
const NodesDir = "nodes"

// nodePager is the stream core's Pager over the node log: a stream's nodes
// paged out are records of dir/nodes.
type nodePager struct{ ns *nodestore.Store }

func toPageRef(r nodestore.NodeRef) stream.PageRef {
	return stream.PageRef{A: r.Seg, B: uint64(r.Off)<<32 | uint64(r.Len)}
}

func fromPageRef(r stream.PageRef) nodestore.NodeRef {
	return nodestore.NodeRef{Seg: r.A, Off: uint32(r.B >> 32), Len: uint32(r.B)}
}

func (p nodePager) PageOut(b []byte) (stream.PageRef, error) {
	ref, err := p.ns.Put(b)
	return toPageRef(ref), err
}

func (p nodePager) PageIn(ref stream.PageRef) ([]byte, error) {
	return p.ns.Get(fromPageRef(ref), nil)
}

// Drop releases the node's record: its segment's space comes back at the
// first checkpoint after (Mark/Reclaim), once no durable checkpoint can
// refer to it.
func (p nodePager) Drop(ref stream.PageRef) { _ = p.ns.Release(fromPageRef(ref)) }

// Pager is the pager streams keep their nodes outside memory with.
func (s *Store) Pager() stream.Pager { return nodePager{s.ns} }

// NodeStats describes the node log for INFO.
func (s *Store) NodeStats() nodestore.Stats { return s.ns.Stats() }

// SparseNodeSegments names the sealed node-log segments less than half of
// whose bytes are still referenced: moving their nodes elsewhere
// (stream.Relocate) lets them die, and the next checkpoint deletes them.
func (s *Store) SparseNodeSegments() map[uint64]bool {
	var sparse map[uint64]bool
	for _, sg := range s.ns.Segments() {
		if sg.Sealed && !sg.Dead && sg.Live > 0 && 2*sg.Live < sg.Size {
			if sparse == nil {
				sparse = map[uint64]bool{}
			}
			sparse[sg.Num] = true
		}
	}
	return sparse
}
