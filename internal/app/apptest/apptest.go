// Package apptest starts in-process Runnel servers for tests in other
// packages: in memory (Start) or on a data directory that survives a
// restart (StartDurable). It owns nothing but those helpers; only tests
// import it.
//
// Concurrency: each call starts its own server, stopped when the test
// ends; servers share nothing.
package apptest

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/app"
	"github.com/runnel-io/runnel/internal/config"
)

// Start runs an in-memory Runnel (default configuration, no data
// directory) on a free loopback port until the test ends, and returns it
// with its address.
func Start(tb testing.TB) (*app.App, string) {
	tb.Helper()
	a := app.New(nil, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go a.Serve(l)
	tb.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	return a, l.Addr().String()
}

// Durable is an in-process Runnel with a data directory (default
// configuration: appendfsync always), which a test may stop and start
// again on the same directory and port, as a restart of the server.
type Durable struct {
	tb   testing.TB
	dir  string
	addr string
	app  *app.App
}

// StartDurable runs Runnel on dir (created if missing) on a free loopback
// port until the test ends.
func StartDurable(tb testing.TB, dir string) *Durable {
	tb.Helper()
	d := &Durable{tb: tb, dir: dir, addr: "127.0.0.1:0"}
	d.start()
	tb.Cleanup(d.Stop)
	return d
}

// Addr is the server's address; a restart keeps it.
func (d *Durable) Addr() string { return d.addr }

// Stop shuts the server down gracefully (a checkpoint, as SHUTDOWN does);
// it may be called again.
func (d *Durable) Stop() {
	if d.app != nil {
		if err := d.app.Shutdown(context.Background()); err != nil {
			d.tb.Errorf("apptest: shutdown: %v", err)
		}
		d.app = nil
	}
}

// Restart stops the server and starts it again on the same directory and
// address. It stops as a crash would leave it: SHUTDOWN NOSAVE writes no
// final checkpoint, so what the server answers then is what it recovers
// from its write-ahead log.
func (d *Durable) Restart() {
	d.tb.Helper()
	c, err := net.Dial("tcp", d.addr)
	if err != nil {
		d.tb.Fatal(err)
	}
	// The server closes the connection rather than answer.
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n")); err != nil {
		d.tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, c)
	c.Close()
	<-d.app.ShutdownRequested()
	d.Stop()
	d.start()
}

func (d *Durable) start() {
	d.tb.Helper()
	cfg := config.New()
	if err := cfg.ParseArgs([]string{"--dir", d.dir}); err != nil {
		d.tb.Fatal(err)
	}
	a := app.New(cfg, nil)
	if err := a.OpenStore(app.StoreOptions{}); err != nil {
		_ = a.Shutdown(context.Background())
		d.tb.Fatal(err)
	}
	var l net.Listener
	var err error
	// The port may linger for a moment after the previous server closed it.
	for try := 0; ; try++ {
		if l, err = net.Listen("tcp", d.addr); err == nil || try == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		_ = a.Shutdown(context.Background())
		d.tb.Fatal(err)
	}
	d.addr = l.Addr().String()
	d.app = a
	go a.Serve(l)
}
