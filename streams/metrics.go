package streams

import (
	"sync/atomic"
	"time"
)

// Counters counts what Workers report; pass its Observe as
// WorkerOptions.Events (several Workers may share one), and read the
// counters from anywhere, for a metrics endpoint or a summary. For other
// metrics systems, write an Events function of your own the same way.
type Counters struct {
	Handled      atomic.Int64 // messages acknowledged after their handler succeeded
	Failed       atomic.Int64 // handler failures that will be retried
	DeadLettered atomic.Int64 // messages moved to the dead-letter stream
	Reclaimed    atomic.Int64 // messages taken over from another consumer
	Errors       atomic.Int64 // commands that failed (the message comes back)
	// HandlerNanos is the handlers' total run time, successes and failures.
	HandlerNanos atomic.Int64
}

// Observe counts ev.
func (c *Counters) Observe(ev Event) {
	switch ev.Kind {
	case EventHandled:
		c.Handled.Add(1)
	case EventFailed:
		c.Failed.Add(1)
	case EventDeadLettered:
		c.DeadLettered.Add(1)
	case EventReclaimed:
		c.Reclaimed.Add(1)
	case EventError:
		c.Errors.Add(1)
	}
	if ev.Duration > 0 {
		c.HandlerNanos.Add(int64(ev.Duration / time.Nanosecond))
	}
}
