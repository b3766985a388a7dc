// Package command owns the command table and every command's semantics:
// lookup, arity, authentication, MULTI queueing, the lock scope of each
// command (its keys, or the whole keyspace), statistics, MONITOR and SLOWLOG
// feeds, and one file per command group (cmd_<group>.go) with thin handlers
// over the engine's keyspace and the data types.
//
// A Table implements server.Handler. Serve runs on the connection's
// goroutine; a handler runs with its keys' shards locked (Ctx.Tx), writes
// its reply to Ctx.W, and never blocks while holding them. Exact Redis error
// texts live in errors.go.
//
// With a data directory open (Env.Journal, Env.Pager), a command that
// changed the keyspace is appended to the write-ahead log before its locks
// are released, and the streams it used page nodes out to the memory budget
// (journal.go, paging.go); BeforeFlush then holds the connection's replies
// until what they reflect is durable. Replay re-executes logged operations
// at startup; meanwhile (Env.BeginLoading to EndLoading) clients are served
// -LOADING except for the commands Redis allows while loading, and the
// store's Env fields are not read until loading ends (loading.go).
package command
