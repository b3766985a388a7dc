// Package server owns the network side of Runnel: listeners, the accept loop
// with maxclients and protected mode, one goroutine per connection that
// parses pipelined commands with internal/resp and flushes the replies of a
// whole batch with one write, the per-connection state (protocol, selected
// database, name, reply mode), output-buffer limits, CLIENT PAUSE, idle
// timeouts, panic isolation and graceful Shutdown.
//
// It knows nothing of commands: a Handler (the command table, wired in by
// cmd/runnel) runs each command on the connection's goroutine and writes its
// reply to Client.W. Clients that receive messages from other goroutines
// (pub/sub, MONITOR) switch to asynchronous output: their bytes go through a
// mutex-guarded pending buffer drained by a writer goroutine, so a slow
// subscriber never blocks a publisher and is dropped at its
// client-output-buffer-limit instead.
//
// A handler parks its client with Client.Block (blocking commands); the
// client's goroutine then waits in a read of its socket, with the block
// deadline as read deadline, until another goroutine writes the reply and
// calls Client.Wake (block.go). Blocked clients cost no timer goroutine.
//
// Lock order inside this package: Server.mu -> Client.info; Client.outMu and
// Client.waitMu are leaves. No lock is held across a socket read; socket writes happen under
// no lock except by the client's own writer.
package server
