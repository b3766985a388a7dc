package seglog

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/runnel-io/runnel/internal/vfs"
)

// Damage is the first place where a log is damaged in a way Open refuses:
// anything but a torn tail, which Open cuts off by itself.
type Damage struct {
	File     string // the segment holding the damage
	Offset   int64  // where the damage starts in it
	Reason   string // what Open would say
	LastGood uint64 // the last sequence before the damage (0: none)
	// Lost counts the whole records found after the damage, in the damaged
	// segment and the later ones: what a repair drops.
	Lost int
	// Later are the segments after the damaged one.
	Later []string
}

// Check reads every segment of the log in dir, changing nothing, and
// returns its first damage, or nil if Open would accept the log.
func Check(fsys vfs.FS, dir string) (*Damage, error) {
	names, err := fsys.List(dir)
	if err != nil {
		return nil, err
	}
	type seg struct {
		path  string
		first uint64
	}
	var segs []seg
	for _, base := range names {
		if filepath.Ext(base) != segSuffix {
			continue
		}
		first, ok := parseSegmentName(base)
		if !ok {
			return &Damage{File: filepath.Join(dir, base), Reason: "not a segment name"}, nil
		}
		segs = append(segs, seg{filepath.Join(dir, base), first})
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].first < segs[j].first })
	var rd Reader
	var dmg *Damage
	var prevEnd uint64
	for i, s := range segs {
		data, err := vfs.ReadFile(fsys, s.path)
		if err != nil {
			return nil, err
		}
		if dmg != nil {
			dmg.Later = append(dmg.Later, s.path)
			dmg.Lost += countValid(&rd, data, 0)
			continue
		}
		tail := i == len(segs)-1
		if i > 0 && s.first != prevEnd {
			dmg = &Damage{File: s.path, LastGood: prevEnd - 1,
				Reason: fmt.Sprintf("segment starts at sequence %d but the previous one ends before %d: a segment is missing", s.first, prevEnd)}
			dmg.Lost += countValid(&rd, data, 0)
			continue
		}
		res, err := scanSegment(&rd, s.path, s.first, data)
		switch {
		case err != nil:
			dmg = &Damage{File: s.path, LastGood: s.first - 1, Reason: err.Error()}
		case !res.headerOK && !tail:
			dmg = &Damage{File: s.path, LastGood: s.first - 1, Reason: "segment header is damaged or missing"}
		case res.damage != nil && (!tail || res.damage.MidLog()):
			dmg = &Damage{File: s.path, Offset: res.damage.Offset, LastGood: s.first - 1 + uint64(res.count), Reason: res.damage.Error()}
			if res.damage.NextValid >= 0 {
				dmg.Lost += countValid(&rd, data, int(res.damage.NextValid))
			}
			continue
		}
		if dmg != nil {
			dmg.Lost += countValid(&rd, data, 0)
			continue
		}
		prevEnd = s.first + uint64(res.count)
	}
	return dmg, nil
}

// countValid counts the whole records in data from off on, skipping over
// damage; the segment header is not counted.
func countValid(rd *Reader, data []byte, off int) int {
	n := 0
	for off >= 0 && off < len(data) {
		rd.Reset(data[off:])
		for rd.Next() {
			if rd.Type() != SegmentHeaderType {
				n++
			}
		}
		var ce *CorruptionError
		if !errors.As(rd.Err(), &ce) || ce.NextValid < 0 {
			break
		}
		off += int(ce.NextValid)
	}
	return n
}

// Repair cuts the log in dir at its first damage so that Open accepts it:
// the damaged segment is copied into aside and then truncated at the
// damage (moved into aside whole when the damage is at its start), and
// every later segment is moved into aside. The records after the damage
// are dropped; the returned Damage says what they were. A log without
// damage is left alone (nil, nil).
func Repair(fsys vfs.FS, dir, aside string) (*Damage, error) {
	dmg, err := Check(fsys, dir)
	if err != nil || dmg == nil {
		return dmg, err
	}
	if err := fsys.MkdirAll(aside, 0o755); err != nil {
		return nil, err
	}
	move := func(path string) error {
		return fsys.Rename(path, filepath.Join(aside, filepath.Base(path)))
	}
	if dmg.Offset == 0 {
		if err := move(dmg.File); err != nil {
			return nil, err
		}
	} else {
		data, err := vfs.ReadFile(fsys, dmg.File)
		if err != nil {
			return nil, err
		}
		if err := vfs.WriteFileSynced(fsys, filepath.Join(aside, filepath.Base(dmg.File)), data); err != nil {
			return nil, err
		}
		f, err := fsys.OpenReadWrite(dmg.File)
		if err != nil {
			return nil, err
		}
		if err := f.Truncate(dmg.Offset); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
		f.Close()
	}
	for _, p := range dmg.Later {
		if err := move(p); err != nil {
			return nil, err
		}
	}
	if err := vfs.SyncDir(fsys, aside); err != nil {
		return nil, err
	}
	return dmg, vfs.SyncDir(fsys, dir)
}
