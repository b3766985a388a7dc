package command

import (
	"testing"

	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/resp"
)

// harness runs commands without a network: a bare Env, the command groups
// given, and a Ctx and Tx set up as the dispatcher sets them up
// (Table.call), reused for every command like a Session's.
type harness struct {
	env  *Env
	tab  *Table
	tx   engine.Tx
	x    Ctx
	w    resp.Writer
	keys [][]byte
	argv [][]byte
	// now, when set, is the time every command sees (unix ms) instead of
	// the clock: tests of time-dependent replies set it.
	now int64
}

func newHarness(tb testing.TB, groups ...func(*Table)) *harness {
	tb.Helper()
	h := &harness{env: &Env{KS: engine.New(16, nil)}, tab: newTable()}
	h.tab.env = h.env
	for _, register := range groups {
		register(h.tab)
	}
	h.w = resp.Writer{B: make([]byte, 0, 4096), Proto: 2}
	return h
}

// args sets the arguments of the next command, reusing h's storage.
func (h *harness) args(args ...string) [][]byte {
	h.argv = h.argv[:0]
	for _, a := range args {
		h.argv = append(h.argv, []byte(a))
	}
	return h.argv
}

// call runs one command on argv as the dispatcher does: it locks the
// command's keys, snapshots the time, runs the handler and unlocks. The
// reply is left in h.w.B.
func (h *harness) call(argv [][]byte) {
	cmd := h.tab.lookup(argv[0])
	if cmd.Sub != nil {
		cmd = lookupSub(cmd, argv[1])
	}
	h.w.B = h.w.B[:0]
	x := &h.x
	now := h.now
	if now == 0 {
		now = engine.NowMs()
	}
	*x = Ctx{W: &h.w, Args: argv, Cmd: cmd, Env: h.env, Now: now}
	h.keys = cmd.keys(h.keys[:0], argv)
	h.env.KS.Lock(&h.tx, h.keys, cmd.Flags&Global != 0, x.Now)
	x.Tx = &h.tx
	cmd.Run(x)
	h.tx.Unlock()
}

// do runs a command and returns its raw reply.
func (h *harness) do(args ...string) string {
	h.call(h.args(args...))
	return string(h.w.B)
}

// put stores v at key directly in the keyspace.
func (h *harness) put(key string, v engine.Value, expireAt int64) {
	var tx engine.Tx
	h.env.KS.Lock(&tx, [][]byte{[]byte(key)}, false, engine.NowMs())
	tx.Set(0, []byte(key), v, expireAt, false)
	tx.Unlock()
}
