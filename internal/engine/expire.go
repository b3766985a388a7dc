package engine

import (
	"context"
	"time"
)

// Active expiry, as Redis's activeExpireCycle: sample volatile keys and
// delete the expired ones, repeating while many of the sample had expired.
const (
	expireSample      = 20
	expireRepeatRatio = 4 // repeat while more than 1/4 of a sample expired
)

// RunActiveExpiry reclaims expired keys hz times a second until ctx ends.
func (ks *Keyspace) RunActiveExpiry(ctx context.Context, hz func() int) {
	// One timer, reset each cycle: the loop allocates nothing (the
	// allocation tests count every goroutine's allocations).
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		h := max(1, hz())
		t.Reset(time.Second / time.Duration(h))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ks.ExpireCycle(NowMs(), 25*time.Millisecond/time.Duration(h)*10)
	}
}

// ExpireCycle runs one active-expiry pass over every shard within budget.
// Keys with blocked clients that it deletes are served (OnReady) once it
// has released its locks.
func (ks *Keyspace) ExpireCycle(now int64, budget time.Duration) {
	start := time.Now()
	var ready []ReadyKey
	defer func() {
		if len(ready) > 0 && ks.onReady != nil {
			ks.onReady(ready)
		}
	}()
	for i := range ks.shards {
		s := &ks.shards[i]
		ks.barrier.RLock()
		s.mu.Lock()
		for db := range s.dbs {
			d := &s.dbs[db]
			for len(d.expires) > 0 {
				sampled, expired := 0, 0
				for e := range d.expires {
					if sampled == expireSample {
						break
					}
					sampled++
					if e.expired(now) {
						ks.expireEntry(s, db, e, &ready)
						if ks.onExpire != nil {
							s.logSeq = ks.onExpire(db, e.key, now)
						}
						expired++
					}
				}
				if expired*expireRepeatRatio <= sampled {
					break
				}
			}
		}
		s.mu.Unlock()
		ks.barrier.RUnlock()
		if time.Since(start) > budget {
			return
		}
	}
}
