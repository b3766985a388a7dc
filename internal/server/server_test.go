package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/resp"
)

// testSettings are mutable settings for tests.
type testSettings struct {
	mu          sync.Mutex
	maxClients  int
	timeout     time.Duration
	password    bool
	protected   bool
	maxBulk     int64
	queryLimit  int64
	pubsubLimit int64
}

func (s *testSettings) get() testSettings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return testSettings{maxClients: s.maxClients, timeout: s.timeout, password: s.password,
		protected: s.protected, maxBulk: s.maxBulk, queryLimit: s.queryLimit, pubsubLimit: s.pubsubLimit}
}
func (s *testSettings) MaxClients() int             { return s.get().maxClients }
func (s *testSettings) IdleTimeout() time.Duration  { return s.get().timeout }
func (s *testSettings) TCPKeepAlive() time.Duration { return 0 }
func (s *testSettings) ProtoMaxBulkLen() int64      { return s.get().maxBulk }
func (s *testSettings) QueryBufferLimit() int64     { return s.get().queryLimit }
func (s *testSettings) PasswordRequired() bool      { return s.get().password }
func (s *testSettings) ProtectedMode() bool         { return s.get().protected }
func (s *testSettings) OutputBufferLimit(class int) (int64, int64, int64) {
	if class == ClassPubSub {
		return s.get().pubsubLimit, 0, 0
	}
	return 0, 0, 0
}

func defaultSettings() *testSettings {
	return &testSettings{maxClients: 100, protected: true, maxBulk: 512 << 20, queryLimit: 1 << 30, pubsubLimit: 1 << 20}
}

// echoHandler replies to PING with PONG, to SLOW by sleeping, and echoes
// anything else's first argument.
type echoHandler struct {
	closed chan int64
}

func (h *echoHandler) Serve(c *Client, args [][]byte) {
	switch strings.ToUpper(string(args[0])) {
	case "PING":
		c.W.Simple("PONG")
	case "SLOW":
		time.Sleep(200 * time.Millisecond)
		c.W.Simple("DONE")
	case "PANIC":
		panic("boom")
	case "QUIT":
		c.W.OK()
		c.CloseAfterReply()
	default:
		c.W.Bulk(args[0])
	}
}

func (h *echoHandler) Closed(c *Client) {
	if h.closed != nil {
		h.closed <- c.ID
	}
}

func start(tb testing.TB, st Settings, opts ...func(*Server)) (*Server, string) {
	tb.Helper()
	s := New(&echoHandler{}, st, nil)
	for _, o := range opts {
		o(s)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go s.Serve(l)
	tb.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s, l.Addr().String()
}

func dial(tb testing.TB, addr string) (net.Conn, *bufio.Reader) {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	return c, bufio.NewReader(c)
}

func expectLine(tb testing.TB, r *bufio.Reader, want string) {
	tb.Helper()
	line, err := r.ReadString('\n')
	if err != nil || line != want {
		tb.Fatalf("read %q, %v; want %q", line, err, want)
	}
}

func expectEOF(tb testing.TB, r *bufio.Reader) {
	tb.Helper()
	// A close with unread input arrives as a reset.
	if b, err := r.ReadByte(); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		tb.Fatalf("read %q, %v; want the connection closed", b, err)
	}
}

func TestPipelineOneWrite(t *testing.T) {
	_, addr := start(t, defaultSettings())
	c, r := dial(t, addr)
	// A whole pipeline in one write: every reply comes back, in order.
	var b strings.Builder
	for i := 0; i < 1000; i++ {
		b.WriteString("*1\r\n$4\r\nPING\r\n")
	}
	c.Write([]byte(b.String()))
	for i := 0; i < 1000; i++ {
		expectLine(t, r, "+PONG\r\n")
	}
}

func TestMaxClients(t *testing.T) {
	st := defaultSettings()
	st.maxClients = 2
	_, addr := start(t, st)
	for i := 0; i < 2; i++ {
		c, r := dial(t, addr)
		c.Write([]byte("PING\r\n"))
		expectLine(t, r, "+PONG\r\n")
	}
	_, r := dial(t, addr)
	expectLine(t, r, "-ERR max number of clients reached\r\n")
	expectEOF(t, r)
}

func TestProtectedMode(t *testing.T) {
	st := defaultSettings()
	// Tests cannot connect from a real non-loopback address, so the
	// loopback check is replaced: every peer counts as remote.
	_, addr := start(t, st, func(s *Server) { s.isLocal = func(net.Addr) bool { return false } })
	_, r := dial(t, addr)
	line, _ := r.ReadString('\n')
	if !strings.HasPrefix(line, "-DENIED Redis is running in protected mode") {
		t.Fatalf("got %q, want the protected-mode error", line)
	}
	expectEOF(t, r)
	// With a password, remote clients are allowed (they must AUTH).
	st.mu.Lock()
	st.password = true
	st.mu.Unlock()
	c, r := dial(t, addr)
	c.Write([]byte("PING\r\n"))
	expectLine(t, r, "+PONG\r\n")
	// With protected mode off, too.
	st.mu.Lock()
	st.password, st.protected = false, false
	st.mu.Unlock()
	c, r = dial(t, addr)
	c.Write([]byte("PING\r\n"))
	expectLine(t, r, "+PONG\r\n")
	if !isLoopback(&net.TCPAddr{IP: net.ParseIP("::1")}) || isLoopback(&net.TCPAddr{IP: net.ParseIP("10.1.2.3")}) {
		t.Fatal("isLoopback is wrong")
	}
}

func TestIdleTimeout(t *testing.T) {
	st := defaultSettings()
	st.timeout = 100 * time.Millisecond
	_, addr := start(t, st)
	c, r := dial(t, addr)
	c.Write([]byte("PING\r\n"))
	expectLine(t, r, "+PONG\r\n")
	start := time.Now()
	expectEOF(t, r)
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", d)
	}
}

func TestProtocolErrorCloses(t *testing.T) {
	_, addr := start(t, defaultSettings())
	c, r := dial(t, addr)
	c.Write([]byte("PING\r\n*1\r\n$x\r\n"))
	expectLine(t, r, "+PONG\r\n")
	expectLine(t, r, "-ERR Protocol error: invalid bulk length\r\n")
	expectEOF(t, r)
}

func TestQueryBufferLimitCloses(t *testing.T) {
	st := defaultSettings()
	st.queryLimit = 64 << 10
	_, addr := start(t, st)
	c, r := dial(t, addr)
	// A bulk that is declared and being sent, bigger than the limit.
	c.Write([]byte("*2\r\n$3\r\nSET\r\n$1000000\r\n"))
	c.Write(make([]byte, 200<<10))
	expectEOF(t, r)
}

func TestPanicIsolated(t *testing.T) {
	_, addr := start(t, defaultSettings())
	c1, r1 := dial(t, addr)
	c2, r2 := dial(t, addr)
	c1.Write([]byte("PANIC\r\n"))
	expectLine(t, r1, "-ERR internal error\r\n")
	expectEOF(t, r1)
	c2.Write([]byte("PING\r\n"))
	expectLine(t, r2, "+PONG\r\n")
}

func TestShutdownFinishesInFlight(t *testing.T) {
	s, addr := start(t, defaultSettings())
	c, r := dial(t, addr)
	c.Write([]byte("SLOW\r\n"))
	time.Sleep(50 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	expectLine(t, r, "+DONE\r\n")
	expectEOF(t, r)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Fatal("still accepting after Shutdown")
	}
}

func TestSlowSubscriberDropped(t *testing.T) {
	st := defaultSettings()
	st.pubsubLimit = 256 << 10
	s := New(&echoHandler{}, st, nil)
	server, peer := net.Pipe()
	defer peer.Close()
	cl := s.newClient(server)
	// An async client whose writer is stuck: the peer never reads, so the
	// pending buffer only grows. Push must never block, and must drop the
	// client once it passes the pubsub limit.
	cl.StartAsync()
	cl.SetSubscriptions(1, 0, 0) // a subscriber: the pubsub class limit applies
	payload := make([]byte, 1024)
	dropped := false
	start := time.Now()
	for i := 0; i < 10000 && !dropped; i++ {
		dropped = !cl.Push(func(w *resp.Writer) { w.Bulk(payload) })
	}
	if !dropped {
		t.Fatal("slow subscriber was never dropped")
	}
	if time.Since(start) > time.Second {
		t.Fatal("Push blocked")
	}
	cl.outMu.Lock()
	close(cl.kick)
	cl.outMu.Unlock()
	<-cl.writerDone
}

// TestReplyBufferShrinks: a reply buffer grown for a large batch is kept
// while batches stay large, and given back after a run of small ones.
func TestReplyBufferShrinks(t *testing.T) {
	c := &Client{}
	big := make([]byte, 100*1024, 128*1024)
	b := c.shrinkReplyBuffer(big)
	if cap(b) != 128*1024 {
		t.Fatalf("a full large buffer was replaced (cap %d)", cap(b))
	}
	for i := 1; i < smallFlushesToShrink; i++ {
		if b = c.shrinkReplyBuffer(b[:100]); cap(b) != 128*1024 {
			t.Fatalf("replaced after %d small batches", i)
		}
	}
	if b = c.shrinkReplyBuffer(b[:100]); cap(b) > bigReplyBuffer {
		t.Fatalf("still %d bytes after %d small batches", cap(b), smallFlushesToShrink)
	}
}
