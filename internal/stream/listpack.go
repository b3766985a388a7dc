package stream

// The byte size a Redis listpack would have for a node. Runnel does not
// store listpacks, but stream-node-max-bytes is compared with the listpack
// size (streamAppendItem: lp_bytes + total field/value bytes >= max), so
// the node boundaries, and with them approximate trimming and XINFO's
// radix-tree-keys, match Redis only if this size is exact. The rules are
// listpack.c's: an element is its encoding plus data plus a back-length;
// strings that are canonical 64-bit integers are stored as integers.

import "github.com/runnel-io/runnel/internal/resp"

const (
	lpHeaderSize = 6 // total bytes (4) + number of elements (2)
	lpEOFSize    = 1
)

// lpBacklenSize is lpEncodeBacklen's size for an element of l bytes.
func lpBacklenSize(l int64) int64 {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// lpIntSize is the size of an integer element.
func lpIntSize(v int64) int64 {
	var l int64
	switch {
	case v >= 0 && v <= 127:
		l = 1
	case v >= -4096 && v <= 4095:
		l = 2
	case v >= -32768 && v <= 32767:
		l = 3
	case v >= -8388608 && v <= 8388607:
		l = 4
	case v >= -2147483648 && v <= 2147483647:
		l = 5
	default:
		l = 9
	}
	return l + lpBacklenSize(l)
}

// lpStrSize is the size of a string element (lpEncodeGetType).
func lpStrSize(b []byte) int64 {
	if v, ok := resp.ParseInt(b); ok {
		return lpIntSize(v)
	}
	n := int64(len(b))
	var l int64
	switch {
	case n < 64:
		l = 1 + n
	case n < 4096:
		l = 2 + n
	default:
		l = 5 + n
	}
	return l + lpBacklenSize(l)
}

// lpMasterSize is the listpack size of a new node's master entry without
// its live and deleted counters: header, num-fields, the field names, the
// zero terminator, and EOF.
func lpMasterSize(fv [][]byte) int64 {
	size := int64(lpHeaderSize+lpEOFSize) + lpIntSize(int64(len(fv)/2)) + lpIntSize(0)
	for i := 0; i < len(fv); i += 2 {
		size += lpStrSize(fv[i])
	}
	return size
}

// lpEntrySize is the listpack size of one entry as streamAppendItem writes
// it: flags, ms and seq deltas against the master ID, [num-fields, field
// names], values, lp-count.
func lpEntrySize(id, master ID, fv [][]byte, same bool) int64 {
	nf := int64(len(fv) / 2)
	size := lpIntSize(0) + lpIntSize(int64(id.Ms-master.Ms)) + lpIntSize(int64(id.Seq-master.Seq))
	lpCount := nf + 3
	if !same {
		size += lpIntSize(nf)
		lpCount += nf + 1
	}
	for i := 0; i < len(fv); i += 2 {
		if !same {
			size += lpStrSize(fv[i])
		}
		size += lpStrSize(fv[i+1])
	}
	return size + lpIntSize(lpCount)
}
