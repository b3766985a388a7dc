// Package config owns Runnel's server configuration: the parameter table
// (names, aliases, types, bounds, defaults, mutability, one-line docs), the
// parsing of redis.conf-style files and of redis-server style command-line
// arguments, and the semantics of CONFIG GET, CONFIG SET and CONFIG REWRITE.
//
// The reference for every behaviour is Redis 7.0.15: value syntax (memory
// units, yes/no, enums, strict integers), the exact error texts of CONFIG
// SET and of the config file loader, the output format of CONFIG GET and
// the way CONFIG REWRITE edits a file in place. Runnel deliberately differs
// only in a few defaults (bind, dir, appendfsync, save); see table.go.
//
// # Concurrency contract
//
// A *Config is safe for concurrent use.
//
//   - Every bool, integer and enum parameter lives in an atomic.Int64, so
//     the typed accessors used on the hot path (Timeout, MaxClients,
//     ProtoMaxBulkLen, ClientQueryBufferLimit, RequirePass, AppendFsync,
//     NotifyKeyspaceEvents, StreamNodeMaxEntries, ...) never take a lock.
//     A reader may observe a multi-parameter CONFIG SET half applied; each
//     individual value is always consistent.
//   - Strings and structured ("special") values sit behind a RWMutex.
//     Get (CONFIG GET) and Rewrite see a consistent snapshot.
//   - Writers (Set, Load, ParseArgs) are serialised by a separate mutex, and
//     on-change hooks run while it is held: hooks may read the Config but
//     must not call Set, Load or ParseArgs.
//
// Hooks registered with OnChange run only after CONFIG SET (Set), never for
// values coming from Load or ParseArgs: the server reads the loaded values
// once when it starts.
package config
