package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/runnel-io/runnel/internal/redistest"
)

// TestKill9Loop runs a mixed load against the real binary (producers,
// consumers in a group, INCR and SET, MULTI/EXEC, BGSAVE), kills the server
// with SIGKILL at a random moment, restarts it on the same directory and
// port, and checks the recovered state against what the clients were told
// (issue 4, "Crash safety"). Every operation is recorded with the time it
// was sent and the time its reply arrived; a write whose reply never came
// may or may not have survived.
//
// A kill -9 loses nothing acknowledged under always (the reply waits for
// the fsync) nor under everysec and no (it waits for the write to the file;
// the kernel keeps it when the process dies): every acknowledged write must
// survive, under all three. Should one be lost, the report says whether the
// survivors are still a prefix of the history (nothing survived that was
// sent after a lost write was acknowledged, no stream has a hole), which
// tells a lost tail from a damaged log. The invariants of the data are
// checked too: MULTI/EXEC all or nothing, the consumer group consistent
// with the deliveries and acknowledgements, no unknown or duplicated
// entries, and nothing a restart recovered lost by a later one.
func TestKill9Loop(t *testing.T) {
	bin := buildBinary(t)
	// "+paging" runs with a small stream-memory-budget and small nodes:
	// most nodes live only in the node log, and every restart reads them
	// back from checkpoints that refer to them.
	for _, policy := range []string{"always", "everysec", "no", "always+paging"} {
		t.Run(policy, func(t *testing.T) {
			cycles := 9
			if policy == "no" || policy == "always+paging" {
				cycles = 4 // the same write path as everysec, without the ticks
			}
			if testing.Short() {
				cycles = 2
			}
			l := newKillLoop(t, bin, policy)
			l.setup()
			for c := 1; c <= cycles; c++ {
				d := time.Duration(300+rand.IntN(1200)) * time.Millisecond
				// Every third cycle goes without BGSAVE: its restart
				// replays a longer log.
				l.cycle(c, d, c%3 != 0)
			}
			l.summary()
		})
	}
}

// The workload's shape.
const (
	crashProducers  = 4 // producer i < 3 writes the group streams; the last one writes crashTrim
	crashConsumers  = 3
	crashSetKeys    = 8
	crashTrimMaxLen = 200
	crashGroup      = "g"
	crashTrim       = "trim"
	crashMulti      = "m"      // stream of the MULTI/EXEC client
	crashMCount     = "mcount" // INCRed in the same transaction: always XLEN m
	crashMLast      = "mlast"  // SET in the same transaction: the tx field of m's last entry
	crashCounter    = "ctr"
)

var crashStreams = []string{"s0", "s1", "s2"} // the streams with the consumer group

// producerStream is the stream the n-th XADD of producer p goes to.
func producerStream(p, n int) string {
	if p == crashProducers-1 {
		return crashTrim
	}
	return crashStreams[n%len(crashStreams)]
}

// payloadData is the d field of producer p's n-th entry: derived from the
// payload's identity so that every entry can be checked field by field, of
// varying length so that entries fill stream nodes unevenly.
func payloadData(p, n int) string {
	unit := fmt.Sprintf("%d.%d;", p, n)
	return strings.Repeat(unit, 1+(n*7+p)%20)
}

// crashServer is one data directory and port served by a succession of
// runnel processes.
type crashServer struct {
	tb      testing.TB
	bin     string
	args    []string
	addr    string
	logDir  string
	starts  int
	logPath string // stderr of the current (or last) process
	cmd     *exec.Cmd
	exited  chan struct{} // closed once cmd has been reaped
}

func newCrashServer(tb testing.TB, bin, policy string) *crashServer {
	tb.Helper()
	fsync, paging := strings.CutSuffix(policy, "+paging")
	return newRestartableServer(tb, bin, func(port, dir string) []string {
		// A small auto-checkpoint threshold makes automatic checkpoints
		// (and the log truncation after them) happen under load too.
		args := []string{"--port", port, "--dir", dir, "--appendfsync", fsync, "--auto-aof-rewrite-min-size", "256kb"}
		if paging {
			args = append(args, "--stream-memory-budget", "32kb", "--stream-node-max-entries", "10")
		}
		return args
	})
}

// newRestartableServer is a crashServer (a process restartable on the same
// directory and port) with the arguments args gives for them, killed when
// the test ends.
func newRestartableServer(tb testing.TB, bin string, args func(port, dir string) []string) *crashServer {
	tb.Helper()
	base := tb.TempDir()
	port := redistest.FreePort(tb)
	s := &crashServer{
		tb:     tb,
		bin:    bin,
		args:   args(strconv.Itoa(port), filepath.Join(base, "data")),
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		logDir: base,
	}
	tb.Cleanup(func() {
		if s.cmd != nil {
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
	return s
}

// start starts a process and waits until it answers PING; it returns the
// "data loaded" line it logged.
func (s *crashServer) start() string {
	s.tb.Helper()
	// The port was free when the loop began; a restart right after a kill
	// may find it briefly taken (a connection of another test process may
	// have been given it as its local port), so binding is retried.
	for attempt := 0; ; attempt++ {
		s.starts++
		s.logPath = filepath.Join(s.logDir, fmt.Sprintf("runnel-%02d.log", s.starts))
		f, err := os.Create(s.logPath)
		if err != nil {
			s.tb.Fatal(err)
		}
		cmd := exec.Command(s.bin, s.args...)
		cmd.Stdout, cmd.Stderr = f, f // a file: no copying goroutine, readable at any time
		err = cmd.Start()
		f.Close()
		if err != nil {
			s.tb.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		s.cmd, s.exited = cmd, exited
		err = s.waitReady(10 * time.Second)
		if err == nil {
			return s.logLine(`msg="data loaded"`)
		}
		s.cmd = nil
		if attempt < 20 && strings.Contains(s.logTail(5), "address already in use") {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		s.tb.Fatalf("runnel start %d (%s): %v\nlast lines of its log:\n%s", s.starts, strings.Join(s.args, " "), err, s.logTail(30))
	}
}

// waitReady polls PING until it is answered or the process exits.
func (s *crashServer) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("runnel exited: %v", s.cmd.ProcessState)
		default:
		}
		if pingOK(s.addr) {
			return nil
		}
		if time.Now().After(deadline) {
			_ = s.cmd.Process.Kill()
			<-s.exited
			return fmt.Errorf("no PONG after %v", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pingOK(addr string) bool {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := nc.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// kill sends SIGKILL and waits until the process is gone (and with it its
// lock on the data directory).
func (s *crashServer) kill() {
	s.tb.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		s.tb.Fatalf("kill: %v", err)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.tb.Fatal("runnel still running 10s after SIGKILL")
	}
	s.cmd = nil
}

func (s *crashServer) logText() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	return string(b)
}

func (s *crashServer) logTail(n int) string {
	lines := strings.Split(strings.TrimRight(s.logText(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// logLine returns the first line of the current log that contains sub.
func (s *crashServer) logLine(sub string) string {
	for l := range strings.SplitSeq(s.logText(), "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// slowSyncRE finds the server's warnings about slow fsyncs.
var slowSyncRE = regexp.MustCompile(`slow fdatasync" took=(\S+)`)

// slowSyncs counts the slow fsyncs the current log reports and returns the
// longest.
func (s *crashServer) slowSyncs() (n int, slowest time.Duration) {
	for _, m := range slowSyncRE.FindAllStringSubmatch(s.logText(), -1) {
		if d, err := time.ParseDuration(m[1]); err == nil {
			n, slowest = n+1, max(slowest, d)
		}
	}
	return n, slowest
}

// streamID is a parsed stream entry ID.
type streamID struct{ ms, seq uint64 }

func parseID(s string) (streamID, error) {
	ms, seq, ok := strings.Cut(s, "-")
	a, err1 := strconv.ParseUint(ms, 10, 64)
	b, err2 := strconv.ParseUint(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return streamID{}, fmt.Errorf("bad stream ID %q", s)
	}
	return streamID{a, b}, nil
}

func (a streamID) cmp(b streamID) int {
	if c := compareU(a.ms, b.ms); c != 0 {
		return c
	}
	return compareU(a.seq, b.seq)
}

func compareU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (a streamID) String() string { return fmt.Sprintf("%d-%d", a.ms, a.seq) }

// payload identifies an entry: producer p's n-th XADD.
type payload struct{ p, n int }

type opKind uint8

const (
	opXAdd opKind = iota
	opDeliver
	opXAck
	opIncr
	opSet
	opMulti
	numOpKinds
)

var opNames = [numOpKinds]string{"XADD", "XREADGROUP", "XACK", "INCR", "SET", "MULTI/EXEC"}

// op is one write as its client saw it.
type op struct {
	kind     opKind
	sent     time.Time
	acked    time.Time  // when the reply arrived; zero if none did (outcome unknown)
	stream   string     // XADD, XREADGROUP (one op per stream served), XACK, MULTI (crashMulti)
	pl       payload    // XADD
	id       streamID   // XADD, MULTI: the ID replied; XREADGROUP: the last ID delivered
	consumer string     // XREADGROUP, XACK
	ids      []streamID // XREADGROUP: the IDs delivered; XACK: the IDs acknowledged
	pls      []payload  // XREADGROUP: the payloads delivered, parallel to ids
	value    int64      // INCR: the value expected; SET: the writer's sequence; MULTI: the transaction number
	key      string     // SET
}

func (o *op) String() string {
	s := opNames[o.kind]
	switch o.kind {
	case opXAdd:
		s += fmt.Sprintf(" %s p=%d n=%d", o.stream, o.pl.p, o.pl.n)
	case opDeliver, opXAck:
		s += fmt.Sprintf(" %s %s %d IDs up to %v", o.stream, o.consumer, len(o.ids), o.id)
	case opIncr:
		s += fmt.Sprintf(" -> %d", o.value)
	case opSet:
		s += fmt.Sprintf(" %s seq %d", o.key, o.value)
	case opMulti:
		s += fmt.Sprintf(" tx %d", o.value)
	}
	if (o.kind == opXAdd || o.kind == opMulti) && !o.acked.IsZero() {
		s += " -> " + o.id.String()
	}
	if o.acked.IsZero() {
		s += " (no reply)"
	}
	return s
}

type presence uint8

const (
	absent presence = iota
	present
	unknown // cannot be told from the state (an entry trimmed since, a read whose reply never came)
)

// pelEntry is one pending entry as XPENDING reports it.
type pelEntry struct {
	consumer string
	count    int64
}

// state is what a restarted server holds, as the checks need it.
type state struct {
	entries   map[string][]streamID            // stream -> IDs in order
	byPayload map[payload]streamID             // group streams and crashTrim
	byTx      map[int64]streamID               // crashMulti
	lastTx    int64                            // tx field of crashMulti's last entry
	ldid      map[string]streamID              // group stream -> last-delivered-id
	pel       map[string]map[streamID]pelEntry // group stream -> pending entries
	counter   int64                            // crashCounter
	sets      map[string]int64                 // SET key -> the writer's sequence it holds
	mcount    int64                            // crashMCount
	mlast     int64                            // crashMLast (-1 if unset)
}

// killLoop is the loop of one policy: the server, what the clients have
// been told so far, and the figures reported at the end.
type killLoop struct {
	t      testing.TB
	srv    *crashServer
	policy string

	// Carried across cycles: the writers' sequences (never reused, so
	// every payload is unique) and the state the last restart recovered.
	nextN    [crashProducers]int
	setSeq   int64
	txSeq    int64
	ops      []*op // base ops: present at the last restart
	basePEL  map[string]map[streamID]pelEntry
	baseLDID map[string]streamID
	counter  int64 // crashCounter at the last restart
	mcount   int64 // crashMCount at the last restart

	totalAcked [numOpKinds]int
	cyclesRun  int
}

func newKillLoop(t testing.TB, bin, policy string) *killLoop {
	return &killLoop{t: t, srv: newCrashServer(t, bin, policy), policy: policy}
}

func (l *killLoop) client() *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: l.srv.addr,
		// A retried XADD would add a second entry with the same payload,
		// and a retried write would blur what was acknowledged.
		MaxRetries:   -1,
		DialTimeout:  2 * time.Second,
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 10 * time.Second,
		PoolSize:     1, // one connection: a client's commands run in the order it sends them
	})
}

// setup starts the first server and creates the consumer group, made
// durable by SAVE whatever the policy.
func (l *killLoop) setup() {
	l.t.Logf("start: %s", l.srv.start())
	rdb := l.client()
	defer rdb.Close()
	ctx := context.Background()
	for _, s := range crashStreams {
		if err := rdb.XGroupCreateMkStream(ctx, s, crashGroup, "$").Err(); err != nil {
			l.t.Fatal(err)
		}
	}
	if err := rdb.Save(ctx).Err(); err != nil {
		l.t.Fatal(err)
	}
	l.basePEL = map[string]map[streamID]pelEntry{}
	l.baseLDID = map[string]streamID{}
}

// failures collects what goes wrong in the client goroutines.
type failures struct {
	mu    sync.Mutex
	msgs  []string
	drops []drop // connection errors, which only the kill may cause
}

type drop struct {
	at   time.Time
	what string
}

// broken records the error that stopped a client: an error reply is a
// failure; a broken connection is expected once the server is killed.
func (f *failures) broken(what string, err error) {
	if isReplyError(err) {
		f.add("%s: %v", what, err)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drops = append(f.drops, drop{time.Now(), fmt.Sprintf("%s: %v", what, err)})
}

func (f *failures) add(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.msgs) < 20 {
		f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
	}
}

// isReplyError reports whether err is an error reply of the server (a
// failure of the test), as opposed to the connection breaking (the kill).
func isReplyError(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && !errors.Is(err, redis.Nil)
}

// pacer spaces a client's operations to rate per second, so that each
// cycle holds a bounded amount of data whatever the policy's speed.
type pacer struct {
	start time.Time
	every time.Duration
	n     int
}

func newPacer(perSec int) *pacer {
	return &pacer{start: time.Now(), every: time.Second / time.Duration(perSec)}
}

func (p *pacer) wait(ctx context.Context) bool {
	p.n++
	if d := time.Until(p.start.Add(time.Duration(p.n) * p.every)); d > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	return ctx.Err() == nil
}

// cycle runs the load for d (with BGSAVEs if bgsave), kills the server,
// restarts it and checks it.
func (l *killLoop) cycle(c int, d time.Duration, bgsave bool) {
	l.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg   sync.WaitGroup
		fail failures
	)
	var results []*[]*op // one per client goroutine, read after wg.Wait
	worker := func(fn func(ctx context.Context, rdb *redis.Client, out *[]*op, fail *failures)) {
		out := new([]*op)
		results = append(results, out)
		rdb := l.client()
		wg.Go(func() {
			defer rdb.Close()
			fn(ctx, rdb, out, &fail)
		})
	}
	for p := range crashProducers {
		first := l.nextN[p]
		worker(func(ctx context.Context, rdb *redis.Client, out *[]*op, fail *failures) {
			produce(ctx, rdb, p, first, out, fail)
		})
	}
	for i := range crashConsumers {
		worker(func(ctx context.Context, rdb *redis.Client, out *[]*op, fail *failures) {
			consume(ctx, rdb, fmt.Sprintf("c%d", i), out, fail)
		})
	}
	counter, setSeq := l.counter, l.setSeq
	worker(func(ctx context.Context, rdb *redis.Client, out *[]*op, fail *failures) {
		incrSet(ctx, rdb, counter, setSeq, out, fail)
	})
	mcount, txSeq := l.mcount, l.txSeq
	worker(func(ctx context.Context, rdb *redis.Client, out *[]*op, fail *failures) {
		multiExec(ctx, rdb, mcount, txSeq, out, fail)
	})
	bgsaves := 0
	wg.Go(func() {
		// Checkpoints in the middle of the load, besides the automatic ones.
		if !bgsave {
			return
		}
		rdb := l.client()
		defer rdb.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(100+rand.IntN(200)) * time.Millisecond):
			}
			err := rdb.BgSave(ctx).Err()
			switch {
			case err == nil:
				bgsaves++
			case isReplyError(err) && strings.Contains(err.Error(), "already in progress"):
			default:
				fail.broken("BGSAVE", err)
				return
			}
		}
	})

	time.Sleep(d)
	killedAt := time.Now()
	slowSyncs, slowest := l.srv.slowSyncs()
	l.srv.kill()
	cancel()
	wg.Wait()
	killedLog := l.srv.logPath
	for _, d := range fail.drops {
		if d.at.Before(killedAt) {
			fail.add("connection lost %v before the kill: %s", killedAt.Sub(d.at).Round(time.Millisecond), d.what)
		}
	}
	if len(fail.msgs) > 0 {
		l.t.Fatalf("cycle %d: %s\nlast lines of the server log (%s):\n%s", c, strings.Join(fail.msgs, "\n"), killedLog, l.srv.logTail(30))
	}

	var cur []*op
	for _, r := range results {
		cur = append(cur, *r...)
	}
	// Advance the writers' sequences past everything sent, acknowledged or not.
	for _, o := range cur {
		switch o.kind {
		case opXAdd:
			l.nextN[o.pl.p] = max(l.nextN[o.pl.p], o.pl.n+1)
		case opSet:
			l.setSeq = max(l.setSeq, o.value+1)
		case opMulti:
			l.txSeq = max(l.txSeq, o.value+1)
		}
	}

	loaded := l.srv.start()
	st := l.readState(c)
	l.verify(c, st, cur, killedAt)
	l.rebase(st, cur)

	var acked [numOpKinds]int
	for _, o := range cur {
		if !o.acked.IsZero() {
			acked[o.kind]++
			l.totalAcked[o.kind]++
		}
	}
	l.cyclesRun++
	msg := fmt.Sprintf("cycle %d: killed after %v; %d BGSAVE; acknowledged %s", c, d.Round(time.Millisecond), bgsaves, kindCounts(acked))
	if slowSyncs > 0 {
		msg += fmt.Sprintf("; %d slow fsyncs logged, slowest %v", slowSyncs, slowest)
	}
	l.t.Logf("%s\n\trestart: %s", msg, trimLogLine(loaded))
}

func kindCounts(n [numOpKinds]int) string {
	var parts []string
	for k, c := range n {
		if c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, opNames[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// trimLogLine drops the time and level of a log line.
func trimLogLine(l string) string {
	if i := strings.Index(l, "msg="); i >= 0 {
		return l[i:]
	}
	return l
}

func (l *killLoop) summary() {
	total := 0
	for _, n := range l.totalAcked {
		total += n
	}
	l.t.Logf("%s: %d kill -9 cycles, %d acknowledged writes (%s), none lost", l.policy, l.cyclesRun, total, kindCounts(l.totalAcked))
}

// produce XADDs producer p's entries from sequence first on.
func produce(ctx context.Context, rdb *redis.Client, p, first int, out *[]*op, fail *failures) {
	pace := newPacer(800)
	for n := first; pace.wait(ctx); n++ {
		a := &redis.XAddArgs{
			Stream: producerStream(p, n),
			Values: []string{"p", strconv.Itoa(p), "n", strconv.Itoa(n), "d", payloadData(p, n)},
		}
		switch p {
		case crashProducers - 1:
			a.MaxLen = crashTrimMaxLen // exact: trims on every XADD
		case 1:
			a.MaxLen, a.Approx = 1_000_000_000, true // never trims what is checked
		}
		o := &op{kind: opXAdd, stream: a.Stream, pl: payload{p, n}, sent: time.Now()}
		*out = append(*out, o)
		id, err := rdb.XAdd(ctx, a).Result()
		if err != nil {
			fail.broken(o.String(), err)
			return
		}
		o.acked = time.Now()
		if o.id, err = parseID(id); err != nil {
			fail.add("%v: %v", o, err)
			return
		}
	}
}

// consume reads new entries as consumer name of the group and acknowledges
// what it got.
func consume(ctx context.Context, rdb *redis.Client, name string, out *[]*op, fail *failures) {
	streams := append(slices.Clone(crashStreams), ">", ">", ">")
	for ctx.Err() == nil {
		sent := time.Now()
		res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: crashGroup, Consumer: name, Streams: streams, Count: 10, Block: -1,
		}).Result()
		if errors.Is(err, redis.Nil) {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		if err != nil {
			fail.broken("XREADGROUP "+name, err)
			// Whatever it delivered, if it ran, is unknown.
			*out = append(*out, &op{kind: opDeliver, consumer: name, sent: sent})
			return
		}
		acked := time.Now()
		var reads []*op
		for _, xs := range res {
			d := &op{kind: opDeliver, stream: xs.Stream, consumer: name, sent: sent, acked: acked}
			for _, m := range xs.Messages {
				id, err := parseID(m.ID)
				if err != nil {
					fail.add("XREADGROUP %s: %v", name, err)
					return
				}
				pl, err := checkFields(m.Values)
				if err != nil {
					fail.add("XREADGROUP %s delivered %s %s: %v", name, xs.Stream, m.ID, err)
					return
				}
				d.ids, d.pls, d.id = append(d.ids, id), append(d.pls, pl), id
			}
			if len(d.ids) > 0 {
				reads = append(reads, d)
			}
		}
		*out = append(*out, reads...)
		for _, d := range reads {
			a := &op{kind: opXAck, stream: d.stream, consumer: name, ids: d.ids, id: d.id, sent: time.Now()}
			*out = append(*out, a)
			args := make([]string, len(d.ids))
			for i, id := range d.ids {
				args[i] = id.String()
			}
			n, err := rdb.XAck(ctx, d.stream, crashGroup, args...).Result()
			if err != nil {
				fail.broken(a.String(), err)
				return
			}
			a.acked = time.Now()
			if n != int64(len(args)) {
				fail.add("%v: acknowledged %d of the %d entries just delivered", a, n, len(args))
				return
			}
		}
	}
}

// checkFields checks an entry's fields as go-redis decodes them and returns
// its payload.
func checkFields(v map[string]any) (payload, error) {
	ps, _ := v["p"].(string)
	ns, _ := v["n"].(string)
	p, err1 := strconv.Atoi(ps)
	n, err2 := strconv.Atoi(ns)
	if len(v) != 3 || err1 != nil || err2 != nil || v["d"] != payloadData(p, n) {
		return payload{}, fmt.Errorf("fields %v are not an entry a producer wrote", v)
	}
	return payload{p, n}, nil
}

// incrSet alternates INCR of crashCounter (whose value it predicts: it is
// the only writer) and SET of crashSetKeys keys, each to its sequence.
func incrSet(ctx context.Context, rdb *redis.Client, counter, seq int64, out *[]*op, fail *failures) {
	pace := newPacer(800)
	for i := 0; pace.wait(ctx); i++ {
		var (
			o   *op
			err error
			got int64
		)
		if i%2 == 0 {
			counter++
			o = &op{kind: opIncr, value: counter, sent: time.Now()}
			*out = append(*out, o)
			got, err = rdb.Incr(ctx, crashCounter).Result()
		} else {
			o = &op{kind: opSet, key: fmt.Sprintf("k%d", seq%crashSetKeys), value: seq, sent: time.Now()}
			*out = append(*out, o)
			err = rdb.Set(ctx, o.key, "s:"+strconv.FormatInt(seq, 10), 0).Err()
			seq++
		}
		if err != nil {
			fail.broken(o.String(), err)
			return
		}
		o.acked = time.Now()
		if o.kind == opIncr && got != counter {
			fail.add("%v: replied %d", o, got)
			return
		}
	}
}

// multiExec runs transactions of XADD crashMulti, INCR crashMCount and SET
// crashMLast: a restart must find all three or none of each.
func multiExec(ctx context.Context, rdb *redis.Client, mcount, tx int64, out *[]*op, fail *failures) {
	pace := newPacer(200)
	for ; pace.wait(ctx); tx++ {
		o := &op{kind: opMulti, stream: crashMulti, value: tx, sent: time.Now()}
		*out = append(*out, o)
		var (
			xadd *redis.StringCmd
			incr *redis.IntCmd
		)
		_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			xadd = p.XAdd(ctx, &redis.XAddArgs{Stream: crashMulti, Values: []string{"tx", strconv.FormatInt(tx, 10)}})
			incr = p.Incr(ctx, crashMCount)
			p.Set(ctx, crashMLast, tx, 0)
			return nil
		})
		if err != nil {
			fail.broken(o.String(), err)
			return
		}
		o.acked = time.Now()
		mcount++
		if incr.Val() != mcount {
			fail.add("%v: INCR %s replied %d, want %d", o, crashMCount, incr.Val(), mcount)
			return
		}
		if o.id, err = parseID(xadd.Val()); err != nil {
			fail.add("%v: %v", o, err)
			return
		}
	}
}

// readState reads what the restarted server holds and checks what needs
// no history: the server is loaded, every stream is readable in full,
// every entry is one a client wrote, once.
func (l *killLoop) readState(c int) *state {
	l.t.Helper()
	rdb := l.client()
	defer rdb.Close()
	ctx := context.Background()
	failf := func(format string, args ...any) {
		l.t.Helper()
		l.t.Fatalf("cycle %d restart: %s\nlast lines of the server log:\n%s", c, fmt.Sprintf(format, args...), l.srv.logTail(30))
	}
	info, err := rdb.Info(ctx, "persistence").Result()
	if err != nil {
		failf("INFO persistence: %v", err)
	}
	if !strings.Contains(info, "loading:0\r\n") {
		failf("INFO persistence after start:\n%s", info)
	}
	st := &state{
		entries:   map[string][]streamID{},
		byPayload: map[payload]streamID{},
		byTx:      map[int64]streamID{},
		ldid:      map[string]streamID{},
		pel:       map[string]map[streamID]pelEntry{},
		sets:      map[string]int64{},
		mlast:     -1,
	}
	for _, s := range append(slices.Clone(crashStreams), crashTrim, crashMulti) {
		n, err := rdb.Exists(ctx, s).Result()
		if err != nil {
			failf("EXISTS %s: %v", s, err)
		}
		if n == 0 {
			if slices.Contains(crashStreams, s) {
				failf("stream %s (made durable by SAVE before the first kill) is gone", s)
			}
			continue
		}
		if err := rdb.Do(ctx, "XINFO", "STREAM", s, "FULL").Err(); err != nil {
			failf("XINFO STREAM %s FULL: %v", s, err)
		}
		start := "-"
		for {
			page, err := rdb.Do(ctx, "XRANGE", s, start, "+", "COUNT", 5000).Slice()
			if err != nil {
				failf("XRANGE %s %s + COUNT 5000: %v", s, start, err)
			}
			for _, e := range page {
				id, fields, err := rawEntry(e)
				if err != nil {
					failf("XRANGE %s: %v", s, err)
				}
				st.entries[s] = append(st.entries[s], id)
				if s == crashMulti {
					tx, err := int64(-1), error(nil)
					if len(fields) == 2 && fields[0] == "tx" {
						tx, err = strconv.ParseInt(fields[1], 10, 64)
					}
					if err != nil || tx < 0 || tx >= l.txSeq {
						failf("stream %s holds %v %q, which no transaction wrote", s, id, fields)
					}
					if prev, dup := st.byTx[tx]; dup {
						failf("stream %s holds transaction %d twice: %v and %v", s, tx, prev, id)
					}
					st.byTx[tx], st.lastTx = id, tx
					continue
				}
				pl, ok := parseFields(fields)
				if !ok || pl.n >= l.nextN[pl.p] || producerStream(pl.p, pl.n) != s {
					failf("stream %s holds %v %q, which no producer wrote there", s, id, fields)
				}
				if prev, dup := st.byPayload[pl]; dup {
					failf("entry p=%d n=%d is in the streams twice: %v and %v", pl.p, pl.n, prev, id)
				}
				st.byPayload[pl] = id
			}
			if len(page) < 5000 {
				break
			}
			start = "(" + st.entries[s][len(st.entries[s])-1].String()
		}
	}
	if n := len(st.entries[crashTrim]); n > crashTrimMaxLen {
		failf("stream %s holds %d entries, above its MAXLEN %d", crashTrim, n, crashTrimMaxLen)
	}
	for _, s := range crashStreams {
		groups, err := rdb.XInfoGroups(ctx, s).Result()
		if err != nil || len(groups) != 1 || groups[0].Name != crashGroup {
			failf("XINFO GROUPS %s: %v %+v", s, err, groups)
		}
		if st.ldid[s], err = parseID(groups[0].LastDeliveredID); err != nil {
			failf("XINFO GROUPS %s: %v", s, err)
		}
		pending, err := rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: s, Group: crashGroup, Start: "-", End: "+", Count: 1_000_000}).Result()
		if err != nil {
			failf("XPENDING %s %s - + : %v", s, crashGroup, err)
		}
		st.pel[s] = map[streamID]pelEntry{}
		for _, p := range pending {
			id, err := parseID(p.ID)
			if err != nil {
				failf("XPENDING %s: %v", s, err)
			}
			st.pel[s][id] = pelEntry{consumer: p.Consumer, count: p.RetryCount}
		}
	}
	intKey := func(key string) int64 {
		v, err := rdb.Get(ctx, key).Int64()
		if errors.Is(err, redis.Nil) {
			return -1
		}
		if err != nil {
			failf("GET %s: %v", key, err)
		}
		return v
	}
	st.counter = max(0, intKey(crashCounter))
	st.mcount = max(0, intKey(crashMCount))
	st.mlast = intKey(crashMLast)
	for k := range crashSetKeys {
		key := fmt.Sprintf("k%d", k)
		v, err := rdb.Get(ctx, key).Result()
		if errors.Is(err, redis.Nil) {
			st.sets[key] = -1
			continue
		}
		seq, perr := strconv.ParseInt(strings.TrimPrefix(v, "s:"), 10, 64)
		if err != nil || perr != nil || seq%crashSetKeys != int64(k) || seq >= l.setSeq {
			failf("GET %s: %q %v, not a value the writer set", key, v, err)
		}
		st.sets[key] = seq
	}
	return st
}

// rawEntry decodes one entry of an XRANGE reply, keeping the field order.
func rawEntry(e any) (streamID, []string, error) {
	pair, ok := e.([]any)
	if !ok || len(pair) != 2 {
		return streamID{}, nil, fmt.Errorf("entry %v", e)
	}
	ids, _ := pair[0].(string)
	id, err := parseID(ids)
	if err != nil {
		return streamID{}, nil, err
	}
	raw, ok := pair[1].([]any)
	if !ok {
		return streamID{}, nil, fmt.Errorf("entry %v fields %v", ids, pair[1])
	}
	fields := make([]string, len(raw))
	for i, f := range raw {
		if fields[i], ok = f.(string); !ok {
			return streamID{}, nil, fmt.Errorf("entry %v field %v", ids, f)
		}
	}
	return id, fields, nil
}

// parseFields checks that fields are exactly what producerStream's
// producer wrote, in order, and returns the payload.
func parseFields(f []string) (payload, bool) {
	if len(f) != 6 || f[0] != "p" || f[2] != "n" || f[4] != "d" {
		return payload{}, false
	}
	p, err1 := strconv.Atoi(f[1])
	n, err2 := strconv.Atoi(f[3])
	if err1 != nil || err2 != nil || p < 0 || p >= crashProducers || f[5] != payloadData(p, n) {
		return payload{}, false
	}
	return payload{p, n}, true
}

// presence tells whether o's effect is in st. Every effect is monotone along
// the history of one server life (an entry stays, last-delivered-id and the
// counters only grow, an acknowledged entry does not come back), so an op
// present in a prefix of the history is present in any longer one.
func (st *state) presence(o *op) presence {
	switch o.kind {
	case opXAdd:
		if _, ok := st.byPayload[o.pl]; ok {
			return present
		}
		// crashTrim drops its oldest entries: one whose ID is known
		// (replied, or found at an earlier restart) below the stream's
		// first entry may have been there and been trimmed. An XADD
		// without reply was its producer's last, so it would be the
		// newest entry, never trimmed.
		if es := st.entries[crashTrim]; o.stream == crashTrim && o.id != (streamID{}) && len(es) > 0 && o.id.cmp(es[0]) < 0 {
			return unknown
		}
		return absent
	case opDeliver:
		if len(o.ids) == 0 {
			return unknown // no reply: what it delivered is unknown
		}
		if st.ldid[o.stream].cmp(o.id) >= 0 {
			return present
		}
		return absent
	case opXAck:
		// Delivered (an entry is delivered once per history, so
		// last-delivered-id past it means this delivery) and no longer
		// pending.
		for _, id := range o.ids {
			if _, pending := st.pel[o.stream][id]; pending || st.ldid[o.stream].cmp(id) < 0 {
				return absent
			}
		}
		return present
	case opIncr:
		if st.counter >= o.value {
			return present
		}
	case opSet:
		if st.sets[o.key] >= o.value {
			return present
		}
	case opMulti:
		if _, ok := st.byTx[o.value]; ok {
			return present
		}
	}
	return absent
}

// verify checks the restarted state against the ops of earlier cycles
// (base) and of the cycle just killed (cur).
func (l *killLoop) verify(c int, st *state, cur []*op, killedAt time.Time) {
	l.t.Helper()
	var msgs []string
	errf := func(format string, args ...any) {
		if len(msgs) < 25 {
			msgs = append(msgs, fmt.Sprintf(format, args...))
		}
	}
	pres := make(map[*op]presence, len(l.ops)+len(cur))
	for _, o := range l.ops {
		pres[o] = st.presence(o)
		if pres[o] == absent {
			errf("lost %v, which an earlier restart had recovered", o)
		}
	}
	var (
		lost      [numOpKinds]int
		nlost     int
		firstLost *op // the lost write acknowledged first
		lastLost  *op // and last
	)
	for _, o := range cur {
		p := st.presence(o)
		pres[o] = p
		if o.acked.IsZero() || p != absent {
			continue
		}
		lost[o.kind]++
		nlost++
		if firstLost == nil || o.acked.Before(firstLost.acked) {
			firstLost = o
		}
		if lastLost == nil || o.acked.After(lastLost.acked) {
			lastLost = o
		}
	}
	if nlost > 0 {
		errf("lost %d acknowledged writes (%s), acknowledged from %v to %v before the kill; first %v, last %v",
			nlost, kindCounts(lost), killedAt.Sub(firstLost.acked).Round(time.Millisecond),
			killedAt.Sub(lastLost.acked).Round(time.Millisecond), firstLost, lastLost)
	}
	// Prefix: the log orders writes as they ran, and a write sent after
	// another was acknowledged ran after it, so it cannot survive the other.
	if firstLost != nil {
		for _, o := range cur {
			if pres[o] == present && o.sent.After(firstLost.acked) {
				errf("%v survived but %v, acknowledged %v before it was sent, was lost", o, firstLost, o.sent.Sub(firstLost.acked))
				break
			}
		}
	}
	// Per stream: IDs are given in the order XADDs run, so the survivors
	// are the entries up to some ID: no acknowledged entry may be missing
	// below the stream's last one.
	for _, o := range cur {
		if (o.kind != opXAdd && o.kind != opMulti) || o.acked.IsZero() {
			continue
		}
		es := st.entries[o.stream]
		if pres[o] == absent && len(es) > 0 && o.id.cmp(es[len(es)-1]) < 0 {
			errf("hole in %s: %v is missing, the stream goes on to %v", o.stream, o, es[len(es)-1])
		}
	}
	// An acknowledged write is where its reply said.
	for _, o := range append(slices.Clone(l.ops), cur...) {
		if o.acked.IsZero() || pres[o] != present {
			continue
		}
		switch o.kind {
		case opXAdd:
			if id := st.byPayload[o.pl]; id != o.id {
				errf("%v is at %v", o, id)
			}
		case opMulti:
			if id := st.byTx[o.value]; id != o.id {
				errf("%v: its entry is at %v", o, id)
			}
		}
	}
	l.verifyGroup(st, cur, pres, errf)
	// MULTI/EXEC: the three writes of every transaction, or none.
	if n := int64(len(st.entries[crashMulti])); st.mcount != n {
		errf("MULTI/EXEC half applied: %s is %d but %s holds %d entries", crashMCount, st.mcount, crashMulti, n)
	}
	wantLast := int64(-1) // crashMLast unset
	if len(st.entries[crashMulti]) > 0 {
		wantLast = st.lastTx
	}
	if st.mlast != wantLast {
		errf("MULTI/EXEC half applied: %s is %d but the last transaction in %s is %d", crashMLast, st.mlast, crashMulti, st.lastTx)
	}
	incrs := 0
	for _, o := range cur {
		if o.kind == opIncr {
			incrs++
		}
	}
	if st.counter < l.counter || st.counter > l.counter+int64(incrs) {
		errf("%s is %d: it was %d at the last restart and %d INCRs were sent since", crashCounter, st.counter, l.counter, incrs)
	}
	if len(msgs) > 0 {
		l.t.Fatalf("cycle %d (appendfsync %s), after restart:\n%s\nlast lines of the server log:\n%s",
			c, l.policy, strings.Join(msgs, "\n"), l.srv.logTail(30))
	}
}

// verifyGroup checks the consumer group against the deliveries and
// acknowledgements: every pending entry was delivered to its consumer, every
// delivered entry is still pending at its consumer unless it was XACKed, and
// entries pending at the last restart are still pending.
func (l *killLoop) verifyGroup(st *state, cur []*op, pres map[*op]presence, errf func(string, ...any)) {
	type key struct {
		stream string
		id     streamID
	}
	deliveredTo := map[key]string{}
	xackSent := map[key]bool{}
	inflight := map[string]bool{} // consumers whose last XREADGROUP had no reply
	for _, o := range cur {
		if o.kind == opDeliver && len(o.ids) == 0 {
			inflight[o.consumer] = true
		}
	}
	for _, o := range append(slices.Clone(l.ops), cur...) {
		switch {
		case o.kind == opXAck:
			for _, id := range o.ids {
				xackSent[key{o.stream, id}] = true
			}
		case o.kind == opDeliver && pres[o] == present:
			for i, id := range o.ids {
				deliveredTo[key{o.stream, id}] = o.consumer
				if got, ok := st.byPayload[o.pls[i]]; !ok || got != id {
					errf("%v delivered %v p=%d n=%d, which the stream holds at %v (present: %v)", o, id, o.pls[i].p, o.pls[i].n, got, ok)
				}
			}
		}
	}
	for _, s := range crashStreams {
		if st.ldid[s].cmp(l.baseLDID[s]) < 0 {
			errf("%s: last-delivered-id %v went back from %v", s, st.ldid[s], l.baseLDID[s])
		}
		for id, e := range l.basePEL[s] {
			if now, ok := st.pel[s][id]; !ok || now.consumer != e.consumer || now.count < e.count {
				errf("%s: %v was pending at %s (%d deliveries) at the last restart, now %+v (pending: %v)", s, id, e.consumer, e.count, now, ok)
			}
		}
		for id, e := range st.pel[s] {
			k := key{s, id}
			switch to, delivered := deliveredTo[k]; {
			case e.count < 1:
				errf("%s: pending entry %v has delivery count %d", s, id, e.count)
			case id.cmp(st.ldid[s]) > 0:
				errf("%s: pending entry %v is past last-delivered-id %v", s, id, st.ldid[s])
			case delivered && to != e.consumer:
				errf("%s: %v was delivered to %s but is pending at %s", s, id, to, e.consumer)
			case !delivered && l.basePEL[s][id].consumer != e.consumer &&
				!(inflight[e.consumer] && id.cmp(l.baseLDID[s]) > 0):
				errf("%s: %v is pending at %s, which was not delivered it", s, id, e.consumer)
			}
		}
		for k, to := range deliveredTo {
			if k.stream != s {
				continue
			}
			if _, pending := st.pel[s][k.id]; !pending && !xackSent[k] {
				errf("%s: %v was delivered to %s, never XACKed, and is not pending", s, k.id, to)
			}
		}
	}
}

// rebase makes the restarted state the base of the next cycle: the ops
// present in it must stay present; the others (whose reply never came) are
// forgotten: a later write may reuse their counter value or pass their
// sequence.
func (l *killLoop) rebase(st *state, cur []*op) {
	var keep []*op
	for _, o := range append(l.ops, cur...) {
		if st.presence(o) != present {
			continue
		}
		// An entry whose reply never came now has a known ID.
		switch o.kind {
		case opXAdd:
			o.id = st.byPayload[o.pl]
		case opMulti:
			o.id = st.byTx[o.value]
		}
		keep = append(keep, o)
	}
	l.ops = keep
	l.basePEL, l.baseLDID = st.pel, st.ldid
	l.counter, l.mcount = st.counter, st.mcount
}
