package app

import (
	"context"
	"runtime"
	"runtime/metrics"
	"testing"

	"github.com/redis/go-redis/v9"
)

// heapFreeBytes is the heap memory that is free and not yet returned to
// the OS (what MEMORY PURGE should give back).
func heapFreeBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestMemoryPurgeReturnsFreePages: after a large stream is deleted, MEMORY
// PURGE returns the freed pages to the OS at once, as Redis's does for
// jemalloc's dirty pages, instead of leaving them to Go's scavenger.
func TestMemoryPurgeReturnsFreePages(t *testing.T) {
	_, addr := startApp(t)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	value := make([]byte, 1024)
	for range 8 {
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for range 4000 {
				p.XAdd(ctx, &redis.XAddArgs{Stream: "big", Values: []any{"f", value}})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := rdb.Del(ctx, "big").Err(); err != nil {
		t.Fatal(err)
	}
	runtime.GC() // as the periodic GC would, later: the entries' pages are now free
	if free := heapFreeBytes(); free < 16<<20 {
		t.Fatalf("only %d bytes of free heap after deleting 32 MB of entries: the test measures nothing", free)
	}
	if got, err := rdb.Do(ctx, "MEMORY", "PURGE").Text(); err != nil || got != "OK" {
		t.Fatalf("MEMORY PURGE = %q, %v", got, err)
	}
	// 32 MB of entries were freed; what stays free and unreleased is what
	// the test's own goroutines allocated since.
	if free := heapFreeBytes(); free > 8<<20 {
		t.Fatalf("%d bytes of free heap not returned to the OS after MEMORY PURGE", free)
	}
}
