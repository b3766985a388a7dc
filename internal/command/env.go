package command

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runnel-io/runnel/internal/config"
	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/pubsub"
	"github.com/runnel-io/runnel/internal/server"
	"github.com/runnel-io/runnel/internal/stream"
)

// Versions reported to clients. RedisVersion is the Redis release whose
// command surface Runnel implements (HELLO, INFO redis_version); clients
// gate features on it, so it must not claim more than is implemented.
const (
	RedisVersion  = "8.10.0"
	RunnelVersion = "0.1.0"
)

// Env is the server-wide state the commands share.
type Env struct {
	KS      *engine.Keyspace
	Srv     *server.Server
	Cfg     *config.Config
	PubSub  *pubsub.Registry
	Log     *slog.Logger
	Stats   Stats
	Slowlog Slowlog

	StartTime  time.Time
	RunID      string
	ConfigFile string // path given at start, for CONFIG REWRITE; "" if none

	// Password returns requirepass ("" when no password is required). It
	// is wired to the configuration by internal/app.
	Password func() string

	// Shutdown is called by SHUTDOWN; it stops the server (after saving
	// when save is true) and returns an error if that failed.
	Shutdown func(save bool) error

	table *Table

	// monitors is copied on write so that feeding it, on every command,
	// is one atomic load; monMu serializes the writers.
	monMu    sync.Mutex
	monitors atomic.Pointer[[]*server.Client]

	LastSave atomic.Int64 // unix seconds of the last successful save

	// Port is the TCP port the server listens on (INFO server).
	Port int
	// BlockedClients counts the clients parked in blocking commands (INFO
	// blocked_clients), timeoutClients those of them with a deadline
	// (clients_in_timeout_table). The keys they wait on are counted by
	// the keyspace (engine.Keyspace.BlockingKeys).
	BlockedClients atomic.Int64
	timeoutClients atomic.Int64

	// Journal, when set, logs every command that changes the keyspace and
	// tells when a record is durable (journal.go); nil runs in memory.
	Journal Journal
	// Checkpointer, when set, serves SAVE, BGSAVE and the shutdown save.
	Checkpointer Checkpointer
	// Persistence, when set, reports the store's state for INFO.
	Persistence func() PersistenceInfo
	// Pager, when set, keeps stream nodes outside memory (paging.go);
	// SparseNodes names the node-log segments worth compacting (the
	// PageRef.A of their nodes).
	Pager       stream.Pager
	SparseNodes func() map[uint64]bool
	nodes       nodeMeter
	expireBuf   []byte // active expiry's log record, one goroutine

	loading loadState // loading.go
}

// NewTable builds the command table over env.
func NewTable(env *Env) *Table {
	t := newTable()
	t.env = env
	env.table = t
	if env.RunID == "" {
		var b [20]byte
		_, _ = rand.Read(b[:])
		env.RunID = hex.EncodeToString(b[:])
	}
	if env.StartTime.IsZero() {
		env.StartTime = time.Now()
	}
	if env.LastSave.Load() == 0 {
		env.LastSave.Store(env.StartTime.Unix())
	}
	for _, register := range registrations {
		register(t)
	}
	if env.KS != nil {
		env.KS.OnReady(t.serveExpired)
		env.KS.OnExpire(t.logExpired)
	}
	return t
}

// registrations are the command groups; each cmd_*.go file adds its own
// from an init function.
var registrations []func(*Table)

// Notify raises a keyspace event (it implements engine.Notifier).
func (e *Env) Notify(class engine.Event, event string, db int, key []byte) {
	if e.PubSub != nil {
		e.PubSub.NotifyKeyspace(class, event, db, key)
	}
}

func formatMsg(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// feedMonitors sends a command to every MONITOR client, as Redis does
// after running it.
func (e *Env) feedMonitors(x *Ctx, args [][]byte, start time.Time) {
	p := e.monitors.Load()
	if p == nil {
		return
	}
	mons := *p
	// As Redis's call(): administrative commands are not shown.
	if len(mons) == 0 || x.Cmd != nil && x.Cmd.Flags&Admin != 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d.%06d [%d %s]", start.Unix(), start.Nanosecond()/1000, x.DB, x.C.Addr())
	for _, a := range args {
		b.WriteString(" \"")
		writeRepr(&b, a)
		b.WriteByte('"')
	}
	line := b.String()
	for _, m := range mons {
		if m == x.C && !x.inExec {
			// A monitor's own command: after its reply, as in Redis.
			x.W.Simple(line)
			continue
		}
		m.Push(func(w *respWriter) { w.Simple(line) })
	}
}

// writeRepr escapes a value as Redis's sdscatrepr does.
func writeRepr(b *strings.Builder, s []byte) {
	for _, c := range s {
		switch c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString("\\n")
		case '\r':
			b.WriteString("\\r")
		case '\t':
			b.WriteString("\\t")
		case '\a':
			b.WriteString("\\a")
		case '\b':
			b.WriteString("\\b")
		default:
			if c >= 32 && c < 127 {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(b, "\\x%02x", c)
			}
		}
	}
}

func (e *Env) addMonitor(c *server.Client) {
	e.monMu.Lock()
	var list []*server.Client
	if p := e.monitors.Load(); p != nil {
		list = append(list, *p...)
	}
	list = append(list, c)
	e.monitors.Store(&list)
	e.monMu.Unlock()
}

func (e *Env) removeMonitor(c *server.Client) {
	e.monMu.Lock()
	defer e.monMu.Unlock()
	p := e.monitors.Load()
	if p == nil {
		return
	}
	var out []*server.Client
	for _, m := range *p {
		if m != c {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		e.monitors.Store(nil)
		return
	}
	e.monitors.Store(&out)
}

// RequirePass is the configured password of the default user, "" if none.
func (e *Env) RequirePass() string {
	if e.Password == nil {
		return ""
	}
	return e.Password()
}

func (e *Env) hz() int          { return e.Cfg.Hz() }
func (e *Env) maxClients() int  { return int(e.Cfg.MaxClients()) }
func (e *Env) maxMemory() int64 { return int64(e.Cfg.MaxMemory()) }
func (e *Env) maxMemoryPolicy() string {
	v, _ := e.Cfg.Value("maxmemory-policy")
	return v
}
