package redistest

import (
	"strings"
	"testing"
)

func mustParse(t *testing.T, raw string) Value {
	t.Helper()
	v, err := Parse([]byte(raw))
	if err != nil {
		t.Fatalf("Parse(%q): %v", raw, err)
	}
	return v
}

func TestFields(t *testing.T) {
	resp2 := mustParse(t, "*6\r\n$4\r\nname\r\n$1\r\nc\r\n$7\r\npending\r\n:1\r\n$4\r\nidle\r\n:42\r\n")
	resp3 := mustParse(t, "%3\r\n$4\r\nname\r\n$1\r\nc\r\n$7\r\npending\r\n:1\r\n$4\r\nidle\r\n:42\r\n")
	for _, v := range []Value{resp2, resp3} {
		if i := FieldIndex(v, "idle"); i != 5 {
			t.Errorf("FieldIndex idle = %d, want 5", i)
		}
		if f, ok := Field(v, "pending"); !ok || f.Int != 1 {
			t.Errorf("Field pending = %v %v", f, ok)
		}
		if _, ok := Field(v, "nosuch"); ok {
			t.Error("Field nosuch found")
		}
		before := string(v.Encode())
		d, missing := DropFields(v, "pending", "nosuch")
		if len(missing) != 1 || missing[0] != "nosuch" {
			t.Errorf("missing = %q", missing)
		}
		if FieldIndex(d, "pending") >= 0 || FieldIndex(d, "idle") != 3 {
			t.Errorf("DropFields left %s", d)
		}
		if string(v.Encode()) != before {
			t.Error("DropFields modified its argument")
		}
	}
	// Not a field list: odd arrays, nulls, scalars.
	for _, raw := range []string{"*1\r\n$1\r\na\r\n", "*-1\r\n", ":1\r\n"} {
		v := mustParse(t, raw)
		if FieldIndex(v, "a") != -1 {
			t.Errorf("FieldIndex on %q", raw)
		}
		if d, _ := DropFields(v, "a"); !d.Equal(v) {
			t.Errorf("DropFields changed %q", raw)
		}
	}
}

func TestClone(t *testing.T) {
	v := mustParse(t, "*2\r\n*1\r\n:1\r\n$1\r\na\r\n")
	c := v.Clone()
	c.Elems[0].Elems[0].Int = 7
	if v.Elems[0].Elems[0].Int != 1 {
		t.Error("Clone shares nested elements")
	}
}

func TestCompareMasked(t *testing.T) {
	// [id, consumer, idle, count] rows, as XPENDING sends them.
	mask := func(v Value) (Value, []int64) {
		var times []int64
		for i := range v.Elems {
			times = MaskInt(&v.Elems[i].Elems[2], times)
		}
		return v, times
	}
	row := func(idle, count string) string {
		return "*4\r\n$3\r\n1-1\r\n$1\r\nc\r\n:" + idle + "\r\n:" + count + "\r\n"
	}
	cmp := CompareMasked(mask, 100)
	for _, tc := range []struct {
		r, s, err string
	}{
		{r: row("1000", "1"), s: row("1050", "1")},
		{r: row("1000", "1"), s: row("1200", "1"), err: "more than 100 apart"},
		{r: row("1000", "2"), s: row("1000", "1"), err: "with time values masked"},
		{r: row("-1", "1"), s: row("0", "1"), err: "runnel -1, redis 0"},
	} {
		r, s := mustParse(t, "*1\r\n"+tc.r), mustParse(t, "*1\r\n"+tc.s)
		rb := string(r.Encode())
		err := cmp(r, s)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q vs %q: %v", tc.r, tc.s, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q vs %q: got %v, want %q", tc.r, tc.s, err, tc.err)
		}
		if string(r.Encode()) != rb {
			t.Error("CompareMasked modified its argument")
		}
	}
}
