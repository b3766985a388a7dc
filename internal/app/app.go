// Package app assembles a Runnel server from its parts (configuration,
// keyspace, pub/sub, command table, network server), wires configuration
// changes to them, and runs it. cmd/runnel starts it; tests start it
// in-process.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runnel-io/runnel/internal/command"
	"github.com/runnel-io/runnel/internal/config"
	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/pubsub"
	"github.com/runnel-io/runnel/internal/server"
	"github.com/runnel-io/runnel/internal/store"
)

// App is one Runnel server.
type App struct {
	Cfg    *config.Config
	Env    *command.Env
	Server *server.Server
	Table  *command.Table
	log    *slog.Logger

	stop     context.CancelFunc
	shutdown chan struct{} // closed by SHUTDOWN
	stopped  chan struct{} // closed by Shutdown
	once     sync.Once
	stopOnce sync.Once
	// noSave is set by SHUTDOWN NOSAVE: no final checkpoint.
	noSave atomic.Bool
	// persist is the data directory, once OpenStore has opened it.
	persist *persistence
	// loadingFrom is the store OpenStore is loading (INFO's progress).
	loadingFrom atomic.Pointer[store.Store]
}

// BeginLoading marks the server as loading its data directory, so that
// clients served before OpenStore returns get -LOADING for everything but
// the commands Redis allows while loading, and INFO persistence shows the
// progress. Call it before serving; OpenStore ends the loading state.
func (a *App) BeginLoading() {
	a.Env.BeginLoading(func() (int64, int64) {
		if st := a.loadingFrom.Load(); st != nil {
			return st.LoadProgress()
		}
		return 0, 0
	})
}

// settings adapts the configuration to what the network layer reads.
type settings struct{ c *config.Config }

func (s settings) MaxClients() int            { return int(s.c.MaxClients()) }
func (s settings) IdleTimeout() time.Duration { return time.Duration(s.c.Timeout()) * time.Second }
func (s settings) TCPKeepAlive() time.Duration {
	return time.Duration(s.c.TCPKeepAlive()) * time.Second
}
func (s settings) ProtoMaxBulkLen() int64  { return s.c.ProtoMaxBulkLen() }
func (s settings) QueryBufferLimit() int64 { return s.c.ClientQueryBufferLimit() }
func (s settings) PasswordRequired() bool  { return s.c.RequirePass() != "" }
func (s settings) ProtectedMode() bool     { return s.c.ProtectedMode() }
func (s settings) OutputBufferLimit(class int) (int64, int64, int64) {
	l := s.c.ClientOutputBufferLimit(config.ClientClass(class))
	return int64(l.Hard), int64(l.Soft), l.SoftSeconds
}

// New builds an App from cfg (config.New() for the defaults). log may be
// nil to discard logs.
func New(cfg *config.Config, log *slog.Logger) *App {
	if cfg == nil {
		cfg = config.New()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ps := pubsub.New()
	env := &command.Env{PubSub: ps, Log: log, Cfg: cfg, ConfigFile: cfg.ConfigFile()}
	env.KS = engine.New(cfg.Databases(), env)
	env.Password = cfg.RequirePass
	env.Slowlog.Threshold = func() time.Duration {
		us := cfg.SlowlogLogSlowerThan()
		if us < 0 {
			return -1
		}
		return time.Duration(us) * time.Microsecond
	}
	env.Slowlog.MaxLen = func() int { return int(cfg.SlowlogMaxLen()) }
	t := command.NewTable(env)
	srv := server.New(t, settings{cfg}, log)
	env.Srv = srv
	// Set before serving: it does nothing until a journal is published.
	srv.BeforeFlush = t.BeforeFlush
	a := &App{Cfg: cfg, Env: env, Server: srv, Table: t, log: log, shutdown: make(chan struct{}), stopped: make(chan struct{})}
	env.Shutdown = a.requestShutdown

	ps.Flags.Store(uint32(cfg.NotifyKeyspaceEvents()))
	cfg.OnChange(func() error {
		ps.Flags.Store(uint32(cfg.NotifyKeyspaceEvents()))
		return nil
	}, "notify-keyspace-events")

	ctx, cancel := context.WithCancel(context.Background())
	a.stop = cancel
	go env.KS.RunActiveExpiry(ctx, cfg.Hz)
	return a
}

// ApplyRenames applies the rename-command directives of the configuration;
// an unknown command is a configuration error.
func (a *App) ApplyRenames() error {
	for _, r := range a.Cfg.Renames() {
		if err := a.Table.Rename(r.From, r.To); err != nil {
			return err
		}
	}
	return nil
}

// Listen opens the listeners named by bind and port ("-" before an address
// makes it optional, as in Redis).
func (a *App) Listen() ([]net.Listener, error) {
	port := a.Cfg.Port()
	var ls []net.Listener
	for _, addr := range a.Cfg.Bind() {
		optional := strings.HasPrefix(addr, "-")
		addr = strings.TrimPrefix(addr, "-")
		if addr == "*" {
			addr = "0.0.0.0"
		}
		l, err := net.Listen("tcp", net.JoinHostPort(addr, fmt.Sprint(port)))
		if err != nil {
			if optional {
				a.log.Warn("skipping optional bind address", "addr", addr, "err", err)
				continue
			}
			for _, l := range ls {
				l.Close()
			}
			return nil, fmt.Errorf("listen on %s port %d: %w", addr, port, err)
		}
		ls = append(ls, l)
	}
	if len(ls) == 0 {
		return nil, fmt.Errorf("no address to listen on (bind %q)", strings.Join(a.Cfg.Bind(), " "))
	}
	if tcp, ok := ls[0].Addr().(*net.TCPAddr); ok {
		a.Env.Port = tcp.Port
	}
	return ls, nil
}

// Serve accepts connections on l until Shutdown.
func (a *App) Serve(l net.Listener) error {
	if a.Env.Port == 0 {
		if tcp, ok := l.Addr().(*net.TCPAddr); ok {
			a.Env.Port = tcp.Port
		}
	}
	return a.Server.Serve(l)
}

// ShutdownRequested is closed when a client runs SHUTDOWN.
func (a *App) ShutdownRequested() <-chan struct{} { return a.shutdown }

func (a *App) requestShutdown(save bool) error {
	if !save {
		a.noSave.Store(true)
	}
	a.once.Do(func() { close(a.shutdown) })
	return nil
}

// Shutdown stops the server gracefully: no new connections, in-flight
// commands finish and their replies are sent; then, if a data directory is
// open, a final checkpoint is written (unless SHUTDOWN NOSAVE) and the log
// is synced and closed.
func (a *App) Shutdown(ctx context.Context) error {
	a.stop()
	a.stopOnce.Do(func() { close(a.stopped) })
	err := a.Server.Shutdown(ctx)
	if serr := a.closeStore(!a.noSave.Load()); err == nil {
		err = serr
	}
	return err
}
