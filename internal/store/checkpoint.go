package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/nodestore"
	"github.com/runnel-io/runnel/internal/seglog"
	"github.com/runnel-io/runnel/internal/stream"
	"github.com/runnel-io/runnel/internal/vfs"
)

// Checkpoint file format. A checkpoint is a sequence of seglog records
// (each with its length, type and CRC-32C):
//
//	header  (type 1): "RNLCKP" | version u8 | seq u64 | now i64 (little endian)
//	string  (type 2): db | expire-at (varint, 0: none) | key length | key |
//	                  encoding u8 (OBJECT ENCODING; bit 7: unshared) | value
//	stream  (type 3): db | expire-at | key length | key; its parts follow
//	part    (type 4): one part of stream.(*Stream).EncodeParts
//	footer  (type 5): keys | records before the footer
//
// It holds the state after applying every log record up to seq. It is
// written to a temporary name, fsynced, renamed and the directory synced, so
// a checkpoint file exists under its final name only once it is complete;
// one without its footer or with any damaged record is corrupt, never
// "torn".
const (
	ckptHeader byte = 1 + iota
	ckptString
	ckptStream
	ckptPart
	ckptFooter
)

const (
	ckptMagic   = "RNLCKP"
	ckptVersion = 1
	ckptPrefix  = "checkpoint-"
	ckptSuffix  = ".rnl"
	tmpSuffix   = ".tmp"
	seqDigits   = 20
	unsharedBit = 0x80
)

// ErrNewerFormat is the cause of a refusal to open a file written by a
// newer Runnel.
var ErrNewerFormat = errors.New("written by a newer Runnel: its format version is unknown to this one")

func checkpointName(seq uint64) string {
	return fmt.Sprintf("%s%0*d%s", ckptPrefix, seqDigits, seq, ckptSuffix)
}

// parseCheckpointName returns the sequence a checkpoint file name carries.
func parseCheckpointName(base string) (uint64, bool) {
	if !strings.HasPrefix(base, ckptPrefix) || !strings.HasSuffix(base, ckptSuffix) {
		return 0, false
	}
	digits := strings.TrimSuffix(strings.TrimPrefix(base, ckptPrefix), ckptSuffix)
	if len(digits) != seqDigits {
		return 0, false
	}
	seq, err := strconv.ParseUint(digits, 10, 64)
	return seq, err == nil
}

// Snapshot is a checkpoint being built while the keyspace is locked.
// A snapshot from Store.Snapshot streams its records into the checkpoint's
// temporary file as they come, through a buffer of snapshotFlushAt bytes,
// so that its memory stays small however many keys and stream nodes it
// holds (the 'O' records of a 20 GB stream take 160 MB); the fsync and the
// rename happen after the lock is released (Store.WriteCheckpoint). One
// from NewSnapshot keeps everything in memory (tests, repair).
type Snapshot struct {
	seq     uint64
	now     int64
	buf     []byte // whole records not yet written to out
	scratch []byte
	keys    int64
	records int64
	opts    stream.EncodeOptions
	// walBytes is the log's AppendedBytes when the snapshot was taken.
	walBytes int64
	// mark is the node log's Mark at the snapshot (Store.Snapshot).
	mark   nodestore.Mark
	marked bool

	// out is the temporary file records are streamed to (nil: in
	// memory); written counts the bytes already in it; err is the first
	// write error, after which the snapshot only fails.
	fs      vfs.FS
	out     vfs.File
	tmp     string
	written int64
	err     error
}

// snapshotFlushAt is the buffer size at which a file-backed snapshot
// writes its records out.
const snapshotFlushAt = 1 << 20

// NewSnapshot starts a checkpoint of the state after log record seq, taken
// at time now (unix ms).
func NewSnapshot(seq uint64, now int64) *Snapshot {
	sn := &Snapshot{seq: seq, now: now}
	h := append([]byte(ckptMagic), ckptVersion)
	h = binary.LittleEndian.AppendUint64(h, seq)
	h = binary.LittleEndian.AppendUint64(h, uint64(now))
	sn.record(ckptHeader, h)
	return sn
}

// Seq is the log sequence the snapshot covers.
func (sn *Snapshot) Seq() uint64 { return sn.seq }

// Size is the number of bytes serialized so far.
func (sn *Snapshot) Size() int64 { return sn.written + int64(len(sn.buf)) }

// Keys is the number of keys added.
func (sn *Snapshot) Keys() int64 { return sn.keys }

func (sn *Snapshot) record(typ byte, payload []byte) {
	sn.buf = seglog.AppendRecord(sn.buf, typ, payload)
	sn.records++
	if sn.out != nil && len(sn.buf) >= snapshotFlushAt {
		sn.flush()
	}
}

// flush writes the buffered records to the file (file-backed only).
func (sn *Snapshot) flush() {
	if sn.err != nil || len(sn.buf) == 0 {
		sn.buf = sn.buf[:0]
		return
	}
	n, err := sn.out.Write(sn.buf)
	sn.written += int64(n)
	if err != nil {
		sn.err = fmt.Errorf("writing checkpoint %s: %w", sn.tmp, err)
	}
	sn.buf = sn.buf[:0]
}

// Discard closes and removes the temporary file of an abandoned snapshot.
func (sn *Snapshot) Discard() {
	if sn.out != nil {
		_ = sn.out.Close()
		_ = sn.fs.Remove(sn.tmp)
		sn.out = nil
	}
}

func appendKeyHeader(dst []byte, db int, key string, expireAt int64) []byte {
	dst = binary.AppendUvarint(dst, uint64(db))
	dst = binary.AppendVarint(dst, expireAt)
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	return append(dst, key...)
}

// Add serializes one key. After a write error every Add returns it.
func (sn *Snapshot) Add(db int, key string, expireAt int64, v engine.Value) error {
	if sn.err != nil {
		return sn.err
	}
	switch v := v.(type) {
	case *engine.String:
		p := appendKeyHeader(sn.scratch[:0], db, key, expireAt)
		enc := v.Enc
		if v.Unshared {
			enc |= unsharedBit
		}
		p = append(p, enc)
		p = append(p, v.B...)
		sn.record(ckptString, p)
		sn.scratch = p[:0]
	case *stream.Stream:
		sn.scratch = appendKeyHeader(sn.scratch[:0], db, key, expireAt)
		sn.record(ckptStream, sn.scratch)
		if err := v.EncodeParts(sn.opts, func(part []byte) error {
			sn.record(ckptPart, part)
			return nil
		}); err != nil {
			return fmt.Errorf("checkpoint of key %q: %w", key, err)
		}
	default:
		return fmt.Errorf("checkpoint of key %q: no encoding for type %s", key, v.Type())
	}
	sn.keys++
	return sn.err
}

// finish appends the footer; the snapshot is then complete. It returns
// what is buffered: the whole checkpoint for a snapshot in memory.
func (sn *Snapshot) finish() []byte {
	f := binary.AppendUvarint(nil, uint64(sn.keys))
	f = binary.AppendUvarint(f, uint64(sn.records))
	sn.record(ckptFooter, f)
	return sn.buf
}

// Bytes returns the complete checkpoint (footer included) for comparison in
// tests: equal states give equal bytes when taken with the same seq and now.
func (sn *Snapshot) Bytes() []byte { return sn.finish() }

// ForComparison makes the snapshot independent of what is in memory and
// of what the log does not record: consumers' seen-times are written as 0
// and paged-out nodes with their bytes. Tests compare a recovered state
// with the live one this way.
func (sn *Snapshot) ForComparison() *Snapshot {
	sn.opts.ZeroSeenTime = true
	sn.opts.Inline = true
	return sn
}

// CheckpointInfo describes a checkpoint read back.
type CheckpointInfo struct {
	Path string
	Seq  uint64
	Now  int64 // unix ms when it was taken
	Keys int64
	Size int64
}

// KeyLoader receives the keys of a checkpoint being loaded.
type KeyLoader func(db int, key []byte, expireAt int64, v engine.Value) error

// readCheckpoint reads and checks the checkpoint at path, handing each key
// to load (nil only checks) and, every few records, the offset read so far
// to progress (if not nil). Any damage is an error naming the file and the
// offset.
func readCheckpoint(fsys vfs.FS, path string, load KeyLoader, progress func(off int64)) (CheckpointInfo, error) {
	info := CheckpointInfo{Path: path}
	f, err := fsys.Open(path)
	if err != nil {
		return info, err
	}
	defer f.Close()
	rr := seglog.NewRecordReader(f)
	fail := func(format string, args ...any) (CheckpointInfo, error) {
		return info, fmt.Errorf("checkpoint %s: record at offset %d: %s", path, rr.Offset(), fmt.Sprintf(format, args...))
	}
	var (
		records int64
		dec     *stream.Decoder
		skey    []byte
		sdb     int
		sexp    int64
		footer  bool
	)
	flushStream := func() error {
		if dec == nil {
			return nil
		}
		s, err := dec.Stream()
		dec = nil
		if err != nil {
			return fmt.Errorf("stream %q: %w", skey, err)
		}
		if load != nil {
			return load(sdb, skey, sexp, s)
		}
		return nil
	}
	for {
		typ, p, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return info, fmt.Errorf("checkpoint %s: %w", path, err)
		}
		if footer {
			return fail("data after the footer")
		}
		if progress != nil && records%256 == 0 {
			progress(rr.Offset())
		}
		if records == 0 {
			if typ != ckptHeader {
				return fail("the first record is not a checkpoint header")
			}
			if len(p) != len(ckptMagic)+1+16 || string(p[:len(ckptMagic)]) != ckptMagic {
				return fail("bad checkpoint header")
			}
			if v := p[len(ckptMagic)]; v != ckptVersion {
				if v > ckptVersion {
					return info, fmt.Errorf("checkpoint %s: format version %d: %w (this one reads version %d)", path, v, ErrNewerFormat, ckptVersion)
				}
				return fail("unknown format version %d", v)
			}
			info.Seq = binary.LittleEndian.Uint64(p[len(ckptMagic)+1:])
			info.Now = int64(binary.LittleEndian.Uint64(p[len(ckptMagic)+9:]))
			records++
			continue
		}
		if typ != ckptPart {
			if err := flushStream(); err != nil {
				return fail("%v", err)
			}
		}
		switch typ {
		case ckptString, ckptStream:
			d := decoder{b: p}
			db := d.uvarint()
			exp := d.varint()
			key := d.bytes()
			if d.err != nil || db > maxDB {
				return fail("bad key header")
			}
			info.Keys++
			if typ == ckptString {
				enc := d.byte1()
				if d.err != nil || enc&^unsharedBit > engine.EncRaw {
					return fail("bad string encoding")
				}
				if load != nil {
					v := &engine.String{B: append([]byte(nil), d.b...), Enc: enc &^ unsharedBit, Unshared: enc&unsharedBit != 0}
					if err := load(int(db), key, exp, v); err != nil {
						return fail("key %q: %v", key, err)
					}
				}
			} else {
				dec = stream.NewDecoder()
				skey, sdb, sexp = append(skey[:0], key...), int(db), exp
			}
		case ckptPart:
			if dec == nil {
				return fail("a stream part outside a stream")
			}
			if err := dec.Part(p); err != nil {
				return fail("stream %q: %v", skey, err)
			}
		case ckptFooter:
			d := decoder{b: p}
			keys, recs := d.uvarint(), d.uvarint()
			if d.err != nil || len(d.b) != 0 || int64(keys) != info.Keys || int64(recs) != records {
				return fail("the footer does not match the records (keys %d/%d, records %d/%d)", keys, info.Keys, recs, records)
			}
			footer = true
		default:
			return fail("unknown record type %d", typ)
		}
		records++
	}
	if !footer {
		return info, fmt.Errorf("checkpoint %s: incomplete: it ends at offset %d without its footer", path, rr.Offset())
	}
	if st, err := fsys.Stat(path); err == nil {
		info.Size = st.Size()
	}
	return info, nil
}

// listCheckpoints returns the sequences of the checkpoint files in dir,
// oldest first, and the names of leftover temporary files.
func listCheckpoints(fsys vfs.FS, dir string) (seqs []uint64, tmps []string, err error) {
	names, err := fsys.List(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range names {
		if strings.HasPrefix(n, ckptPrefix) && strings.HasSuffix(n, tmpSuffix) {
			tmps = append(tmps, filepath.Join(dir, n))
			continue
		}
		if seq, ok := parseCheckpointName(n); ok {
			seqs = append(seqs, seq)
		}
	}
	return seqs, tmps, nil
}
