// Package apptest starts in-process Runnel servers for tests in other
// packages. It owns nothing but that helper; only tests import it.
//
// Concurrency: each call starts its own server, stopped when the test
// ends; servers share nothing.
package apptest

import (
	"context"
	"net"
	"testing"

	"github.com/runnel-io/runnel/internal/app"
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
