package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/nodestore"
	"github.com/runnel-io/runnel/internal/seglog"
	"github.com/runnel-io/runnel/internal/stream"
	"github.com/runnel-io/runnel/internal/vfs"
)

// Report is what Check found in a data directory, and what Repair did.
type Report struct {
	// Checkpoint is the newest checkpoint (Seq 0: none).
	Checkpoint CheckpointInfo
	// CheckpointDamage is why the newest checkpoint cannot be loaded
	// ("" when it can).
	CheckpointDamage string
	// DroppedKeys names the keys Repair could not salvage from a damaged
	// checkpoint ("db/key"; a key whose name is unreadable is described
	// by offset).
	DroppedKeys []string
	// SalvagedKeys is the number of keys Repair kept from it.
	SalvagedKeys int64
	// LostNodes describes the streams of the checkpoint whose nodes the
	// node log cannot give back (damaged or missing records); Repair
	// drops those streams.
	LostNodes []string
	// WAL is the log's first damage, nil if none.
	WAL *seglog.Damage
	// Gap says which records are missing between the checkpoint and the
	// log ("" if none); Repair then sets the whole log aside.
	Gap string
	// Aside is the directory Repair moved damaged files into.
	Aside string
}

// OK reports whether the directory needs no repair.
func (r *Report) OK() bool {
	return r.CheckpointDamage == "" && len(r.LostNodes) == 0 && r.WAL == nil && r.Gap == ""
}

// Check examines the data directory dir without changing it. It takes the
// directory's lock, so it fails while a server runs on it.
func Check(fsys vfs.FS, dir string) (Report, error) { return examine(fsys, dir, false) }

// Repair makes the data directory dir loadable again, dropping what is
// damaged: a damaged checkpoint is rewritten with every key that can still
// be read; the log is cut at its first damage; records the checkpoint and
// the log no longer connect are set aside. Every file it changes or drops
// is first copied or moved into dir/damaged-<unix time>/. The Report lists
// what was dropped.
func Repair(fsys vfs.FS, dir string) (Report, error) { return examine(fsys, dir, true) }

func examine(fsys vfs.FS, dir string, repair bool) (Report, error) {
	var rep Report
	if fsys == nil {
		fsys = vfs.Default
	}
	if _, err := fsys.Stat(dir); err != nil {
		return rep, err
	}
	lock, err := fsys.Lock(filepath.Join(dir, LockFile))
	if errors.Is(err, vfs.ErrLocked) {
		return rep, fmt.Errorf("%s: %w: stop the server first", dir, ErrLocked)
	}
	if err != nil {
		return rep, err
	}
	defer lock.Close()
	aside := filepath.Join(dir, fmt.Sprintf("damaged-%d", time.Now().Unix()))
	seqs, _, err := listCheckpoints(fsys, dir)
	if err != nil {
		return rep, err
	}
	if len(seqs) > 0 {
		seq := seqs[len(seqs)-1]
		path := filepath.Join(dir, checkpointName(seq))
		// The stream nodes the checkpoint refers to must be readable in
		// the node log.
		lost := map[string]bool{}
		verify := func(db int, key []byte, _ int64, v engine.Value) error {
			st, ok := v.(*stream.Stream)
			if !ok {
				return nil
			}
			name := fmt.Sprintf("%d/%s", db, key)
			st.PageRefs(func(r stream.PageRef) {
				if lost[name] {
					return
				}
				if err := checkNodeRecord(fsys, filepath.Join(dir, NodesDir), fromPageRef(r)); err != nil {
					lost[name] = true
					rep.LostNodes = append(rep.LostNodes, fmt.Sprintf("%s: %v", name, err))
				}
			})
			return nil
		}
		info, err := readCheckpoint(fsys, path, verify, nil)
		rep.Checkpoint = info
		rep.Checkpoint.Seq = seq
		if err != nil {
			rep.CheckpointDamage = err.Error()
		}
		if repair && (err != nil || len(lost) > 0) {
			rep.Aside = aside
			if err := salvageCheckpoint(fsys, path, seq, aside, &rep, lost); err != nil {
				return rep, fmt.Errorf("salvaging %s: %w", path, err)
			}
		}
	}
	walDir := filepath.Join(dir, WALDir)
	if _, err := fsys.Stat(walDir); err != nil {
		return rep, nil // no log yet
	}
	if repair {
		rep.WAL, err = seglog.Repair(fsys, walDir, filepath.Join(aside, WALDir))
		if rep.WAL != nil {
			rep.Aside = aside
		}
	} else {
		rep.WAL, err = seglog.Check(fsys, walDir)
	}
	if err != nil {
		return rep, err
	}
	// The log must continue the checkpoint.
	names, err := fsys.List(walDir)
	if err != nil {
		return rep, err
	}
	var first uint64
	for _, n := range names {
		if s, ok := parseSegmentBase(n); ok && (first == 0 || s < first) {
			first = s
		}
	}
	if first > rep.Checkpoint.Seq+1 {
		rep.Gap = fmt.Sprintf("the log starts at record %d, the checkpoint covers up to %d: records %d..%d are missing",
			first, rep.Checkpoint.Seq, rep.Checkpoint.Seq+1, first-1)
		if repair {
			// What is left of the log cannot be replayed over the
			// checkpoint: set it aside whole; the log restarts after
			// the checkpoint.
			rep.Aside = aside
			if err := fsys.MkdirAll(filepath.Join(aside, WALDir), 0o755); err != nil {
				return rep, err
			}
			for _, n := range names {
				if err := fsys.Rename(filepath.Join(walDir, n), filepath.Join(aside, WALDir, n)); err != nil {
					return rep, err
				}
			}
			if err := vfs.SyncDir(fsys, walDir); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

// parseSegmentBase reads the first sequence from a segment file name.
func parseSegmentBase(base string) (uint64, bool) {
	if filepath.Ext(base) != ".seg" || len(base) != seqDigits+4 {
		return 0, false
	}
	var v uint64
	for _, c := range base[:seqDigits] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// decodesWhole reports whether parts decode into a complete stream.
func decodesWhole(parts [][]byte) bool {
	dec := stream.NewDecoder()
	for _, p := range parts {
		if dec.Part(p) != nil {
			return false
		}
	}
	_, err := dec.Stream()
	return err == nil
}

// salvageCheckpoint rewrites a damaged checkpoint with the keys whose
// records are all intact (a stream only if it decodes), after moving the
// original into aside.
//
// Keys named in lost ("db/key": streams whose nodes in the node log are
// damaged or missing) are dropped too.
func salvageCheckpoint(fsys vfs.FS, path string, seq uint64, aside string, rep *Report, lost map[string]bool) error {
	data, err := vfs.ReadFile(fsys, path)
	if err != nil {
		return err
	}
	sn := NewSnapshot(seq, 0)
	type key struct {
		typ     byte
		hdr     []byte
		parts   [][]byte
		name    string
		damaged bool
	}
	var cur *key
	flush := func() {
		if cur == nil {
			return
		}
		k := cur
		cur = nil
		if !k.damaged && k.typ == ckptStream && !decodesWhole(k.parts) {
			k.damaged = true
		}
		if k.damaged || lost[k.name] {
			rep.DroppedKeys = append(rep.DroppedKeys, k.name)
			return
		}
		sn.record(k.typ, k.hdr)
		for _, p := range k.parts {
			sn.record(ckptPart, p)
		}
		sn.keys++
		rep.SalvagedKeys++
	}
	var rd seglog.Reader
	off := 0
	skipParts := false // parts whose key header was lost
	for off < len(data) {
		rd.Reset(data[off:])
		for rd.Next() {
			typ, p := rd.Type(), rd.Payload()
			switch typ {
			case ckptString, ckptStream:
				flush()
				d := decoder{b: p}
				db := d.uvarint()
				d.varint()
				name := d.bytes()
				if typ == ckptString {
					d.byte1()
				}
				if d.err != nil {
					rep.DroppedKeys = append(rep.DroppedKeys, fmt.Sprintf("(unreadable key at offset %d)", off+int(rd.Offset())))
					continue
				}
				cur = &key{typ: typ, hdr: p, name: fmt.Sprintf("%d/%s", db, name)}
				skipParts = false
			case ckptPart:
				if cur != nil && !skipParts {
					cur.parts = append(cur.parts, p)
				}
			case ckptHeader:
				if len(p) == len(ckptMagic)+1+16 {
					// Keep the original time of the checkpoint.
					sn = NewSnapshot(seq, int64(binary.LittleEndian.Uint64(p[len(ckptMagic)+9:])))
				}
			case ckptFooter:
				flush()
			}
		}
		var ce *seglog.CorruptionError
		if !errors.As(rd.Err(), &ce) {
			break
		}
		// A damaged record: the key it belongs to is lost; so are
		// stream parts up to the next key.
		if cur != nil && cur.typ == ckptStream && !decodesWhole(cur.parts) {
			// The damaged record may be one of its parts: a stream
			// missing a part must not come back looking whole.
			cur.damaged = true
			flush()
		} else {
			// A string is one record, and a stream whose parts decode
			// whole is complete (its first part declares everything
			// that follows): the damaged record began another key.
			flush()
			rep.DroppedKeys = append(rep.DroppedKeys, fmt.Sprintf("(the key of the damaged record at offset %d)", off+int(ce.Offset)))
		}
		skipParts = true
		if ce.NextValid < 0 {
			break
		}
		off += int(ce.NextValid)
	}
	flush()
	if err := fsys.MkdirAll(aside, 0o755); err != nil {
		return err
	}
	if err := fsys.Rename(path, filepath.Join(aside, filepath.Base(path))); err != nil {
		return err
	}
	if err := writeFileAtomic(fsys, path, sn.finish()); err != nil {
		return err
	}
	return vfs.SyncDir(fsys, aside)
}

// checkNodeRecord reads one node record of the node log and checks its
// header and checksum, without opening the node log (which would write).
func checkNodeRecord(fsys vfs.FS, dir string, ref nodestore.NodeRef) error {
	path := filepath.Join(dir, seglog.NumberedName(ref.Seg, nodestore.SegmentSuffix))
	f, err := fsys.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, seglog.RecordSize(int(ref.Len)))
	if _, err := f.ReadAt(buf, int64(ref.Off)); err != nil {
		return fmt.Errorf("%s at offset %d: %w", path, ref.Off, err)
	}
	r := seglog.NewReader(buf)
	if !r.Next() || r.Type() != nodestore.NodeRecordType || len(r.Payload()) != int(ref.Len) {
		if err := r.Err(); err != nil {
			return fmt.Errorf("%s at offset %d: %w", path, ref.Off, err)
		}
		return fmt.Errorf("%s at offset %d: no node record of %d bytes", path, ref.Off, ref.Len)
	}
	return nil
}
