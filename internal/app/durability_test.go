package app

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/internal/config"
	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/resp"
	"github.com/runnel-io/runnel/internal/store"
	"github.com/runnel-io/runnel/internal/vfs"
)

// The durability tests run the real server (command table, WAL, store)
// over the crashable in-memory filesystem: every image of the disk that a
// crash could leave must recover to a state holding every acknowledged
// write, and replaying the log must rebuild exactly the live state.

const testDataDir = "/data"

// durableApp is an in-process server with a data directory on fsys.
type durableApp struct {
	*App
	addr string
}

func startDurable(tb testing.TB, fsys vfs.FS, policy string, extra ...string) *durableApp {
	tb.Helper()
	a, err := openDurable(fsys, policy, extra...)
	if err != nil {
		tb.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go a.Serve(l)
	d := &durableApp{App: a, addr: l.Addr().String()}
	tb.Cleanup(func() { d.stop(tb) })
	return d
}

func openDurable(fsys vfs.FS, policy string, extra ...string) (*App, error) {
	a, err := newDurableApp(policy, extra...)
	if err != nil {
		return nil, err
	}
	if err := a.OpenStore(StoreOptions{FS: fsys, SegmentSize: 4096, NodeSegmentSize: 16 << 10, NoAutoCheckpoint: true}); err != nil {
		a.Shutdown(context.Background())
		return nil, err
	}
	return a, nil
}

// newDurableApp builds the App of openDurable without opening its store.
func newDurableApp(policy string, extra ...string) (*App, error) {
	cfg := config.New()
	// Protected configs are enabled so that a test can try CONFIG SET dir.
	args := []string{"--dir", testDataDir, "--appendfsync", policy, "--hz", "100", "--enable-protected-configs", "yes"}
	if err := cfg.ParseArgs(append(args, extra...)); err != nil {
		return nil, err
	}
	return New(cfg, nil), nil
}

func (d *durableApp) stop(tb testing.TB) {
	d.noSave.Store(true) // the tests look at what the log alone recovers
	if err := d.Shutdown(context.Background()); err != nil {
		tb.Errorf("shutdown: %v", err)
	}
}

func (d *durableApp) client(tb testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: d.addr, Protocol: 2, MaxRetries: -1, PoolSize: 1})
	tb.Cleanup(func() { c.Close() })
	return c
}

// keyspaceDigest encodes every key of a (keys sorted), consumers'
// seen-times zeroed: the log does not record reads that delivered nothing,
// which only move seen-time.
func keyspaceDigest(tb testing.TB, a *App) map[string]string {
	tb.Helper()
	ks := a.Env.KS
	var tx engine.Tx
	ks.Lock(&tx, nil, true, 0)
	defer tx.Unlock()
	out := map[string]string{}
	for db := 0; db < ks.Databases(); db++ {
		tx.EachStored(db, func(e engine.Entry) bool {
			sn := store.NewSnapshot(0, 0).ForComparison()
			if err := sn.Add(db, e.Key(), e.ExpireAt(), e.Value()); err != nil {
				tb.Fatal(err)
			}
			out[fmt.Sprintf("%d/%s", db, e.Key())] = string(sn.Bytes())
			return true
		})
	}
	return out
}

func diffDigests(want, got map[string]string) string {
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		w, inW := want[k]
		g, inG := got[k]
		switch {
		case !inW:
			return fmt.Sprintf("key %s should not exist", k)
		case !inG:
			return fmt.Sprintf("key %s is missing", k)
		case w != g:
			i := 0
			for i < len(w) && i < len(g) && w[i] == g[i] {
				i++
			}
			return fmt.Sprintf("key %s differs from byte %d (%d bytes recovered, %d live):\nlive      %x\nrecovered %x", k, i, len(g), len(w), w[max(0, i-40):min(len(w), i+40)], g[max(0, i-40):min(len(g), i+40)])
		}
	}
	return ""
}

// recoverDigest opens a copy of a crash image and returns its state.
func recoverDigest(tb testing.TB, image *vfs.MemFS, extra ...string) map[string]string {
	tb.Helper()
	a, err := openDurable(image, "always", extra...)
	if err != nil {
		tb.Fatalf("recovery failed: %v", err)
	}
	defer func() {
		a.noSave.Store(true)
		a.Shutdown(context.Background())
	}()
	return keyspaceDigest(tb, a)
}

// workload generates random commands over a few strings and streams with
// consumer groups, remembering stream IDs it was given so that XDEL, XACK
// and XCLAIM name real entries.
type workload struct {
	rng *rand.Rand
	ids map[string][]string
	mu  sync.Mutex
}

func newWorkload(seed uint64) *workload {
	return &workload{rng: rand.New(rand.NewPCG(seed, 4)), ids: map[string][]string{}}
}

func (w *workload) pick(xs ...string) string { return xs[w.rng.IntN(len(xs))] }

func (w *workload) id(s string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := w.ids[s]
	if len(ids) == 0 || w.rng.IntN(10) == 0 {
		return fmt.Sprintf("%d-%d", w.rng.IntN(3), w.rng.IntN(3))
	}
	return ids[w.rng.IntN(len(ids))]
}

func (w *workload) noteID(s string, v any) {
	if id, ok := v.(string); ok {
		w.mu.Lock()
		w.ids[s] = append(w.ids[s], id)
		if len(w.ids[s]) > 64 {
			w.ids[s] = w.ids[s][1:]
		}
		w.mu.Unlock()
	}
}

// next returns one command; stream names the stream an XADD adds to, so
// the caller can note the ID it returns.
func (w *workload) next() (args []any, xaddTo string) {
	r := w.rng
	s := w.pick("s0", "s1", "s2")
	k := w.pick("k0", "k1", "k2", "k3")
	g := w.pick("g0", "g1")
	c := w.pick("c0", "c1", "c2")
	val := strconv.Itoa(r.IntN(1000))
	switch n := r.IntN(100); {
	case n < 22:
		args = []any{"XADD", s}
		switch r.IntN(6) {
		case 0:
			args = append(args, "MAXLEN", "~", 20)
		case 1:
			args = append(args, "MAXLEN", "=", 15)
		case 2:
			args = append(args, "NOMKSTREAM")
		}
		args = append(args, "*", "f", val)
		if r.IntN(3) == 0 {
			args = append(args, "g", val+val)
		}
		return args, s
	case n < 30:
		return []any{"XREADGROUP", "GROUP", g, c, "COUNT", 1 + r.IntN(4), "STREAMS", s, ">"}, ""
	case n < 33:
		return []any{"XREADGROUP", "GROUP", g, c, "COUNT", 3, "NOACK", "STREAMS", s, ">"}, ""
	case n < 35:
		return []any{"XREADGROUP", "GROUP", g, c, "STREAMS", s, "0"}, ""
	case n < 42:
		return []any{"XACK", s, g, w.id(s), w.id(s)}, ""
	case n < 46:
		return []any{"XCLAIM", s, g, c, 0, w.id(s), "RETRYCOUNT", r.IntN(5)}, ""
	case n < 49:
		return []any{"XAUTOCLAIM", s, g, c, 0, "0-0", "COUNT", 2}, ""
	case n < 53:
		return []any{"XGROUP", "CREATE", s, g, w.pick("$", "0"), "MKSTREAM"}, ""
	case n < 54:
		return []any{"XGROUP", "DESTROY", s, g}, ""
	case n < 56:
		return []any{"XGROUP", "SETID", s, g, w.id(s), "ENTRIESREAD", r.IntN(5)}, ""
	case n < 57:
		return []any{"XGROUP", "DELCONSUMER", s, g, c}, ""
	case n < 58:
		return []any{"XGROUP", "CREATECONSUMER", s, g, c}, ""
	case n < 61:
		return []any{"XDEL", s, w.id(s)}, ""
	case n < 63:
		return []any{"XTRIM", s, "MAXLEN", "~", 5 + r.IntN(10)}, ""
	case n < 64:
		return []any{"XTRIM", s, "MINID", w.id(s)}, ""
	case n < 65:
		return []any{"XDELEX", s, "ACKED", "IDS", 1, w.id(s)}, ""
	case n < 66:
		return []any{"XACKDEL", s, g, "IDS", 1, w.id(s)}, ""
	case n < 72:
		return []any{"SET", k, val}, ""
	case n < 75:
		return []any{"INCR", k}, ""
	case n < 77:
		return []any{"APPEND", k, val}, ""
	case n < 79:
		return []any{"EXPIRE", k, 3600 + r.IntN(100)}, ""
	case n < 80:
		return []any{"PEXPIREAT", k, 1}, "" // in the past: deleted now
	case n < 82:
		return []any{"DEL", w.pick(k, s)}, ""
	case n < 83:
		return []any{"COPY", s, w.pick("s0", "s1", "s2"), "REPLACE"}, ""
	case n < 84:
		return []any{"RENAME", w.pick(k, s), w.pick("k0", "s0", "k9")}, ""
	case n < 85:
		return []any{"MOVE", k, 1}, ""
	case n < 86:
		return []any{"XSETID", s, w.id(s)}, ""
	case n < 87:
		return []any{"XADD", s, "IDMP", "p" + c, "i" + val, "*", "f", val}, s
	case n < 88:
		return []any{"XCLAIM", s, g, c, 0, w.id(s), w.id(s), w.pick("JUSTID", "FORCE", "LASTID"), w.pick("IDLE", "TIME"), r.IntN(100000)}, ""
	case n < 89:
		return []any{"XAUTOCLAIM", s, g, c, 0, "0-0", "COUNT", 3, "JUSTID"}, ""
	case n < 90:
		return []any{"XREADGROUP", "GROUP", g, c, "COUNT", 2, "CLAIM", 0, "STREAMS", s, ">"}, ""
	case n < 91:
		return []any{"XNACK", s, g, w.pick("SILENT", "FAIL", "FATAL"), "IDS", 1, w.id(s)}, ""
	case n < 92:
		return []any{"XCFGSET", s, "IDMP-DURATION", 1 + r.IntN(300), "IDMP-MAXSIZE", 1 + r.IntN(50)}, ""
	case n < 93:
		return []any{w.pick("GETDEL", "GETEX"), k}, ""
	case n < 94:
		return []any{"SETRANGE", k, r.IntN(10), val}, ""
	case n < 95:
		return []any{"INCRBYFLOAT", k, "1.5"}, ""
	case n < 96:
		return []any{"SETEX", k, 5000, val}, ""
	case n == 96 && r.IntN(4) == 0:
		return []any{"SWAPDB", 0, 1}, ""
	case n == 97 && r.IntN(8) == 0:
		return []any{w.pick("FLUSHDB", "FLUSHALL")}, ""
	}
	return []any{"GET", k}, ""
}

// run sends one command, or a MULTI/EXEC of a few, and notes XADD IDs.
func (w *workload) run(ctx context.Context, c *redis.Client) error {
	if w.rng.IntN(12) == 0 {
		n := 2 + w.rng.IntN(3)
		var cmds []*redis.Cmd
		var tos []string
		_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for i := 0; i < n; i++ {
				args, to := w.next()
				cmds = append(cmds, p.Do(ctx, args...))
				tos = append(tos, to)
			}
			return nil
		})
		for i, cmd := range cmds {
			if tos[i] != "" && cmd.Err() == nil {
				w.noteID(tos[i], cmd.Val())
			}
		}
		if err != nil && !isReplyError(err) {
			return err
		}
		return nil
	}
	args, to := w.next()
	v, err := c.Do(ctx, args...).Result()
	if err != nil && err != redis.Nil && !isReplyError(err) {
		return err
	}
	if to != "" && err == nil {
		w.noteID(to, v)
	}
	return nil
}

func isReplyError(err error) bool {
	_, ok := err.(redis.Error)
	return ok
}

// TestRecoveryRebuildsLiveState runs concurrent clients (with a blocked
// XREADGROUP woken by writers and a SAVE halfway) and checks that the state
// recovered from the disk image, checkpoint plus log, is byte for byte the
// live state: every logged operation replays to the same effect.
func TestRecoveryRebuildsLiveState(t *testing.T) {
	for _, tc := range []struct {
		seed   uint64
		budget string // stream-memory-budget: "1" pages out every node but the last
	}{{1, "0"}, {2, "0"}, {3, "0"}, {4, "1"}, {5, "1"}, {6, "256"}} {
		// Small nodes: the workload's short streams span many of them.
		seed, paging := tc.seed, []string{"--stream-memory-budget", tc.budget, "--stream-node-max-entries", "4"}
		t.Run(fmt.Sprintf("%d/budget=%s", seed, tc.budget), func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			d := startDurable(t, mem, "always", paging...)
			ctx := context.Background()
			var wg sync.WaitGroup
			var saved atomic.Bool
			for i := 0; i < 3; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					w := newWorkload(seed*10 + uint64(i))
					c := d.client(t)
					for j := 0; j < 400; j++ {
						if err := w.run(ctx, c); err != nil {
							t.Error(err)
							return
						}
						if j == 200 && saved.CompareAndSwap(false, true) {
							if err := c.Save(ctx).Err(); err != nil {
								t.Error(err)
							}
						}
					}
				}()
			}
			// A reader blocked on a stream, served by the writers' XADDs.
			var served atomic.Int64
			done := make(chan struct{})
			var rwg sync.WaitGroup
			rwg.Add(1)
			go func() {
				defer rwg.Done()
				c := d.client(t)
				for {
					select {
					case <-done:
						return
					default:
					}
					c.Do(ctx, "XGROUP", "CREATE", "s1", "gb", "$", "MKSTREAM") // BUSYGROUP after the first
					v, err := c.Do(ctx, "XREADGROUP", "GROUP", "gb", "cb", "COUNT", 2, "BLOCK", 20, "STREAMS", "s1", ">").Result()
					switch {
					case err == nil && v != nil:
						served.Add(1)
					case err != nil && err != redis.Nil && !isReplyError(err):
						t.Error(err)
						return
					}
				}
			}()
			wg.Wait()
			close(done)
			rwg.Wait()
			if served.Load() == 0 {
				t.Error("the blocked reader was never served")
			}
			live := keyspaceDigest(t, d.App)
			if len(live) < 3 {
				t.Fatalf("the workload left only %d keys", len(live))
			}
			if tc.budget != "0" {
				if paged := d.persist.st.NodeStats().Puts; paged == 0 {
					t.Fatal("the budget paged no node out")
				}
			}
			got := recoverDigest(t, mem.CrashClone(), paging...)
			if diff := diffDigests(live, got); diff != "" {
				t.Fatalf("recovered state differs from the live state: %s", diff)
			}
		})
	}
}

// TestCrashImagesHoldAcknowledgedWrites takes a crash image of the disk
// before every filesystem operation while one client runs commands one by
// one (appendfsync always), and checks that each image recovers to the
// state after the last acknowledged command, or after the one in flight.
func TestCrashImagesHoldAcknowledgedWrites(t *testing.T) {
	mem := vfs.NewCrashableMem()
	type image struct {
		fs    *vfs.MemFS
		acked int
	}
	var (
		mu     sync.Mutex
		images []image
		acked  atomic.Int64
		armed  atomic.Bool
		tornRg = rand.New(rand.NewPCG(7, 7))
	)
	inj := vfs.InjectorFunc(func(op vfs.Op) error {
		if !armed.Load() {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		var fs *vfs.MemFS
		if len(images)%2 == 0 {
			fs = mem.CrashClone()
		} else {
			fs = mem.CrashCloneWith(tornRg) // torn unsynced appends too
		}
		images = append(images, image{fs: fs, acked: int(acked.Load())})
		return nil
	})
	// A small budget: nodes are paged out and in all along, and the
	// images hold the node log in every state too.
	paging := []string{"--stream-memory-budget", "64", "--stream-node-max-entries", "4"}
	d := startDurable(t, vfs.NewErrorFS(mem, inj), "always", paging...)
	ctx := context.Background()
	c := d.client(t)
	w := newWorkload(42)
	states := []map[string]string{keyspaceDigest(t, d.App)}
	armed.Store(true)
	for i := 1; i <= 250; i++ {
		if i == 120 {
			if err := c.Save(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		} else if err := w.run(ctx, c); err != nil {
			t.Fatal(err)
		}
		states = append(states, keyspaceDigest(t, d.App))
		acked.Store(int64(i))
	}
	armed.Store(false)
	if d.persist.st.NodeStats().Puts == 0 {
		t.Fatal("the budget paged no node out")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(images) < 200 {
		t.Fatalf("only %d crash images", len(images))
	}
	for n, im := range images {
		got := recoverDigest(t, im.fs, paging...)
		ok := diffDigests(states[im.acked], got) == ""
		if !ok && im.acked+1 < len(states) {
			ok = diffDigests(states[im.acked+1], got) == ""
		}
		if !ok {
			t.Fatalf("crash image %d (after %d acknowledged commands): %s", n, im.acked, diffDigests(states[im.acked], got))
		}
	}
	t.Logf("%d crash images recovered", len(images))
}

// TestDiskFull fills the disk under a running server: the write whose sync
// fails is not acknowledged (its connection closes), later writes get
// Redis's MISCONF error while reads go on, and once space returns writes
// resume; nothing acknowledged is lost across a crash afterwards.
func TestDiskFull(t *testing.T) {
	mem := vfs.NewCrashableMem()
	full := vfs.NewToggle(syscall.ENOSPC)
	d := startDurable(t, vfs.NewErrorFS(mem, full), "always")
	ctx := context.Background()
	c := d.client(t)
	if err := c.Set(ctx, "a", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	full.On()
	// The write in flight when the disk fills: no reply, connection closed.
	if err := c.Set(ctx, "b", "2", 0).Err(); err == nil || isReplyError(err) {
		t.Fatalf("SET with a full disk: %v, want a closed connection", err)
	}
	const misconf = "MISCONF Errors writing to the AOF file: No space left on device"
	for _, args := range [][]any{{"SET", "c", "3"}, {"XADD", "s", "*", "f", "v"}, {"PING"}} {
		if err := c.Do(ctx, args...).Err(); err == nil || err.Error() != misconf {
			t.Fatalf("%v with a full disk: %v, want %q", args, err, misconf)
		}
	}
	if v, err := c.Get(ctx, "a").Result(); err != nil || v != "1" {
		t.Fatalf("GET a with a full disk: %q, %v", v, err)
	}
	if v, err := c.Do(ctx, "INFO", "persistence").Text(); err != nil || !strings.Contains(v, "aof_last_write_status:err") {
		t.Fatalf("INFO persistence with a full disk: %v\n%s", err, v)
	}
	tx := c.TxPipeline()
	tx.Get(ctx, "a")
	tx.Set(ctx, "d", "4", 0)
	if _, err := tx.Exec(ctx); err == nil || !strings.Contains(err.Error(), "EXECABORT") {
		t.Fatalf("MULTI with a write and a full disk: %v", err)
	}
	full.Off()
	// The committer retries the failed sync; once it succeeds writes are
	// accepted again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := c.Set(ctx, "e", "5", 0).Err()
		if err == nil {
			break
		}
		if err.Error() != misconf || time.Now().After(deadline) {
			t.Fatalf("SET after space returned: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	live := keyspaceDigest(t, d.App)
	got := recoverDigest(t, mem.CrashClone())
	if diff := diffDigests(live, got); diff != "" {
		t.Fatalf("after the disk-full episode: %s", diff)
	}
	if _, ok := got["0/b"]; !ok {
		t.Fatal("the unacknowledged SET b, retried by the log once space returned, is missing: the log dropped a record")
	}
}

// TestAppendfsyncSwitch switches the policy with CONFIG SET: INFO reports
// it, and under everysec replies do not wait for a sync.
func TestAppendfsyncSwitch(t *testing.T) {
	mem := vfs.NewCrashableMem()
	d := startDurable(t, mem, "always")
	ctx := context.Background()
	c := d.client(t)
	for _, p := range []string{"everysec", "no", "always"} {
		if err := c.ConfigSet(ctx, "appendfsync", p).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.Set(ctx, "k", p, 0).Err(); err != nil {
			t.Fatal(err)
		}
		info, err := c.Do(ctx, "INFO", "persistence").Text()
		if err != nil || !strings.Contains(info, "runnel_appendfsync:"+p+"\r\n") {
			t.Fatalf("INFO after CONFIG SET appendfsync %s: %v\n%s", p, err, info)
		}
	}
	// The data directory cannot move while it is open.
	if err := c.ConfigSet(ctx, "dir", os.TempDir()).Err(); err == nil || !strings.Contains(err.Error(), "is in use") {
		t.Fatalf("CONFIG SET dir while the store is open: %v", err)
	}
	if v := c.ConfigGet(ctx, "dir").Val()["dir"]; v != testDataDir {
		t.Fatalf("dir is %q after the refused CONFIG SET", v)
	}
	// Back under always: the last SET was durable before its reply.
	if got := recoverDigest(t, mem.CrashClone()); got["0/k"] == "" {
		t.Fatal("the SET acknowledged under always was lost")
	}
}

// TestEverysecSurvivesProcessCrash: under everysec and no, a reply waits
// until its write reached the kernel, so a crash of the process (the disk
// image with everything written, synced or not) keeps every acknowledged
// write, as Redis's everysec does.
func TestEverysecSurvivesProcessCrash(t *testing.T) {
	for _, policy := range []string{"everysec", "no"} {
		t.Run(policy, func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			d := startDurable(t, mem, policy)
			ctx := context.Background()
			c := d.client(t)
			w := newWorkload(9)
			for i := 0; i < 300; i++ {
				if err := w.run(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			live := keyspaceDigest(t, d.App)
			if diff := diffDigests(live, recoverDigest(t, mem.ProcessCrashClone())); diff != "" {
				t.Fatalf("after a process crash: %s", diff)
			}
		})
	}
}

// TestDurableHotPathAllocations: logging a write (building the record in
// the session's buffer, copying it into the WAL's staging buffer) and
// waiting for its fsync allocate nothing per command. A sync round costs
// two allocations (its struct and the channel that wakes its waiters),
// shared by every command it covers: a pipeline of a thousand writes takes
// a few rounds. The data directory is on the real disk, under appendfsync
// always.
func TestDurableHotPathAllocations(t *testing.T) {
	cfg := config.New()
	if err := cfg.ParseArgs([]string{"--dir", t.TempDir(), "--appendfsync", "always"}); err != nil {
		t.Fatal(err)
	}
	a := New(cfg, nil)
	if err := a.OpenStore(StoreOptions{NoAutoCheckpoint: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Shutdown(context.Background()) })
	client, srv := net.Pipe()
	go a.Server.ServeConn(srv)
	t.Cleanup(func() { client.Close() })
	p := &pipeline{client: client, r: bufio.NewReaderSize(client, 1<<20)}
	const n, runs = 1000, 5
	const perRound = 2
	for _, tc := range []struct {
		name     string
		args     []string
		perEntry float64 // what the command allocates without a log
	}{
		// XADD's node buffers amortize (stream_alloc_test.go).
		{"XADD *", []string{"XADD", "s", "*", "field", "value"}, 0.05},
		{"INCR", []string{"INCR", "n"}, 0},
		{"XADD + XLEN", nil, 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := streamBatch{repeat(n, tc.args...), n}
			if tc.args == nil { // writes and reads interleaved
				var req []byte
				for i := 0; i < n/2; i++ {
					req = resp.AppendCommand(req, bs("XADD", "t", "*", "f", "v")...)
					req = resp.AppendCommand(req, bs("XLEN", "t")...)
				}
				b = streamBatch{req, n}
			}
			p.runReplies(t, b.req, b.replies) // warm up buffers
			before := a.persist.st.Stats().WAL.Syncs
			allocs := testing.AllocsPerRun(runs, func() { p.runReplies(t, b.req, b.replies) })
			rounds := float64(a.persist.st.Stats().WAL.Syncs-before) / (runs + 1)
			limit := maxBatchAllocs + perRound*rounds + tc.perEntry*n
			if allocs > limit {
				t.Errorf("%s: %.0f allocations per %d commands with %.1f fsync rounds, want at most %.0f (nothing per command)",
					tc.name, allocs, n, rounds, limit)
			}
			t.Logf("%s: %.0f allocations per %d commands, %.1f fsync rounds", tc.name, allocs, n, rounds)
		})
	}
}

// TestCheckpointCommands: SAVE, BGSAVE and BGREWRITEAOF take checkpoints
// (each one drops the log it covers: what a restart replays shrinks to
// nothing), LASTSAVE moves, and a server without a data directory answers
// as a failed rdbSave.
func TestCheckpointCommands(t *testing.T) {
	mem := vfs.NewCrashableMem()
	d := startDurable(t, mem, "always")
	ctx := context.Background()
	c := d.client(t)
	info := func(field string) string {
		t.Helper()
		v, err := c.Do(ctx, "INFO", "persistence").Text()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(v, "\r\n") {
			if k, val, ok := strings.Cut(l, ":"); ok && k == field {
				return val
			}
		}
		t.Fatalf("INFO persistence has no %s", field)
		return ""
	}
	waitIdle := func() {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); info("rdb_bgsave_in_progress") != "0"; {
			if time.Now().After(deadline) {
				t.Fatal("the background checkpoint did not finish")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, step := range []struct {
		cmd, reply string
	}{
		{"SAVE", "OK"},
		{"BGSAVE", "Background saving started"},
		{"BGREWRITEAOF", "Background append only file rewriting started"},
	} {
		if err := c.Set(ctx, "k", step.cmd, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if info("runnel_log_since_checkpoint_bytes") == "0" {
			t.Fatal("a write did not grow the log")
		}
		if v, err := c.Do(ctx, step.cmd).Text(); err != nil || v != step.reply {
			t.Fatalf("%s: %q, %v", step.cmd, v, err)
		}
		waitIdle()
		if got := info("runnel_log_since_checkpoint_bytes"); got != "0" || info("rdb_last_bgsave_status") != "ok" {
			t.Fatalf("after %s: log since checkpoint %s, status %s", step.cmd, got, info("rdb_last_bgsave_status"))
		}
	}
	if saves := info("rdb_saves"); saves != "3" {
		t.Fatalf("rdb_saves %s, want 3", saves)
	}
	if n, err := c.LastSave(ctx).Result(); err != nil || time.Since(time.Unix(n, 0)) > time.Minute {
		t.Fatalf("LASTSAVE %d, %v", n, err)
	}
	if err := c.Do(ctx, "BGSAVE", "SCHEDULE", "x").Err(); err == nil || err.Error() != "ERR syntax error" {
		t.Fatalf("BGSAVE SCHEDULE x: %v", err)
	}
	// The checkpoint alone recovers the state.
	if got := recoverDigest(t, mem.CrashClone()); got["0/k"] == "" {
		t.Fatal("the key saved by the checkpoints is missing")
	}

	// In memory only.
	p := newPipeline(t)
	p.run(t, repeat(1, "SAVE"), len("-ERR\r\n"))
	if string(p.reply[:6]) != "-ERR\r\n" {
		t.Fatalf("SAVE without a data directory: %q", p.reply[:6])
	}
}

// TestPagedSpaceComesBack: with a small stream-memory-budget a stream's
// nodes live in the node log; a stream appended to and trimmed forever
// keeps that log bounded (the checkpoints reclaim what trimming released),
// DEL gives all of it back, and memory stays at the budget.
func TestPagedSpaceComesBack(t *testing.T) {
	mem := vfs.NewCrashableMem()
	d := startDurable(t, mem, "always", "--stream-memory-budget", "4kb", "--stream-node-max-entries", "10")
	ctx := context.Background()
	c := d.client(t)
	stats := func() (logBytes, live, memory int64) {
		ns := d.persist.st.NodeStats()
		return ns.DiskBytes, ns.LiveBytes, d.Env.NodeMemory()
	}
	value := strings.Repeat("v", 100)
	var maxLog int64
	for round := 0; round < 20; round++ {
		for i := 0; i < 300; i++ {
			if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "s", MaxLen: 1000, Approx: true, Values: []string{"f", value}}).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Save(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		logBytes, _, memory := stats()
		maxLog = max(maxLog, logBytes)
		if memory > 4096+2048 { // the budget plus the last node
			t.Fatalf("round %d: %d bytes of nodes in memory, budget 4kb", round, memory)
		}
	}
	if n := c.XLen(ctx, "s").Val(); n < 1000 || n > 1100 {
		t.Fatalf("XLEN %d", n)
	}
	// 1000 live entries of ~120 bytes in 16 KiB segments: a few segments,
	// not the 6000 entries ever added.
	if logBytes, live, _ := stats(); live > 200<<10 || maxLog > 400<<10 || live == 0 {
		t.Fatalf("node log: %d bytes (at most %d), %d live, for 1000 entries", logBytes, maxLog, live)
	}
	logBytes, liveBytes, memory := stats()
	t.Logf("node log %d bytes (at most %d), %d live, %d in memory", logBytes, maxLog, liveBytes, memory)
	// Every entry reads back, from memory or the node log.
	if got := len(c.XRange(ctx, "s", "-", "+").Val()); got != int(c.XLen(ctx, "s").Val()) {
		t.Fatalf("XRANGE read %d entries", got)
	}
	live := keyspaceDigest(t, d.App)
	if diff := diffDigests(live, recoverDigest(t, mem.CrashClone(), "--stream-memory-budget", "4kb")); diff != "" {
		t.Fatalf("recovered: %s", diff)
	}
	if err := c.Del(ctx, "s").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if logBytes, live, memory := stats(); live != 0 || memory != 0 || logBytes > 32<<10 {
		t.Fatalf("after DEL and a checkpoint: node log %d bytes, %d live, %d in memory", logBytes, live, memory)
	}
}

// TestIdleStreamsPagedOut: lowering the budget pages out the nodes of
// streams no command uses any more (the background sweep), and they read
// back whole.
func TestIdleStreamsPagedOut(t *testing.T) {
	mem := vfs.NewCrashableMem()
	d := startDurable(t, mem, "always", "--stream-memory-budget", "0", "--stream-node-max-entries", "10")
	ctx := context.Background()
	c := d.client(t)
	value := strings.Repeat("v", 100)
	for i := 0; i < 50; i++ {
		p := c.Pipeline()
		for j := 0; j < 200; j++ {
			p.XAdd(ctx, &redis.XAddArgs{Stream: fmt.Sprint("s", i), Values: []string{"f", value}})
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	before := d.Env.NodeMemory()
	if before < 1<<19 {
		t.Fatalf("only %d bytes of nodes in memory", before)
	}
	if err := c.ConfigSet(ctx, "stream-memory-budget", "8kb").Err(); err != nil {
		t.Fatal(err)
	}
	// Only the 50 last nodes (at most 10 entries each) may stay.
	deadline := time.Now().Add(10 * time.Second)
	for d.Env.NodeMemory() > 100<<10 {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes of nodes still in memory (from %d), budget 8kb", d.Env.NodeMemory(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := 0; i < 50; i++ {
		if n := len(c.XRange(ctx, fmt.Sprint("s", i), "-", "+").Val()); n != 200 {
			t.Fatalf("s%d: %d entries read back", i, n)
		}
	}
}

// TestXDelSpaceComesBack: XDEL rewrites a paged node (its old copy is
// released), which leaves node-log segments half used; compaction moves
// the rest of their nodes and the next checkpoint deletes them, so a
// stream that is never trimmed does not keep its deleted copies on disk.
func TestXDelSpaceComesBack(t *testing.T) {
	mem := vfs.NewCrashableMem()
	d := startDurable(t, mem, "always", "--stream-memory-budget", "1", "--stream-node-max-entries", "10")
	ctx := context.Background()
	c := d.client(t)
	value := strings.Repeat("v", 100)
	var ids []string
	for i := 0; i < 4000; i++ {
		id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "s", Values: []string{"f", value}}).Result()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	// One entry in every other node: half the nodes get new copies.
	for n := 0; n < 400; n += 2 {
		if err := c.XDel(ctx, "s", ids[n*10+3]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	beforeCompact := d.persist.st.NodeStats()
	if len(d.persist.st.SparseNodeSegments()) == 0 {
		t.Fatalf("no sparse segment after the XDELs: %+v", beforeCompact)
	}
	for d.Env.CompactNodes(1000) > 0 {
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	after := d.persist.st.NodeStats()
	t.Logf("node log: %d bytes (%d live) before compaction, %d (%d live) after", beforeCompact.DiskBytes, beforeCompact.LiveBytes, after.DiskBytes, after.LiveBytes)
	// Segments at least half used stay (compacting them would cost more
	// than it frees): the log may exceed the live bytes by a third, which
	// the uncompacted log did not meet.
	if after.DiskBytes > after.LiveBytes+after.LiveBytes/3 || beforeCompact.DiskBytes <= after.LiveBytes+after.LiveBytes/3 {
		t.Fatalf("after compaction and a checkpoint the node log holds %d bytes for %d live", after.DiskBytes, after.LiveBytes)
	}
	if n := c.XLen(ctx, "s").Val(); n != 3800 {
		t.Fatalf("XLEN %d", n)
	}
	live := keyspaceDigest(t, d.App)
	if diff := diffDigests(live, recoverDigest(t, mem.CrashClone(), "--stream-memory-budget", "1")); diff != "" {
		t.Fatalf("recovered: %s", diff)
	}
}

// TestServesWhileLoading starts a server whose data directory loads
// slowly (reads of the checkpoint wait for the test): meanwhile clients
// get -LOADING for keyspace commands and PING, while INFO, CONFIG and
// HELLO are served and INFO persistence shows the load's progress, as in
// Redis; once loaded everything is served and the data is there.
func TestServesWhileLoading(t *testing.T) {
	mem := vfs.NewCrashableMem()
	d := startDurable(t, mem, "always")
	ctx := context.Background()
	c := d.client(t)
	for i := range 200 {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "s", Values: []string{"f", fmt.Sprint(i)}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	d.stop(t)

	release := make(chan struct{})
	var blocked atomic.Bool
	slow := vfs.InjectorFunc(func(op vfs.Op) error {
		if op.Kind == vfs.OpRead && strings.Contains(op.Path, "checkpoint-") && blocked.CompareAndSwap(false, true) {
			<-release
		}
		return nil
	})
	a, err := newDurableApp("always")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a.BeginLoading()
	go a.Serve(l)
	loaded := make(chan error, 1)
	go func() {
		loaded <- a.OpenStore(StoreOptions{FS: vfs.NewErrorFS(mem, slow), SegmentSize: 4096, NodeSegmentSize: 16 << 10, NoAutoCheckpoint: true})
	}()
	t.Cleanup(func() { a.noSave.Store(true); a.Shutdown(ctx) })
	lc := redis.NewClient(&redis.Options{Addr: l.Addr().String(), Protocol: 2, MaxRetries: -1, PoolSize: 1})
	defer lc.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !blocked.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the load never read the checkpoint")
		}
		time.Sleep(time.Millisecond)
	}
	const loadingErr = "LOADING Redis is loading the dataset in memory"
	for _, args := range [][]any{{"PING"}, {"XLEN", "s"}, {"SET", "k", "v"}, {"SAVE"}} {
		if err := lc.Do(ctx, args...).Err(); err == nil || err.Error() != loadingErr {
			t.Fatalf("%v while loading: %v, want %q", args, err, loadingErr)
		}
	}
	if err := lc.ConfigGet(ctx, "appendfsync").Err(); err != nil {
		t.Fatalf("CONFIG GET while loading: %v", err)
	}
	info, err := lc.Info(ctx, "persistence").Result()
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(info, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = v
		}
	}
	total, _ := strconv.ParseInt(fields["loading_total_bytes"], 10, 64)
	done, _ := strconv.ParseInt(fields["loading_loaded_bytes"], 10, 64)
	if fields["loading"] != "1" || total <= 0 || done < 0 || done >= total || fields["loading_loaded_perc"] == "" || fields["loading_eta_seconds"] == "" {
		t.Fatalf("INFO persistence while loading:\n%s", info)
	}
	close(release)
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	if n, err := lc.XLen(ctx, "s").Result(); err != nil || n != 200 {
		t.Fatalf("XLEN after loading: %d, %v", n, err)
	}
	if info, err := lc.Info(ctx, "persistence").Result(); err != nil || !strings.Contains(info, "loading:0\r\n") || strings.Contains(info, "loading_total_bytes") {
		t.Fatalf("INFO persistence after loading: %v\n%s", err, info)
	}
}

// TestWriteBehindAllBeforeCheckpoint: the sweep a checkpoint runs before
// it locks the keyspace gives every sealed node of every stream its copy
// in the node log (the last node of each stays only in memory), so the
// checkpoint's pause has no node left to write; the state recovers whole.
func TestWriteBehindAllBeforeCheckpoint(t *testing.T) {
	mem := vfs.NewCrashableMem()
	d := startDurable(t, mem, "always", "--stream-node-max-entries", "10")
	ctx := context.Background()
	c := d.client(t)
	for i := range 500 {
		for _, key := range []string{"a", "b"} {
			if err := c.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []string{"f", fmt.Sprint(i)}}).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if puts := d.persist.st.NodeStats().Puts; puts != 0 {
		t.Fatalf("%d nodes written before the sweep with the default budget", puts)
	}
	if err := d.Env.WriteBehindAll(); err != nil {
		t.Fatal(err)
	}
	// 50 nodes per stream, all but the last written.
	if puts := d.persist.st.NodeStats().Puts; puts != 2*49 {
		t.Fatalf("the sweep wrote %d nodes, want %d", puts, 2*49)
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if puts := d.persist.st.NodeStats().Puts; puts != 2*49 {
		t.Fatalf("the checkpoint wrote %d more nodes", puts-2*49)
	}
	live := keyspaceDigest(t, d.App)
	if diff := diffDigests(live, recoverDigest(t, mem.CrashClone())); diff != "" {
		t.Fatalf("recovered: %s", diff)
	}
}
