package redistest

// Helpers for replies that carry named fields (XINFO, HELLO, CONFIG GET):
// a RESP3 map, or in RESP2 a flat array of alternating names and values.
// And a comparison for replies with time-dependent integers.

import (
	"fmt"
	"slices"
)

// Clone returns a deep copy of v, so that a normaliser or comparison can
// change it without touching the reply a failure message prints.
func (v Value) Clone() Value {
	if v.Attr != nil {
		a := v.Attr.Clone()
		v.Attr = &a
	}
	if v.Elems != nil {
		elems := make([]Value, len(v.Elems))
		for i, e := range v.Elems {
			elems[i] = e.Clone()
		}
		v.Elems = elems
	}
	return v
}

// isFieldList reports whether v can hold name/value pairs: a map, or a
// non-null array of even length.
func isFieldList(v Value) bool {
	switch {
	case v.Kind == KindMap:
		return true
	case v.Kind == KindArray && !v.Null:
		return len(v.Elems)%2 == 0
	}
	return false
}

// FieldIndex returns the index in v.Elems of the value of the field name
// (matched as a bulk or simple string) of a map or flat name/value array,
// or -1 if v has no such field.
func FieldIndex(v Value, name string) int {
	if !isFieldList(v) {
		return -1
	}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		k := v.Elems[i]
		if (k.Kind == KindBulk || k.Kind == KindSimple) && !k.Null && k.Str == name {
			return i + 1
		}
	}
	return -1
}

// Field returns the value of the field name of a map or flat name/value
// array.
func Field(v Value, name string) (Value, bool) {
	if i := FieldIndex(v, name); i >= 0 {
		return v.Elems[i], true
	}
	return Value{}, false
}

// DropFields returns v without the given fields (name and value), for a
// map or a flat name/value array; anything else is returned unchanged. It
// also returns the names it did not find. v itself is not modified.
func DropFields(v Value, names ...string) (Value, []string) {
	if !isFieldList(v) {
		return v, names
	}
	var found []string
	out := make([]Value, 0, len(v.Elems))
	for i := 0; i+1 < len(v.Elems); i += 2 {
		k := v.Elems[i]
		if (k.Kind == KindBulk || k.Kind == KindSimple) && !k.Null && slices.Contains(names, k.Str) {
			found = append(found, k.Str)
			continue
		}
		out = append(out, v.Elems[i], v.Elems[i+1])
	}
	v.Elems = out
	var missing []string
	for _, n := range names {
		if !slices.Contains(found, n) {
			missing = append(missing, n)
		}
	}
	return v, missing
}

// A Masker replaces the time-dependent integers of a reply (idle times,
// delivery timestamps) with zero and returns them, in a fixed order. It
// may modify v: CompareMasked passes it a copy.
type Masker func(v Value) (Value, []int64)

// CompareMasked returns a Comparison for replies with time-dependent
// integers: after mask, the replies must be byte-identical and the masked
// integers pairwise within tol of each other. Negative masked integers
// (-1 for "never") must be equal.
func CompareMasked(mask Masker, tol int64) Comparison {
	return func(r, s Value) error {
		mr, rt := mask(r.Clone())
		ms, st := mask(s.Clone())
		if err := CompareExact(mr, ms); err != nil {
			return fmt.Errorf("with time values masked, %w", err)
		}
		if len(rt) != len(st) {
			return fmt.Errorf("masked %d time values in runnel's reply, %d in redis's", len(rt), len(st))
		}
		for i := range rt {
			a, b := rt[i], st[i]
			if (a < 0 || b < 0) && a != b {
				return fmt.Errorf("time value %d: runnel %d, redis %d", i, a, b)
			}
			if d := a - b; d < -tol || d > tol {
				return fmt.Errorf("time value %d: runnel %d, redis %d: more than %d apart", i, a, b, tol)
			}
		}
		return nil
	}
}

// MaskInt replaces *v, if it is an integer, with 0 and appends its value
// to times; a Masker's building block. Anything else is left for the
// comparison to report.
func MaskInt(v *Value, times []int64) []int64 {
	if v.Kind != KindInt {
		return times
	}
	times = append(times, v.Int)
	v.Int = 0
	return times
}
