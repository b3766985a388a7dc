package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// DefaultTimeout bounds every read and write of a Conn unless its Timeout
// field is changed: long enough for a loaded CI machine, short enough that a
// server that never answers fails the test instead of hanging it.
const DefaultTimeout = 5 * time.Second

// Conn is a raw RESP client. It sends commands as multibulk and returns
// replies as the exact bytes the server wrote, one complete reply at a time,
// so that tests can compare servers byte for byte. It knows nothing about
// commands: pub/sub, MULTI and RESP3 pushes are just replies to read.
//
// Any I/O or protocol failure calls tb.Fatalf, so a Conn must be used only
// from the goroutine running the test.
type Conn struct {
	// Timeout is the deadline for each reply and each write.
	Timeout time.Duration

	tb      testing.TB
	name    string // used in failure messages
	nc      net.Conn
	r       *bufio.Reader
	lastCmd string // last thing sent, for failure messages
	closed  bool
}

// Dial connects to addr and closes the connection when the test ends.
func Dial(tb testing.TB, addr string) *Conn {
	tb.Helper()
	nc, err := net.DialTimeout("tcp", addr, DefaultTimeout)
	if err != nil {
		tb.Fatalf("redistest: dial %s: %v", addr, err)
	}
	c := NewConn(tb, nc)
	c.name = addr
	return c
}

// NewConn wraps an existing connection (for example one end of a net.Pipe)
// and closes it when the test ends.
func NewConn(tb testing.TB, nc net.Conn) *Conn {
	c := &Conn{
		Timeout: DefaultTimeout,
		tb:      tb,
		name:    nc.RemoteAddr().String(),
		lastCmd: "(nothing sent)",
		nc:      nc,
		r:       bufio.NewReader(nc),
	}
	tb.Cleanup(c.Close)
	return c
}

// Do sends one command and returns the raw bytes of its reply.
func (c *Conn) Do(args ...string) []byte {
	c.tb.Helper()
	c.send(Command(args...), FormatCommand(args))
	return c.ReadReply()
}

// DoValue is Do followed by Parse.
func (c *Conn) DoValue(args ...string) Value {
	c.tb.Helper()
	c.send(Command(args...), FormatCommand(args))
	_, v := c.readReply(c.Timeout)
	return v
}

// WriteRaw sends b unchanged: inline commands, pipelines, or deliberately
// malformed input for protocol error tests.
func (c *Conn) WriteRaw(b []byte) {
	c.tb.Helper()
	c.send(b, "raw "+strconv.Quote(string(clip(b))))
}

func (c *Conn) send(b []byte, desc string) {
	c.tb.Helper()
	c.lastCmd = desc
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.Timeout)); err != nil {
		c.tb.Fatalf("redistest: %s: set write deadline: %v", c.name, err)
	}
	if _, err := c.nc.Write(b); err != nil {
		c.tb.Fatalf("redistest: %s: sending %s: %v", c.name, desc, err)
	}
}

// ReadReply reads one more complete reply, for example a pub/sub message or
// the second reply of a pipeline.
func (c *Conn) ReadReply() []byte {
	c.tb.Helper()
	raw, _ := c.readReply(c.Timeout)
	return raw
}

// ReadReplyTimeout waits up to d for a reply to start. It returns (nil,
// false) if nothing arrived, which is how tests assert that a server stays
// silent (for example that an unsubscribed channel delivers nothing). Once a
// reply has started, the rest of it gets the usual Timeout.
func (c *Conn) ReadReplyTimeout(d time.Duration) ([]byte, bool) {
	c.tb.Helper()
	c.setReadDeadline(d)
	// Peek consumes nothing, so a timeout here leaves the stream in sync.
	if _, err := c.r.Peek(1); err != nil {
		if isTimeout(err) {
			return nil, false
		}
		c.tb.Fatalf("redistest: %s: waiting for a reply after %s: %v", c.name, c.lastCmd, err)
	}
	raw, _ := c.readReply(c.Timeout)
	return raw, true
}

// readReply reads one reply, failing the test on any error.
func (c *Conn) readReply(timeout time.Duration) ([]byte, Value) {
	c.tb.Helper()
	raw, v, err := c.read(timeout)
	if err != nil {
		c.tb.Fatalf("redistest: %s: reading reply to %s: %v\nbytes read: %s", c.name, c.lastCmd, err, strconv.Quote(string(clip(raw))))
	}
	return raw, v
}

func (c *Conn) read(timeout time.Duration) ([]byte, Value, error) {
	c.setReadDeadline(timeout)
	d := decoder{r: c.r}
	v, err := d.value(0)
	if errors.Is(err, io.EOF) {
		err = errors.New("connection closed by server (EOF)")
	}
	return d.raw, v, err
}

// ExpectClosed fails the test unless the server closes the connection
// without sending anything more, within Timeout.
func (c *Conn) ExpectClosed() {
	c.tb.Helper()
	if err := c.waitClosed(c.Timeout); err != nil {
		c.tb.Fatalf("redistest: %s: after %s: %v", c.name, c.lastCmd, err)
	}
}

func (c *Conn) waitClosed(d time.Duration) error {
	c.setReadDeadline(d)
	_, err := c.r.Peek(1)
	switch {
	case err == nil:
		more, _ := c.r.Peek(c.r.Buffered())
		return fmt.Errorf("expected the connection to be closed, got more data: %s", strconv.Quote(string(clip(more))))
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed):
		return nil
	case isTimeout(err):
		return fmt.Errorf("expected the connection to be closed, still open after %v", d)
	default:
		return err
	}
}

// setReadDeadline ignores errors: they only mean the connection is closed
// (net.Pipe refuses deadlines once either end is closed), and then the read
// that follows fails at once instead of blocking.
func (c *Conn) setReadDeadline(d time.Duration) {
	c.nc.SetReadDeadline(time.Now().Add(d))
}

// Close closes the connection; it is safe to call more than once.
func (c *Conn) Close() {
	if !c.closed {
		c.closed = true
		c.nc.Close()
	}
}

// NetConn returns the underlying connection, e.g. to half-close it.
func (c *Conn) NetConn() net.Conn { return c.nc }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// FormatCommand renders a command for messages: each argument quoted only
// when it needs to be, like redis-cli's MONITOR output.
func FormatCommand(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \"'\\") || strconv.Quote(a) != `"`+a+`"` {
			parts[i] = strconv.Quote(a)
		} else {
			parts[i] = a
		}
	}
	return strings.Join(parts, " ")
}
