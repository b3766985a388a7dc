package difftest

// Differential tests of MULTI, EXEC, DISCARD, WATCH and UNWATCH.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/redistest"
)

// secondPair opens another connection to each server (RESP2, nothing
// flushed): the "other client" that touches keys a transaction watches.
func secondPair(t *testing.T, s *servers) *redistest.Pair {
	t.Helper()
	q := redistest.NewPair(t, s.addr, s.redis.Addr(), 2)
	t.Cleanup(q.Close)
	return q
}

func TestMultiExecBasics(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("EXEC")
		p.Do("DISCARD")
		p.Do("MULTI")
		p.Do("EXEC") // empty transaction
		p.Do("MULTI")
		p.Do("SET", "k", "v")
		p.Do("GET", "k")
		p.Do("APPEND", "k", "w")
		p.Do("INCR", "counter")
		p.Do("INCR", "k") // fails at run time: an error element, the rest runs
		p.Do("GET", "missing")
		p.Do("DEL", "k", "missing")
		p.Do("SET", "k", "v", "XX", "NX") // syntax error at run time
		p.Do("GET", "counter")
		p.Do("EXEC")
		p.Do("GET", "k")
		p.Do("GET", "counter")

		// MULTI inside MULTI and WATCH inside MULTI are plain errors: the
		// transaction still runs.
		p.Do("MULTI")
		p.Do("MULTI")
		p.Do("WATCH", "k")
		p.Do("SET", "k", "1")
		p.Do("EXEC")
		p.Do("GET", "k")

		// DISCARD drops the queue.
		p.Do("MULTI")
		p.Do("SET", "k", "discarded")
		p.Do("DISCARD")
		p.Do("GET", "k")
		p.Do("EXEC")
		p.Do("DISCARD")

		// Lower and mixed case names.
		p.Do("multi")
		p.Do("set", "k", "lower")
		p.Do("ExEc")
	})
}

func TestMultiQueueErrorsAbort(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		for _, bad := range [][]string{
			{"NOSUCHCOMMAND", "a", "b"},
			{"GET"},                   // wrong arity
			{"SET", "k"},              // wrong arity
			{"GET", "a", "b"},         // wrong arity
			{"EXEC", "x"},             // EXEC's own arity error
			{"MULTI", "x"},            // MULTI's own arity error
			{"DISCARD", "x"},          // DISCARD's own arity error
			{"WATCH"},                 // WATCH's arity error
			{"PUBSUB", "NOSUCHSUB"},   // unknown subcommand
			{"PUBSUB", "NUMPAT", "x"}, // subcommand arity
			{"SHUTDOWN"},              // no-multi command
			{"SHUTDOWN", "NOSAVE"},    // no-multi command
			{"CONFIG", "GET"},         // subcommand arity
		} {
			p.Do("MULTI")
			p.Do("SET", "k", "before")
			p.Do(bad...)
			p.Do("SET", "k", "after")
			p.Do("EXEC")
			p.Do("GET", "k")
			p.Do("EXEC")
		}
		// DISCARD clears the failure.
		p.Do("MULTI")
		p.Do("NOSUCHCOMMAND")
		p.Do("DISCARD")
		p.Do("MULTI")
		p.Do("SET", "k", "ok")
		p.Do("EXEC")
	})
}

// SELECT inside a transaction changes the database of the commands after
// it, and stays in effect after EXEC.
func TestMultiSelect(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("MULTI")
		p.Do("SET", "k", "db0")
		p.Do("SELECT", "1")
		p.Do("SET", "k", "db1")
		p.Do("GET", "k")
		p.Do("SELECT", "99")
		p.Do("SELECT", "x")
		p.Do("GET", "k")
		p.Do("EXEC")
		p.Do("GET", "k")
		p.Do("SELECT", "0")
		p.Do("GET", "k")
		p.Do("FLUSHALL")
	})
}

// QUIT and RESET run at once inside MULTI.
func TestMultiQuitReset(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("MULTI")
		p.Do("SET", "k", "v")
		p.Do("RESET")
		p.Do("EXEC")
		p.Do("GET", "k")
		// RESET also forgets WATCHed keys.
		q := secondPair(t, s)
		p.Do("WATCH", "k")
		p.Do("RESET")
		q.Do("SET", "k", "other")
		p.Do("MULTI")
		p.Do("GET", "k")
		p.Do("EXEC")
		p.Do("MULTI")
		p.Do("SET", "k", "queued")
		p.Do("QUIT")
		p.Runnel.ExpectClosed()
		p.Redis.ExpectClosed()
		q.Do("GET", "k")
	})
}

// Pipelined in one write: every reply in order.
func TestMultiPipelined(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		var raw []byte
		cmds := [][]string{
			{"MULTI"}, {"SET", "a", "1"}, {"INCR", "a"}, {"NOSUCH"}, {"EXEC"},
			{"MULTI"}, {"SET", "a", "1"}, {"INCR", "a"}, {"GET", "a"}, {"EXEC"}, {"GET", "a"},
		}
		for _, c := range cmds {
			raw = append(raw, redistest.Command(c...)...)
		}
		p.WriteRaw(raw)
		for range cmds {
			p.Receive()
		}
		// The same as inline commands.
		p.WriteRaw([]byte("MULTI\r\nSET b \"x y\"\r\nGET b\r\nEXEC\r\n"))
		for range 4 {
			p.Receive()
		}
	})
}

func TestMultiWatch(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := secondPair(t, s)
		// scenario runs setup, then a transaction whose EXEC must answer
		// the same on both servers (an array, or null if a watched key was
		// touched), then forgets the watched keys.
		scenario := func(name string, setup func()) {
			t.Helper()
			setup()
			p.Do("SET", "x", name)
			p.Do("MULTI")
			p.Do("GET", "x")
			p.Do("INCR", "n")
			if !p.Do("EXEC") {
				t.Errorf("scenario %q", name)
			}
			p.Do("UNWATCH")
		}

		q.Do("SET", "k", "v")
		// Another client modifies the watched key before MULTI.
		scenario("modified before MULTI", func() {
			p.Do("WATCH", "k")
			q.Do("SET", "k", "v2")
		})
		// ... or while the transaction is being queued.
		p.Do("WATCH", "k")
		p.Do("MULTI")
		p.Do("GET", "k")
		q.Do("APPEND", "k", "!")
		p.Do("EXEC")
		// The client's own change counts too.
		scenario("own change", func() {
			p.Do("WATCH", "k")
			p.Do("SET", "k", "mine")
		})
		// Reads and no-op writes do not touch a key.
		scenario("read only", func() {
			p.Do("WATCH", "k", "nokey")
			q.Do("GET", "k")
			q.Do("EXISTS", "k")
			q.Do("DEL", "nokey")
			q.Do("PERSIST", "k")
			q.Do("EXPIRE", "nokey", "100")
		})
		// A key that does not exist yet.
		scenario("created", func() {
			p.Do("WATCH", "fresh")
			q.Do("SET", "fresh", "1")
		})
		scenario("created and deleted", func() {
			p.Do("WATCH", "fresh2")
			q.Do("SET", "fresh2", "1")
			q.Do("DEL", "fresh2")
		})
		scenario("deleted", func() {
			p.Do("WATCH", "fresh")
			q.Do("DEL", "fresh")
		})
		scenario("expire set", func() {
			p.Do("WATCH", "k")
			q.Do("EXPIRE", "k", "1000")
		})
		scenario("persist", func() {
			p.Do("WATCH", "k")
			q.Do("PERSIST", "k")
		})
		scenario("incr", func() {
			p.Do("WATCH", "n")
			q.Do("INCR", "n")
		})
		scenario("rename", func() {
			q.Do("SET", "src", "s")
			p.Do("WATCH", "dst")
			q.Do("RENAME", "src", "dst")
		})
		// UNWATCH, DISCARD, EXEC (even failed) forget the watched keys.
		scenario("unwatch", func() {
			p.Do("WATCH", "k")
			p.Do("UNWATCH")
			q.Do("SET", "k", "v3")
		})
		scenario("discard", func() {
			p.Do("WATCH", "k")
			p.Do("MULTI")
			p.Do("DISCARD")
			q.Do("SET", "k", "v4")
		})
		scenario("after null exec", func() {
			p.Do("WATCH", "k")
			q.Do("SET", "k", "v5")
			p.Do("MULTI")
			p.Do("EXEC")
			q.Do("SET", "k", "v6")
		})
		scenario("after execabort", func() {
			p.Do("WATCH", "k")
			p.Do("MULTI")
			p.Do("NOSUCHCOMMAND")
			p.Do("EXEC")
			q.Do("SET", "k", "v7")
		})
		// A rejected EXEC aborts, even outside MULTI, and forgets the
		// watched keys.
		scenario("rejected exec", func() {
			p.Do("WATCH", "k")
			p.Do("EXEC", "x")
			q.Do("SET", "k", "v7b")
		})
		p.Do("MULTI")
		p.Do("SET", "k", "never")
		p.Do("EXEC", "x")
		p.Do("EXEC")
		p.Do("GET", "k")
		// A queue-time error beats a touched key: EXECABORT, not null.
		p.Do("WATCH", "k")
		q.Do("SET", "k", "v8")
		p.Do("MULTI")
		p.Do("GET")
		p.Do("EXEC")
		// Watching in another database.
		scenario("other db", func() {
			p.Do("SELECT", "1")
			p.Do("WATCH", "k")
			p.Do("SELECT", "0")
			q.Do("SET", "k", "v9")
		})
		p.Do("SELECT", "0")
		scenario("same key other db", func() {
			p.Do("WATCH", "k")
			q.Do("SELECT", "1")
			q.Do("SET", "k", "db1")
			q.Do("SELECT", "0")
		})
		// WATCH twice, several keys.
		scenario("several keys", func() {
			p.Do("WATCH", "a", "b", "k")
			p.Do("WATCH", "k", "c")
			q.Do("SET", "c", "1")
		})
		// A transaction touching its own watched key succeeds.
		p.Do("WATCH", "k")
		p.Do("MULTI")
		p.Do("SET", "k", "in-tx")
		p.Do("EXEC")
		p.Do("GET", "k")
	})
}

// FLUSHDB, FLUSHALL and SWAPDB touch watched keys that exist (in either
// database for SWAPDB), and only those.
func TestMultiWatchFlushSwap(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := secondPair(t, s)
		tx := func() {
			t.Helper()
			p.Do("MULTI")
			p.Do("PING")
			p.Do("EXEC")
			p.Do("UNWATCH")
		}
		q.Do("SET", "k", "v")
		p.Do("WATCH", "k")
		q.Do("FLUSHALL")
		tx()

		p.Do("WATCH", "k") // missing
		q.Do("FLUSHALL")
		tx()

		q.Do("SET", "k", "v")
		p.Do("WATCH", "k")
		q.Do("FLUSHDB")
		tx()

		q.Do("SET", "k", "v")
		p.Do("WATCH", "k")
		q.Do("SELECT", "2")
		q.Do("SET", "k", "v")
		q.Do("FLUSHDB") // another database
		q.Do("SELECT", "0")
		tx()

		q.Do("FLUSHALL")
		q.Do("SET", "k", "v")
		p.Do("WATCH", "k")
		q.Do("SWAPDB", "0", "1")
		tx()

		// Missing in db 0 but present in db 1: swapping brings it in.
		q.Do("FLUSHALL")
		q.Do("SELECT", "1")
		q.Do("SET", "k", "v")
		q.Do("SELECT", "0")
		p.Do("WATCH", "k")
		q.Do("SWAPDB", "0", "1")
		tx()

		// Missing in both.
		q.Do("FLUSHALL")
		p.Do("WATCH", "k")
		q.Do("SWAPDB", "0", "1")
		tx()

		// Swapping two other databases.
		q.Do("SET", "k", "v")
		p.Do("WATCH", "k")
		q.Do("SWAPDB", "2", "3")
		tx()
		q.Do("FLUSHALL")
	})
}

// A watched key that expires makes EXEC fail; one already expired when
// WATCHed does not (Redis's wk->expired).
func TestMultiWatchExpiry(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("SET", "k", "v", "PX", "100")
		p.Do("WATCH", "k")
		time.Sleep(200 * time.Millisecond)
		p.Do("MULTI")
		p.Do("PING")
		p.Do("EXEC")

		p.Do("SET", "k", "v", "PX", "30")
		time.Sleep(100 * time.Millisecond)
		p.Do("WATCH", "k") // already expired, deleted or not
		time.Sleep(100 * time.Millisecond)
		p.Do("MULTI")
		p.Do("PING")
		p.Do("EXEC")

		// A volatile key that is still alive at EXEC.
		p.Do("SET", "k", "v", "EX", "100")
		p.Do("WATCH", "k")
		p.Do("MULTI")
		p.Do("GET", "k")
		p.Do("EXEC")
	})
}

// TestMultiRandomized runs random transactions against both servers with a
// second client interleaving writes, comparing every reply. Set
// RUNNEL_MULTI_SEED to replay a failure.
func TestMultiRandomized(t *testing.T) {
	s := startServers(t)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("RUNNEL_MULTI_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = n
	}
	t.Logf("seed %d (rerun with RUNNEL_MULTI_SEED=%d)", seed, seed)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := secondPair(t, s)
		rng := rand.New(rand.NewPCG(seed, 7))
		keys := []string{"k0", "k1", "k2", "k3", "n0", "n1"}
		key := func() string { return keys[rng.IntN(len(keys))] }
		val := func() string {
			if rng.IntN(2) == 0 {
				return strconv.Itoa(rng.IntN(100) - 10)
			}
			return fmt.Sprintf("v%d", rng.IntN(10))
		}
		data := func() []string {
			switch rng.IntN(9) {
			case 0:
				return []string{"SET", key(), val()}
			case 1:
				return []string{"GET", key()}
			case 2:
				return []string{"DEL", key(), key()}
			case 3:
				return []string{"INCR", key()}
			case 4:
				return []string{"APPEND", key(), val()}
			case 5:
				// A long TTL, or a non-positive one that deletes at once:
				// nothing here depends on timing.
				return []string{"EXPIRE", key(), []string{"1000", "0", "-5", "500"}[rng.IntN(4)]}
			case 6:
				return []string{"EXISTS", key(), key()}
			case 7:
				return []string{"INCRBY", key(), val()}
			default:
				return []string{"SET", key(), val(), "XX"}
			}
		}
		inMulti := false
		outcomes := map[string]int{}
		defer func() { t.Logf("EXEC outcomes: %v", outcomes) }()
		steps := 1500
		if testing.Short() {
			steps = 300
		}
		for i := range steps {
			var cmd []string
			r := rng.IntN(100)
			switch {
			case r < 20:
				// the other client writes
				if !q.Do(data()...) {
					t.Fatalf("seed %d: diverged at step %d", seed, i)
				}
				continue
			case r < 30:
				cmd = []string{"MULTI"}
			case r < 38:
				cmd = []string{"EXEC"}
			case r < 41:
				cmd = []string{"DISCARD"}
			case r < 49:
				cmd = []string{"WATCH", key()}
				if rng.IntN(3) == 0 {
					cmd = append(cmd, key())
				}
			case r < 52:
				cmd = []string{"UNWATCH"}
			case r < 54 && inMulti:
				// queue-time errors
				cmd = [][]string{{"NOSUCH", key()}, {"GET"}, {"SET", key()}}[rng.IntN(3)]
			case r < 56:
				cmd = []string{"SELECT", strconv.Itoa(rng.IntN(2))}
			default:
				cmd = data()
			}
			ok := false
			if cmd[0] == "EXEC" {
				ok = p.DoMatch(func(r, v redistest.Value) error {
					switch {
					case v.IsNull():
						outcomes["null (watched key touched)"]++
					case v.IsError():
						outcomes[v.Str]++
					default:
						outcomes["ran"]++
					}
					return redistest.CompareExact(r, v)
				}, cmd...)
			} else {
				ok = p.Do(cmd...)
			}
			if !ok {
				t.Fatalf("seed %d: diverged at step %d: %v", seed, i, cmd)
			}
			switch cmd[0] {
			case "MULTI":
				inMulti = true
			case "EXEC", "DISCARD":
				inMulti = false
			}
		}
		if inMulti {
			p.Do("EXEC")
		}
		for _, k := range keys {
			for _, db := range []string{"0", "1"} {
				p.Do("SELECT", db)
				p.Do("GET", k)
			}
		}
	})
}
