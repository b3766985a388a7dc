// Package redistest is the test-only harness for differential testing of
// Runnel against a real Redis server.
//
// It owns three things: starting and stopping a throwaway redis-server
// (StartRedis), a raw RESP2/RESP3 client that returns replies byte for byte
// (Conn, Parse, Value), and the differential Pair that sends the same command
// to Runnel and to Redis and fails the test when the replies differ. Golden
// file helpers live here too.
//
// The package is imported only from _test.go files; production code must not
// depend on it. It deliberately imports no other Runnel package: callers start
// the in-process Runnel server themselves and pass its address.
//
// The package registers the -update test flag (see Update); test packages
// that import it must not define their own flag with that name.
package redistest
