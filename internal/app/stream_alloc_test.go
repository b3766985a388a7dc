package app

import (
	"strconv"
	"testing"

	"github.com/runnel-io/runnel/internal/resp"
)

// runReplies sends req and reads n complete replies of any length (XADD *
// answers IDs of varying width), without allocating: the replies are
// walked in the reader's buffer. An error reply fails the test.
func (p *pipeline) runReplies(tb testing.TB, req []byte, n int) {
	go func() { _, _ = p.client.Write(req) }()
	for pending := n; pending > 0; pending-- {
		line, err := p.r.ReadSlice('\n')
		if err != nil {
			tb.Fatal(err)
		}
		body := line[1 : len(line)-2]
		switch line[0] {
		case '-':
			tb.Fatalf("error reply %q", line)
		case '$':
			if l, ok := resp.ParseInt(body); ok && l >= 0 {
				if _, err := p.r.Discard(int(l) + 2); err != nil {
					tb.Fatal(err)
				}
			}
		case '*':
			if l, ok := resp.ParseInt(body); ok && l > 0 {
				pending += int(l)
			}
		}
	}
}

// streamBatch is a batch of n commands and what it takes to run it.
type streamBatch struct {
	req     []byte
	replies int
}

// maxBatchAllocs is what a batch may allocate in total when its commands
// allocate nothing: the goroutine that writes the request and its
// closure. A command that allocated once would add a thousand.
const maxBatchAllocs = 5

// TestStreamHotPathAllocations proves, as TestHotPathAllocations does for
// strings, that the stream commands' hot paths allocate nothing per
// command through the real path: the RESP reader, dispatch, the keyspace
// lock, the handler, the stream core and the reply.
//
// XADD is the one exception and is amortized: an entry is appended in
// place to its node's buffer, but every stream-node-max-entries (100)
// entries a new node starts, which reserves its buffer in the stream's
// arena (a new arena page every few nodes) and may grow the node slice.
// Over 1000 XADDs that is about 10 to 20 allocations, 0.01 to 0.02 per
// command; the bound 0.05 leaves room for the batch overhead and still
// fails for any allocation per command.
func TestStreamHotPathAllocations(t *testing.T) {
	p := newPipeline(t)
	const n = 1000
	setup := func(args ...string) { p.runReplies(t, repeat(1, args...), 1) }

	// "s": 1000 entries for the readers; "q": a consumer group with two
	// consumers holding pending entries (XPENDING's summary lists both).
	p.runReplies(t, repeat(n, "XADD", "s", "*", "field", "value"), n)
	for i := 1; i <= 30; i++ {
		setup("XADD", "q", strconv.Itoa(i)+"-0", "field", "value")
	}
	setup("XGROUP", "CREATE", "q", "g", "0")
	setup("XREADGROUP", "GROUP", "g", "alice", "COUNT", "10", "STREAMS", "q", ">")
	setup("XREADGROUP", "GROUP", "g", "bob", "COUNT", "10", "STREAMS", "q", ">")
	// "trimmed": at its MAXLEN ~ 1000 steady state before measuring.
	p.runReplies(t, repeat(3*n, "XADD", "trimmed", "MAXLEN", "~", "1000", "*", "field", "value"), 3*n)

	for _, tc := range []struct {
		name     string
		args     []string
		perEntry float64 // allowed allocations per command
	}{
		{"XADD *", []string{"XADD", "s", "*", "field", "value"}, 0.05},
		{"XADD MAXLEN ~ *", []string{"XADD", "trimmed", "MAXLEN", "~", "1000", "*", "field", "value"}, 0.05},
		{"XRANGE COUNT 10", []string{"XRANGE", "s", "-", "+", "COUNT", "10"}, 0},
		{"XREVRANGE COUNT 10", []string{"XREVRANGE", "s", "+", "-", "COUNT", "10"}, 0},
		{"XREAD COUNT 10", []string{"XREAD", "COUNT", "10", "STREAMS", "s", "0"}, 0},
		{"XLEN", []string{"XLEN", "s"}, 0},
		{"XPENDING summary", []string{"XPENDING", "q", "g"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := streamBatch{repeat(n, tc.args...), n}
			p.runReplies(t, b.req, b.replies) // warm up buffers
			allocs := testing.AllocsPerRun(5, func() { p.runReplies(t, b.req, b.replies) })
			checkBatchAllocs(t, tc.name, allocs, n, tc.perEntry)
		})
	}

	// The consumer loop: XREADGROUP COUNT 10 ">" then XACK of the ten IDs
	// it delivered. The IDs are explicit so that each batch can be built
	// before measuring; each run consumes fresh entries.
	t.Run("XREADGROUP COUNT 10 > + XACK", func(t *testing.T) {
		const cycles = n / 2
		const runs = 5
		next := 1
		var fill []byte
		for i := 1; i <= (runs+2)*cycles*10; i++ {
			fill = resp.AppendCommand(fill, bs("XADD", "c", strconv.Itoa(i)+"-0", "field", "value")...)
		}
		p.runReplies(t, fill, (runs+2)*cycles*10)
		setup("XGROUP", "CREATE", "c", "g", "0")
		batch := func() streamBatch {
			var req []byte
			for k := 0; k < cycles; k++ {
				req = resp.AppendCommand(req, bs("XREADGROUP", "GROUP", "g", "consumer", "COUNT", "10", "STREAMS", "c", ">")...)
				ack := bs("XACK", "c", "g")
				for j := 0; j < 10; j++ {
					ack = append(ack, []byte(strconv.Itoa(next)+"-0"))
					next++
				}
				req = resp.AppendCommand(req, ack...)
			}
			return streamBatch{req, 2 * cycles}
		}
		warm := batch()
		p.runReplies(t, warm.req, warm.replies)
		batches := make([]streamBatch, runs+1) // AllocsPerRun runs once more to warm up
		for i := range batches {
			batches[i] = batch()
		}
		i := 0
		allocs := testing.AllocsPerRun(runs, func() {
			p.runReplies(t, batches[i].req, batches[i].replies)
			i++
		})
		checkBatchAllocs(t, "XREADGROUP+XACK", allocs, 2*cycles, 0)
		// Every entry was delivered and acknowledged.
		const empty = "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"
		p.run(t, repeat(1, "XPENDING", "c", "g"), len(empty))
		if got := string(p.reply[:len(empty)]); got != empty {
			t.Fatalf("XPENDING after the loop: %q", got)
		}
	})
}

// checkBatchAllocs fails when a batch of n commands allocated more than
// perCommand each (amortized) or, for commands that must not allocate,
// more than the batch overhead.
func checkBatchAllocs(t *testing.T, name string, allocs float64, n int, perCommand float64) {
	t.Helper()
	switch {
	case perCommand == 0 && allocs > maxBatchAllocs:
		t.Errorf("%s: %.0f allocations per %d commands (%.4f per command), want none per command (at most %d per batch)",
			name, allocs, n, allocs/float64(n), maxBatchAllocs)
	case perCommand > 0 && allocs/float64(n) > perCommand:
		t.Errorf("%s: %.0f allocations per %d commands (%.4f per command), want at most %v per command",
			name, allocs, n, allocs/float64(n), perCommand)
	default:
		t.Logf("%s: %.0f allocations per %d commands", name, allocs, n)
	}
}

func bs(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// BenchmarkStreamXAdd is XADD * to one stream, pipelined 100 deep through
// the server like BenchmarkPipelined*; allocs/op are per 100 commands.
func BenchmarkStreamXAdd(b *testing.B) {
	p := newPipeline(b)
	const n = 100
	req := repeat(n, "XADD", "bench", "*", "field", "value")
	p.runReplies(b, req, n)
	b.ReportAllocs()
	for b.Loop() {
		p.runReplies(b, req, n)
	}
}

// BenchmarkStreamXReadGroupAck is a consumer's loop, pipelined: ten XADDs,
// XREADGROUP COUNT 10 ">", XACK of the ten IDs (12 commands per
// operation). The request is rebuilt in place each time, with explicit
// IDs, without allocating.
func BenchmarkStreamXReadGroupAck(b *testing.B) {
	p := newPipeline(b)
	p.runReplies(b, repeat(1, "XGROUP", "CREATE", "bench", "g", "$", "MKSTREAM"), 1)
	var (
		idBuf [10][24]byte
		ids   [10][]byte
		req   []byte
		next  uint64
	)
	xadd := bs("XADD", "bench", "", "field", "value")
	read := bs("XREADGROUP", "GROUP", "g", "consumer", "COUNT", "10", "STREAMS", "bench", ">")
	ack := append(bs("XACK", "bench", "g"), make([][]byte, 10)...)
	cycle := func() {
		req = req[:0]
		for i := range ids {
			next++
			ids[i] = append(strconv.AppendUint(idBuf[i][:0], next, 10), '-', '0')
			xadd[2] = ids[i]
			req = resp.AppendCommand(req, xadd...)
		}
		req = resp.AppendCommand(req, read...)
		copy(ack[3:], ids[:])
		req = resp.AppendCommand(req, ack...)
		p.runReplies(b, req, 12)
	}
	cycle()
	b.ReportAllocs()
	for b.Loop() {
		cycle()
	}
}
