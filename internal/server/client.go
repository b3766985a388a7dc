package server

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runnel-io/runnel/internal/resp"
)

// Client is one connection. Its exported fields and most methods belong to
// the goroutine serving it (the Handler runs on that goroutine); the methods
// documented as safe for concurrent use may be called from any goroutine.
type Client struct {
	// smallFlushes counts the batches in a row that used little of an
	// oversized reply buffer (shrinkReplyBuffer); the connection's
	// goroutine owns it.
	smallFlushes int

	srv  *Server
	conn net.Conn
	rd   *resp.Reader

	// ID is the unique, increasing client id (CLIENT ID).
	ID int64
	// W receives the replies of the command being served. Its Proto is the
	// protocol the client speaks (2, or 3 after HELLO 3).
	W resp.Writer
	// Authenticated is false until AUTH or HELLO AUTH succeeds while a
	// password is required.
	Authenticated bool
	// Session holds the command layer's per-connection state.
	Session any

	created   time.Time
	addr      string
	laddr     string
	lastSeen  atomic.Int64           // unix nanos of the last command
	lastCmd   atomic.Pointer[string] // name of the last command, for CLIENT LIST
	db        atomic.Int32
	closing   atomic.Bool   // set by Kill or CloseAfterReply
	killed    atomic.Bool   // closed from outside: stop at once
	replyMode atomic.Int32  // Reply* flags
	infoFlags atomic.Uint32 // Flag* bits shown by CLIENT LIST

	// Buffer sizes and protocol for CLIENT LIST, published by the client's
	// goroutine (publishStats) so that other clients can read them.
	statQbuf, statRbuf, statObuf atomic.Int64
	statProto                    atomic.Int32

	// Blocking (block.go). waiter is set from Block until the wait ends;
	// other goroutines read it under waitMu. deadline belongs to the
	// client's goroutine. Wake sets woken, then hands a token over wakeCh
	// once it has finished touching the connection.
	waitMu   sync.Mutex
	waiter   Waiter
	deadline time.Time
	woken    atomic.Bool
	wakeCh   chan struct{}
	// recheck is when a Rechecker waiter wants its command re-run without
	// a signal (unix ms, 0 for never); SetRecheck sets it from any
	// goroutine.
	recheck atomic.Int64

	info sync.Mutex // guards the fields below, read by CLIENT LIST/INFO
	name string
	lib  [2]string // lib-name, lib-ver
	flag string    // extra CLIENT LIST flags (set by the command layer)
	subs [3]int    // channels, patterns, shard channels

	// Asynchronous output: pushes from other goroutines (pub/sub, MONITOR).
	// Once a client is async, every byte it sends goes through pending and
	// its writer goroutine, so replies and pushes never interleave.
	outMu      sync.Mutex
	async      bool
	pending    []byte
	inflight   int64 // bytes the writer took from pending and is sending
	kick       chan struct{}
	softSince  time.Time // when the pending buffer first passed the soft limit
	writerDone chan struct{}
}

// Reply mode flags (CLIENT REPLY), Redis's CLIENT_REPLY_OFF,
// CLIENT_REPLY_SKIP and CLIENT_REPLY_SKIP_NEXT. What a command writes while
// ReplyOff or ReplySkip is set when it ends is dropped; after every command
// ReplySkip is cleared and ReplySkipNext turns into ReplySkip.
const (
	ReplyOff      = 1 << iota // CLIENT REPLY OFF
	ReplySkip                 // drop the reply of the current command
	ReplySkipNext             // CLIENT REPLY SKIP: drop the next command's reply
)

// Flags shown in CLIENT LIST that the command layer sets (SetInfoFlag).
const (
	FlagMonitor uint32 = 1 << iota // O: a MONITOR client
	FlagNoEvict                    // e: CLIENT NO-EVICT ON
	FlagNoTouch                    // T: CLIENT NO-TOUCH ON (Redis 7.2)
)

// DB is the selected database.
func (c *Client) DB() int { return int(c.db.Load()) }

// SetDB selects a database.
func (c *Client) SetDB(db int) { c.db.Store(int32(db)) }

// Name is the client's name (CLIENT SETNAME).
func (c *Client) Name() string {
	c.info.Lock()
	defer c.info.Unlock()
	return c.name
}

// SetName sets the client's name.
func (c *Client) SetName(n string) {
	c.info.Lock()
	c.name = n
	c.info.Unlock()
}

// SetLib records CLIENT SETINFO LIB-NAME (i=0) or LIB-VER (i=1).
func (c *Client) SetLib(i int, v string) {
	c.info.Lock()
	c.lib[i] = v
	c.info.Unlock()
}

// SetFlags records extra flag letters for CLIENT LIST (e.g. "x" in MULTI).
func (c *Client) SetFlags(f string) {
	c.info.Lock()
	c.flag = f
	c.info.Unlock()
}

// SetSubscriptions records subscription counts for CLIENT LIST.
func (c *Client) SetSubscriptions(channels, patterns, shard int) {
	c.info.Lock()
	c.subs = [3]int{channels, patterns, shard}
	c.info.Unlock()
}

// SetLastCommand records the name of the command being run; name must be a
// long-lived string (the command table's).
func (c *Client) SetLastCommand(name *string, now time.Time) {
	c.lastCmd.Store(name)
	c.lastSeen.Store(now.UnixNano())
}

// Addr is the client's remote address.
func (c *Client) Addr() string { return c.addr }

// LocalAddr is the server address the client connected to.
func (c *Client) LocalAddr() string { return c.laddr }

// Server is the server the client belongs to.
func (c *Client) Server() *Server { return c.srv }

// ReplyMode is the CLIENT REPLY state: Reply* flags.
func (c *Client) ReplyMode() int { return int(c.replyMode.Load()) }

// SetReplyMode sets the CLIENT REPLY state.
func (c *Client) SetReplyMode(m int) { c.replyMode.Store(int32(m)) }

// SetProto switches the protocol of the client's replies and pushes (HELLO,
// RESET). Call it from the client's goroutine.
func (c *Client) SetProto(p int) {
	c.outMu.Lock()
	c.W.Proto = p
	c.outMu.Unlock()
	c.statProto.Store(int32(p))
}

// publishStats records the sizes CLIENT LIST shows. It runs on the client's
// goroutine before each command.
func (c *Client) publishStats() {
	c.statQbuf.Store(int64(c.rd.Buffered()))
	c.statRbuf.Store(int64(c.rd.BufferCap()))
	c.statObuf.Store(int64(cap(c.W.B)))
	c.statProto.Store(int32(c.W.Proto))
}

// SetInfoFlag sets or clears one of the Flag* bits. Safe for concurrent use.
func (c *Client) SetInfoFlag(f uint32, on bool) {
	for {
		old := c.infoFlags.Load()
		n := old &^ f
		if on {
			n |= f
		}
		if c.infoFlags.CompareAndSwap(old, n) {
			return
		}
	}
}

// HasInfoFlag reports whether a Flag* bit is set. Safe for concurrent use.
func (c *Client) HasInfoFlag(f uint32) bool { return c.infoFlags.Load()&f != 0 }

// IsPubSub reports whether the client has subscriptions (CLIENT LIST flag P,
// client type "pubsub"). Safe for concurrent use.
func (c *Client) IsPubSub() bool {
	c.info.Lock()
	defer c.info.Unlock()
	return c.subs[0]+c.subs[1]+c.subs[2] > 0
}

// CloseAfterReply makes the server close the connection once the replies
// written so far are sent (QUIT, protocol errors, CLIENT KILL of itself).
func (c *Client) CloseAfterReply() { c.closing.Store(true) }

// Kill closes the connection from another goroutine. The client leaves the
// server's client list at once, as a freed client does in Redis; its
// goroutine ends soon after. Safe for concurrent use.
func (c *Client) Kill() {
	if c.killed.CompareAndSwap(false, true) {
		c.closing.Store(true)
		_ = c.conn.Close()
		c.srv.mu.Lock()
		delete(c.srv.clients, c.ID)
		c.srv.mu.Unlock()
	}
}

// IsAsync reports whether the client's output goes through its writer
// goroutine (it has subscribed or is a monitor).
func (c *Client) IsAsync() bool {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	return c.async
}

// StartAsync switches the client to asynchronous output. Replies already in
// W are queued first, so order is kept; on a client that is already async it
// only does that. Call it from the client's goroutine before pushing.
func (c *Client) StartAsync() {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	c.pending = append(c.pending, c.W.B...)
	c.W.B = c.W.B[:0]
	if c.async {
		// Already async: what the command wrote so far still goes before
		// the pushes that follow (SUBSCRIBE after PING in one EXEC).
		return
	}
	c.async = true
	c.kick = make(chan struct{}, 1)
	c.writerDone = make(chan struct{})
	go c.writeLoop()
}

// Push appends a message built by fn to the client's asynchronous output
// and wakes its writer. fn gets a Writer with the client's protocol. Safe for
// concurrent use; the client must be async. It reports false when the client
// was dropped for exceeding its output buffer limit.
func (c *Client) Push(fn func(w *resp.Writer)) bool {
	c.outMu.Lock()
	if !c.async || c.killed.Load() {
		c.outMu.Unlock()
		return false
	}
	w := resp.Writer{B: c.pending, Proto: c.W.Proto}
	fn(&w)
	c.pending = w.B
	over := c.overLimitLocked(c.outputClass())
	c.outMu.Unlock()
	if over {
		c.srv.logf("client id=%d addr=%s closed for overcoming of output buffer limits", c.ID, c.addr)
		c.Kill()
		return false
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
	return true
}

// Proto is the client's protocol version; safe for concurrent use only
// through Push (which passes it to fn).
func (c *Client) Proto() int { return c.W.Proto }

// outputClass is the client-output-buffer-limit class of an async client:
// pubsub while it has subscriptions, otherwise normal (a MONITOR client is
// a normal client in Redis).
func (c *Client) outputClass() int {
	if c.IsPubSub() {
		return ClassPubSub
	}
	return ClassNormal
}

// overLimitLocked is Redis's checkClientOutputBufferLimits: the output not
// yet sent (queued, and being written) has reached the hard limit, or has
// stayed at or above the soft limit for longer than its seconds.
func (c *Client) overLimitLocked(class int) bool {
	hard, soft, secs := c.srv.settings.OutputBufferLimit(class)
	n := int64(len(c.pending)) + c.inflight
	if hard > 0 && n >= hard {
		return true
	}
	if soft > 0 && n >= soft {
		if c.softSince.IsZero() {
			c.softSince = time.Now()
		} else if time.Since(c.softSince) > time.Duration(secs)*time.Second {
			return true
		}
	} else {
		c.softSince = time.Time{}
	}
	return false
}

// writeLoop sends the pending output of an async client.
func (c *Client) writeLoop() {
	defer close(c.writerDone)
	var buf []byte
	for range c.kick {
		c.outMu.Lock()
		buf, c.pending = c.pending, buf[:0]
		c.inflight = int64(len(buf))
		c.outMu.Unlock()
		if len(buf) == 0 {
			continue
		}
		n, err := c.conn.Write(buf)
		c.srv.NetOutputBytes.Add(int64(n))
		c.outMu.Lock()
		c.inflight = 0
		c.outMu.Unlock()
		if err != nil {
			c.Kill()
			return
		}
		if cap(buf) > 64*1024 {
			buf = nil
		}
	}
}

// Info formats the client as one line of CLIENT LIST / CLIENT INFO.
func (c *Client) Info(now time.Time) string {
	c.info.Lock()
	name, lib, flag, subs := c.name, c.lib, c.flag, c.subs
	c.info.Unlock()
	cmd := "NULL"
	if p := c.lastCmd.Load(); p != nil {
		cmd = *p
	}
	// Flag letters in the order of Redis's getClientInfoString.
	bits := c.infoFlags.Load()
	var fb [16]byte
	f := fb[:0]
	if bits&FlagMonitor != 0 {
		f = append(f, 'O')
	}
	if subs[0]+subs[1]+subs[2] > 0 {
		f = append(f, 'P')
	}
	f = append(f, flag...)
	if c.IsBlocked() {
		f = append(f, 'b')
	}
	if bits&FlagNoEvict != 0 {
		f = append(f, 'e')
	}
	if bits&FlagNoTouch != 0 {
		f = append(f, 'T')
	}
	if len(f) == 0 {
		f = append(f, 'N')
	}
	flags := string(f)
	multi := -1
	if strings.Contains(flag, "x") {
		multi = 0
	}
	age := int64(now.Sub(c.created) / time.Second)
	idle := int64(0)
	if ls := c.lastSeen.Load(); ls != 0 {
		idle = (now.UnixNano() - ls) / int64(time.Second)
	} else {
		idle = age
	}
	qbuf, rbuf := c.statQbuf.Load(), c.statRbuf.Load()
	var b strings.Builder
	b.Grow(256)
	field := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	field("id", itoa(c.ID))
	field("addr", c.addr)
	field("laddr", c.laddr)
	field("fd", itoa(c.ID+7))
	field("name", name)
	field("age", itoa(age))
	field("idle", itoa(idle))
	field("flags", flags)
	field("db", itoa(int64(c.DB())))
	field("sub", itoa(int64(subs[0])))
	field("psub", itoa(int64(subs[1])))
	field("ssub", itoa(int64(subs[2])))
	field("multi", itoa(int64(multi)))
	field("qbuf", itoa(int64(qbuf)))
	field("qbuf-free", itoa(rbuf-qbuf))
	field("argv-mem", "0")
	field("multi-mem", "0")
	field("rbs", itoa(rbuf))
	field("rbp", itoa(rbuf))
	field("obl", "0")
	field("oll", "0")
	field("omem", "0")
	field("tot-mem", itoa(rbuf+c.statObuf.Load()))
	field("events", "r")
	field("cmd", cmd)
	field("user", "default")
	field("redir", "-1")
	field("resp", itoa(int64(c.statProto.Load())))
	field("lib-name", lib[0])
	field("lib-ver", lib[1])
	return b.String()
}
