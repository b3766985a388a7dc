// Package app assembles a Runnel server from its parts (configuration,
// keyspace, pub/sub, command table, network server) and runs it. It is
// what cmd/runnel starts and what tests start in-process.
package app

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/runnel-io/runnel/internal/command"
	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/pubsub"
	"github.com/runnel-io/runnel/internal/server"
)

// App is one running Runnel server.
type App struct {
	Env    *command.Env
	Server *server.Server
	Table  *command.Table
	stop   context.CancelFunc
}

// staticSettings is used until the configuration is wired in.
type staticSettings struct{}

func (staticSettings) MaxClients() int             { return 10000 }
func (staticSettings) IdleTimeout() time.Duration  { return 0 }
func (staticSettings) TCPKeepAlive() time.Duration { return 300 * time.Second }
func (staticSettings) ProtoMaxBulkLen() int64      { return 512 << 20 }
func (staticSettings) QueryBufferLimit() int64     { return 1 << 30 }
func (staticSettings) PasswordRequired() bool      { return false }
func (staticSettings) ProtectedMode() bool         { return true }
func (staticSettings) OutputBufferLimit(class int) (int64, int64, int64) {
	if class == server.ClassPubSub {
		return 32 << 20, 8 << 20, 60
	}
	return 0, 0, 0
}

// New builds an App.
func New(log *slog.Logger) *App {
	ps := pubsub.New()
	env := &command.Env{PubSub: ps, Log: log}
	env.KS = engine.New(16, env)
	t := command.NewTable(env)
	srv := server.New(t, staticSettings{}, log)
	env.Srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	go env.KS.RunActiveExpiry(ctx, func() int { return 10 })
	return &App{Env: env, Server: srv, Table: t, stop: cancel}
}

// Serve accepts connections on l until Shutdown.
func (a *App) Serve(l net.Listener) error { return a.Server.Serve(l) }

// Shutdown stops the server gracefully.
func (a *App) Shutdown(ctx context.Context) error {
	a.stop()
	return a.Server.Shutdown(ctx)
}
