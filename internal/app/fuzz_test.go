package app

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/config"
	"github.com/runnel-io/runnel/internal/redistest"
	"github.com/runnel-io/runnel/internal/resp"
)

// fuzzApp is shared by fuzz iterations of one process: building a server
// per input would dominate the run.
var (
	fuzzOnce  sync.Once
	fuzzSrv   *App
	fuzzNames []string
)

func fuzzServer() (*App, []string) {
	fuzzOnce.Do(func() {
		fuzzSrv = New(nil, nil)
		// Strings up to the default 512 MB (SETRANGE k 536870911 x) are
		// legitimate but make iterations slow; the smallest limit keeps
		// the same code paths.
		if err := fuzzSrv.Cfg.Set([]string{"proto-max-bulk-len", "1mb"}, config.SetOptions{Local: true}); err != nil {
			panic(err)
		}
		for _, c := range fuzzSrv.Table.All() {
			switch c.Name {
			case "shutdown", "monitor", "debug", "subscribe", "psubscribe", "ssubscribe", "quit":
				continue // they end or take over the connection
			}
			if len(c.Sub) == 0 {
				fuzzNames = append(fuzzNames, c.Name)
				continue
			}
			for name := range c.Sub {
				if c.Name == "client" && (name == "pause" || name == "kill" || name == "reply") {
					continue // they would stall or cut the fuzzing connection
				}
				fuzzNames = append(fuzzNames, c.Name+" "+name)
			}
		}
		sort.Strings(fuzzNames)
	})
	return fuzzSrv, fuzzNames
}

// FuzzCommands runs random argument lists through every command of the
// table, over a real connection, and fails if the server panics (it answers
// a recovered panic with "ERR internal error"), stops answering, or sends a
// malformed reply. Each input is a sequence of commands separated by '\n';
// in a command, the first byte picks the command and '\x00' separates
// arguments.
func FuzzCommands(f *testing.F) {
	seeds := []string{
		"\x00k\x00v", "\x01k", "\x02k\x001\x00EX\x0010", "\x03k\x00nx\x00xx",
		"\x04k\x00-1\x00gt\x00lt", "\x05\x00*\x00count\x00-1", "\x06a\x00b\x00c",
		"\x07k\x0099999999999999999999", "\x08k\x00\xff\xfe", "\x09",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A hung server would stall the fuzzer silently: fail loudly,
		// with every goroutine's stack.
		watchdog := time.AfterFunc(30*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic(fmt.Sprintf("FuzzCommands: input %q hung the server\n%s", data, buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		a, names := fuzzServer()
		client, srv := net.Pipe()
		go a.Server.ServeConn(srv)
		defer client.Close()
		_ = client.SetDeadline(time.Now().Add(5 * time.Second))
		var req []byte
		cmds := 0
		for _, line := range bytes.Split(data, []byte{'\n'}) {
			if len(line) == 0 || cmds == 16 {
				continue
			}
			name := names[int(line[0])%len(names)]
			args := [][]byte{}
			for _, w := range strings.Fields(name) {
				args = append(args, []byte(w))
			}
			if len(line) > 1 {
				args = append(args, bytes.Split(line[1:], []byte{0})...)
			}
			req = resp.AppendCommand(req, args...)
			cmds++
		}
		req = resp.AppendCommand(req, []byte("RESET"))
		req = resp.AppendCommand(req, []byte("FLUSHALL"))
		cmds += 2
		go func() { _, _ = client.Write(req) }()
		r := bufio.NewReader(client)
		for i := 0; i < cmds; i++ {
			raw, err := readOneReply(r)
			if err != nil {
				t.Fatalf("reply %d of %d: %v (request %q)", i+1, cmds, err, req)
			}
			if bytes.HasPrefix(raw, []byte("-ERR internal error")) {
				t.Fatalf("server panicked on request %q", req)
			}
			if _, err := redistest.Parse(raw); err != nil {
				t.Fatalf("malformed reply %q: %v", raw, err)
			}
		}
	})
}

// readOneReply reads one complete RESP2/RESP3 reply.
func readOneReply(r *bufio.Reader) ([]byte, error) {
	var out []byte
	pending := 1
	for pending > 0 {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return nil, err
		}
		out = append(out, line...)
		pending--
		body := bytes.TrimRight(line[1:], "\r\n")
		switch line[0] {
		case '$', '=', '!':
			n, ok := resp.ParseInt(body)
			if ok && n >= 0 {
				buf := make([]byte, n+2)
				if _, err := io.ReadFull(r, buf); err != nil {
					return nil, err
				}
				out = append(out, buf...)
			}
		case '*', '~', '>':
			if n, ok := resp.ParseInt(body); ok && n > 0 {
				pending += int(n)
			}
		case '%', '|':
			if n, ok := resp.ParseInt(body); ok && n > 0 {
				pending += 2 * int(n)
			}
			if line[0] == '|' {
				pending++
			}
		}
	}
	return out, nil
}
