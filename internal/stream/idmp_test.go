package stream

import (
	"bytes"
	"testing"
)

func TestIDMP(t *testing.T) {
	s := New()
	p1, p2 := []byte("p1"), []byte("p2")
	if _, ok := s.IDMPLookup(p1, []byte("a"), 0); ok {
		t.Fatalf("lookup on a fresh stream")
	}
	s.IDMPRecord(p1, []byte("a"), ID{1, 0}, 1000)
	s.IDMPRecord(p2, []byte("a"), ID{2, 0}, 1000)
	if id, ok := s.IDMPLookup(p1, []byte("a"), 1000); !ok || id != (ID{1, 0}) {
		t.Fatalf("p1 a: %v %v", id, ok)
	}
	if id, ok := s.IDMPLookup(p2, []byte("a"), 1000); !ok || id != (ID{2, 0}) {
		t.Fatalf("producers are isolated: %v %v", id, ok)
	}
	s.IDMPDuplicate()
	if pids, iids, added, dups := s.IDMPStats(); pids != 2 || iids != 2 || added != 2 || dups != 1 {
		t.Fatalf("stats %d %d %d %d", pids, iids, added, dups)
	}
	// Duration (default 100 s) is judged at the time passed in: an iid
	// recorded at 1000 is forgotten from 101000 on.
	if _, ok := s.IDMPLookup(p1, []byte("a"), 100999); !ok {
		t.Fatalf("expired early")
	}
	if _, ok := s.IDMPLookup(p1, []byte("a"), 101000); ok {
		t.Fatalf("not expired")
	}
	if pids, iids, _, _ := s.IDMPStats(); pids != 1 || iids != 1 {
		t.Fatalf("after expiry: pids %d iids %d", pids, iids)
	}
	// XCFGSET: a change clears the history (not the lifetime counters);
	// the same values keep it.
	s.SetIDMP(IDMPConfig{Duration: 100, MaxSize: 100})
	if _, iids, _, _ := s.IDMPStats(); iids != 1 {
		t.Fatalf("same values cleared the history")
	}
	if c, ok := s.IDMP(); !ok || c != (IDMPConfig{100, 100}) {
		t.Fatalf("IDMP() %v %v", c, ok)
	}
	s.SetIDMP(IDMPConfig{Duration: 60, MaxSize: 8})
	if pids, iids, added, dups := s.IDMPStats(); pids != 0 || iids != 0 || added != 2 || dups != 1 {
		t.Fatalf("after change: %d %d %d %d", pids, iids, added, dups)
	}
	// "XCFGSET IDMP-MAXSIZE wraparound keeps last 8 entries": oldest first.
	for i := 1; i <= 100; i++ {
		s.IDMPRecord(p1, []byte("req-"+itoa(i)), ID{uint64(i), 0}, 2000)
	}
	for i := 1; i <= 100; i++ {
		_, ok := s.IDMPLookup(p1, []byte("req-"+itoa(i)), 2000)
		if ok != (i > 92) {
			t.Fatalf("req-%d tracked %v", i, ok)
		}
	}
	if _, iids, added, _ := s.IDMPStats(); iids != 8 || added != 102 {
		t.Fatalf("iids %d added %d", iids, added)
	}
	// The server default applies to a stream never configured.
	s = New()
	def := IDMPConfig{Duration: 1, MaxSize: 2}
	for i := 0; i < 3; i++ {
		s.IDMPRecordWith(p1, []byte{byte(i)}, ID{uint64(i + 1), 0}, 0, def)
	}
	if _, ok := s.IDMPLookupWith(p1, []byte{0}, 0, def); ok {
		t.Fatalf("maxsize from the default")
	}
	if _, ok := s.IDMPLookupWith(p1, []byte{2}, 999, def); !ok {
		t.Fatalf("expired before 1 s")
	}
	if _, ok := s.IDMPLookupWith(p1, []byte{2}, 1000, def); ok {
		t.Fatalf("not expired after 1 s")
	}
	s.SetIDMPWith(def, def)
	if c, ok := s.IDMP(); !ok || c != def {
		t.Fatalf("SetIDMPWith")
	}
}

func TestIDMPAutoID(t *testing.T) {
	a := IDMPAutoID(fv("field1", "a", "field2", "b", "field3", "c"))
	b := IDMPAutoID(fv("field2", "b", "field3", "c", "field1", "a"))
	if !bytes.Equal(a, b) || len(a) != 32 {
		t.Fatalf("order matters: %x %x", a, b)
	}
	for _, other := range [][][]byte{
		fv("field3", "c", "field1", "x", "field2", "b"),
		fv("field1", "a", "field2", "b"),
		fv("field1", "a", "field2", "b", "field3", "c", "field1", "a"),
		fv("field1a", "", "field2", "b", "field3", "c"),
		fv("f", "ield1a", "field2", "b", "field3", "c"),
	} {
		if bytes.Equal(a, IDMPAutoID(other)) {
			t.Fatalf("collision with %q", other)
		}
	}
	if bytes.Equal(IDMPAutoID(fv("field1", "value")), IDMPAutoID(fv("field2", "value"))) {
		t.Fatalf("field names do not count")
	}
	if !bytes.Equal(IDMPAutoID(fv("f", "")), IDMPAutoID(fv("f", ""))) {
		t.Fatalf("not deterministic")
	}
	dst := []byte("x")
	if got := AppendIDMPAutoID(dst, fv("f", "v")); !bytes.Equal(got[1:], IDMPAutoID(fv("f", "v"))) || got[0] != 'x' {
		t.Fatalf("AppendIDMPAutoID")
	}
}
