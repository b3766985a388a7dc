package command

import (
	"testing"

	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/resp"
)

// strHarness runs string commands without a network: a bare Env, the
// string command table, and a Ctx and Tx set up as the dispatcher sets
// them up (Table.call), reused for every command like a Session's.
type strHarness struct {
	env  *Env
	tab  *Table
	tx   engine.Tx
	x    Ctx
	w    resp.Writer
	keys [][]byte
	argv [][]byte
}

func newStrHarness(tb testing.TB) *strHarness {
	tb.Helper()
	h := &strHarness{env: &Env{KS: engine.New(16, nil)}, tab: newTable()}
	h.tab.env = h.env
	registerStrings(h.tab)
	h.w = resp.Writer{B: make([]byte, 0, 4096), Proto: 2}
	return h
}

// args sets the arguments of the next command, reusing h's storage.
func (h *strHarness) args(args ...string) [][]byte {
	h.argv = h.argv[:0]
	for _, a := range args {
		h.argv = append(h.argv, []byte(a))
	}
	return h.argv
}

// call runs one command on argv as the dispatcher does: it locks the
// command's keys, snapshots the time, runs the handler and unlocks. The
// reply is left in h.w.B.
func (h *strHarness) call(argv [][]byte) {
	cmd := h.tab.lookup(argv[0])
	h.w.B = h.w.B[:0]
	x := &h.x
	*x = Ctx{W: &h.w, Args: argv, Cmd: cmd, Env: h.env, Now: engine.NowMs()}
	h.keys = cmd.keys(h.keys[:0], argv)
	h.env.KS.Lock(&h.tx, h.keys, false, x.Now)
	x.Tx = &h.tx
	cmd.Run(x)
	h.tx.Unlock()
}

// do runs a command and returns its raw reply.
func (h *strHarness) do(args ...string) string {
	h.call(h.args(args...))
	return string(h.w.B)
}

// put stores v at key directly in the keyspace.
func (h *strHarness) put(key string, v engine.Value) {
	var tx engine.Tx
	h.env.KS.Lock(&tx, [][]byte{[]byte(key)}, false, engine.NowMs())
	tx.Set(0, []byte(key), v, 0, false)
	tx.Unlock()
}

// TestStringHotPathAllocs guards the hot path: reading a string allocates
// nothing, and SET of a small value on an existing key allocates only the
// stored copy of the value (its String header and bytes).
func TestStringHotPathAllocs(t *testing.T) {
	h := newStrHarness(t)
	h.do("SET", "k", "hello")
	h.do("SET", "n", "12345")
	h.do("SET", "m", "world")

	cases := []struct {
		args []string
		max  float64
	}{
		{[]string{"GET", "k"}, 0},
		{[]string{"GET", "missing"}, 0},
		{[]string{"MGET", "k", "m", "missing"}, 0},
		{[]string{"STRLEN", "k"}, 0},
		{[]string{"GETRANGE", "k", "1", "-2"}, 0},
		{[]string{"INCR", "n"}, 0},
		{[]string{"DECRBY", "n", "7"}, 0},
		{[]string{"SET", "k", "hello"}, 2},
		{[]string{"SET", "k", "hello", "KEEPTTL"}, 2},
	}
	for _, c := range cases {
		argv := h.args(c.args...)
		want := h.do(c.args...)
		allocs := testing.AllocsPerRun(1000, func() { h.call(argv) })
		if allocs > c.max {
			t.Errorf("%q: %v allocations per run, want at most %v", c.args, allocs, c.max)
		}
		if got := string(h.w.B); got != want && c.args[0] != "INCR" && c.args[0] != "DECRBY" {
			t.Errorf("%q: reply %q, want %q", c.args, got, want)
		}
	}
	if got := h.do("GET", "k"); got != "$5\r\nhello\r\n" {
		t.Errorf("GET k = %q", got)
	}
}

// TestStringGetAllocsByHand is the guard the brief asks for, in its plainest
// form: cmdGet through a hand-built Ctx on an existing key.
func TestStringGetAllocsByHand(t *testing.T) {
	env := &Env{KS: engine.New(16, nil)}
	key := []byte("key")
	var tx engine.Tx
	env.KS.Lock(&tx, [][]byte{key}, false, engine.NowMs())
	tx.Set(0, key, engine.NewString([]byte("value")), 0, false)
	w := resp.Writer{B: make([]byte, 0, 256), Proto: 3}
	x := &Ctx{W: &w, Args: [][]byte{[]byte("GET"), key}, Env: env, Tx: &tx, Now: tx.Now}
	allocs := testing.AllocsPerRun(1000, func() {
		w.B = w.B[:0]
		cmdGet(x)
	})
	tx.Unlock()
	if allocs != 0 {
		t.Errorf("GET allocates %v times per run, want 0", allocs)
	}
	if string(w.B) != "$5\r\nvalue\r\n" {
		t.Errorf("GET replied %q", w.B)
	}
}
