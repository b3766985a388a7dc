package stream

import (
	"strings"
	"testing"

	"github.com/runnel-io/runnel/internal/redistest"
)

const u64max = "18446744073709551615"

// idCases are spec §2.1's parsing rules; every one was checked against
// redis-server 7.0.15 (TestParseIDAgainstRedis repeats that).
var idCases = []struct {
	in   string
	want string // "" when invalid
}{
	{"0", "0-0"},
	{"5", "5-0"},
	{"5-3", "5-3"},
	{"007", "7-0"},
	{"+8", "8-0"},
	{"10-+3", "10-3"},
	{"10-03", "10-3"},
	{" 9", "9-0"},
	{"\t3", "3-0"},
	{"\n3", "3-0"},
	{"\v3", "3-0"},
	{"\f3", "3-0"},
	{"\r3", "3-0"},
	{" +5", "5-0"},
	{"1- 7", "1-7"},
	{"1-\t7", "1-7"},
	{"5-+0", "5-0"},
	{"1--0", "1-0"},                     // strtoull("-0")
	{"1- -5", "1-18446744073709551611"}, // strtoull negates modulo 2^64
	{"1--" + u64max, "1-1"},             // likewise
	{u64max, u64max + "-0"},             // above LLONG_MAX: strtoull
	{"1-9223372036854775808", "1-9223372036854775808"},
	{"000000000000000000000000005", "5-0"}, // too long for string2ll
	{"1-00000000000000000000000000000009", "1-9"},
	{"3\x00junk", "3-0"}, // C string: the NUL ends it
	{"9 ", ""},
	{"0x10", ""},
	{"-1", ""},
	{"1--5", ""}, // string2ll accepts -5: out of range
	{"1--18446744073709551616", ""},
	{"18446744073709551616", ""},
	{"1-2-3", ""},
	{"12-", ""},
	{"-12", ""},
	{"", ""},
	{" ", ""},
	{"+", ""}, // strict; non-strict it is MaxID
	{"+-1", ""},
	{"+ 5", ""},
	{"1-+", ""},
	{"1-*", ""},
	{"abc", ""},
	{"1-abc", ""},
	{"1.5", ""},
	{"\x00", ""},
}

func TestParseID(t *testing.T) {
	for _, c := range idCases {
		id, ok := ParseID([]byte(c.in), 0, true)
		got := ""
		if ok {
			got = id.String()
		}
		if got != c.want {
			t.Errorf("ParseID(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// Length: 127 bytes parse, 128 do not (Redis's char buf[128]).
	long := "1-" + strings.Repeat("0", 125)
	if _, ok := ParseID([]byte(long), 0, true); !ok {
		t.Errorf("127-byte ID rejected")
	}
	if _, ok := ParseID([]byte(long+"0"), 0, true); ok {
		t.Errorf("128-byte ID accepted")
	}
	// Missing seq and the special forms.
	for _, c := range []struct {
		in      string
		missing uint64
		strict  bool
		want    ID
		ok      bool
	}{
		{"5", ^uint64(0), false, ID{5, ^uint64(0)}, true},
		{"5", 0, false, ID{5, 0}, true},
		{"-", 0, false, MinID, true},
		{"+", 0, false, MaxID, true},
		{"-", 0, true, ID{}, false},
		{"+", 0, true, ID{}, false},
		{"+\x00x", 0, false, MaxID, true},
		{"--", 0, false, ID{}, false},
		{"5-*", 0, false, ID{}, false},
	} {
		id, ok := ParseID([]byte(c.in), c.missing, c.strict)
		if ok != c.ok || ok && id != c.want {
			t.Errorf("ParseID(%q, %d, %v) = %v %v, want %v %v", c.in, c.missing, c.strict, id, ok, c.want, c.ok)
		}
	}
}

func TestParseIDSeqAuto(t *testing.T) {
	for _, c := range []struct {
		in       string
		want     ID
		auto, ok bool
	}{
		{"5-*", ID{5, 0}, true, true},
		{"0-*", ID{0, 0}, true, true},
		{"5-3", ID{5, 3}, false, true},
		{"5", ID{5, 0}, false, true},
		{"*", ID{}, false, false},
		{"-*", ID{}, false, false},
		{"5-**", ID{}, false, false},
		{"+", ID{}, false, false},
		{"-", ID{}, false, false},
		{" 5-*", ID{5, 0}, true, true},
	} {
		id, auto, ok := ParseIDSeqAuto([]byte(c.in))
		if ok != c.ok || auto != c.auto || ok && id != c.want {
			t.Errorf("ParseIDSeqAuto(%q) = %v %v %v, want %v %v %v", c.in, id, auto, ok, c.want, c.auto, c.ok)
		}
	}
}

func TestParseIDNoAlloc(t *testing.T) {
	in := []byte("1526919030474-55")
	if n := testing.AllocsPerRun(100, func() { ParseID(in, 0, true) }); n != 0 {
		t.Errorf("ParseID allocates %v", n)
	}
}

// TestParseIDAgainstRedis sends every case to redis-server as an XADD ID
// (strict) and checks that it accepts and stores the same ID.
func TestParseIDAgainstRedis(t *testing.T) {
	r := redistest.StartRedis(t)
	c := r.Dial(t)
	for _, tc := range idCases {
		if tc.in == "1-*" {
			continue // XADD's "<ms>-*" form (ParseIDSeqAuto)
		}
		c.Do("DEL", "k")
		v := c.DoValue("XADD", "k", tc.in, "f", "v")
		got := ""
		if !v.IsError() {
			got = v.Str
		} else if tc.in == "0" {
			got = "0-0" // XADD refuses 0-0 itself; the parse succeeded
		}
		if got != tc.want {
			t.Errorf("redis XADD %q: %q (%s), table says %q", tc.in, got, v.Str, tc.want)
		}
	}
}

func TestIDArithmetic(t *testing.T) {
	if id, ok := (ID{1, ^uint64(0)}).Incr(); !ok || id != (ID{2, 0}) {
		t.Errorf("Incr over seq: %v %v", id, ok)
	}
	if _, ok := MaxID.Incr(); ok {
		t.Errorf("Incr(MaxID) ok")
	}
	if id, ok := (ID{2, 0}).Decr(); !ok || id != (ID{1, ^uint64(0)}) {
		t.Errorf("Decr under seq: %v %v", id, ok)
	}
	if _, ok := MinID.Decr(); ok {
		t.Errorf("Decr(0-0) ok")
	}
	if (ID{1, 2}).String() != "1-2" || MaxID.String() != u64max+"-"+u64max {
		t.Errorf("String")
	}
	if (ID{1, 2}).Compare(ID{1, 3}) != -1 || (ID{2, 0}).Compare(ID{1, 3}) != 1 || (ID{1, 3}).Compare(ID{1, 3}) != 0 {
		t.Errorf("Compare")
	}
}

func TestNextSeqCheckID(t *testing.T) {
	s := New()
	if id, _ := s.NextID(100); id != (ID{100, 0}) {
		t.Errorf("NextID on empty: %v", id)
	}
	if id, err := s.SeqID(0); err != nil || id != (ID{0, 1}) {
		t.Errorf(`"0-*" on empty: %v %v`, id, err)
	}
	add(t, s, ID{5, 7})
	for _, c := range []struct {
		now  uint64
		want ID
	}{{4, ID{5, 8}}, {5, ID{5, 8}}, {6, ID{6, 0}}} {
		if id, _ := s.NextID(c.now); id != c.want {
			t.Errorf("NextID(%d) = %v, want %v", c.now, id, c.want)
		}
	}
	if id, err := s.SeqID(5); err != nil || id != (ID{5, 8}) {
		t.Errorf("SeqID(5) = %v %v", id, err)
	}
	if id, err := s.SeqID(9); err != nil || id != (ID{9, 0}) {
		t.Errorf("SeqID(9) = %v %v", id, err)
	}
	if _, err := s.SeqID(4); err != ErrIDTooSmall {
		t.Errorf("SeqID(4): %v", err)
	}
	if s.CheckID(ID{5, 7}) != ErrIDTooSmall || s.CheckID(ID{5, 8}) != nil {
		t.Errorf("CheckID")
	}
	// After XDEL of the top item its ID still cannot be reused (§2.3).
	s.Delete(ID{5, 7})
	if s.CheckID(ID{5, 7}) != ErrIDTooSmall {
		t.Errorf("CheckID after XDEL")
	}
	// seq rollover: "*" after <ms>-UINT64_MAX gives (ms+1)-0 (test "XADD streamID edge").
	s = New()
	add(t, s, ID{2577343934890, ^uint64(0)})
	if id, _ := s.NextID(1); id != (ID{2577343934891, 0}) {
		t.Errorf("rollover: %v", id)
	}
	if _, err := s.SeqID(2577343934890); err != ErrIDTooSmall {
		t.Errorf(`"<ms>-*" at max seq: %v`, err)
	}
	add(t, s, MaxID)
	if _, err := s.NextID(1); err != ErrIDExhausted {
		t.Errorf("NextID exhausted: %v", err)
	}
	if err := s.CheckID(MaxID); err != ErrIDExhausted {
		t.Errorf("CheckID exhausted: %v", err)
	}
	if _, err := s.SeqID(1); err != ErrIDExhausted {
		t.Errorf("SeqID exhausted: %v", err)
	}
}
