package server

import (
	"errors"
	"net"
	"os"
	"time"

	"github.com/runnel-io/runnel/internal/resp"
)

// Blocked clients (XREAD BLOCK and friends).
//
// A handler parks its client with Client.Block during Serve. When Serve
// returns, the client's goroutine sends the replies of the commands that
// came before (a pipeline keeps flowing up to the blocking command), calls
// Waiter.Park, and then waits in a read of the socket: the read deadline is
// the block deadline, and Wake, from any goroutine, moves the deadline to
// now. So a blocked client costs a parked goroutine in the netpoller and no
// timer goroutine; its further input is buffered, not run (as Redis keeps a
// blocked client's query buffer, with the same limit), and a disconnect is
// seen at once. The idle timeout does not apply while blocked.
//
// Who writes the final reply is the command layer's business (Waiter): a
// writer that serves the client, the timeout, CLIENT UNBLOCK. Whoever does
// writes it into the client's W and then calls Wake; the client's goroutine
// sends it and goes on with the buffered input.

// Waiter is the command layer's side of a blocked client. Park, Timeout and
// Abort are called on the client's goroutine, Unblock on any goroutine.
type Waiter interface {
	// Park is called once the client's goroutine has sent the replies that
	// preceded the blocking command and no longer touches W or Session:
	// from then on another goroutine may write the final reply into W and
	// call Wake.
	Park()
	// Timeout is called once, when the deadline has passed. The waiter
	// writes the timeout reply and calls Wake, at once or, if another
	// goroutine is serving it, when that one is done.
	Timeout()
	// Unblock ends the wait as CLIENT UNBLOCK does: with the timeout
	// reply, or with an error reply when withError is set. It reports
	// whether the client was blocked.
	Unblock(withError bool) bool
	// Resume is called once the wait is over (Wake was called), before
	// the reply is sent, so the waiter can clean up on the client's
	// goroutine, which holds no lock.
	Resume()
	// Abort is called instead of Resume when the connection ends while the
	// client waits (disconnect, CLIENT KILL, Shutdown, query buffer limit):
	// the waiter is forgotten without a reply. It returns once no other
	// goroutine touches the client's W or Session.
	Abort()
}

// Rechecker is implemented by waiters whose command must also run again at
// a time of its choosing, without a signal (XREADGROUP ... CLAIM waits for
// a pending entry to become idle enough): the client's goroutine calls
// Recheck when the time set with SetRecheck has come, before the deadline.
type Rechecker interface {
	Recheck()
}

// SetRecheck sets when the waiter's Recheck runs (the zero time: never).
// The client's goroutine uses it as its read deadline when it comes before
// the block deadline. Call it while the command blocks, from the goroutine
// that runs it. Safe for concurrent use.
func (c *Client) SetRecheck(at time.Time) {
	if at.IsZero() {
		c.recheck.Store(0)
		return
	}
	if old := c.recheck.Swap(at.UnixMilli()); old == 0 || at.UnixMilli() < old {
		// A waiting goroutine may sleep on a later deadline: make it
		// recompute its deadline (a spurious timeout changes nothing).
		_ = c.conn.SetReadDeadline(time.Now())
	}
}

// Block parks the client when the running command returns, until Wake is
// called or deadline passes (the zero time waits forever). Call it from
// Serve, at most once per command.
func (c *Client) Block(deadline time.Time, w Waiter) {
	if c.wakeCh == nil {
		c.wakeCh = make(chan struct{}, 1)
	}
	c.deadline = deadline
	c.woken.Store(false)
	c.waitMu.Lock()
	c.waiter = w
	c.waitMu.Unlock()
}

// Wake ends the wait of a blocked client whose final reply has been written
// into W. It must be called once per Block, after Park, by whoever wrote
// the reply; the write happens before the client's goroutine reads W. Safe
// for concurrent use.
func (c *Client) Wake() {
	c.woken.Store(true)
	// The client's goroutine sets its deadline, then checks woken: either
	// it sees woken, or this deadline comes after its own and the read
	// returns at once.
	_ = c.conn.SetReadDeadline(time.Now())
	// The token tells the client's goroutine that this call no longer
	// touches the connection, so that the deadline above cannot cut short
	// a read made after the wait.
	select {
	case c.wakeCh <- struct{}{}:
	default:
	}
}

// Unblock ends the wait of a blocked client (CLIENT UNBLOCK) and reports
// whether it was blocked. Safe for concurrent use.
func (c *Client) Unblock(withError bool) bool {
	c.waitMu.Lock()
	w := c.waiter
	c.waitMu.Unlock()
	return w != nil && w.Unblock(withError)
}

// IsBlocked reports whether the client is in a blocking command (CLIENT
// LIST flag b). Safe for concurrent use.
func (c *Client) IsBlocked() bool {
	c.waitMu.Lock()
	defer c.waitMu.Unlock()
	return c.waiter != nil
}

// wait runs the wait of a client whose command called Block. It reports
// true when the final reply is in W, false when the connection ended (the
// waiter is then aborted).
func (s *Server) wait(c *Client) bool {
	w := c.waiter
	ok := s.flush(c)
	if ok {
		w.Park()
	}
	deadline := c.deadline
	rechecker, _ := w.(Rechecker)
	for ok {
		wait := deadline
		recheck := c.recheck.Load()
		if recheck != 0 && rechecker != nil {
			if at := time.UnixMilli(recheck); wait.IsZero() || at.Before(wait) {
				wait = at
			}
		}
		_ = c.conn.SetReadDeadline(wait)
		if c.woken.Load() {
			break
		}
		if c.closing.Load() {
			ok = false // Shutdown or Kill
			break
		}
		c.rd.MaxQuery = s.settings.QueryBufferLimit()
		before := c.rd.Buffered()
		err := c.rd.Fill()
		s.NetInputBytes.Add(int64(c.rd.Buffered() - before))
		switch {
		case err == nil:
			// Input for later: kept, not run.
		case isTimeout(err):
			now := time.Now()
			if !deadline.IsZero() && !c.woken.Load() && !now.Before(deadline) {
				deadline = time.Time{} // from now on only Wake ends the wait
				w.Timeout()
			} else if recheck != 0 && rechecker != nil && !c.woken.Load() && !now.Before(time.UnixMilli(recheck)) {
				// Run once per time set: the command sets the next one
				// if it blocks again.
				c.recheck.CompareAndSwap(recheck, 0)
				rechecker.Recheck()
			}
		default:
			if err == resp.ErrQueryBufferLimit {
				s.logf("closing client id=%d addr=%s that reached max query buffer length", c.ID, c.addr)
			}
			ok = false
		}
	}
	if ok {
		<-c.wakeCh
		w.Resume()
	} else {
		w.Abort()
	}
	c.endWait()
	return ok
}

// endWait forgets the waiter; the client's goroutine owns W again.
func (c *Client) endWait() {
	c.waitMu.Lock()
	c.waiter = nil
	c.waitMu.Unlock()
	c.woken.Store(false)
	c.deadline = time.Time{}
	c.recheck.Store(0)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
