package nodestore

import (
	"sync"
	"sync/atomic"
)

const (
	// maxCacheShards bounds the shard count; shards get at least
	// minShardBytes each, so that a small cache still holds whole nodes.
	maxCacheShards = 32
	minShardBytes  = 1 << 20
	// entryOverhead is charged per cached node on top of its buffer: the
	// entry struct and its map slot.
	entryOverhead = 112
)

// cache is a sharded LRU of node payloads keyed by NodeRef, bounded in
// bytes. Cached payloads are never modified and never reused for other
// data, so a payload read under a shard's lock may be copied after the lock
// is released even if the entry is evicted meanwhile.
type cache struct {
	shards   []cacheShard
	shift    uint         // 64 - log2(len(shards))
	capacity atomic.Int64 // total bytes; <= 0: the cache is off
}

type cacheShard struct {
	mu        sync.Mutex
	m         map[NodeRef]*centry
	lru       centry // sentinel: lru.next is the most recently used
	bytes     int64  // charged bytes held
	cap       int64  // the shard's share of the capacity
	hits      uint64
	evictions uint64
	_         [64]byte // keep neighbouring shards' locks off one cache line
}

type centry struct {
	ref        NodeRef
	data       []byte // the payload, aliasing the record buffer read from disk
	charge     int64
	prev, next *centry
}

// newCache returns a cache of capacity bytes (off when <= 0). The shard
// count is fixed here, from the initial capacity.
func newCache(capacity int64) *cache {
	n := 1
	for n < maxCacheShards && capacity/int64(2*n) >= minShardBytes {
		n *= 2
	}
	c := &cache{shards: make([]cacheShard, n), shift: 64}
	for k := n; k > 1; k >>= 1 {
		c.shift--
	}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.m = make(map[NodeRef]*centry)
		sh.lru.next, sh.lru.prev = &sh.lru, &sh.lru
	}
	c.setCapacity(capacity)
	return c
}

func (c *cache) shard(ref NodeRef) *cacheShard {
	h := ref.Seg*0x9E3779B97F4A7C15 ^ uint64(ref.Off)*0xC2B2AE3D27D4EB4F
	h ^= h >> 31
	h *= 0x94D049BB133111EB
	return &c.shards[h>>c.shift] // a shift by 64 gives 0: one shard
}

// get appends the cached payload of ref to dst[:0]. It allocates nothing
// when dst has the capacity.
func (c *cache) get(ref NodeRef, dst []byte) ([]byte, bool) {
	if c.capacity.Load() <= 0 {
		return dst, false
	}
	sh := c.shard(ref)
	sh.mu.Lock()
	e, ok := sh.m[ref]
	if !ok {
		sh.mu.Unlock()
		return dst, false
	}
	sh.unlink(e)
	sh.pushFront(e)
	sh.hits++
	data := e.data
	sh.mu.Unlock()
	return append(dst[:0], data...), true
}

// fits reports whether a node whose record buffer is size bytes would be
// cached.
func (c *cache) fits(size int) bool {
	return c.capacity.Load() > 0 && int64(size)+entryOverhead <= c.capacity.Load()/int64(len(c.shards))
}

// put caches data (a payload inside a buffer of bufCap bytes) for ref,
// evicting the least recently used nodes of its shard to make room.
func (c *cache) put(ref NodeRef, data []byte, bufCap int) {
	sh := c.shard(ref)
	charge := int64(bufCap) + entryOverhead
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[ref]; ok {
		sh.unlink(e)
		sh.pushFront(e)
		return
	}
	if charge > sh.cap {
		return
	}
	e := &centry{ref: ref, data: data, charge: charge}
	sh.m[ref] = e
	sh.pushFront(e)
	sh.bytes += charge
	sh.evictLocked()
}

// remove drops ref from the cache, if it is there.
func (c *cache) remove(ref NodeRef) {
	if c.capacity.Load() <= 0 {
		return // an off cache is empty: setCapacity emptied it
	}
	sh := c.shard(ref)
	sh.mu.Lock()
	if e, ok := sh.m[ref]; ok {
		sh.drop(e)
	}
	sh.mu.Unlock()
}

// setCapacity changes the total capacity and evicts down to it.
func (c *cache) setCapacity(capacity int64) {
	c.capacity.Store(capacity)
	per := max(capacity, 0) / int64(len(c.shards))
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		sh.cap = per
		sh.evictLocked()
		sh.mu.Unlock()
	}
}

type cacheStats struct {
	bytes     int64
	entries   int
	hits      uint64
	evictions uint64
}

func (c *cache) stats() cacheStats {
	var st cacheStats
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		st.bytes += sh.bytes
		st.entries += len(sh.m)
		st.hits += sh.hits
		st.evictions += sh.evictions
		sh.mu.Unlock()
	}
	return st
}

// evictLocked drops least recently used entries while the shard is over
// its capacity. sh.mu must be held.
func (sh *cacheShard) evictLocked() {
	for sh.bytes > sh.cap && sh.lru.prev != &sh.lru {
		sh.drop(sh.lru.prev)
		sh.evictions++
	}
}

// drop removes e from the shard. sh.mu must be held.
func (sh *cacheShard) drop(e *centry) {
	sh.unlink(e)
	delete(sh.m, e.ref)
	sh.bytes -= e.charge
}

func (sh *cacheShard) unlink(e *centry) {
	e.prev.next = e.next
	e.next.prev = e.prev
}

func (sh *cacheShard) pushFront(e *centry) {
	e.prev = &sh.lru
	e.next = sh.lru.next
	sh.lru.next.prev = e
	sh.lru.next = e
}
