package redistest

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Pair sends every command to Runnel and to Redis over one connection each
// and compares the replies. A mismatch is reported with tb.Errorf (the test
// goes on, so one run shows every divergence); broken connections and
// malformed replies are fatal, because the stream cannot be trusted after
// them. Methods report whether the replies matched, so a test can stop
// early when later steps depend on an earlier one.
//
// A Pair belongs to one test: create it inside the subtest that uses it.
type Pair struct {
	Runnel *Conn // connection to the server under test
	Redis  *Conn // connection to the reference redis-server

	tb          testing.TB
	normalizers []func(Value) Value
}

// A Comparison decides whether two parsed replies agree; it returns nil if
// they do and otherwise an error saying where they differ. Replies reach it
// after the Pair's normalisers have been applied.
type Comparison func(runnel, redis Value) error

// NewPair connects to both servers. With proto 3 it sends HELLO 3 on both
// connections and requires identical replies apart from the connection id
// and the version (Runnel reports the newer release whose stream surface it
// implements; the connection tests check it); with proto 2 the connections
// stay in the default RESP2.
func NewPair(tb testing.TB, runnelAddr, redisAddr string, proto int) *Pair {
	tb.Helper()
	p := &Pair{tb: tb, Runnel: Dial(tb, runnelAddr), Redis: Dial(tb, redisAddr)}
	p.Runnel.name = "runnel " + runnelAddr
	p.Redis.name = "redis " + redisAddr
	switch proto {
	case 2:
	case 3:
		args := []string{"HELLO", "3"}
		rr, rv, sr, sv := p.exchange(args)
		drop := DropMapKeys("id", "version")
		ignoreID := func(r, s Value) error { return CompareExact(drop(r), drop(s)) }
		if msg := p.check(ignoreID, FormatCommand(args), rr, rv, sr, sv); msg != "" {
			tb.Fatal(msg)
		}
	default:
		tb.Fatalf("redistest: NewPair: proto must be 2 or 3, not %d", proto)
	}
	return p
}

// Normalize adds a function applied to both parsed replies before every
// comparison, e.g. DropMapKeys("id") or a function that blanks out a
// timestamp. By default nothing is normalised.
func (p *Pair) Normalize(fn func(Value) Value) {
	p.normalizers = append(p.normalizers, fn)
}

// Do requires byte-identical replies.
func (p *Pair) Do(args ...string) bool {
	p.tb.Helper()
	return p.DoMatch(CompareExact, args...)
}

// DoSorted is Do for commands whose reply order is unspecified (KEYS,
// SMEMBERS, HGETALL in RESP3, SCAN...): see CompareSorted.
func (p *Pair) DoSorted(args ...string) bool {
	p.tb.Helper()
	return p.DoMatch(CompareSorted, args...)
}

// DoLoosely requires only the same reply shape (types, nulls, element
// counts), for random or time-dependent values: see CompareLoosely.
func (p *Pair) DoLoosely(args ...string) bool {
	p.tb.Helper()
	return p.DoMatch(CompareLoosely, args...)
}

// DoError requires both servers to reply with the same error. Do already
// checks that; DoError also fails if the command unexpectedly succeeds on
// both, and it says what the test expects.
func (p *Pair) DoError(args ...string) bool {
	p.tb.Helper()
	return p.DoMatch(func(r, s Value) error {
		switch {
		case !r.IsError() && !s.IsError():
			return fmt.Errorf("expected an error from both, got %s from runnel and %s from redis", summary(r), summary(s))
		case !r.IsError():
			return fmt.Errorf("expected an error, runnel sent %s", summary(r))
		case !s.IsError():
			return fmt.Errorf("expected an error, redis sent %s", summary(s))
		}
		return CompareExact(r, s)
	}, args...)
}

// DoMatch sends the command and compares the replies with fn.
func (p *Pair) DoMatch(fn Comparison, args ...string) bool {
	p.tb.Helper()
	rr, rv, sr, sv := p.exchange(args)
	return p.report(fn, FormatCommand(args), rr, rv, sr, sv)
}

// WriteRaw sends raw to both servers without reading anything, e.g. input
// that legitimately produces no reply.
func (p *Pair) WriteRaw(raw []byte) {
	p.tb.Helper()
	p.Runnel.WriteRaw(raw)
	p.Redis.WriteRaw(raw)
}

// DoRaw sends raw unchanged to both servers and requires byte-identical
// replies. It reads one reply; use Receive for the rest of a pipeline.
func (p *Pair) DoRaw(raw []byte) bool {
	p.tb.Helper()
	p.WriteRaw(raw)
	return p.Receive()
}

// DoRawExpectClose is DoRaw for protocol errors: after the (identical)
// replies, both servers must close the connection.
func (p *Pair) DoRawExpectClose(raw []byte) bool {
	p.tb.Helper()
	ok := p.DoRaw(raw)
	desc := "raw " + strconv.Quote(string(clip(raw)))
	for _, c := range []*Conn{p.Runnel, p.Redis} {
		if err := c.waitClosed(c.Timeout); err != nil {
			p.tb.Errorf("redistest: after %s, %s: %v", desc, c.name, err)
			ok = false
		}
	}
	return ok
}

// Receive reads one more reply from each server, e.g. a pub/sub message or
// the next reply of a pipeline, and requires them to be byte-identical.
func (p *Pair) Receive() bool {
	p.tb.Helper()
	return p.ReceiveMatch(CompareExact)
}

// ReceiveMatch is Receive with a custom comparison.
func (p *Pair) ReceiveMatch(fn Comparison) bool {
	p.tb.Helper()
	rr, rv := p.Runnel.readReply(p.Runnel.Timeout)
	sr, sv := p.Redis.readReply(p.Redis.Timeout)
	return p.report(fn, "(next reply after "+p.Redis.lastCmd+")", rr, rv, sr, sv)
}

// ExpectSilence requires that neither server sends anything within d, e.g.
// that a message on an unsubscribed channel is not delivered.
func (p *Pair) ExpectSilence(d time.Duration) bool {
	p.tb.Helper()
	ok := true
	for _, c := range []*Conn{p.Runnel, p.Redis} {
		if raw, got := c.ReadReplyTimeout(d); got {
			p.tb.Errorf("redistest: %s: expected no reply after %s, got %s", c.name, c.lastCmd, quoteClip(raw))
			ok = false
		}
	}
	return ok
}

// FlushAll sends FLUSHALL on both connections, failing the test unless both
// reply +OK.
func (p *Pair) FlushAll() {
	p.tb.Helper()
	for _, c := range []*Conn{p.Runnel, p.Redis} {
		if got := c.Do("FLUSHALL"); string(got) != "+OK\r\n" {
			p.tb.Fatalf("redistest: %s: FLUSHALL replied %q", c.name, got)
		}
	}
}

// Close closes both connections before the test ends.
func (p *Pair) Close() {
	p.Runnel.Close()
	p.Redis.Close()
}

// exchange sends the command to both servers before reading either reply,
// so that neither server waits for the other.
func (p *Pair) exchange(args []string) (rr []byte, rv Value, sr []byte, sv Value) {
	p.tb.Helper()
	cmd, desc := Command(args...), FormatCommand(args)
	p.Runnel.send(cmd, desc)
	p.Redis.send(cmd, desc)
	rr, rv = p.Runnel.readReply(p.Runnel.Timeout)
	sr, sv = p.Redis.readReply(p.Redis.Timeout)
	return rr, rv, sr, sv
}

func (p *Pair) report(fn Comparison, desc string, rr []byte, rv Value, sr []byte, sv Value) bool {
	p.tb.Helper()
	if msg := p.check(fn, desc, rr, rv, sr, sv); msg != "" {
		p.tb.Error(msg)
		return false
	}
	return true
}

// check returns "" if the replies agree, else the failure message.
func (p *Pair) check(fn Comparison, desc string, rr []byte, rv Value, sr []byte, sv Value) string {
	for _, n := range p.normalizers {
		rv, sv = n(rv), n(sv)
	}
	err := fn(rv, sv)
	if err == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "redistest: replies differ for: %s\n", desc)
	fmt.Fprintf(&b, "%v\n", err)
	fmt.Fprintf(&b, "runnel raw: %s\n", quoteClip(rr))
	fmt.Fprintf(&b, "redis  raw: %s\n", quoteClip(sr))
	parsed := "parsed"
	if len(p.normalizers) > 0 {
		parsed = "normalised"
	}
	fmt.Fprintf(&b, "runnel %s:\n%s\n", parsed, indentClip(rv.String()))
	fmt.Fprintf(&b, "redis %s:\n%s", parsed, indentClip(sv.String()))
	return b.String()
}

// CompareExact requires identical encodings and reports the first place
// where the trees differ.
func CompareExact(r, s Value) error {
	if bytes.Equal(r.Encode(), s.Encode()) {
		return nil
	}
	return fmt.Errorf("%s", firstDiff(r, s, "reply"))
}

// CompareSorted compares after sorting the elements of a top-level array,
// set or push, and the pairs of a top-level map. A two-element array whose
// first element is a bulk string and second an array or set is taken to be
// a SCAN-style [cursor, elements] reply: the cursor must match exactly and
// the inner elements are sorted instead. Nested aggregates are not sorted.
func CompareSorted(r, s Value) error {
	if err := CompareExact(SortReply(r), SortReply(s)); err != nil {
		return fmt.Errorf("after sorting, %w", err)
	}
	return nil
}

// SortReply returns v with its top-level elements sorted as CompareSorted
// describes; v itself is not modified.
func SortReply(v Value) Value {
	if v.Null {
		return v
	}
	switch v.Kind {
	case KindArray, KindSet, KindPush:
		if len(v.Elems) == 2 && v.Elems[0].Kind == KindBulk && !v.Elems[0].Null &&
			(v.Elems[1].Kind == KindArray || v.Elems[1].Kind == KindSet) {
			v.Elems = slices.Clone(v.Elems)
			v.Elems[1].Elems = sortedElems(v.Elems[1].Elems, 1)
			return v
		}
		v.Elems = sortedElems(v.Elems, 1)
	case KindMap:
		v.Elems = sortedElems(v.Elems, 2)
	}
	return v
}

// sortedElems sorts groups of size elements (1, or 2 for map pairs) by
// their encoding, returning a new slice.
func sortedElems(elems []Value, size int) []Value {
	type group struct {
		key  []byte
		vals []Value
	}
	groups := make([]group, 0, len(elems)/size)
	for i := 0; i+size <= len(elems); i += size {
		var key []byte
		for _, e := range elems[i : i+size] {
			key = e.appendTo(key)
		}
		groups = append(groups, group{key, elems[i : i+size]})
	}
	slices.SortStableFunc(groups, func(a, b group) int { return bytes.Compare(a.key, b.key) })
	out := make([]Value, 0, len(elems))
	for _, g := range groups {
		out = append(out, g.vals...)
	}
	return out
}

// CompareLoosely requires the same shape: the same kind at every position,
// the same nulls and element counts, and the same verbatim formats and
// attributes' shapes; strings, numbers and error texts may differ.
func CompareLoosely(r, s Value) error {
	if d := shapeDiff(r, s, "reply"); d != "" {
		return fmt.Errorf("%s", d)
	}
	return nil
}

func shapeDiff(r, s Value, path string) string {
	switch {
	case (r.Attr == nil) != (s.Attr == nil):
		return fmt.Sprintf("at %s: attribute only on %s", path, onlyOn(r.Attr != nil))
	case r.Attr != nil:
		if d := shapeDiff(*r.Attr, *s.Attr, path+"(attribute)"); d != "" {
			return d
		}
	}
	if r.Kind != s.Kind || r.Null != s.Null || r.Format != s.Format {
		return fmt.Sprintf("at %s: runnel sent %s, redis sent %s", path, summary(r), summary(s))
	}
	if len(r.Elems) != len(s.Elems) {
		return fmt.Sprintf("at %s: runnel sent %s, redis sent %s", path, summary(r), summary(s))
	}
	for i := range r.Elems {
		if d := shapeDiff(r.Elems[i], s.Elems[i], elemPath(path, s, i)); d != "" {
			return d
		}
	}
	return ""
}

// firstDiff describes the first position where r and s differ.
func firstDiff(r, s Value, path string) string {
	if !attrEqual(r.Attr, s.Attr) {
		if r.Attr == nil || s.Attr == nil {
			return fmt.Sprintf("at %s: attribute only on %s", path, onlyOn(r.Attr != nil))
		}
		return firstDiff(*r.Attr, *s.Attr, path+"(attribute)")
	}
	if r.Kind != s.Kind || r.Null != s.Null || !r.IsAggregate() {
		return fmt.Sprintf("at %s: runnel sent %s, redis sent %s", path, summary(r), summary(s))
	}
	for i := range min(len(r.Elems), len(s.Elems)) {
		if !r.Elems[i].Equal(s.Elems[i]) {
			d := firstDiff(r.Elems[i], s.Elems[i], elemPath(path, s, i))
			if len(r.Elems) != len(s.Elems) {
				d = fmt.Sprintf("at %s: runnel sent %s, redis sent %s; first difference %s", path, summary(r), summary(s), d)
			}
			return d
		}
	}
	return fmt.Sprintf("at %s: runnel sent %s, redis sent %s", path, summary(r), summary(s))
}

func onlyOn(runnel bool) string {
	if runnel {
		return "runnel"
	}
	return "redis"
}

func attrEqual(a, b *Value) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// elemPath names element i of v: an index, or for maps the key.
func elemPath(path string, v Value, i int) string {
	if v.Kind != KindMap && v.Kind != KindAttribute {
		return fmt.Sprintf("%s[%d]", path, i)
	}
	k := v.Elems[i-i%2]
	name := summary(k)
	if k.Kind == KindBulk || k.Kind == KindSimple {
		name = strconv.Quote(k.Str)
	}
	if i%2 == 0 {
		return fmt.Sprintf("%s{key %s}", path, name)
	}
	return fmt.Sprintf("%s{%s}", path, name)
}

// summary is a one-line description of v.
func summary(v Value) string {
	if v.IsAggregate() && !v.Null {
		n := len(v.Elems)
		if v.Kind == KindMap || v.Kind == KindAttribute {
			n /= 2
		}
		return fmt.Sprintf("%s(%d)", KindName(v.Kind), n)
	}
	s := Value{Kind: v.Kind, Str: v.Str, Int: v.Int, Format: v.Format, Null: v.Null}.String()
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// DropMapKeys returns a normaliser that removes the given keys (matched as
// bulk or simple strings) from a top-level RESP3 map. Use it for fields that
// legitimately differ between servers, like HELLO's connection id.
func DropMapKeys(keys ...string) func(Value) Value {
	return func(v Value) Value {
		if v.Kind != KindMap {
			return v
		}
		out := make([]Value, 0, len(v.Elems))
		for i := 0; i+1 < len(v.Elems); i += 2 {
			k := v.Elems[i]
			if (k.Kind == KindBulk || k.Kind == KindSimple) && slices.Contains(keys, k.Str) {
				continue
			}
			out = append(out, v.Elems[i], v.Elems[i+1])
		}
		v.Elems = out
		return v
	}
}

// quoteClip quotes raw for a message, shortening very long replies.
func quoteClip(raw []byte) string {
	const n = 4096
	if len(raw) > n {
		return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(string(raw[:n])), len(raw))
	}
	return strconv.Quote(string(raw))
}

// indentClip indents a tree for a message, shortening very long ones.
func indentClip(s string) string {
	const n = 16 << 10
	if len(s) > n {
		s = s[:n] + "\n..."
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
