// Package loadgen generates stream workloads against any server that speaks
// RESP2 (redis-server and Runnel alike) and measures them: throughput and an
// HDR latency histogram in microseconds.
//
// It owns three things: a lean pipelined client (Conn: commands are appended
// to one buffer and sent with one write per pipeline batch), a pull-style
// reply Reader that skips replies and extracts XREADGROUP entries (IDs and
// one chosen field's value) without allocating per reply once its buffers
// are warm, and the workloads themselves (Produce, Consume, Latency, FanOut,
// ManyStreams, Memory, Idle), each a function of a context and an options
// struct that returns a Result. Memory and Idle measure the server itself
// through INFO (used_memory_rss; used_cpu_sys and used_cpu_user), which
// redis-server and Runnel both report.
//
// It speaks only standard Redis commands and knows nothing of the server's
// internals; it imports no Runnel package except internal/resp's Append
// helpers.
//
// Concurrency contract: a Conn and its Reader belong to one goroutine and
// are not safe for concurrent use. The workload functions start their own
// goroutines, one per connection, and return only after all of them have
// ended; each goroutine records into its own histogram and the histograms
// are merged at the end, so the hot path shares nothing but a few atomic
// counters. Workloads are safe to run concurrently on different keys.
// Cancelling the context closes the workload's connections and makes it
// return the context's error.
package loadgen
