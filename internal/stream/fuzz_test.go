package stream

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseID compares ParseID and ParseIDSeqAuto with refParseID, a plain
// transcription of Redis's streamGenericParseIDOrReply and util.c's
// string2ull (spec §2.1), for every missing-seq and strictness, and checks
// that every parsed ID formats (Append, String) to text that parses back
// to it.
func FuzzParseID(f *testing.F) {
	for _, c := range idCases {
		f.Add([]byte(c.in))
	}
	for _, s := range []string{
		"-", "+", "--", "+-", "5-*", " 5-*", "0-*", "*", "-*", "5-**", "5-*\x00x", "+\x00x", "-\x00",
		"1-" + strings.Repeat("0", 125), "1-" + strings.Repeat("0", 126),
		u64max + "-" + u64max, "9223372036854775807", "9223372036854775808",
		"1--9223372036854775808", "1--9223372036854775809", " -0", "0-\x00", "\t\n\v\f\r 1-\t+2",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, missing := range []uint64{0, 1, ^uint64(0)} {
			for _, strict := range []bool{false, true} {
				got, ok := ParseID(b, missing, strict)
				want, _, wantOK := refParseID(b, missing, strict, false)
				if ok != wantOK || ok && got != want {
					t.Fatalf("ParseID(%q, %d, %v) = %v %v; reference %v %v", b, missing, strict, got, ok, want, wantOK)
				}
				if ok {
					roundTrip(t, got)
				}
			}
		}
		got, auto, ok := ParseIDSeqAuto(b)
		want, wantAuto, wantOK := refParseID(b, 0, true, true)
		if ok != wantOK || ok && (got != want || auto != wantAuto) {
			t.Fatalf("ParseIDSeqAuto(%q) = %v %v %v; reference %v %v %v", b, got, auto, ok, want, wantAuto, wantOK)
		}
		switch {
		case ok && auto:
			// "<ms>-*" is XADD's alone: no other parser takes it.
			if _, ok := ParseID(b, 0, false); ok {
				t.Fatalf("ParseID accepts the XADD form %q", b)
			}
			text := append(strconv.AppendUint(nil, got.Ms, 10), '-', '*')
			if re, reAuto, reOK := ParseIDSeqAuto(text); !reOK || !reAuto || re != got {
				t.Fatalf("%q parsed as %v-*, %q as %v %v %v", b, got.Ms, text, re, reAuto, reOK)
			}
		case ok:
			roundTrip(t, got)
		}
	})
}

// roundTrip checks that id's text, as Append and String give it, parses
// back to id under every parser.
func roundTrip(t *testing.T, id ID) {
	t.Helper()
	text := id.String()
	if app := id.Append([]byte("x")); string(app) != "x"+text {
		t.Fatalf("Append(x) of %v = %q, String %q", id, app, text)
	}
	if want := strconv.FormatUint(id.Ms, 10) + "-" + strconv.FormatUint(id.Seq, 10); text != want {
		t.Fatalf("String() = %q, want %q", text, want)
	}
	for _, strict := range []bool{false, true} {
		if back, ok := ParseID([]byte(text), 7, strict); !ok || back != id {
			t.Fatalf("%v: %q parsed back as %v %v (strict %v)", id, text, back, ok, strict)
		}
	}
	if back, auto, ok := ParseIDSeqAuto([]byte(text)); !ok || auto || back != id {
		t.Fatalf("%v: ParseIDSeqAuto(%q) = %v %v %v", id, text, back, auto, ok)
	}
}

// refParseID is streamGenericParseIDOrReply (src/t_stream.c) step by step:
// the argument is copied into char buf[128] with its NUL, so it is read as
// a C string; seqGiven stands for a non-NULL seq_given (XADD).
func refParseID(arg []byte, missingSeq uint64, strict, seqGiven bool) (id ID, auto, ok bool) {
	// if (sdslen(o->ptr) > sizeof(buf)-1) goto invalid;
	if len(arg) > 127 {
		return ID{}, false, false
	}
	buf := string(arg)
	if i := strings.IndexByte(buf, 0); i >= 0 {
		buf = buf[:i]
	}
	if strict && (buf == "-" || buf == "+") {
		return ID{}, false, false
	}
	switch buf {
	case "-":
		return ID{0, 0}, false, true
	case "+":
		return ID{math.MaxUint64, math.MaxUint64}, false, true
	}
	// char *dot = strchr(buf,'-'); if (dot) *dot = '\0';
	msText, seqText, dot := strings.Cut(buf, "-")
	ms, ok := refString2ull(msText)
	if !ok {
		return ID{}, false, false
	}
	if !dot {
		return ID{ms, missingSeq}, false, true
	}
	if seqGiven && seqText == "*" {
		return ID{ms, 0}, true, true
	}
	seq, ok := refString2ull(seqText)
	if !ok {
		return ID{}, false, false
	}
	return ID{ms, seq}, false, true
}

// refString2ull is util.c's string2ull: string2ll, a negative result
// refused; else strtoull(s, &end, 10), refused on ERANGE or when it did
// not use the whole non-empty string.
func refString2ull(s string) (uint64, bool) {
	if v, ok := refString2ll(s); ok {
		if v < 0 {
			return 0, false
		}
		return uint64(v), true
	}
	return refStrtoull(s)
}

// refString2ll is util.c's string2ll: fewer than 21 bytes (LONG_STR_SIZE),
// "0" or an optional '-' then a digit 1-9 then digits, within int64.
func refString2ll(s string) (int64, bool) {
	if len(s) == 0 || len(s) >= 21 {
		return 0, false
	}
	if s == "0" {
		return 0, true
	}
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || digits[0] < '1' || digits[0] > '9' || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

// refStrtoull is glibc's strtoull in base 10 as string2ull uses it: C
// locale white space, one optional sign, at least one digit, nothing
// after, no overflow; "-" negates modulo 2^64.
func refStrtoull(s string) (uint64, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// FuzzStreamOps decodes its input as a sequence of stream operations, one
// record of opRecord bytes each (see the op* constants), applies them to a Stream and to fzModel, a model
// made of sorted slices and maps, and after every operation checks the
// stream's invariants (Check) and that its counters, groups, consumers and
// pending entries equal the model's. Entries are compared with the model
// after reads, trims and at the end. Operations whose exact effect depends
// on the node layout (approximate trims, MAXLEN with ACKED, DELREF on
// tombstones) are checked against the bounds the rules of spec §6 allow.
func FuzzStreamOps(f *testing.F) {
	for _, s := range fuzzOpsSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { runStreamOps(t, data, false) })
}

// FuzzStreamOpsPaged is FuzzStreamOps with a pager: after every operation
// the stream evicts nodes down to a budget the input picks (page_test.go),
// so every operation also runs on nodes paged out, paged back in, dropped
// and written out again, and must give the same results.
func FuzzStreamOpsPaged(f *testing.F) {
	for _, s := range fuzzOpsSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { runStreamOps(t, data, true) })
}

func runStreamOps(t *testing.T, data []byte, paged bool) {
	fz := newStreamFuzzer(t, data)
	var pg *memPager
	if paged {
		pg = newMemPager(t)
		fz.s.SetPager(pg, &memMeter{})
	}
	for fz.op = 0; fz.op < maxFuzzOps && len(fz.in) > 0; fz.op++ {
		fz.step()
		fz.verify()
		if pg != nil {
			pg.evictAndCheck(fz)
		}
	}
	fz.verifyEntries("end")
	fz.verifyDupOriginal()
	if pg != nil {
		t.Logf("%d operations: %d nodes paged out, %d paged in", fz.op, pg.outs, pg.ins)
	}
}

const maxFuzzOps = 400

// opRecord is the bytes of one operation: its number, then its
// parameters; parameters past the record's end read as zeros.
const opRecord = 24

// The operations; a record's first byte picks one modulo opCount.
const (
	opAddAuto        = iota // XADD *
	opAddSeqAuto            // XADD <ms>-*
	opAddExplicit           // XADD <ms>-<seq>
	opAddAuto2              // XADD * again: appends are most of a stream's life
	opDelete                // XDEL
	opDeleteEx              // XDELEX KEEPREF|DELREF|ACKED
	opTrim                  // XTRIM / XADD's trim, every strategy and mode
	opCreateGroup           // XGROUP CREATE
	opDestroyGroup          // XGROUP DESTROY
	opSetGroupID            // XGROUP SETID, XCLAIM LASTID
	opReadNew               // XREADGROUP >
	opReadHistory           // XREADGROUP <id>
	opAck                   // XACK
	opAckDelete             // XACKDEL
	opClaim                 // XCLAIM
	opAutoClaim             // XAUTOCLAIM
	opClaimIdle             // XREADGROUP CLAIM
	opNack                  // XNACK
	opDeleteConsumer        // XGROUP DELCONSUMER
	opSetID                 // XSETID
	opIDMPRecord            // XADD IDMP (record)
	opIDMPLookup            // XADD IDMP (lookup)
	opSetIDMP               // XCFGSET
	opDup                   // COPY
	opRead                  // XRANGE, XREVRANGE, lookups, XINFO figures
	opClock                 // time passes
	opLimits                // CONFIG SET stream-node-max-*
	opAddBulk               // many XADD *: PELs of many chunks, many nodes
	opCount
)

var fuzzOpNames = [opCount]string{
	"add*", "add<ms>-*", "add<id>", "add*", "del", "delex", "trim", "create", "destroy", "setgroupid",
	"readnew", "readhistory", "ack", "ackdel", "claim", "autoclaim", "claimidle", "nack", "delconsumer",
	"setid", "idmprecord", "idmplookup", "setidmp", "dup", "read", "clock", "limits", "addbulk",
}

// fuzzOpsSeeds are meaningful starts, one record per operation (the
// bytes after the operation's number are its parameters, in the order
// step reads them; pickID's selector 5 is the last ID, 0 i the i-th live
// entry, 2 i the i-th pending ID). testdata/fuzz/FuzzStreamOps holds more.
var fuzzOpsSeeds = [][]byte{
	// Small nodes: appends of every field shape, "<ms>-*", an explicit
	// ID, deletes, a copy, reads.
	ops(rec(opLimits, 2, 2),
		rec(opAddAuto, 0, 0, 5), rec(opAddAuto, 1, 1, 1, 3, 9), rec(opAddAuto, 0, 0, 4*12), rec(opAddAuto2, 2, 6, 1, 6, 1, 5, 2),
		rec(opAddSeqAuto, 1, 0, 0, 0), rec(opAddSeqAuto, 2, 0, 3, 0, 1), rec(opAddExplicit, 9, 6, 0, 0, 0),
		rec(opDelete, 0, 1), rec(opDeleteEx, 0, 0, 2), rec(opRead, 6, 0, 6, 1, 0, 0, 0, 5),
		rec(opDup), rec(opAddAuto), rec(opDelete, 0, 0), rec(opRead, 0, 0, 5, 3, 1, 3, 0, 1)),
	// A group: deliveries, history, acks, claims after idling, XAUTOCLAIM
	// over a deleted entry, XNACK, XREADGROUP CLAIM, consumer removal.
	ops(rec(opAddAuto), rec(opAddAuto), rec(opAddAuto), rec(opAddAuto), rec(opAddAuto),
		rec(opCreateGroup, 0, 0, 0, 0),
		rec(opReadNew, 0, 0, 0, 2, 0), rec(opClock, 3), rec(opReadNew, 0, 1, 0, 0, 0),
		rec(opReadHistory, 0, 0, 0, 0, 0), rec(opAck, 0, 0, 2, 0), rec(opClock, 4),
		rec(opClaim, 0, 1, 0, 3, 0, 0, 0, 0, 0, 2, 0), rec(opAutoClaim, 0, 2, 0, 0, 0, 4, 0),
		rec(opDelete, 2, 1), rec(opAutoClaim, 0, 3, 0, 0, 0, 9, 0),
		rec(opNack, 0, 0, 0, 0, 0, 2, 0), rec(opClock, 2), rec(opClaimIdle, 0, 0, 0, 0, 0),
		rec(opDeleteConsumer, 0, 1), rec(opCreateGroup, 1, 1), rec(opReadNew, 1, 0), rec(opDestroyGroup, 0)),
	// Trims in every mode with a group holding references: pending
	// entries and undelivered ones.
	ops(rec(opLimits, 3, 4),
		rec(opAddAuto), rec(opAddAuto), rec(opAddAuto), rec(opAddAuto), rec(opAddAuto),
		rec(opAddAuto), rec(opAddAuto), rec(opAddAuto), rec(opAddAuto),
		rec(opCreateGroup, 0, 0, 0, 0), rec(opReadNew, 0, 0, 0, 5, 0), rec(opAck, 0, 1, 2, 1, 2, 1),
		rec(opTrim, 0, 1, 2, 0, 4), rec(opTrim, 1, 0, 2, 2, 0, 2), rec(opTrim, 1, 1, 1, 1, 3, 1),
		rec(opDeleteEx, 2, 0, 1), rec(opAckDelete, 0, 2, 0, 2), rec(opTrim, 1, 1, 0, 0, 3, 0),
		rec(opSetID, 5, 0, 0, 0)),
	// PELs of several chunks: a bulk delivery, redelivery after XGROUP
	// SETID, claims in claim order across chunks, NACKs, and a consumer
	// removal that empties and merges chunks.
	ops(rec(opAddBulk, 255, 0), rec(opCreateGroup, 0, 0, 0, 0), rec(opReadNew, 0, 0, 0, 0, 0), rec(opClock, 4),
		rec(opSetGroupID, 0, 6, 0), rec(opReadNew, 0, 1, 0, 5, 0), rec(opAck, 0, 2, 2, 7, 2, 130, 2, 201),
		rec(opClock, 2), rec(opClaimIdle, 0, 2, 0, 0, 0), rec(opNack, 0, 1, 0, 0, 2, 2, 150, 2, 3, 2, 99),
		rec(opClaimIdle, 0, 3, 0, 0, 3), rec(opClaim, 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 120),
		rec(opAddBulk, 100), rec(opReadNew, 0, 1, 0, 0, 0), rec(opDeleteConsumer, 0, 2), rec(opClaimIdle, 0, 0, 0, 0, 0)),
	// Entries delivered with NOACK, then claimed with FORCE or NACKed with
	// FORCE: new pending IDs inside full chunks, which split.
	ops(rec(opAddBulk, 255, 0), rec(opCreateGroup, 0, 0, 0, 0), rec(opReadNew, 0, 0, 0, 5, 3), rec(opReadNew, 0, 0, 0, 0, 0),
		rec(opClaim, 0, 1, 0, 0, 2, 0, 0, 0, 2, 0, 2, 0, 4, 0, 3), rec(opNack, 0, 2, 2, 0, 1, 0, 0, 0, 1),
		rec(opClock, 3), rec(opClaimIdle, 0, 2, 0, 2, 0), rec(opAutoClaim, 0, 3, 0, 0, 0, 9, 0)),
	// PEL chunks that do not pack.
	fuzzWideSeed,
	// IDMP: record, look up, expire with time, XCFGSET, automatic IIDs.
	ops(rec(opAddAuto), rec(opIDMPRecord, 0, 0, 1, 5), rec(opIDMPLookup, 0, 0, 1, 1), rec(opIDMPRecord, 0, 0, 2, 5),
		rec(opIDMPRecord, 1, 3, 1, 0, 1, 0, 5), rec(opClock, 7), rec(opIDMPLookup, 0, 0, 1),
		rec(opSetIDMP, 1, 2), rec(opIDMPRecord, 2, 0, 0, 5), rec(opIDMPRecord, 2, 0, 1, 5), rec(opIDMPRecord, 2, 0, 4, 5),
		rec(opDup), rec(opIDMPLookup, 2, 0, 4), rec(opIDMPLookup, 2, 0, 0), rec(opClock, 5), rec(opIDMPLookup, 2, 0, 4)),
}

// fuzzWideSeed makes PEL chunks that do not pack: IDs and delivery times
// 2^32 ms apart, huge RETRYCOUNTs, FATAL NACKs, an ID with a seq of 2^32;
// then claims, acks and a consumer removal split and merge them.
var fuzzWideSeed = ops(rec(opAddBulk, 255, 0), rec(opCreateGroup, 0, 0, 0, 0), rec(opReadNew, 0, 0, 0, 0, 0), rec(opClock, 10),
	rec(opAddBulk, 100, 0), rec(opReadNew, 0, 1, 0, 0, 0),
	rec(opClaim, 0, 1, 0, 0, 0, 0, 5, 3, 6, 2, 2, 5, 2, 130, 2, 201),
	rec(opNack, 0, 2, 0, 2, 5, 1, 2, 9, 2, 40), rec(opAddExplicit, 6, 5), rec(opAddBulk, 10, 0),
	rec(opReadNew, 0, 2, 0, 0, 0), rec(opClock, 11), rec(opClaimIdle, 0, 3, 0, 0, 3),
	rec(opAck, 0, 2, 2, 7, 2, 130, 2, 201), rec(opDeleteConsumer, 0, 1), rec(opClaimIdle, 0, 2, 0, 0, 0),
	rec(opDup), rec(opAutoClaim, 0, 3, 0, 0, 0, 9, 0))

// rec is one operation's record.
func rec(op byte, params ...byte) []byte {
	r := make([]byte, opRecord)
	r[0] = op
	copy(r[1:], params)
	return r
}

func ops(recs ...[]byte) []byte { return bytes.Join(recs, nil) }

// fuzzInput hands out the fuzz input; past its end it gives zeros.
type fuzzInput []byte

func (in *fuzzInput) byte() byte {
	if len(*in) == 0 {
		return 0
	}
	c := (*in)[0]
	*in = (*in)[1:]
	return c
}

func (in *fuzzInput) intn(n int) int { return int(in.byte()) % n }

func (in *fuzzInput) bytes(n int) []byte {
	n = min(n, len(*in))
	b := bytes.Clone((*in)[:n])
	*in = (*in)[n:]
	return b
}

// The model.

type fzPending struct {
	owner string // "" when NACKed
	time  int64
	count int64
	seq   uint64 // claim order among equal times
}

type fzConsumer struct{ seen, active int64 }

type fzGroup struct {
	lastID    ID
	consumers map[string]*fzConsumer
	pel       map[ID]*fzPending
}

type fzIID struct {
	iid string
	id  ID
	at  int64
}

type fzModel struct {
	model // live entries, last ID, max deleted ID
	added uint64
	// groups and the PELs
	groups map[string]*fzGroup
	seq    uint64
	// IDMP
	idmpCfg   IDMPConfig
	idmpSet   bool
	pids      map[string][]fzIID // oldest first
	iidsAdded int64
	dups      int64
}

func (m *fzModel) live(id ID) (int, bool) {
	i := m.find(id)
	return i, i < len(m.entries) && m.entries[i].id == id
}

func (m *fzModel) deleteEntry(id ID) bool {
	i, ok := m.live(id)
	if !ok {
		return false
	}
	m.entries = slices.Delete(m.entries, i, i+1)
	if m.maxDel.Less(id) {
		m.maxDel = id
	}
	return true
}

// referenced is ACKED's test: a group has not been delivered id yet, or
// holds it pending.
func (m *fzModel) referenced(id ID) bool {
	for _, g := range m.groups {
		if g.lastID.Less(id) || g.pel[id] != nil {
			return true
		}
	}
	return false
}

func (m *fzModel) dropRefs(id ID) {
	for _, g := range m.groups {
		delete(g.pel, id)
	}
}

func (m *fzModel) nextSeq() uint64 { m.seq++; return m.seq }

func (m *fzModel) addPending(g *fzGroup, id ID, owner string, t, count int64) {
	g.pel[id] = &fzPending{owner: owner, time: t, count: count, seq: m.nextSeq()}
}

// move gives a pending entry to owner at time t, last in its claim order.
func (m *fzModel) move(p *fzPending, owner string, t int64) {
	p.owner, p.time, p.seq = owner, t, m.nextSeq()
}

func (m *fzModel) groupNames() []string {
	names := make([]string, 0, len(m.groups))
	for n := range m.groups {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// pelIDs is the group's pending IDs in ID order, of owner only when
// owner is not "*".
func (g *fzGroup) pelIDs(owner string) []ID {
	var out []ID
	for id, p := range g.pel {
		if owner == "*" || p.owner == owner {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, ID.Compare)
	return out
}

func (g *fzGroup) nacked() int64 {
	var n int64
	for _, p := range g.pel {
		if p.owner == "" {
			n++
		}
	}
	return n
}

// claimOrder is the pending IDs in XREADGROUP CLAIM's order: NACKed first,
// then by delivery time, ties in the order the times were set.
func (g *fzGroup) claimOrder() []ID {
	ids := g.pelIDs("*")
	key := func(id ID) (int64, uint64) {
		p := g.pel[id]
		if p.owner == "" {
			return math.MinInt64, p.seq
		}
		return p.time, p.seq
	}
	slices.SortFunc(ids, func(a, b ID) int {
		ta, sa := key(a)
		tb, sb := key(b)
		if ta != tb {
			return cmp.Compare(ta, tb)
		}
		return cmp.Compare(sa, sb)
	})
	return ids
}

// idmpExpire is expire: the oldest iids of pid go while duration has
// passed; a pid left with none goes.
func (m *fzModel) idmpExpire(pid string, now int64) {
	cfg := m.idmpEffective()
	l := m.pids[pid]
	for len(l) > 0 && now >= l[0].at+cfg.Duration*1000 {
		l = l[1:]
	}
	if len(l) == 0 {
		delete(m.pids, pid)
		return
	}
	m.pids[pid] = l
}

func (m *fzModel) idmpEffective() IDMPConfig {
	if m.idmpSet {
		return m.idmpCfg
	}
	return DefaultIDMPConfig
}

func (m *fzModel) idmpIIDs() int64 {
	var n int64
	for _, l := range m.pids {
		n += int64(len(l))
	}
	return n
}

// The fuzzer.

type streamFuzzer struct {
	t     *testing.T
	in    fuzzInput // the input left
	rec   fuzzInput // the current operation's record
	s     *Stream
	m     fzModel
	now   int64
	lim   Limits
	op    int // index of the current operation
	kind  int // and its kind, an op* constant
	trace []string
	// the original of the last Dup and how it looked: changing the copy
	// must not change it.
	dupOrig *Stream
	dupSnap string
}

func newStreamFuzzer(t *testing.T, data []byte) *streamFuzzer {
	return &streamFuzzer{
		t:   t,
		in:  fuzzInput(data),
		s:   New(),
		m:   fzModel{groups: map[string]*fzGroup{}, pids: map[string][]fzIID{}},
		now: 1000,
		lim: defLimits,
	}
}

func (f *streamFuzzer) logf(format string, args ...any) {
	f.trace = append(f.trace, fmt.Sprintf("%3d ", f.op)+fmt.Sprintf(format, args...))
}

func (f *streamFuzzer) fatalf(format string, args ...any) {
	f.t.Helper()
	f.t.Fatalf("op %d (%s): %s\noperations:\n%s", f.op, fuzzOpNames[f.kind], fmt.Sprintf(format, args...), strings.Join(f.trace, "\n"))
}

// pickID picks an ID likely to matter: a live entry, a pending one, one
// next to a live one, the last ID, the extremes, or one of any magnitude.
// It reads at most three bytes.
func (f *streamFuzzer) pickID() ID {
	m, in := &f.m, &f.rec
	switch in.intn(10) {
	case 0, 1:
		if len(m.entries) > 0 {
			return m.entries[int(in.byte())%len(m.entries)].id
		}
	case 2, 3:
		var pending []ID
		for _, n := range m.groupNames() {
			pending = append(pending, m.groups[n].pelIDs("*")...)
		}
		if len(pending) > 0 {
			return pending[int(in.byte())%len(pending)]
		}
	case 4:
		if len(m.entries) > 0 {
			e := m.entries[int(in.byte())%len(m.entries)].id
			if in.intn(2) == 0 {
				e, _ = e.Incr()
			} else {
				e, _ = e.Decr()
			}
			return e
		}
	case 5:
		return m.lastID
	case 6:
		// The extremes, and IDs that do not pack in a PEL chunk with the
		// last ID's (a seq of 2^32, 2^32 ms later).
		return []ID{MinID, MaxID, {math.MaxUint64, math.MaxUint64 - 1}, {m.lastID.Ms, math.MaxUint64}, {1, 0},
			{m.lastID.Ms, 1 << 32}, {m.lastID.Ms + 1<<32, 0}}[in.intn(7)]
	case 7:
		b, shift := in.byte(), in.byte()
		return ID{uint64(b) << (8 * (shift % 8)), uint64(shift / 8)}
	}
	b := in.byte()
	return ID{m.lastID.Ms + uint64(b%4) - 1, uint64(b / 4 % 4)}
}

// fuzzCounts are RETRYCOUNT values: small ones, and counts that do not fit
// a PEL chunk's 32-bit column (MaxInt64 wraps when incremented).
var fuzzCounts = []int64{0, 1, 2, 3, 1<<32 - 1, 1 << 32, math.MaxInt64, 1 << 40}

// Field names and values: few names, so that nodes share master fields;
// values of every listpack size class, and strings that are, or almost
// are, integers (stored as integers in a listpack).
var (
	fuzzFieldNames = []string{"f", "g", "h", "field", "", "12", strings.Repeat("long-field-", 7)}
	fuzzValueSizes = []int{0, 1, 11, 62, 63, 64, 126, 127, 128, 300, 4094, 4095, 4096, 5000}
	fuzzNumbers    = []string{"0", "1", "-1", "127", "128", "-4096", "4095", "4096", "-32769", "8388608",
		"2147483648", "-9223372036854775808", "9223372036854775807", "9223372036854775808", "007", "+1", "1 ", "-0"}
)

// fields makes an entry's field/value list from at most seven bytes.
func (f *streamFuzzer) fields() [][]byte {
	in := &f.rec
	n := 1 + in.intn(3)
	out := make([][]byte, 0, 2*n)
	for i := 0; i < n; i++ {
		name := fuzzFieldNames[in.intn(len(fuzzFieldNames))]
		var v []byte
		switch b := in.byte(); b % 4 {
		case 0:
			v = bytes.Repeat([]byte{'a' + b%26}, fuzzValueSizes[int(b/4)%len(fuzzValueSizes)])
		case 1:
			v = []byte(fuzzNumbers[int(b/4)%len(fuzzNumbers)])
		default:
			v = bytes.Repeat([]byte{'a' + b%26}, int(b/4)%12)
		}
		out = append(out, []byte(name), v)
	}
	return out
}

// group picks a group name; g and mg are nil (both) when it is missing.
func (f *streamFuzzer) group() (string, *Group, *fzGroup) {
	name := "g" + strconv.Itoa(f.rec.intn(3))
	g, mg := f.s.Group([]byte(name)), f.m.groups[name]
	if (g == nil) != (mg == nil) {
		f.fatalf("group %s: stream has it %v, model %v", name, g != nil, mg != nil)
	}
	return name, g, mg
}

// consumer picks a consumer of g, creating it as XREADGROUP, XCLAIM and
// XAUTOCLAIM do, and sometimes touching it.
func (f *streamFuzzer) consumer(g *Group, mg *fzGroup) (string, *Consumer, *fzConsumer) {
	name := "c" + strconv.Itoa(f.rec.intn(4))
	c, created := g.CreateConsumer([]byte(name), f.now)
	mc := mg.consumers[name]
	if created != (mc == nil) {
		f.fatalf("CreateConsumer(%s) created %v, model has it %v", name, created, mc != nil)
	}
	if mc == nil {
		mc = &fzConsumer{seen: f.now, active: -1}
		mg.consumers[name] = mc
	}
	if f.rec.intn(2) == 0 {
		c.Touch(f.now)
		mc.seen = f.now
	}
	return name, c, mc
}

// shortFields renders a field/value list for the trace, long values cut.
func shortFields(kv [][]byte) string {
	parts := make([]string, len(kv))
	for i, b := range kv {
		if len(b) > 16 {
			parts[i] = fmt.Sprintf("%q...(%d)", b[:8], len(b))
		} else {
			parts[i] = strconv.Quote(string(b))
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func copyEntry(e Entry) Entry {
	out := Entry{ID: e.ID}
	for _, b := range e.Fields {
		out.Fields = append(out.Fields, bytes.Clone(b))
	}
	return out
}

func (f *streamFuzzer) sameEntry(what string, got Entry, want modelEntry, withFields bool) {
	f.t.Helper()
	if got.ID != want.id {
		f.fatalf("%s: entry %v, model %v", what, got.ID, want.id)
	}
	if !withFields {
		if got.Fields != nil {
			f.fatalf("%s: entry %v has fields", what, got.ID)
		}
		return
	}
	if len(got.Fields) != len(want.fv) {
		f.fatalf("%s: entry %v has %d fields, model %d", what, got.ID, len(got.Fields), len(want.fv))
	}
	for i := range got.Fields {
		if !bytes.Equal(got.Fields[i], want.fv[i]) {
			f.fatalf("%s: entry %v field %d is %q, model %q", what, got.ID, i, got.Fields[i], want.fv[i])
		}
	}
}

func (f *streamFuzzer) sameEntries(what string, got []Entry, want []modelEntry) {
	f.t.Helper()
	if len(got) != len(want) {
		f.fatalf("%s: %d entries %v, model %d", what, len(got), entryIDs(got), len(want))
	}
	for i := range got {
		f.sameEntry(what, got[i], want[i], true)
	}
}

// idList renders IDs for the trace, the middle of a long list cut.
func idList(ids []ID) string {
	if len(ids) <= 8 {
		return fmt.Sprint(ids)
	}
	return fmt.Sprintf("%v ... %v (%d)", ids[:3], ids[len(ids)-3:], len(ids))
}

func entryIDs(es []Entry) []ID {
	out := make([]ID, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func (f *streamFuzzer) entry(id ID) modelEntry {
	i, ok := f.m.live(id)
	if !ok {
		f.fatalf("model has no entry %v", id)
	}
	return f.m.entries[i]
}

func (f *streamFuzzer) step() {
	f.rec = fuzzInput(f.in.bytes(opRecord))
	s, m, in := f.s, &f.m, &f.rec
	op := in.intn(opCount)
	f.kind = op
	f.now++ // the clock never stands still for long
	switch op {
	case opAddAuto, opAddSeqAuto, opAddExplicit, opAddAuto2:
		var id, want ID
		var err, wantErr error
		switch op {
		case opAddSeqAuto:
			ms := m.lastID.Ms + uint64(in.intn(3)) - 1
			if in.intn(8) == 7 {
				ms = []uint64{0, math.MaxUint64}[in.intn(2)]
			}
			id, err = s.SeqID(ms)
			switch {
			case m.lastID == MaxID:
				wantErr = ErrIDExhausted
			case ms < m.lastID.Ms || ms == m.lastID.Ms && m.lastID.Seq == math.MaxUint64:
				wantErr = ErrIDTooSmall
			case ms == m.lastID.Ms:
				want = ID{ms, m.lastID.Seq + 1}
			default:
				want = ID{ms, 0}
			}
			f.logf("SeqID(%d) = %v %v", ms, id, err)
		case opAddExplicit:
			id = f.pickID()
			want, err = id, s.CheckID(id)
			switch {
			case m.lastID == MaxID:
				wantErr = ErrIDExhausted
			case !m.lastID.Less(id):
				wantErr = ErrIDTooSmall
			}
			f.logf("CheckID(%v) = %v", id, err)
		default:
			id, err = s.NextID(uint64(f.now))
			switch {
			case m.lastID == MaxID:
				wantErr = ErrIDExhausted
			case uint64(f.now) > m.lastID.Ms:
				want = ID{uint64(f.now), 0}
			default:
				want, _ = m.lastID.Incr()
			}
			f.logf("NextID(%d) = %v %v", f.now, id, err)
		}
		if err != wantErr || err == nil && id != want {
			f.fatalf("ID %v %v, model %v %v", id, err, want, wantErr)
		}
		if err != nil {
			return
		}
		kv := f.fields()
		if err := s.Append(id, kv, f.lim); err != nil {
			f.fatalf("Append(%v): %v", id, err)
		}
		f.logf("  Append(%v, %s, %+v)", id, shortFields(kv), f.lim)
		m.entries = append(m.entries, modelEntry{id, kv})
		m.lastID = id
		m.added++
		// Appending never moves the ID back: a second Append of the same
		// ID is refused and changes nothing.
		if err := s.Append(id, kv, f.lim); err != ErrIDTooSmall {
			f.fatalf("Append(%v) twice: %v", id, err)
		}

	case opDelete:
		id := f.pickID()
		got := s.Delete(id)
		f.logf("Delete(%v) = %v", id, got)
		if want := m.deleteEntry(id); got != want {
			f.fatalf("Delete(%v) = %v, model %v", id, got, want)
		}

	case opDeleteEx:
		id, mode := f.pickID(), RefMode(in.intn(3))
		got := s.DeleteEx(id, mode)
		f.logf("DeleteEx(%v, %d) = %d", id, mode, got)
		var want DeleteResult = -1
		switch mode {
		case Acked:
			if _, ok := m.live(id); ok {
				want = 2
				if !m.referenced(id) {
					m.deleteEntry(id)
					want = 1
				}
			}
		case DelRef:
			if m.deleteEntry(id) {
				want = 1
			}
			m.dropRefs(id)
		default:
			if m.deleteEntry(id) {
				want = 1
			}
		}
		if got != want {
			f.fatalf("DeleteEx(%v, %d) = %d, model %d", id, mode, got, want)
		}

	case opTrim:
		f.trim()

	case opCreateGroup:
		name, _, mg := f.group()
		var last ID
		switch in.intn(4) {
		case 0:
			last = MinID
		case 1:
			last = m.lastID // "$"
		default:
			last = f.pickID()
		}
		er := []int64{-1, 0, int64(len(m.entries)), int64(m.added), int64(in.byte())}[in.intn(5)]
		g, created := s.CreateGroup([]byte(name), last, er)
		f.logf("CreateGroup(%s, %v, %d) = %v", name, last, er, created)
		if created != (mg == nil) || g == nil || string(g.Name()) != name {
			f.fatalf("CreateGroup(%s) created %v, model has it %v", name, created, mg != nil)
		}
		if created {
			m.groups[name] = &fzGroup{lastID: last, consumers: map[string]*fzConsumer{}, pel: map[ID]*fzPending{}}
			if want := min(er, int64(m.added)); er >= 0 && g.EntriesRead() != want || er < 0 && g.EntriesRead() != -1 {
				f.fatalf("entries-read %d, given %d with %d added", g.EntriesRead(), er, m.added)
			}
		}

	case opDestroyGroup:
		name, _, mg := f.group()
		got := s.DestroyGroup([]byte(name))
		f.logf("DestroyGroup(%s) = %v", name, got)
		if got != (mg != nil) {
			f.fatalf("DestroyGroup(%s) = %v", name, got)
		}
		delete(m.groups, name)

	case opSetGroupID:
		name, g, mg := f.group()
		if g == nil {
			return
		}
		last := f.pickID()
		if in.intn(3) == 2 {
			got := g.RaiseLastID(last)
			f.logf("RaiseLastID(%s, %v) = %v", name, last, got)
			if want := mg.lastID.Less(last); got != want {
				f.fatalf("RaiseLastID(%v) = %v from %v", last, got, mg.lastID)
			}
			if got {
				mg.lastID = last
			}
			return
		}
		er := []int64{-1, 0, int64(m.added), int64(in.byte())}[in.intn(4)]
		s.SetGroupID(g, last, er)
		f.logf("SetGroupID(%s, %v, %d)", name, last, er)
		mg.lastID = last

	case opReadNew:
		name, g, mg := f.group()
		if g == nil {
			return
		}
		cname, c, mc := f.consumer(g, mg)
		count, noAck := int64(in.intn(6)), in.intn(4) == 3
		var got []Entry
		n := s.ReadNew(g, c, count, noAck, f.now, func(e Entry) { got = append(got, copyEntry(e)) })
		f.logf("ReadNew(%s, %s, %d, noack %v, %d) = %s", name, cname, count, noAck, f.now, idList(entryIDs(got)))
		var want []modelEntry
		if start, ok := mg.lastID.Incr(); ok {
			for _, e := range m.entries[m.find(start):] {
				if count > 0 && int64(len(want)) == count {
					break
				}
				want = append(want, e)
			}
		}
		f.sameEntries("ReadNew", got, want)
		if n != int64(len(want)) {
			f.fatalf("ReadNew returned %d, delivered %d", n, len(want))
		}
		for _, e := range want {
			mg.lastID = e.id
			if noAck {
				continue
			}
			if p := mg.pel[e.id]; p != nil {
				p.count = 1
				m.move(p, cname, f.now)
			} else {
				m.addPending(mg, e.id, cname, f.now, 1)
			}
			mc.active = f.now
		}

	case opReadHistory:
		name, g, mg := f.group()
		if g == nil {
			return
		}
		cname, c, _ := f.consumer(g, mg)
		after := MinID
		if in.intn(2) == 1 {
			after = f.pickID()
		}
		count := int64(in.intn(5))
		type item struct {
			e  Entry
			ok bool
		}
		var got []item
		s.ReadHistory(g, c, after, count, f.now, func(e Entry, ok bool) { got = append(got, item{copyEntry(e), ok}) })
		f.logf("ReadHistory(%s, %s, %v, %d) = %d entries", name, cname, after, count, len(got))
		var want []ID
		if from, ok := after.Incr(); ok {
			for _, id := range mg.pelIDs(cname) {
				if !id.Less(from) && (count <= 0 || int64(len(want)) < count) {
					want = append(want, id)
				}
			}
		}
		if len(got) != len(want) {
			f.fatalf("ReadHistory: %d entries, model %v", len(got), want)
		}
		for i, id := range want {
			_, live := m.live(id)
			if got[i].ok != live {
				f.fatalf("ReadHistory: %v live %v, model %v", got[i].e.ID, got[i].ok, live)
			}
			if !live {
				if got[i].e.ID != id || got[i].e.Fields != nil {
					f.fatalf("ReadHistory: deleted entry %v as %+v", id, got[i].e)
				}
				continue
			}
			f.sameEntry("ReadHistory", got[i].e, f.entry(id), true)
			p := mg.pel[id]
			p.count++
			m.move(p, cname, f.now)
		}

	case opAck:
		name, g, mg := f.group()
		if g == nil {
			return
		}
		for k := 1 + in.intn(3); k > 0; k-- {
			id := f.pickID()
			got := g.Ack(id)
			f.logf("Ack(%s, %v) = %v", name, id, got)
			if want := mg.pel[id] != nil; got != want {
				f.fatalf("Ack(%v) = %v, model %v", id, got, want)
			}
			delete(mg.pel, id)
		}

	case opAckDelete:
		_, g, mg := f.group()
		id, mode := f.pickID(), RefMode(in.intn(3))
		got := s.AckDelete(g, id, mode)
		f.logf("AckDelete(%v, %v, %d) = %d", g != nil, id, mode, got)
		var want DeleteResult = -1
		if mg != nil {
			acked := mg.pel[id] != nil
			delete(mg.pel, id)
			_, live := m.live(id)
			var ok bool
			switch {
			case mode == Acked && m.referenced(id):
				// Kept: another group still needs it.
				if acked || live {
					want = 2
				}
			case mode == DelRef:
				ok = m.deleteEntry(id)
				m.dropRefs(id)
			default:
				ok = m.deleteEntry(id)
			}
			if want != 2 && (ok || acked) {
				want = 1
			}
		}
		if got != want {
			f.fatalf("AckDelete(%v, %d) = %d, model %d", id, mode, got, want)
		}

	case opClaim:
		name, g, mg := f.group()
		if g == nil {
			return
		}
		cname, c, mc := f.consumer(g, mg)
		o := ClaimOpts{
			NowMs:      f.now,
			MinIdle:    []int64{0, 1, 10, 100, 1000}[in.intn(5)],
			RetryCount: -1,
			Force:      in.intn(3) == 2,
			JustID:     in.intn(3) == 2,
		}
		// Times 2^32 ms apart or more, and 1, do not pack in a PEL chunk
		// with recent ones.
		o.DeliveryTime = max(0, f.now-[]int64{0, 1, 10, 100, 1000, 1 << 32, f.now - 1}[in.intn(7)])
		if in.intn(4) == 3 {
			o.RetryCount = fuzzCounts[in.intn(len(fuzzCounts))]
		}
		for k := 1 + in.intn(3); k > 0; k-- {
			id := f.pickID()
			e, claimed, deleted := s.Claim(g, c, id, o, nil)
			e = copyEntry(e)
			f.logf("Claim(%s, %s, %v, %+v) = %v %v", name, cname, id, o, claimed, deleted)
			p := mg.pel[id]
			_, live := m.live(id)
			var wantClaimed, wantDeleted bool
			switch {
			case !live:
				wantDeleted = p != nil
				delete(mg.pel, id)
			case p == nil && o.Force:
				cnt := int64(1)
				switch {
				case o.RetryCount >= 0:
					cnt = o.RetryCount
				case !o.JustID:
					cnt++
				}
				m.addPending(mg, id, cname, o.DeliveryTime, cnt)
				wantClaimed = true
			case p != nil && (p.owner == "" || o.MinIdle <= 0 || o.NowMs-p.time >= o.MinIdle):
				switch {
				case o.RetryCount >= 0:
					p.count = o.RetryCount
				case !o.JustID:
					p.count++
				}
				m.move(p, cname, o.DeliveryTime)
				wantClaimed = true
			}
			if claimed != wantClaimed || deleted != wantDeleted {
				f.fatalf("Claim(%v) = claimed %v deleted %v, model %v %v", id, claimed, deleted, wantClaimed, wantDeleted)
			}
			if claimed {
				mc.active = o.NowMs
				f.sameEntry("Claim", e, f.entry(id), !o.JustID)
			}
		}

	case opAutoClaim:
		name, g, mg := f.group()
		if g == nil {
			return
		}
		cname, c, mc := f.consumer(g, mg)
		start := MinID
		if in.intn(2) == 1 {
			start = f.pickID()
		}
		minIdle := []int64{0, 1, 10, 100, 1000}[in.intn(5)]
		count, justID := int64(1+in.intn(10)), in.intn(3) == 2
		var got []Entry
		var gotDeleted []ID
		next := s.AutoClaim(g, c, start, minIdle, count, justID, f.now,
			func(e Entry) { got = append(got, copyEntry(e)) },
			func(id ID) { gotDeleted = append(gotDeleted, id) })
		f.logf("AutoClaim(%s, %s, %v, %d, %d, %v) = %v %s deleted %v", name, cname, start, minIdle, count, justID, next, idList(entryIDs(got)), gotDeleted)
		// The model: XAUTOCLAIM's loop over the PEL in ID order.
		var want []ID
		var wantDeleted []ID
		wantNext := ID{}
		ceil := func(from ID) (ID, bool) {
			for _, id := range mg.pelIDs("*") {
				if !id.Less(from) {
					return id, true
				}
			}
			return ID{}, false
		}
		cursor, done := start, false
		for attempts, left := count*10, count; attempts > 0 && left > 0; {
			id, ok := ceil(cursor)
			if !ok {
				done = true
				break
			}
			attempts--
			after, more := id.Incr()
			p := mg.pel[id]
			if _, live := m.live(id); !live {
				delete(mg.pel, id)
				wantDeleted = append(wantDeleted, id)
				left--
			} else if !(minIdle > 0 && p.owner != "" && f.now-p.time < minIdle) {
				if !justID {
					p.count++
				}
				m.move(p, cname, f.now)
				mc.active = f.now
				want = append(want, id)
				left--
			}
			if !more {
				done = true
				break
			}
			cursor = after
		}
		if !done {
			wantNext, _ = ceil(cursor)
		}
		if next != wantNext || !slices.Equal(gotDeleted, wantDeleted) || len(got) != len(want) {
			f.fatalf("AutoClaim = next %v claimed %v deleted %v; model %v %v %v", next, entryIDs(got), gotDeleted, wantNext, want, wantDeleted)
		}
		for i, id := range want {
			f.sameEntry("AutoClaim", got[i], f.entry(id), !justID)
		}

	case opClaimIdle:
		name, g, mg := f.group()
		if g == nil {
			return
		}
		cname, c, mc := f.consumer(g, mg)
		minIdle := []int64{0, 1, 10, 100, 1000}[in.intn(5)]
		count := int64(in.intn(6))
		type item struct {
			e                Entry
			idle, deliveries int64
		}
		var got []item
		f.verifyNextClaimTime(g, mg, minIdle)
		n := s.ClaimIdle(g, c, minIdle, count, f.now, func(e Entry, idle, deliveries int64) {
			got = append(got, item{copyEntry(e), idle, deliveries})
		})
		f.logf("ClaimIdle(%s, %s, %d, %d) = %d", name, cname, minIdle, count, n)
		var want []ID
		for _, id := range mg.claimOrder() {
			p := mg.pel[id]
			if p.owner != "" && f.now-p.time < minIdle || count > 0 && int64(len(want)) == count {
				break
			}
			if _, live := m.live(id); live {
				want = append(want, id)
			}
		}
		if n != int64(len(got)) || len(got) != len(want) {
			f.fatalf("ClaimIdle: %d returned, %v delivered, model %v", n, got, want)
		}
		for i, id := range want {
			p := mg.pel[id]
			f.sameEntry("ClaimIdle", got[i].e, f.entry(id), true)
			if got[i].idle != f.now-p.time || got[i].deliveries != p.count {
				f.fatalf("ClaimIdle: %v idle %d deliveries %d, model %d %d", id, got[i].idle, got[i].deliveries, f.now-p.time, p.count)
			}
			p.count++
			m.move(p, cname, f.now)
		}
		if len(want) > 0 {
			mc.active = f.now
		}
		f.verifyNextClaimTime(g, mg, minIdle)

	case opNack:
		name, g, mg := f.group()
		if g == nil {
			return
		}
		mode, retry, force := NackMode(in.intn(3)), int64(-1), in.intn(3) == 2
		if in.intn(3) == 2 {
			retry = fuzzCounts[in.intn(len(fuzzCounts))]
		}
		for k := 1 + in.intn(3); k > 0; k-- {
			id := f.pickID()
			got := g.Nack(s, id, mode, retry, force)
			f.logf("Nack(%s, %v, mode %d, retry %d, force %v) = %v", name, id, mode, retry, force, got)
			want := true
			_, live := m.live(id)
			if p := mg.pel[id]; p != nil {
				switch {
				case retry >= 0:
					p.count = retry
				case mode == NackSilent:
					p.count = max(p.count-1, 0)
				case mode == NackFatal:
					p.count = math.MaxInt64
				}
				m.move(p, "", 0)
			} else if force && live {
				var cnt int64
				switch {
				case retry >= 0:
					cnt = retry
				case mode == NackFatal:
					cnt = math.MaxInt64
				}
				m.addPending(mg, id, "", 0, cnt)
			} else {
				want = false
			}
			if got != want {
				f.fatalf("Nack(%v) = %v, model %v", id, got, want)
			}
		}

	case opDeleteConsumer:
		name, g, mg := f.group()
		if g == nil {
			return
		}
		cname := "c" + strconv.Itoa(in.intn(4))
		pending, existed := g.DeleteConsumer([]byte(cname))
		f.logf("DeleteConsumer(%s, %s) = %d %v", name, cname, pending, existed)
		var want int64
		for id, p := range mg.pel {
			if p.owner == cname {
				delete(mg.pel, id)
				want++
			}
		}
		if existed != (mg.consumers[cname] != nil) || pending != want {
			f.fatalf("DeleteConsumer(%s) = %d %v, model %d %v", cname, pending, existed, want, mg.consumers[cname] != nil)
		}
		delete(mg.consumers, cname)

	case opSetID:
		last := f.pickID()
		ea := []int64{-1, -1, int64(len(m.entries)), int64(len(m.entries)) - 1, int64(m.added) + int64(in.intn(3))}[in.intn(5)]
		var md *ID
		if in.intn(3) == 0 {
			v := []ID{{}, m.maxDel, last, f.pickID()}[in.intn(4)]
			md = &v
		}
		err := s.SetID(last, ea, md)
		f.logf("SetID(%v, %d, %v) = %v", last, ea, md, err)
		var want error
		switch {
		case md != nil && last.Less(*md):
			want = ErrSetIDMaxDel
		case last.Less(m.maxDel):
			want = ErrSetIDCurDel
		case len(m.entries) > 0 && last.Less(m.entries[len(m.entries)-1].id):
			want = ErrSetIDSmall
		case len(m.entries) > 0 && ea >= 0 && int64(len(m.entries)) > ea:
			want = ErrSetIDEntries
		}
		if err != want {
			f.fatalf("SetID = %v, model %v", err, want)
		}
		if err == nil {
			m.lastID = last
			if ea >= 0 {
				m.added = uint64(ea)
			}
			if md != nil && !md.IsZero() {
				m.maxDel = *md
			}
		}

	case opIDMPRecord, opIDMPLookup:
		pid := "p" + strconv.Itoa(in.intn(3))
		var iid string
		if in.intn(4) == 3 {
			kv := f.fields()
			auto := IDMPAutoID(kv)
			// The automatic IID does not depend on the pairs' order.
			rev := make([][]byte, 0, len(kv))
			for i := len(kv) - 2; i >= 0; i -= 2 {
				rev = append(rev, kv[i], kv[i+1])
			}
			if !bytes.Equal(auto, IDMPAutoID(rev)) || len(auto) != 32 {
				f.fatalf("IDMPAutoID depends on the order of %s", shortFields(kv))
			}
			iid = string(auto)
		} else {
			iid = "i" + strconv.Itoa(in.intn(8))
		}
		if op == opIDMPLookup {
			got, ok := s.IDMPLookup([]byte(pid), []byte(iid), f.now)
			f.logf("IDMPLookup(%s, %q, %d) = %v %v", pid, iid, f.now, got, ok)
			var want ID
			var wantOK bool
			if m.pids[pid] != nil {
				m.idmpExpire(pid, f.now)
				for _, r := range m.pids[pid] {
					if r.iid == iid {
						want, wantOK = r.id, true
					}
				}
			}
			if got != want || ok != wantOK {
				f.fatalf("IDMPLookup = %v %v, model %v %v", got, ok, want, wantOK)
			}
			if ok && in.intn(2) == 1 {
				s.IDMPDuplicate()
				m.dups++
			}
			return
		}
		id := f.pickID()
		s.IDMPRecord([]byte(pid), []byte(iid), id, f.now)
		f.logf("IDMPRecord(%s, %q, %v, %d)", pid, iid, id, f.now)
		if m.pids[pid] != nil {
			m.idmpExpire(pid, f.now)
		}
		l := m.pids[pid]
		if i := slices.IndexFunc(l, func(r fzIID) bool { return r.iid == iid }); i >= 0 {
			l[i].id = id
			return
		}
		l = append(l, fzIID{iid, id, f.now})
		m.iidsAdded++
		for int64(len(l)) > max(m.idmpEffective().MaxSize, 1) {
			l = l[1:]
		}
		m.pids[pid] = l

	case opSetIDMP:
		c := IDMPConfig{Duration: []int64{0, 1, 100, 300}[in.intn(4)], MaxSize: []int64{0, 1, 2, 100}[in.intn(4)]}
		s.SetIDMP(c)
		f.logf("SetIDMP(%+v)", c)
		if m.idmpEffective() != c {
			m.pids = map[string][]fzIID{}
		}
		m.idmpCfg, m.idmpSet = c, true

	case opDup:
		f.verifyDupOriginal()
		snap := describe(s)
		d := s.Dup().(*Stream)
		f.logf("Dup")
		if err := d.Check(); err != nil {
			f.fatalf("copy: invariants: %v", err)
		}
		if got := describe(d); got != snap || d.Nodes() != s.Nodes() {
			f.fatalf("copy differs:\n%s\noriginal:\n%s", got, snap)
		}
		// Go on with the copy; the original must not change.
		f.dupOrig, f.dupSnap = s, snap
		f.s = d

	case opRead:
		a, b := f.pickID(), f.pickID()
		if in.intn(4) == 3 {
			a, b = MinID, MaxID
		}
		rev, count := in.intn(2) == 0, in.intn(5)
		got := collect(s.Range(a, b, rev), count)
		f.logf("Range(%v, %v, rev %v, %d) = %d", a, b, rev, count, len(got))
		f.sameEntries("Range", got, m.rng(a, b, rev, count))
		id := f.pickID()
		e, ok := s.Lookup(id, nil)
		i, want := m.live(id)
		if ok != want || s.Exists(id) != want {
			f.fatalf("Lookup(%v) = %v, Exists %v, model %v", id, ok, s.Exists(id), want)
		}
		if ok {
			f.sameEntry("Lookup", e, m.entries[i], true)
		}
		last, ok := s.Last(nil)
		if ok != (len(m.entries) > 0) {
			f.fatalf("Last: %v, model has %d entries", ok, len(m.entries))
		}
		if ok {
			f.sameEntry("Last", last, m.entries[len(m.entries)-1], true)
		}
		// What XINFO shows must not fail.
		s.Groups(func(g *Group) bool {
			s.Lag(g)
			return true
		})
		if s.ObjectSize(0) <= 0 || s.ObjectSize(1) <= 0 || s.RadixNodes() <= 0 {
			f.fatalf("ObjectSize %d/%d, RadixNodes %d", s.ObjectSize(0), s.ObjectSize(1), s.RadixNodes())
		}
		f.verifyEntries("read")

	case opClock:
		// The last three put delivery times and IDs 2^32 ms apart.
		d := []int64{0, 1, 5, 50, 500, 5000, 99_999, 100_000, 1_000_000, 1<<32 - 2, 1 << 32, 60 * 86_400_000}[in.intn(12)]
		f.now += d
		f.logf("clock +%d = %d", d, f.now)

	case opAddBulk:
		// Up to 256 entries with the same fields, while the stream is
		// small enough for the per-operation checks to stay fast.
		n := 1 + in.intn(256)
		if len(m.entries) > 2000 {
			n = 1
		}
		kv := f.fields()
		for i := 0; i < n; i++ {
			id, err := s.NextID(uint64(f.now))
			if err != nil {
				if m.lastID != MaxID {
					f.fatalf("NextID: %v at %v", err, m.lastID)
				}
				return
			}
			if err := s.Append(id, kv, f.lim); err != nil {
				f.fatalf("Append(%v): %v", id, err)
			}
			m.entries = append(m.entries, modelEntry{id, kv})
			m.lastID = id
			m.added++
		}
		f.logf("Append %d entries up to %v, %s", n, m.lastID, shortFields(kv))

	case opLimits:
		f.lim = Limits{
			MaxEntries: []int64{0, 1, 2, 3, 5, 100}[in.intn(6)],
			MaxBytes:   []int64{0, 1, 64, 200, 4096}[in.intn(5)],
		}
		f.logf("limits %+v", f.lim)
	}
}

// trim applies a Trim and checks it against the model: exactly where the
// result does not depend on the node layout, within spec §6's bounds
// elsewhere.
func (f *streamFuzzer) trim() {
	s, m, in := f.s, &f.m, &f.rec
	t := Trim{MinID: in.intn(2) == 0, Approx: in.intn(2) == 0, Ref: RefMode(in.intn(3))}
	if t.MinID {
		t.Min = f.pickID()
	} else {
		t.MaxLen = max(0, int64(len(m.entries))-int64(in.intn(6)))
		if in.intn(4) == 3 {
			t.MaxLen = int64(in.intn(3))
		}
	}
	if t.Approx {
		// LIMIT exists only with "~" (XTRIM refuses it otherwise).
		t.Limit = []int64{0, 1, 3, 10, 100}[in.intn(5)]
	}
	before := slices.Clone(m.entries)
	referenced := make(map[ID]bool)
	for _, e := range before {
		referenced[e.id] = m.referenced(e.id)
	}
	// Pending IDs with no live entry: DELREF may drop them if the walk
	// passes their tombstones.
	orphans := map[string][]ID{}
	for name, g := range m.groups {
		for id := range g.pel {
			if _, ok := m.live(id); !ok {
				orphans[name] = append(orphans[name], id)
			}
		}
	}
	maxDel, last := s.MaxDeletedID(), s.LastID()

	n := s.Trim(t)
	f.logf("Trim(%+v) = %d", t, n)

	after := collect(s.Range(MinID, MaxID, false), 0)
	var deleted []ID
	j := 0
	for _, e := range before {
		if j < len(after) && after[j].ID == e.id {
			j++
			continue
		}
		deleted = append(deleted, e.id)
	}
	if j != len(after) {
		f.fatalf("Trim left entries the model does not have: %v", entryIDs(after))
	}
	if n != int64(len(deleted)) {
		f.fatalf("Trim returned %d, deleted %v", n, deleted)
	}
	if s.MaxDeletedID() != maxDel || s.LastID() != last {
		f.fatalf("Trim changed max deleted ID %v -> %v or last ID %v -> %v", maxDel, s.MaxDeletedID(), last, s.LastID())
	}
	if t.Limit > 0 && n > t.Limit {
		f.fatalf("Trim deleted %d over LIMIT", n)
	}
	// Exact trimming deletes, in ID order, the candidates (the entries, or
	// with ACKED those no group references) below Min or until MAXLEN
	// holds. Any trimming deletes a prefix of the candidates: the walk
	// deletes every candidate it passes.
	var candidates []ID
	for _, e := range before {
		if t.Ref != Acked || !referenced[e.id] {
			candidates = append(candidates, e.id)
		}
	}
	exact := 0
	for _, e := range before {
		if t.MinID && !e.id.Less(t.Min) || !t.MinID && len(before)-exact <= int(t.MaxLen) {
			break
		}
		if t.Ref != Acked || !referenced[e.id] {
			exact++
		}
	}
	for i, id := range deleted {
		switch {
		case t.MinID && !id.Less(t.Min):
			f.fatalf("Trim MINID %v deleted %v", t.Min, id)
		case id != candidates[i]:
			f.fatalf("Trim deleted %v, not a prefix of the candidates %v", deleted, candidates)
		}
	}
	if !t.MinID && len(after) < min(int(t.MaxLen), len(before)) {
		f.fatalf("Trim MAXLEN %d left %d of %d", t.MaxLen, len(after), len(before))
	}
	switch {
	case len(deleted) > exact:
		f.fatalf("Trim deleted %d, exact trimming deletes %d", len(deleted), exact)
	case !t.Approx && (t.MinID || t.Ref != Acked) && len(deleted) != exact:
		// MAXLEN with ACKED stops after the first node it cannot remove
		// whole (spec §6), so only the bound above holds for it.
		f.fatalf("exact Trim deleted %d, want %d", len(deleted), exact)
	}
	for _, id := range deleted {
		m.deleteEntry(id)
	}
	m.maxDel = maxDel // trimming never changes it
	if t.Ref != DelRef {
		return
	}
	for _, id := range deleted {
		m.dropRefs(id)
	}
	// An orphan pending ID goes when the walk passed its tombstone: the
	// walk stops before the first entry it keeps, and MINID before Min.
	for name, list := range orphans {
		g, mg := s.Group([]byte(name)), m.groups[name]
		for _, id := range list {
			if _, ok := g.PendingOf(id); ok {
				continue
			}
			if t.MinID && !id.Less(t.Min) || len(after) > 0 && !id.Less(after[0].ID) {
				f.fatalf("Trim DELREF dropped pending %v beyond the walk (first kept %v)", id, entryIDs(after[:min(1, len(after))]))
			}
			delete(mg.pel, id)
		}
	}
}

// verify checks the invariants and compares the counters and the groups
// with the model.
func (f *streamFuzzer) verify() {
	s, m := f.s, &f.m
	if err := s.Check(); err != nil {
		f.fatalf("invariants: %v", err)
	}
	first := ID{}
	if len(m.entries) > 0 {
		first = m.entries[0].id
	}
	if s.Len() != int64(len(m.entries)) || s.FirstID() != first || s.LastID() != m.lastID ||
		s.MaxDeletedID() != m.maxDel || s.EntriesAdded() != m.added {
		f.fatalf("len %d first %v last %v maxdel %v added %d; model %d %v %v %v %d",
			s.Len(), s.FirstID(), s.LastID(), s.MaxDeletedID(), s.EntriesAdded(),
			len(m.entries), first, m.lastID, m.maxDel, m.added)
	}
	names := m.groupNames()
	if s.GroupCount() != len(names) {
		f.fatalf("%d groups, model %v", s.GroupCount(), names)
	}
	i := 0
	s.Groups(func(g *Group) bool {
		if string(g.Name()) != names[i] {
			f.fatalf("group %d is %q, model %q", i, g.Name(), names[i])
		}
		f.verifyGroup(g, m.groups[names[i]])
		i++
		return true
	})
	pids, iids, added, dups := s.IDMPStats()
	if pids != int64(len(m.pids)) || iids != m.idmpIIDs() || added != m.iidsAdded || dups != m.dups {
		f.fatalf("IDMP stats %d %d %d %d, model %d %d %d %d", pids, iids, added, dups, len(m.pids), m.idmpIIDs(), m.iidsAdded, m.dups)
	}
}

func (f *streamFuzzer) verifyGroup(g *Group, mg *fzGroup) {
	name := string(g.Name())
	if g.LastID() != mg.lastID || g.PendingCount() != int64(len(mg.pel)) || g.NackedCount() != mg.nacked() ||
		g.ConsumerCount() != len(mg.consumers) {
		f.fatalf("group %s: last %v pending %d nacked %d consumers %d; model %v %d %d %d", name,
			g.LastID(), g.PendingCount(), g.NackedCount(), g.ConsumerCount(),
			mg.lastID, len(mg.pel), mg.nacked(), len(mg.consumers))
	}
	want := mg.pelIDs("*")
	k := 0
	g.PendingRange(MinID, MaxID, nil, func(p Pending) bool {
		if k >= len(want) || p.ID != want[k] {
			f.fatalf("group %s: pending entry %d is %v, model %v", name, k, p.ID, want)
		}
		mp := mg.pel[p.ID]
		owner := ""
		if p.Consumer != nil {
			owner = string(p.Consumer.Name())
		}
		if owner != mp.owner || p.DeliveryTime != mp.time || p.DeliveryCount != mp.count {
			f.fatalf("group %s: pending %v owner %q time %d count %d; model %q %d %d", name, p.ID,
				owner, p.DeliveryTime, p.DeliveryCount, mp.owner, mp.time, mp.count)
		}
		k++
		return true
	})
	if k != len(want) {
		f.fatalf("group %s: %d pending entries, model %v", name, k, want)
	}
	if lo, hi, ok := g.PendingFirstLast(); ok != (len(want) > 0) || ok && (lo != want[0] || hi != want[len(want)-1]) {
		f.fatalf("group %s: PendingFirstLast %v %v %v", name, lo, hi, ok)
	}
	g.Consumers(func(c *Consumer) bool {
		cname := string(c.Name())
		mc := mg.consumers[cname]
		if g.Consumer(c.Name()) != c {
			f.fatalf("group %s: Consumer(%s) is not the consumer listed", name, cname)
		}
		if mc == nil {
			f.fatalf("group %s: consumer %s not in the model", name, cname)
		}
		owned := mg.pelIDs(cname)
		if c.SeenTime() != mc.seen || c.ActiveTime() != mc.active || c.PendingCount() != int64(len(owned)) {
			f.fatalf("consumer %s/%s: seen %d active %d pending %d; model %d %d %d", name, cname,
				c.SeenTime(), c.ActiveTime(), c.PendingCount(), mc.seen, mc.active, len(owned))
		}
		var got []ID
		g.PendingRange(MinID, MaxID, c, func(p Pending) bool {
			got = append(got, p.ID)
			return true
		})
		if !slices.Equal(got, owned) {
			f.fatalf("consumer %s/%s: pending %v, model %v", name, cname, got, owned)
		}
		return true
	})
}

// verifyNextClaimTime checks when XREADGROUP CLAIM could next claim: the
// first entry in claim order that still exists, minIdle after its
// delivery (NACKed: time 0).
func (f *streamFuzzer) verifyNextClaimTime(g *Group, mg *fzGroup, minIdle int64) {
	var want int64
	var wantOK bool
	for _, id := range mg.claimOrder() {
		if _, live := f.m.live(id); live {
			want, wantOK = mg.pel[id].time+minIdle, true
			break
		}
	}
	if at, ok := f.s.NextClaimTime(g, minIdle); ok != wantOK || at != want {
		f.fatalf("NextClaimTime(%d) = %d %v, model %d %v", minIdle, at, ok, want, wantOK)
	}
}

func (f *streamFuzzer) verifyEntries(what string) {
	f.t.Helper()
	f.sameEntries(what+": all entries", collect(f.s.Range(MinID, MaxID, false), 0), f.m.entries)
	f.sameEntries(what+": all entries reversed", collect(f.s.Range(MinID, MaxID, true), 0), f.m.rng(MinID, MaxID, true, 0))
}

// verifyDupOriginal checks that the stream last copied did not change
// while its copy did.
func (f *streamFuzzer) verifyDupOriginal() {
	if f.dupOrig == nil {
		return
	}
	if err := f.dupOrig.Check(); err != nil {
		f.fatalf("original of the copy: invariants: %v", err)
	}
	if got := describe(f.dupOrig); got != f.dupSnap {
		f.fatalf("original changed with its copy:\n%s\nwas:\n%s", got, f.dupSnap)
	}
}
