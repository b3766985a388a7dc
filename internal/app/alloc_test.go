package app

import (
	"bufio"
	"io"
	"net"
	"testing"

	"github.com/runnel-io/runnel/internal/resp"
)

// pipeline runs batches of pre-encoded commands through a real connection
// (net.Pipe into Server.ServeConn) and reads the replies.
type pipeline struct {
	client net.Conn
	r      *bufio.Reader
	reply  []byte
}

func newPipeline(tb testing.TB) *pipeline {
	tb.Helper()
	a := New(nil, nil)
	client, srv := net.Pipe()
	go a.Server.ServeConn(srv)
	tb.Cleanup(func() { client.Close() })
	return &pipeline{client: client, r: bufio.NewReaderSize(client, 1<<20)}
}

// run sends req and reads exactly replyLen bytes of replies.
func (p *pipeline) run(tb testing.TB, req []byte, replyLen int) {
	go func() { _, _ = p.client.Write(req) }()
	if cap(p.reply) < replyLen {
		p.reply = make([]byte, replyLen)
	}
	if _, err := io.ReadFull(p.r, p.reply[:replyLen]); err != nil {
		tb.Fatal(err)
	}
}

func repeat(n int, args ...string) []byte {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	var out []byte
	for i := 0; i < n; i++ {
		out = resp.AppendCommand(out, bs...)
	}
	return out
}

// TestHotPathAllocations proves the command path allocates nothing per
// command: parsing, lookup, locking, the handler and the reply. A batch of
// 1000 commands may allocate a few times in total (the pipe's goroutine),
// never once per command.
func TestHotPathAllocations(t *testing.T) {
	p := newPipeline(t)
	const n = 1000
	p.run(t, repeat(1, "SET", "key", "value"), len("+OK\r\n"))
	for _, tc := range []struct {
		name  string
		req   []byte
		reply int
	}{
		{"GET", repeat(n, "GET", "key"), n * len("$5\r\nvalue\r\n")},
		{"EXISTS", repeat(n, "EXISTS", "key"), n * len(":1\r\n")},
		{"PING", repeat(n, "PING"), n * len("+PONG\r\n")},
		{"STRLEN", repeat(n, "STRLEN", "key"), n * len(":5\r\n")},
		{"INCR", repeat(n, "INCR", "counter"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.reply == 0 {
				// INCR replies grow in width; measure the reply first.
				p.run(t, repeat(1, "SET", "counter", "100000000"), len("+OK\r\n"))
				tc.reply = n * len(":100000001\r\n")
			}
			p.run(t, tc.req, tc.reply) // warm up buffers
			if tc.name == "INCR" {
				p.run(t, repeat(1, "SET", "counter", "100000000"), len("+OK\r\n"))
			}
			allocs := testing.AllocsPerRun(5, func() {
				if tc.name == "INCR" {
					p.run(t, repeat(1, "SET", "counter", "100000000"), len("+OK\r\n"))
				}
				p.run(t, tc.req, tc.reply)
			})
			if per := allocs / n; per >= 0.05 {
				t.Fatalf("%s: %.0f allocations per %d commands (%.3f per command)", tc.name, allocs, n, per)
			}
		})
	}
}

func BenchmarkPipelinedGET(b *testing.B) {
	p := newPipeline(b)
	p.run(b, repeat(1, "SET", "key", "value"), len("+OK\r\n"))
	const n = 100
	req := repeat(n, "GET", "key")
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	for b.Loop() {
		p.run(b, req, n*len("$5\r\nvalue\r\n"))
	}
}

func BenchmarkPipelinedSET(b *testing.B) {
	p := newPipeline(b)
	const n = 100
	req := repeat(n, "SET", "key", "value")
	b.ReportAllocs()
	for b.Loop() {
		p.run(b, req, n*len("+OK\r\n"))
	}
}
