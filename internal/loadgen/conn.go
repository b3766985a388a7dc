package loadgen

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/runnel-io/runnel/internal/resp"
)

// Conn is a pipelined RESP2 client connection: commands are appended to a
// buffer with Cmd and the Arg methods and sent together by Flush; replies
// are read, in order, from R. A Conn belongs to one goroutine.
type Conn struct {
	nc  net.Conn
	R   *Reader
	buf []byte // commands appended since the last Flush
}

// Dial connects to addr (host:port).
func Dial(ctx context.Context, addr string) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	return &Conn{nc: nc, R: NewReader(nc), buf: make([]byte, 0, 4096)}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// SetDeadline sets the read and write deadline of the connection.
func (c *Conn) SetDeadline(t time.Time) error { return c.nc.SetDeadline(t) }

// Cmd starts a command of argc arguments (the name included).
func (c *Conn) Cmd(argc int) { c.buf = resp.AppendArray(c.buf, argc) }

// Arg appends one argument.
func (c *Conn) Arg(b []byte) { c.buf = resp.AppendBulk(c.buf, b) }

// ArgString appends one argument.
func (c *Conn) ArgString(s string) { c.buf = resp.AppendBulkString(c.buf, s) }

// ArgInt appends an integer argument in decimal.
func (c *Conn) ArgInt(n int64) {
	var a [20]byte
	c.buf = resp.AppendBulk(c.buf, strconv.AppendInt(a[:0], n, 10))
}

// ArgID appends an entry ID argument.
func (c *Conn) ArgID(id ID) {
	var a [41]byte
	c.buf = resp.AppendBulk(c.buf, AppendID(a[:0], id))
}

// Raw appends pre-encoded commands.
func (c *Conn) Raw(b []byte) { c.buf = append(c.buf, b...) }

// Flush sends everything appended since the last Flush in one write.
func (c *Conn) Flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.nc.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}

// Write sends b at once, bypassing the buffer.
func (c *Conn) Write(b []byte) error {
	_, err := c.nc.Write(b)
	return err
}

// Do sends one command and reads its reply, returning an error reply as
// *Error. It is for setup and checks, not the hot path (it allocates).
func (c *Conn) Do(args ...string) error {
	c.Cmd(len(args))
	for _, a := range args {
		c.ArgString(a)
	}
	if err := c.Flush(); err != nil {
		return err
	}
	if err := c.R.Skip(); err != nil {
		return fmt.Errorf("loadgen: %s: %w", args[0], err)
	}
	return nil
}

// DoInt is Do for a command with an integer reply.
func (c *Conn) DoInt(args ...string) (int64, error) {
	c.Cmd(len(args))
	for _, a := range args {
		c.ArgString(a)
	}
	if err := c.Flush(); err != nil {
		return 0, err
	}
	n, err := c.R.ReadInt()
	if err != nil {
		return 0, fmt.Errorf("loadgen: %s: %w", args[0], err)
	}
	return n, nil
}

// PendingCount returns the number of entries pending in group (the first
// element of XPENDING's summary form).
func (c *Conn) PendingCount(key, group string) (int64, error) {
	c.Cmd(3)
	c.ArgString("XPENDING")
	c.ArgString(key)
	c.ArgString(group)
	if err := c.Flush(); err != nil {
		return 0, err
	}
	return c.readPendingSummary()
}

// dialAll opens n connections and arranges for them to be closed when ctx
// is cancelled; the returned function closes them and stops that.
func dialAll(ctx context.Context, addr string, n int) ([]*Conn, func(), error) {
	conns := make([]*Conn, 0, n)
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
	}
	for range n {
		c, err := Dial(ctx, addr)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		conns = append(conns, c)
	}
	stop := context.AfterFunc(ctx, closeAll)
	return conns, func() { stop(); closeAll() }, nil
}

// dialOne is dialAll of one connection.
func dialOne(ctx context.Context, addr string) (*Conn, func(), error) {
	conns, release, err := dialAll(ctx, addr, 1)
	if err != nil {
		return nil, nil, err
	}
	return conns[0], release, nil
}
