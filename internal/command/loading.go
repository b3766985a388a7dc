package command

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Loading: the server accepts clients while it loads its data directory,
// as Redis does. Until EndLoading, a command without the Loading flag gets
// -LOADING and INFO persistence shows the progress (loading_* fields).
//
// The fields the store sets while loading (Journal, Checkpointer,
// Persistence, Pager) are published by EndLoading: the commands that run
// during loading and BeforeFlush do not read them until they see loading
// end, so the atomic flag orders their writes before every read.

// loadState is the progress of a load in progress.
type loadState struct {
	active   atomic.Bool
	start    int64                        // unix seconds; set before active
	progress func() (loaded, total int64) // set before active
}

// BeginLoading marks the server as loading from now on; progress reports
// the bytes loaded so far and the total to load. It must be called before
// the server serves clients or while no command runs.
func (e *Env) BeginLoading(progress func() (loaded, total int64)) {
	e.loading.start = time.Now().Unix()
	e.loading.progress = progress
	e.loading.active.Store(true)
}

// EndLoading ends the load: every command is served again.
func (e *Env) EndLoading() { e.loading.active.Store(false) }

// Loading reports whether the data directory is being loaded.
func (e *Env) Loading() bool { return e.loading.active.Load() }

// infoLoading writes Redis's loading_* fields for the load in progress.
func (e *Env) infoLoading(b *infoBuilder) {
	loaded, total := e.loading.progress()
	perc, eta := 0.0, int64(1) // Redis's fake 1 s until it can tell
	if total > 0 {
		perc = float64(loaded) / float64(total) * 100
	}
	if elapsed := time.Now().Unix() - e.loading.start; elapsed > 0 && loaded > 0 {
		eta = elapsed * max(total-loaded, 0) / loaded
	}
	b.kvi("loading_start_time", e.loading.start)
	b.kvi("loading_total_bytes", total)
	b.kvi("loading_rdb_used_mem", 0) // no RDB: nothing recorded the writer's memory
	b.kvi("loading_loaded_bytes", loaded)
	b.kv("loading_loaded_perc", fmt.Sprintf("%.2f", perc))
	b.kvi("loading_eta_seconds", eta)
}
