// Package resp implements the Redis serialization protocol (RESP2 and RESP3)
// as a zero-copy command reader and an append-style reply writer.
//
// The Reader owns one connection's input buffer. ReadCommand returns the
// arguments of the next command as slices into that buffer: they are valid
// only until the next call to ReadCommand or Fill, and a caller that keeps an
// argument must copy it. The Reader enforces the protocol limits Redis
// enforces (proto-max-bulk-len, inline and count-line sizes, the query buffer
// limit, the unauthenticated limits) and grows its buffer only as data
// actually arrives, so a declared 4 GB bulk never allocates 4 GB.
//
// The Writer appends replies to a byte slice for one protocol version. Types
// RESP2 lacks (maps, sets, doubles, booleans, verbatim strings, pushes,
// nulls) are written in the RESP2 form Redis itself uses when the client
// speaks RESP2. The Writer never allocates except to grow its slice.
//
// Neither type is safe for concurrent use; each belongs to the goroutine that
// serves one connection.
package resp
