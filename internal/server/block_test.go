package server

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testWaiter is the smallest Waiter: whoever takes it first (a serve from
// the test, the timeout, CLIENT UNBLOCK) writes the one final reply.
type testWaiter struct {
	c       *Client
	mu      sync.Mutex
	phase   int // 0 parking, 1 blocked, 2 taken
	parked  chan struct{}
	aborted chan struct{}
	replies atomic.Int32
}

func (w *testWaiter) take() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.phase != 1 {
		return false
	}
	w.phase = 2
	return true
}

func (w *testWaiter) reply(msg string) bool {
	if !w.take() {
		return false
	}
	w.replies.Add(1)
	w.c.W.Simple(msg)
	w.c.Wake()
	return true
}

func (w *testWaiter) Park() {
	w.mu.Lock()
	w.phase = 1
	w.mu.Unlock()
	close(w.parked)
}

func (w *testWaiter) Timeout() { w.reply("TIMEOUT") }

func (w *testWaiter) Unblock(withError bool) bool {
	if withError {
		return w.reply("UNBLOCKED-ERROR")
	}
	return w.reply("UNBLOCKED")
}

func (w *testWaiter) Resume() {}

func (w *testWaiter) Abort() {
	w.mu.Lock()
	// A taken waiter is being served; this Waiter writes and wakes in one
	// step under no lock, so there is nothing to wait for here except that
	// the reply is not written after Abort returns: take() fails from now.
	w.phase = 2
	w.mu.Unlock()
	close(w.aborted)
}

// blockHandler serves PING, and BLOCK ms (0: forever), which parks the
// client and publishes its waiter on waiters.
type blockHandler struct {
	waiters chan *testWaiter
	closed  chan int64
}

func (h *blockHandler) Serve(c *Client, args [][]byte) {
	switch strings.ToUpper(string(args[0])) {
	case "PING":
		c.W.Simple("PONG")
	case "BLOCK":
		ms, _ := strconv.Atoi(string(args[1]))
		var deadline time.Time
		if ms > 0 {
			deadline = time.Now().Add(time.Duration(ms) * time.Millisecond)
		}
		w := &testWaiter{c: c, parked: make(chan struct{}), aborted: make(chan struct{})}
		c.Block(deadline, w)
		h.waiters <- w
	default:
		c.W.Bulk(args[0])
	}
}

func (h *blockHandler) Closed(c *Client) { h.closed <- c.ID }

func startBlock(tb testing.TB, st Settings) (*Server, *blockHandler, string) {
	tb.Helper()
	h := &blockHandler{waiters: make(chan *testWaiter, 1000), closed: make(chan int64, 1000)}
	s := New(h, st, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go s.Serve(l)
	tb.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s, h, l.Addr().String()
}

func recv[T any](tb testing.TB, ch <-chan T) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		tb.Fatal("timed out waiting")
	}
	var zero T
	return zero
}

func parked(tb testing.TB, w *testWaiter) {
	tb.Helper()
	recv(tb, w.parked)
}

// expectNothing asserts that no byte arrives within d.
func expectNothing(tb testing.TB, c net.Conn, r *bufio.Reader, d time.Duration) {
	tb.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	if b, err := r.ReadByte(); err == nil {
		tb.Fatalf("unexpected data %q", b)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
}

func TestBlockWakeKeepsPipelineOrder(t *testing.T) {
	_, h, addr := startBlock(t, defaultSettings())
	c, r := dial(t, addr)
	// The reply before the blocking command is sent at once; what comes
	// after it is buffered, and runs only once the wait is over.
	c.Write([]byte("PING\r\nBLOCK 0\r\nPING\r\nECHO\r\n"))
	w := recv(t, h.waiters)
	parked(t, w)
	expectLine(t, r, "+PONG\r\n")
	expectNothing(t, c, r, 100*time.Millisecond)
	if !w.reply("SERVED") {
		t.Fatal("could not take the waiter")
	}
	expectLine(t, r, "+SERVED\r\n")
	expectLine(t, r, "+PONG\r\n")
	expectLine(t, r, "$4\r\n")
	expectLine(t, r, "ECHO\r\n")
	// And the client can block again.
	c.Write([]byte("BLOCK 0\r\n"))
	w = recv(t, h.waiters)
	parked(t, w)
	w.reply("AGAIN")
	expectLine(t, r, "+AGAIN\r\n")
}

func TestBlockDeadline(t *testing.T) {
	_, h, addr := startBlock(t, defaultSettings())
	c, r := dial(t, addr)
	begin := time.Now()
	c.Write([]byte("BLOCK 150\r\nPING\r\n"))
	w := recv(t, h.waiters)
	expectLine(t, r, "+TIMEOUT\r\n")
	if d := time.Since(begin); d < 140*time.Millisecond || d > 2*time.Second {
		t.Fatalf("timed out after %v, want about 150ms", d)
	}
	expectLine(t, r, "+PONG\r\n")
	if n := w.replies.Load(); n != 1 {
		t.Fatalf("%d final replies", n)
	}
}

func TestBlockIgnoresIdleTimeout(t *testing.T) {
	st := defaultSettings()
	st.timeout = 50 * time.Millisecond
	_, h, addr := startBlock(t, st)
	c, r := dial(t, addr)
	c.Write([]byte("BLOCK 0\r\n"))
	w := recv(t, h.waiters)
	parked(t, w)
	expectNothing(t, c, r, 250*time.Millisecond)
	w.reply("SERVED")
	expectLine(t, r, "+SERVED\r\n")
	// Once the wait is over the idle timeout applies again.
	expectEOF(t, r)
}

func TestBlockDisconnectAborts(t *testing.T) {
	_, h, addr := startBlock(t, defaultSettings())
	c, r := dial(t, addr)
	c.Write([]byte("BLOCK 0\r\n"))
	w := recv(t, h.waiters)
	parked(t, w)
	c.Close()
	recv(t, w.aborted)
	recv(t, h.closed)
	if w.reply("LATE") {
		t.Fatal("an aborted waiter could still be served")
	}
	_ = r
}

func TestBlockKillAborts(t *testing.T) {
	s, h, addr := startBlock(t, defaultSettings())
	c, r := dial(t, addr)
	c.Write([]byte("BLOCK 0\r\n"))
	w := recv(t, h.waiters)
	parked(t, w)
	cl := s.Clients()[0]
	if !cl.IsBlocked() {
		t.Fatal("IsBlocked is false while blocked")
	}
	if info := cl.Info(time.Now()); !strings.Contains(info, " flags=b ") {
		t.Fatalf("CLIENT LIST line without flag b: %s", info)
	}
	cl.Kill()
	recv(t, w.aborted)
	recv(t, h.closed)
	expectEOF(t, r)
}

func TestBlockShutdown(t *testing.T) {
	s, h, addr := startBlock(t, defaultSettings())
	c, r := dial(t, addr)
	c.Write([]byte("BLOCK 0\r\n"))
	w := recv(t, h.waiters)
	parked(t, w)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with a blocked client: %v", err)
	}
	recv(t, w.aborted)
	expectEOF(t, r)
}

// TestBlockShutdownPipe is TestBlockShutdown over net.Pipe, which has no
// CloseRead: Shutdown's read deadline must end the wait.
func TestBlockShutdownPipe(t *testing.T) {
	h := &blockHandler{waiters: make(chan *testWaiter, 1), closed: make(chan int64, 1)}
	s := New(h, defaultSettings(), nil)
	client, srv := net.Pipe()
	defer client.Close()
	go s.ServeConn(srv)
	go client.Write([]byte("BLOCK 0\r\n"))
	w := recv(t, h.waiters)
	parked(t, w)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with a blocked client: %v", err)
	}
	recv(t, w.aborted)
}

func TestBlockUnblock(t *testing.T) {
	s, h, addr := startBlock(t, defaultSettings())
	c, r := dial(t, addr)
	c.Write([]byte("BLOCK 0\r\n"))
	w := recv(t, h.waiters)
	parked(t, w)
	cl := s.Clients()[0]
	if !cl.Unblock(true) {
		t.Fatal("Unblock of a blocked client reported false")
	}
	expectLine(t, r, "+UNBLOCKED-ERROR\r\n")
	c.Write([]byte("PING\r\n"))
	expectLine(t, r, "+PONG\r\n")
	if cl.Unblock(false) || cl.IsBlocked() {
		t.Fatal("a client that is not blocked counts as blocked")
	}
}

func TestBlockQueryBufferLimit(t *testing.T) {
	st := defaultSettings()
	st.queryLimit = 64 << 10
	_, h, addr := startBlock(t, st)
	c, r := dial(t, addr)
	c.Write([]byte("BLOCK 0\r\n"))
	w := recv(t, h.waiters)
	parked(t, w)
	// Input sent while blocked is buffered, within the query buffer limit.
	go c.Write(make([]byte, 200<<10))
	recv(t, w.aborted)
	expectEOF(t, r)
}

// TestBlockRace races the deadline, a serve and CLIENT UNBLOCK on many
// clients: each gets exactly one final reply, and the next command still
// works. Run it with -race.
func TestBlockRace(t *testing.T) {
	s, h, addr := startBlock(t, defaultSettings())
	const clients, rounds = 8, 40
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		c, r := dial(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < rounds; j++ {
				_, _ = c.Write([]byte("BLOCK 2\r\nPING\r\n"))
				line, err := r.ReadString('\n')
				if err != nil || !(line == "+TIMEOUT\r\n" || line == "+SERVED\r\n" || line == "+UNBLOCKED\r\n") {
					t.Errorf("final reply %q, %v", line, err)
					return
				}
				if line, err := r.ReadString('\n'); err != nil || line != "+PONG\r\n" {
					t.Errorf("after the wait: %q, %v", line, err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for n := 0; ; n++ {
		select {
		case w := <-h.waiters:
			go func() {
				<-w.parked
				time.Sleep(time.Duration(n%3) * time.Millisecond)
				if n%2 == 0 {
					w.reply("SERVED")
				} else {
					for _, c := range s.Clients() {
						c.Unblock(false)
					}
				}
			}()
			go func() {
				<-w.parked
				time.Sleep(3 * time.Millisecond)
				if n := w.replies.Load(); n > 1 {
					t.Errorf("%d final replies", n)
				}
			}()
		case <-done:
			return
		case <-time.After(10 * time.Second):
			t.Fatal("stuck")
		}
	}
}
