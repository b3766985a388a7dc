package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/runnel-io/runnel/internal/resp"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("server: closed")

// Handler runs commands. Serve is called on the client's goroutine with the
// command's arguments, which alias the read buffer and are valid only until
// Serve returns; it writes the reply to c.W. Closed is called once when the
// connection ends, after the last Serve. A panic in Serve is recovered,
// logged, answered with an error and the connection closed; the server
// assumes its effect was isolated to that client.
type Handler interface {
	Serve(c *Client, args [][]byte)
	Closed(c *Client)
}

// Output buffer classes (client-output-buffer-limit).
const (
	ClassNormal = iota
	ClassReplica
	ClassPubSub
)

// Settings are the configuration values the network layer reads. They may
// change at any time (CONFIG SET) and are read on every use.
type Settings interface {
	MaxClients() int
	IdleTimeout() time.Duration
	TCPKeepAlive() time.Duration
	ProtoMaxBulkLen() int64
	QueryBufferLimit() int64
	PasswordRequired() bool
	ProtectedMode() bool
	OutputBufferLimit(class int) (hard, soft int64, softSeconds int64)
}

// Server accepts connections and serves each on its own goroutine.
type Server struct {
	handler  Handler
	settings Settings
	log      *slog.Logger

	mu        sync.Mutex
	listeners []net.Listener
	clients   map[int64]*Client
	closed    bool
	wg        sync.WaitGroup

	nextID atomic.Int64

	// Statistics for INFO.
	TotalConnections atomic.Int64
	RejectedConns    atomic.Int64
	NetInputBytes    atomic.Int64
	NetOutputBytes   atomic.Int64

	// BeforeFlush, if set, is called before a batch of replies is sent
	// (the durability hook: it waits until the batch's writes are safe).
	// When it reports false the replies are dropped and the connection
	// closed: they must not be acknowledged.
	BeforeFlush func(c *Client) bool

	// isLocal decides whether a remote address is loopback (replaceable in
	// tests, which cannot connect from a real non-loopback address).
	isLocal func(net.Addr) bool

	pause pauseState
}

// New returns a Server that runs commands with h.
func New(h Handler, s Settings, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv := &Server{handler: h, settings: s, log: log, clients: make(map[int64]*Client), isLocal: isLoopback}
	srv.pause.cond = sync.NewCond(&srv.pause.mu)
	return srv
}

func (s *Server) logf(format string, args ...any) {
	s.log.Warn(fmt.Sprintf(format, args...))
}

// Serve accepts connections on l until Shutdown. It always returns a
// non-nil error; after Shutdown, ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	var delay time.Duration
	for {
		conn, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				delay = min(max(5*time.Millisecond, 2*delay), time.Second)
				s.log.Error("accept", "err", err, "retry_in", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		s.accept(conn)
	}
}

const protectedModeMsg = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."

func (s *Server) accept(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		if ka := s.settings.TCPKeepAlive(); ka > 0 {
			_ = tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: ka, Interval: ka / 3, Count: 3})
		}
	}
	if s.settings.ProtectedMode() && !s.settings.PasswordRequired() && !s.isLocal(conn.RemoteAddr()) {
		s.reject(conn, protectedModeMsg)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = conn.Close()
		return
	}
	if len(s.clients) >= s.settings.MaxClients() {
		s.mu.Unlock()
		s.reject(conn, "ERR max number of clients reached")
		return
	}
	c := s.newClient(conn)
	s.clients[c.ID] = c
	s.wg.Add(1)
	s.mu.Unlock()
	s.TotalConnections.Add(1)
	go s.serve(c)
}

func (s *Server) reject(conn net.Conn, msg string) {
	s.RejectedConns.Add(1)
	_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = conn.Write(resp.AppendError(nil, msg))
	_ = conn.Close()
}

func isLoopback(a net.Addr) bool {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	return false
}

func (s *Server) newClient(conn net.Conn) *Client {
	c := &Client{
		srv:     s,
		conn:    conn,
		rd:      resp.NewReader(conn),
		ID:      s.nextID.Add(1),
		created: time.Now(),
		addr:    conn.RemoteAddr().String(),
		laddr:   conn.LocalAddr().String(),
	}
	c.W.Proto = 2
	c.W.B = make([]byte, 0, 1024)
	c.Authenticated = !s.settings.PasswordRequired()
	c.publishStats()
	return c
}

// ServeConn serves an already accepted connection on the calling goroutine
// (tests use it with net.Pipe).
func (s *Server) ServeConn(conn net.Conn) {
	s.mu.Lock()
	c := s.newClient(conn)
	s.clients[c.ID] = c
	s.wg.Add(1)
	s.mu.Unlock()
	s.serve(c)
}

func (s *Server) serve(c *Client) {
	defer s.finish(c)
	for {
		args, err := c.rd.ReadCommand()
		if err == resp.ErrIncomplete {
			if !s.flush(c) || c.closing.Load() {
				return
			}
			c.rd.Shrink()
			if !s.fill(c) {
				return
			}
			continue
		}
		if err != nil {
			var pe *resp.ProtocolError
			if errors.As(err, &pe) {
				s.log.Debug("protocol error", "client", c.addr, "err", pe.Msg)
				if c.replyMode.Load()&(ReplyOff|ReplySkip) != 0 {
					// Redis closes the client once the error reply is
					// written; under CLIENT REPLY OFF/SKIP the reply is
					// dropped, so the connection stays open and its input
					// is ignored until the client goes away.
					if s.flush(c) {
						s.discardInput(c)
					}
					return
				}
				c.W.Error(pe.Msg)
			}
			s.flush(c)
			return
		}
		if len(args) == 0 {
			continue
		}
		if !s.run(c, args) {
			s.flush(c)
			return
		}
		if c.waiter != nil {
			// The command blocked: its reply comes when the wait ends.
			if !s.wait(c) {
				return
			}
			if !s.afterCommand(c, 0) {
				s.flush(c)
				return
			}
		}
		if c.closing.Load() {
			s.flush(c)
			return
		}
	}
}

// run serves one command, recovering a panic in the handler.
func (s *Server) run(c *Client, args [][]byte) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic serving command", "client", c.addr, "panic", r, "stack", string(debug.Stack()))
			c.W.Error("ERR internal error")
			ok = false
		}
	}()
	mark := len(c.W.B)
	c.publishStats()
	s.handler.Serve(c, args)
	if c.waiter != nil {
		return true // blocked: afterCommand runs when the wait ends
	}
	return s.afterCommand(c, mark)
}

// afterCommand applies CLIENT REPLY to what the command wrote from mark on,
// moves the reply of an async client to its pending output, and enforces the
// output buffer limit. It reports false if the client must be closed.
func (s *Server) afterCommand(c *Client, mark int) bool {
	if m := c.replyMode.Load(); m != 0 {
		// CLIENT REPLY, as Redis's prepareClientToWrite and resetClient:
		// a reply written while OFF or SKIP is set is dropped (a command
		// that changes the mode writes its reply after the change), then
		// SKIP ends and SKIP_NEXT becomes SKIP.
		if m&(ReplyOff|ReplySkip) != 0 && mark <= len(c.W.B) {
			c.W.B = c.W.B[:mark]
		}
		n := m &^ ReplySkip
		if n&ReplySkipNext != 0 {
			n = n&^ReplySkipNext | ReplySkip
		}
		c.replyMode.Store(n)
	}
	if c.async {
		// The writer goroutine may send pending output at any moment, so
		// the reply is made safe before it joins.
		if s.BeforeFlush != nil && !s.BeforeFlush(c) {
			c.W.B = c.W.B[:0]
			return false
		}
		c.outMu.Lock()
		c.pending = append(c.pending, c.W.B...)
		c.outMu.Unlock()
		c.W.B = c.W.B[:0]
	} else if hard, _, _ := s.settings.OutputBufferLimit(ClassNormal); hard > 0 && int64(len(c.W.B)) > hard {
		s.logf("client id=%d addr=%s closed for overcoming of output buffer limits", c.ID, c.addr)
		c.W.B = c.W.B[:0]
		return false
	}
	return true
}

// flush sends the batch's replies. It reports false if the connection broke.
func (s *Server) flush(c *Client) bool {
	if s.BeforeFlush != nil && !s.BeforeFlush(c) {
		c.W.B = c.W.B[:0]
		return false
	}
	if c.async {
		if len(c.W.B) > 0 {
			// Replies written outside run (a protocol error) join the
			// asynchronous output in order.
			c.outMu.Lock()
			c.pending = append(c.pending, c.W.B...)
			c.outMu.Unlock()
			c.W.B = c.W.B[:0]
		}
		select {
		case c.kick <- struct{}{}:
		default:
		}
		return !c.killed.Load()
	}
	if len(c.W.B) == 0 {
		return true
	}
	n, err := c.conn.Write(c.W.B)
	s.NetOutputBytes.Add(int64(n))
	c.W.B = c.shrinkReplyBuffer(c.W.B)
	return err == nil
}

// Reply buffer sizes: a buffer that grew past bigReplyBuffer for a large
// batch is given back only after smallFlushesToShrink batches in a row that
// used less than a quarter of it, so that a client whose batches vary
// around the limit does not allocate its buffer anew every time.
const (
	bigReplyBuffer       = 64 * 1024
	smallFlushesToShrink = 16
)

// shrinkReplyBuffer empties b after a flush, replacing it by a small one
// when it has stayed much larger than needed.
func (c *Client) shrinkReplyBuffer(b []byte) []byte {
	if cap(b) <= bigReplyBuffer {
		return b[:0]
	}
	if len(b) < cap(b)/4 {
		c.smallFlushes++
	} else {
		c.smallFlushes = 0
	}
	if c.smallFlushes < smallFlushesToShrink {
		return b[:0]
	}
	c.smallFlushes = 0
	return make([]byte, 0, 1024)
}

// discardInput reads and drops the client's input until the connection ends
// (or is killed, or idles past the timeout).
func (s *Server) discardInput(c *Client) {
	buf := make([]byte, 16*1024)
	for !c.killed.Load() {
		if t := s.settings.IdleTimeout(); t > 0 {
			_ = c.conn.SetReadDeadline(time.Now().Add(t))
		} else {
			_ = c.conn.SetReadDeadline(time.Time{})
		}
		n, err := c.conn.Read(buf)
		s.NetInputBytes.Add(int64(n))
		if err != nil {
			return
		}
	}
}

// fill reads more input, applying the idle timeout and the read limits.
func (s *Server) fill(c *Client) bool {
	c.rd.MaxBulk = s.settings.ProtoMaxBulkLen()
	c.rd.MaxQuery = s.settings.QueryBufferLimit()
	c.rd.NeedAuth = !c.Authenticated && s.settings.PasswordRequired()
	if t := s.settings.IdleTimeout(); t > 0 && !c.IsAsync() && !s.isPaused() {
		_ = c.conn.SetReadDeadline(time.Now().Add(t))
	} else {
		_ = c.conn.SetReadDeadline(time.Time{})
	}
	before := c.rd.Buffered()
	err := c.rd.Fill()
	s.NetInputBytes.Add(int64(c.rd.Buffered() - before))
	if err == nil {
		return true
	}
	if err == resp.ErrQueryBufferLimit {
		s.logf("closing client id=%d addr=%s that reached max query buffer length", c.ID, c.addr)
	}
	return false
}

func (s *Server) finish(c *Client) {
	if c.waiter != nil {
		// The command blocked, then its client failed (a panic or the
		// output limit) before waiting.
		c.waiter.Abort()
		c.endWait()
	}
	s.handler.Closed(c)
	c.outMu.Lock()
	if c.async {
		close(c.kick)
		c.async = false
	}
	c.outMu.Unlock()
	if c.writerDone != nil {
		<-c.writerDone
	}
	_ = c.conn.Close()
	s.mu.Lock()
	delete(s.clients, c.ID)
	s.mu.Unlock()
	s.wg.Done()
}

// Clients returns the connected clients ordered by id.
func (s *Server) Clients() []*Client {
	s.mu.Lock()
	list := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		list = append(list, c)
	}
	s.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return list
}

// NumClients is the number of connected clients.
func (s *Server) NumClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Shutdown stops accepting, waits for in-flight commands to finish (each
// connection is closed after its current command; a blocked client is closed
// without a reply), and returns when every connection goroutine has ended or
// ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for _, l := range s.listeners {
		_ = l.Close()
	}
	clients := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()
	s.Unpause()
	for _, c := range clients {
		// Closing the read side wakes a goroutine blocked in read; one in
		// the middle of a command finishes it and sends its reply first.
		c.closing.Store(true)
		if tc, ok := c.conn.(interface{ CloseRead() error }); ok {
			_ = tc.CloseRead()
		} else {
			_ = c.conn.SetReadDeadline(time.Now())
		}
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, c := range clients {
			c.Kill()
		}
		return ctx.Err()
	}
}

// Pid is the process id, for INFO.
func Pid() int { return os.Getpid() }
