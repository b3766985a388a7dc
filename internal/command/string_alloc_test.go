package command

import (
	"testing"

	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/resp"
)

// TestStringHotPathAllocs guards the hot path: reading a string allocates
// nothing, and SET of a small value on an existing key allocates only the
// stored copy of the value (its String header and bytes).
func TestStringHotPathAllocs(t *testing.T) {
	h := newHarness(t, registerStrings)
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
