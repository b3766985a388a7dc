package stream

import (
	"bytes"
	"math/rand"
	"sort"
	"testing"
)

// modelEntry is an entry of the reference model: a sorted slice of live
// entries with their fields.
type modelEntry struct {
	id ID
	fv [][]byte
}

type model struct {
	entries []modelEntry
	lastID  ID
	maxDel  ID
}

func (m *model) find(id ID) int {
	return sort.Search(len(m.entries), func(i int) bool { return !m.entries[i].id.Less(id) })
}

func (m *model) rng(start, end ID, rev bool, count int) []modelEntry {
	var out []modelEntry
	lo := m.find(start)
	hi := sort.Search(len(m.entries), func(i int) bool { return end.Less(m.entries[i].id) })
	if lo >= hi {
		return nil
	}
	sl := m.entries[lo:hi]
	for i := range sl {
		e := sl[i]
		if rev {
			e = sl[len(sl)-1-i]
		}
		out = append(out, e)
		if count > 0 && len(out) == count {
			break
		}
	}
	return out
}

func sameEntries(tb testing.TB, what string, got []Entry, want []modelEntry) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: %d entries, model %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].id || len(got[i].Fields) != len(want[i].fv) {
			tb.Fatalf("%s: entry %d is %v/%d fields, model %v/%d", what, i, got[i].ID, len(got[i].Fields), want[i].id, len(want[i].fv))
		}
		for j := range got[i].Fields {
			if !bytes.Equal(got[i].Fields[j], want[i].fv[j]) {
				tb.Fatalf("%s: entry %v field %d %q, model %q", what, got[i].ID, j, got[i].Fields[j], want[i].fv[j])
			}
		}
	}
}

func collect(it *Iterator, count int) []Entry {
	var out []Entry
	for it.Next() {
		e := it.Entry()
		f := make([][]byte, len(e.Fields))
		copy(f, e.Fields)
		out = append(out, Entry{ID: e.ID, Fields: f})
		if count > 0 && len(out) == count {
			break
		}
	}
	return out
}

// TestModelRandom compares the node store with the sorted-slice model over
// random appends (same and different field sets, every value size class),
// deletes, exact and approximate trims, ranges in both directions, lookups
// and copies, checking the invariants after every operation.
func TestModelRandom(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewSource(seed))
	for round := 0; round < 4; round++ {
		s := New()
		m := &model{}
		lim := Limits{MaxEntries: []int64{0, 1, 3, 10, 100}[r.Intn(5)], MaxBytes: []int64{0, 50, 500, 4096}[r.Intn(4)]}
		next := ID{uint64(r.Intn(3)), uint64(r.Intn(3)) + 1}
		var it Iterator
		for op := 0; op < 3000; op++ {
			switch k := r.Intn(100); {
			case k < 60:
				kv := randFields(r)
				f := fv(kv...)
				if err := s.Append(next, f, lim); err != nil {
					t.Fatal(err)
				}
				m.entries = append(m.entries, modelEntry{next, f})
				m.lastID = next
				switch r.Intn(5) {
				case 0:
					next = ID{next.Ms + uint64(r.Int63n(1<<40)) + 1, uint64(r.Int63())}
				case 1:
					next.Seq += uint64(r.Intn(1000)) + 1
				default:
					next = ID{next.Ms + uint64(r.Intn(3)) + 1, uint64(r.Intn(5))}
				}
			case k < 70:
				var id ID
				if len(m.entries) > 0 && r.Intn(4) > 0 {
					id = m.entries[r.Intn(len(m.entries))].id
				} else {
					id = ID{uint64(r.Intn(int(next.Ms) + 1)), uint64(r.Intn(3))}
				}
				i := m.find(id)
				want := i < len(m.entries) && m.entries[i].id == id
				if got := s.Delete(id); got != want {
					t.Fatalf("Delete(%v) = %v, model %v", id, got, want)
				}
				if want {
					m.entries = append(m.entries[:i], m.entries[i+1:]...)
					if m.maxDel.Less(id) {
						m.maxDel = id
					}
				}
			case k < 75:
				tr := Trim{Approx: r.Intn(2) == 0, MinID: r.Intn(2) == 0}
				if tr.Approx {
					tr.Limit = int64(r.Intn(200))
				}
				if tr.MinID {
					if len(m.entries) > 0 {
						tr.Min = m.entries[r.Intn(len(m.entries)/4+1)].id
					}
				} else {
					tr.MaxLen = max(0, int64(len(m.entries))-int64(r.Intn(40)))
				}
				before := len(m.entries)
				n := s.Trim(tr)
				// The deleted entries are a prefix of the live ones.
				var want int
				if tr.MinID {
					want = m.find(tr.Min)
				} else {
					want = max(0, before-int(tr.MaxLen))
				}
				if !tr.Approx && int(n) != want || tr.Approx && (int(n) > want || tr.Limit > 0 && n > tr.Limit) {
					t.Fatalf("Trim %+v deleted %d, model %d (of %d)", tr, n, want, before)
				}
				m.entries = m.entries[n:]
				if s.Len() != int64(len(m.entries)) {
					t.Fatalf("Trim: len %d, model %d", s.Len(), len(m.entries))
				}
			case k < 90:
				a := ID{uint64(r.Intn(int(next.Ms) + 2)), uint64(r.Intn(4))}
				b := ID{uint64(r.Intn(int(next.Ms) + 2)), uint64(r.Intn(4))}
				if r.Intn(5) == 0 {
					a, b = MinID, MaxID
				}
				rev, count := r.Intn(2) == 0, r.Intn(5)
				s.RangeInto(&it, a, b, rev)
				sameEntries(t, "range", collect(&it, count), m.rng(a, b, rev, count))
			case k < 96:
				var id ID
				if len(m.entries) > 0 {
					id = m.entries[r.Intn(len(m.entries))].id
				}
				e, ok := s.Lookup(id, nil)
				i := m.find(id)
				want := i < len(m.entries) && m.entries[i].id == id
				if ok != want {
					t.Fatalf("Lookup(%v) = %v, model %v", id, ok, want)
				}
				if ok {
					sameEntries(t, "lookup", []Entry{e}, m.entries[i:i+1])
				}
				last, ok := s.Last(nil)
				if ok != (len(m.entries) > 0) || ok && last.ID != m.entries[len(m.entries)-1].id {
					t.Fatalf("Last = %v %v", last.ID, ok)
				}
			default:
				d := s.Dup().(*Stream)
				s.RangeInto(&it, MinID, MaxID, false)
				sameEntries(t, "dup", collect(d.Range(MinID, MaxID, false), 0), m.entries)
				if d.Nodes() != s.Nodes() || d.Len() != s.Len() {
					t.Fatalf("dup layout %d/%d, original %d/%d", d.Nodes(), d.Len(), s.Nodes(), s.Len())
				}
				check(t, d)
				lim = Limits{MaxEntries: []int64{0, 1, 3, 10, 100}[r.Intn(5)], MaxBytes: []int64{0, 50, 500, 4096}[r.Intn(4)]}
			}
			check(t, s)
			first := ID{}
			if len(m.entries) > 0 {
				first = m.entries[0].id
			}
			if s.Len() != int64(len(m.entries)) || s.FirstID() != first || s.LastID() != m.lastID || s.MaxDeletedID() != m.maxDel {
				t.Fatalf("op %d: len %d first %v last %v maxdel %v; model %d %v %v %v", op,
					s.Len(), s.FirstID(), s.LastID(), s.MaxDeletedID(), len(m.entries), first, m.lastID, m.maxDel)
			}
		}
		t.Logf("round %d (limits %+v): %d entries in %d nodes", round, lim, s.Len(), s.Nodes())
	}
}

func TestAppendTooLarge(t *testing.T) {
	s := New()
	big := make([]byte, 1<<29+1)
	f := [][]byte{[]byte("f"), big, []byte("g"), big}
	if err := s.Append(ID{1, 0}, f, defLimits); err != ErrTooLarge {
		t.Fatalf("err %v", err)
	}
	if CheckSize(f) != ErrTooLarge || CheckSize(fv("a", "b")) != nil {
		t.Fatalf("CheckSize")
	}
	if s.Len() != 0 {
		t.Fatalf("len %d", s.Len())
	}
}

func TestSetID(t *testing.T) {
	// "XADD can CREATE an empty stream" then XSETID lowering on empty.
	s := New()
	add(t, s, ID{1, 0})
	s.Trim(Trim{MaxLen: 0})
	if err := s.SetID(ID{200, 0}, -1, nil); err != nil || s.LastID() != (ID{200, 0}) || s.EntriesAdded() != 1 {
		t.Fatalf("XSETID 200-0: %v %v %d", err, s.LastID(), s.EntriesAdded())
	}
	if err := s.SetID(ID{0, 0}, -1, nil); err != nil || !s.LastID().IsZero() {
		t.Fatalf("XSETID 0-0 on empty: %v %v", err, s.LastID())
	}
	// The top item.
	s = New()
	add(t, s, ID{5, 0})
	if err := s.SetID(ID{1, 1}, -1, nil); err != ErrSetIDSmall {
		t.Fatalf("smaller than top: %v", err)
	}
	// Given max deleted ID above the new last ID.
	md := ID{6, 0}
	if err := s.SetID(ID{5, 0}, 1, &md); err != ErrSetIDMaxDel {
		t.Fatalf("given maxdel: %v", err)
	}
	// entries_added below the length.
	zero := ID{}
	if err := s.SetID(ID{5, 0}, 0, &zero); err != ErrSetIDEntries {
		t.Fatalf("entries_added: %v", err)
	}
	// The current max deleted ID (7.2+): "XSETID cannot set smaller ID than current MAXDELETEDID".
	s = New()
	add(t, s, ID{1, 1})
	add(t, s, ID{1, 2})
	add(t, s, ID{1, 3})
	s.Delete(ID{1, 2})
	s.Delete(ID{1, 3})
	if s.MaxDeletedID() != (ID{1, 3}) {
		t.Fatalf("maxdel %v", s.MaxDeletedID())
	}
	if err := s.SetID(ID{1, 2}, -1, nil); err != ErrSetIDCurDel {
		t.Fatalf("current maxdel: %v", err)
	}
	// All options at once; 0-0 as max deleted changes nothing.
	if err := s.SetID(ID{9, 0}, 42, &zero); err != nil || s.EntriesAdded() != 42 || s.MaxDeletedID() != (ID{1, 3}) {
		t.Fatalf("options: %v %d %v", err, s.EntriesAdded(), s.MaxDeletedID())
	}
	md = ID{8, 0}
	if err := s.SetID(ID{9, 0}, -1, &md); err != nil || s.MaxDeletedID() != md {
		t.Fatalf("maxdel set: %v %v", err, s.MaxDeletedID())
	}
	check(t, s)
}
