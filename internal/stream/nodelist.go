package stream

// nodeChunk is the number of node headers per chunk of a nodeList (64 KiB).
const nodeChunk = 1024

// nodeList holds a stream's node headers in ID order. Past one chunk they
// are stored in fixed chunks of nodeChunk, so that a stream of millions of
// nodes needs no single huge array, never copies its headers to grow (a
// growing slice holds the old and the new array at once), and wastes at
// most one chunk. A small stream has one chunk that grows as a slice does.
// Removing the first node is O(1); removing another moves the headers after
// it, as a slice would.
//
// Every chunk but the last holds nodeChunk headers; the list starts at
// head in the first one. A pointer from at stays valid until a node is
// removed (appends never move headers once the first chunk is full).
type nodeList struct {
	chunks [][]node
	head   int
	n      int
}

func (l *nodeList) len() int { return l.n }

// at returns node i, 0 <= i < len().
func (l *nodeList) at(i int) *node {
	j := uint(l.head + i)
	return &l.chunks[j/nodeChunk][j%nodeChunk]
}

// push appends h and returns the new last node.
func (l *nodeList) push(h node) *node {
	k := len(l.chunks)
	if k == 0 || len(l.chunks[k-1]) == nodeChunk {
		c := nodeChunk
		if k == 0 {
			c = 1
		}
		l.chunks = append(l.chunks, make([]node, 0, c))
		k++
	}
	last := &l.chunks[k-1]
	if len(*last) == cap(*last) {
		// Only the first chunk is ever short of room: it grows by doubling
		// up to a full chunk.
		grown := make([]node, len(*last), min(2*cap(*last), nodeChunk))
		copy(grown, *last)
		*last = grown
	}
	*last = append(*last, h)
	l.n++
	return &(*last)[len(*last)-1]
}

// removeFirst drops node 0.
func (l *nodeList) removeFirst() {
	l.head++
	l.n--
	switch {
	case l.n == 0:
		// Keep one chunk for the next push; the rest goes.
		l.chunks[0] = l.chunks[0][:0]
		clear(l.chunks[1:])
		l.chunks, l.head = l.chunks[:1], 0
	case l.head == nodeChunk:
		l.chunks[0] = nil
		l.chunks, l.head = l.chunks[1:], 0
	}
}

// remove drops node i, moving the headers after it.
func (l *nodeList) remove(i int) {
	if i == 0 {
		l.removeFirst()
		return
	}
	j := l.head + i
	c := j / nodeChunk
	copy(l.chunks[c][j%nodeChunk:], l.chunks[c][j%nodeChunk+1:])
	for ; c+1 < len(l.chunks); c++ {
		l.chunks[c][nodeChunk-1] = l.chunks[c+1][0]
		copy(l.chunks[c+1], l.chunks[c+1][1:])
	}
	last := len(l.chunks) - 1
	l.chunks[last] = l.chunks[last][:len(l.chunks[last])-1]
	if len(l.chunks[last]) == 0 && last > 0 {
		l.chunks[last] = nil
		l.chunks = l.chunks[:last]
	}
	l.n--
}

// capBytes is the memory the headers take.
func (l *nodeList) capBytes() int64 {
	var c int
	for _, ch := range l.chunks {
		c += cap(ch)
	}
	return int64(c) * nodeHdrSize
}
