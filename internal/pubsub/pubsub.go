// Package pubsub owns the channel and pattern subscriptions of all clients,
// message delivery (PUBLISH) and keyspace notifications.
//
// A Registry is safe for concurrent use. Delivery appends to subscribers'
// asynchronous output (Subscriber.Push) under the registry's read lock, so a
// subscription confirmation written under the write lock always precedes the
// messages delivered through that subscription. Lock order: a keyspace shard
// (for notifications) -> Registry.mu -> the subscriber's output mutex.
package pubsub

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/glob"
	"github.com/runnel-io/runnel/internal/resp"
)

// Subscriber receives messages. Push appends a message built by fn to the
// subscriber's output; it is called with the registry lock held and must not
// block or call back into the Registry. It reports false when the subscriber
// is gone (closed, or dropped for exceeding its output buffer limit).
type Subscriber interface {
	Push(fn func(w *resp.Writer)) bool
}

// Registry maps channels, patterns and shard channels to subscribers.
type Registry struct {
	mu       sync.RWMutex
	channels map[string]map[Subscriber]struct{}
	patterns map[string]map[Subscriber]struct{}
	shard    map[string]map[Subscriber]struct{}

	// Flags returns the notify-keyspace-events mask (engine.Event bits).
	Flags atomic.Uint32
}

// New returns an empty Registry.
func New() *Registry {
	return &Registry{
		channels: make(map[string]map[Subscriber]struct{}),
		patterns: make(map[string]map[Subscriber]struct{}),
		shard:    make(map[string]map[Subscriber]struct{}),
	}
}

// Locked runs fn with the registry locked for writing; subscription
// commands use it so that their confirmations are ordered with messages.
func (r *Registry) Locked(fn func(tx *Tx)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(&Tx{r})
}

// Tx changes subscriptions under the registry's write lock.
type Tx struct{ r *Registry }

// Subscribe adds s to channel; it reports whether s was not subscribed yet.
func (t *Tx) Subscribe(s Subscriber, channel string) bool { return add(t.r.channels, s, channel) }

// Unsubscribe removes s from channel; it reports whether s was subscribed.
func (t *Tx) Unsubscribe(s Subscriber, channel string) bool { return remove(t.r.channels, s, channel) }

// PSubscribe adds s to pattern.
func (t *Tx) PSubscribe(s Subscriber, pattern string) bool { return add(t.r.patterns, s, pattern) }

// PUnsubscribe removes s from pattern.
func (t *Tx) PUnsubscribe(s Subscriber, pattern string) bool {
	return remove(t.r.patterns, s, pattern)
}

// SSubscribe adds s to a shard channel.
func (t *Tx) SSubscribe(s Subscriber, channel string) bool { return add(t.r.shard, s, channel) }

// SUnsubscribe removes s from a shard channel.
func (t *Tx) SUnsubscribe(s Subscriber, channel string) bool {
	return remove(t.r.shard, s, channel)
}

func add(m map[string]map[Subscriber]struct{}, s Subscriber, name string) bool {
	set := m[name]
	if set == nil {
		set = make(map[Subscriber]struct{})
		m[name] = set
	}
	if _, ok := set[s]; ok {
		return false
	}
	set[s] = struct{}{}
	return true
}

func remove(m map[string]map[Subscriber]struct{}, s Subscriber, name string) bool {
	set := m[name]
	if _, ok := set[s]; !ok {
		return false
	}
	delete(set, s)
	if len(set) == 0 {
		delete(m, name)
	}
	return true
}

// message holds one encoded message in both protocols; the frames differ
// only in the aggregate header (*n in RESP2, >n in RESP3).
type message struct {
	resp2, resp3 []byte
}

func (m *message) push(w *resp.Writer) {
	if w.Proto == 3 {
		w.Raw(m.resp3)
	} else {
		w.Raw(m.resp2)
	}
}

// encode builds a message frame of the given bulk strings.
func encode(parts ...[]byte) message {
	n := 8
	for _, p := range parts {
		n += len(p) + 16
	}
	b := make([]byte, 0, 2*n)
	w := resp.Writer{B: b, Proto: 2}
	w.Push(len(parts))
	for _, p := range parts {
		w.Bulk(p)
	}
	m := message{resp2: w.B}
	w = resp.Writer{B: w.B[len(w.B):], Proto: 3}
	w.Push(len(parts))
	for _, p := range parts {
		w.Bulk(p)
	}
	m.resp3 = w.B
	return m
}

var (
	kindMessage  = []byte("message")
	kindPMessage = []byte("pmessage")
	kindSMessage = []byte("smessage")
)

// Publish delivers msg to the subscribers of channel, then to those of every
// matching pattern (Redis's pubsubPublishMessage), and returns the number of
// deliveries: a client subscribed to the channel and to two matching
// patterns counts three times. As in Redis, a subscriber dropped for
// exceeding its output buffer limit by this very message still counts.
func (r *Registry) Publish(channel, msg []byte) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	if subs := r.channels[string(channel)]; len(subs) > 0 {
		m := encode(kindMessage, channel, msg)
		for s := range subs {
			s.Push(m.push)
			n++
		}
	}
	if len(r.patterns) == 0 {
		return n
	}
	ch := string(channel)
	for pat, subs := range r.patterns {
		if !glob.MatchString(pat, ch, false) {
			continue
		}
		m := encode(kindPMessage, []byte(pat), channel, msg)
		for s := range subs {
			s.Push(m.push)
			n++
		}
	}
	return n
}

// SPublish delivers msg to the subscribers of a shard channel (patterns do
// not apply) and returns how many there were.
func (r *Registry) SPublish(channel, msg []byte) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	subs := r.shard[string(channel)]
	if len(subs) == 0 {
		return 0
	}
	m := encode(kindSMessage, channel, msg)
	for s := range subs {
		s.Push(m.push)
	}
	return len(subs)
}

// Channels lists the active channels matching pattern (all if nil), sorted
// (Redis's order is its hash table's).
func (r *Registry) Channels(pattern []byte) []string { return r.list(r.channels, pattern) }

// ShardChannels lists the active shard channels matching pattern.
func (r *Registry) ShardChannels(pattern []byte) []string { return r.list(r.shard, pattern) }

func (r *Registry) list(m map[string]map[Subscriber]struct{}, pattern []byte) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for ch := range m {
		if pattern == nil || glob.Match(pattern, []byte(ch), false) {
			out = append(out, ch)
		}
	}
	sort.Strings(out)
	return out
}

// NumSub is the number of subscribers of channel.
func (r *Registry) NumSub(channel string) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.channels[channel])
}

// ShardNumSub is the number of subscribers of a shard channel.
func (r *Registry) ShardNumSub(channel string) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.shard[channel])
}

// NumPat is the number of distinct patterns subscribed to.
func (r *Registry) NumPat() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.patterns)
}

// NumChannels is the number of channels with subscribers.
func (r *Registry) NumChannels() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.channels)
}

// NumShardChannels is the number of shard channels with subscribers.
func (r *Registry) NumShardChannels() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.shard)
}

// NotifyKeyspace publishes a keyspace event if the configured flags select
// its class: "__keyspace@<db>__:<key>" -> event (K) and
// "__keyevent@<db>__:<event>" -> key (E).
func (r *Registry) NotifyKeyspace(class engine.Event, event string, db int, key []byte) {
	flags := engine.Event(r.Flags.Load())
	if flags&class == 0 {
		return
	}
	r.mu.RLock()
	none := len(r.channels) == 0 && len(r.patterns) == 0
	r.mu.RUnlock()
	if none {
		return // nobody could receive it: build nothing
	}
	if flags&engine.EventKeyspace != 0 {
		ch := make([]byte, 0, 24+len(key))
		ch = append(ch, "__keyspace@"...)
		ch = appendInt(ch, db)
		ch = append(ch, "__:"...)
		ch = append(ch, key...)
		r.Publish(ch, []byte(event))
	}
	if flags&engine.EventKeyevent != 0 {
		ch := make([]byte, 0, 24+len(event))
		ch = append(ch, "__keyevent@"...)
		ch = appendInt(ch, db)
		ch = append(ch, "__:"...)
		ch = append(ch, event...)
		r.Publish(ch, key)
	}
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// The notify-keyspace-events letters, in the order Redis prints them.
var flagLetters = []struct {
	c byte
	f engine.Event
}{
	{'g', engine.EventGeneric}, {'$', engine.EventString}, {'l', engine.EventList},
	{'s', engine.EventSet}, {'h', engine.EventHash}, {'z', engine.EventZSet},
	{'x', engine.EventExpired}, {'e', engine.EventEvicted}, {'t', engine.EventStream},
	{'d', engine.EventModule}, {'n', engine.EventNew},
}

// eventAll is what 'A' stands for: every class except m and n.
const eventAll = engine.EventGeneric | engine.EventString | engine.EventList | engine.EventSet |
	engine.EventHash | engine.EventZSet | engine.EventExpired | engine.EventEvicted |
	engine.EventStream | engine.EventModule

// ParseFlags parses a notify-keyspace-events value (keyspaceEventsStringToFlags).
func ParseFlags(s string) (engine.Event, bool) {
	var f engine.Event
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 'A':
			f |= eventAll
		case 'K':
			f |= engine.EventKeyspace
		case 'E':
			f |= engine.EventKeyevent
		case 'm':
			f |= engine.EventKeyMiss
		default:
			found := false
			for _, l := range flagLetters {
				if l.c == c {
					f |= l.f
					found = true
				}
			}
			if !found {
				return 0, false
			}
		}
	}
	return f, true
}

// FormatFlags prints flags as CONFIG GET does (keyspaceEventsFlagsToString).
func FormatFlags(f engine.Event) string {
	var b []byte
	if f&eventAll == eventAll {
		b = append(b, 'A')
	} else {
		for _, l := range flagLetters {
			if f&l.f != 0 {
				b = append(b, l.c)
			}
		}
	}
	if f&engine.EventKeyspace != 0 {
		b = append(b, 'K')
	}
	if f&engine.EventKeyevent != 0 {
		b = append(b, 'E')
	}
	if f&engine.EventKeyMiss != 0 {
		b = append(b, 'm')
	}
	return string(b)
}
