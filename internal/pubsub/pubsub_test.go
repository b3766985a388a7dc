package pubsub

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/resp"
)

// recorder is a Subscriber that keeps what it is sent, in one protocol.
type recorder struct {
	mu    sync.Mutex
	proto int
	got   []string
	gone  bool
}

func (r *recorder) Push(fn func(w *resp.Writer)) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := resp.Writer{Proto: r.proto}
	fn(&w)
	r.got = append(r.got, string(w.B))
	return !r.gone
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

func msg2(kind, ch, m string) string {
	return fmt.Sprintf("*3\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(kind), kind, len(ch), ch, len(m), m)
}

func TestPublishChannelsAndPatterns(t *testing.T) {
	r := New()
	a, b := &recorder{proto: 2}, &recorder{proto: 3}
	r.Locked(func(tx *Tx) {
		if !tx.Subscribe(a, "news") || tx.Subscribe(a, "news") {
			t.Fatal("Subscribe must report only the first subscription")
		}
		tx.Subscribe(b, "news")
		tx.PSubscribe(a, "n*")
		tx.PSubscribe(b, "x*")
	})
	if n := r.Publish([]byte("news"), []byte("hi")); n != 3 {
		t.Fatalf("Publish counted %d deliveries, want 3 (two channel, one pattern)", n)
	}
	if got := a.take(); !slices.Equal(got, []string{
		msg2("message", "news", "hi"),
		"*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n",
	}) {
		t.Fatalf("RESP2 subscriber got %q", got)
	}
	if got := b.take(); !slices.Equal(got, []string{">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"}) {
		t.Fatalf("RESP3 subscriber got %q", got)
	}
	if n := r.Publish([]byte("other"), []byte("x")); n != 0 {
		t.Fatalf("Publish to nobody counted %d", n)
	}
	// A subscriber that is gone still counts, as in Redis.
	b.gone = true
	if n := r.Publish([]byte("news"), []byte("x")); n != 3 {
		t.Fatalf("got %d", n)
	}
	if r.NumSub("news") != 2 || r.NumPat() != 2 || r.NumChannels() != 1 {
		t.Fatalf("counts: %d %d %d", r.NumSub("news"), r.NumPat(), r.NumChannels())
	}
	r.Locked(func(tx *Tx) {
		if !tx.Unsubscribe(a, "news") || tx.Unsubscribe(a, "news") {
			t.Fatal("Unsubscribe must report only a real subscription")
		}
		tx.Unsubscribe(b, "news")
		tx.PUnsubscribe(a, "n*")
	})
	if r.NumChannels() != 0 || r.NumPat() != 1 || len(r.Channels(nil)) != 0 {
		t.Fatal("empty channels must be forgotten")
	}
}

func TestShardChannels(t *testing.T) {
	r := New()
	a := &recorder{proto: 2}
	r.Locked(func(tx *Tx) {
		tx.SSubscribe(a, "s1")
		tx.SSubscribe(a, "s2")
		tx.PSubscribe(a, "s*")
		tx.Subscribe(a, "s1")
	})
	if n := r.SPublish([]byte("s1"), []byte("m")); n != 1 {
		t.Fatalf("SPublish counted %d", n)
	}
	if got := a.take(); !slices.Equal(got, []string{msg2("smessage", "s1", "m")}) {
		t.Fatalf("got %q (patterns and plain channels must not see shard messages)", got)
	}
	if got := r.ShardChannels(nil); !slices.Equal(got, []string{"s1", "s2"}) {
		t.Fatalf("ShardChannels %q", got)
	}
	if got := r.ShardChannels([]byte("*2")); !slices.Equal(got, []string{"s2"}) {
		t.Fatalf("ShardChannels *2 %q", got)
	}
	if r.ShardNumSub("s1") != 1 || r.NumShardChannels() != 2 || r.NumSub("s2") != 0 {
		t.Fatal("shard counts")
	}
	r.Locked(func(tx *Tx) { tx.SUnsubscribe(a, "s1") })
	if r.ShardNumSub("s1") != 0 {
		t.Fatal("SUnsubscribe")
	}
}

func TestChannelsSortedAndFiltered(t *testing.T) {
	r := New()
	a := &recorder{proto: 2}
	r.Locked(func(tx *Tx) {
		for _, ch := range []string{"b", "a", "c1", "c2", "[x"} {
			tx.Subscribe(a, ch)
		}
	})
	if got := r.Channels(nil); !slices.Equal(got, []string{"[x", "a", "b", "c1", "c2"}) {
		t.Fatalf("%q", got)
	}
	if got := r.Channels([]byte("c?")); !slices.Equal(got, []string{"c1", "c2"}) {
		t.Fatalf("%q", got)
	}
	if got := r.Channels([]byte(`\[*`)); !slices.Equal(got, []string{"[x"}) {
		t.Fatalf("%q", got)
	}
}

func TestNotifyKeyspace(t *testing.T) {
	r := New()
	a := &recorder{proto: 2}
	r.Locked(func(tx *Tx) { tx.PSubscribe(a, "__key*__:*") })
	r.NotifyKeyspace(engine.EventString, "set", 12, []byte("k"))
	if got := a.take(); len(got) != 0 {
		t.Fatalf("no flags set, got %q", got)
	}
	f, ok := ParseFlags("KE$")
	if !ok {
		t.Fatal("ParseFlags")
	}
	r.Flags.Store(uint32(f))
	r.NotifyKeyspace(engine.EventString, "set", 12, []byte("k"))
	r.NotifyKeyspace(engine.EventGeneric, "del", 0, []byte("k")) // not selected
	want := []string{
		"*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$17\r\n__keyspace@12__:k\r\n$3\r\nset\r\n",
		"*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$19\r\n__keyevent@12__:set\r\n$1\r\nk\r\n",
	}
	if got := a.take(); !slices.Equal(got, want) {
		t.Fatalf("got %q", got)
	}
}

func TestParseFormatFlags(t *testing.T) {
	cases := []struct {
		in, out string
		ok      bool
	}{
		{"", "", true},
		{"KEA", "AKE", true},
		{"Kg$", "g$K", true},
		{"Ex", "xE", true},
		{"AKEm", "AKEm", true},
		{"n", "n", true},
		{"An", "A", true}, // Redis prints n only when A is not complete
		{"Kz", "zK", true},
		{"q", "", false},
		{"KEA?", "", false},
	}
	for _, c := range cases {
		f, ok := ParseFlags(c.in)
		if ok != c.ok {
			t.Errorf("ParseFlags(%q) ok=%v", c.in, ok)
			continue
		}
		if ok && FormatFlags(f) != c.out {
			t.Errorf("FormatFlags(ParseFlags(%q)) = %q, want %q", c.in, FormatFlags(f), c.out)
		}
	}
}

// Publishing concurrently with (un)subscribing is safe (run with -race).
func TestConcurrentPublish(t *testing.T) {
	r := New()
	var wg sync.WaitGroup
	subs := make([]*recorder, 8)
	for i := range subs {
		subs[i] = &recorder{proto: 2 + i%2}
	}
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 500 {
				r.Publish([]byte(fmt.Sprint("c", j%5)), []byte("m"))
				_ = i
			}
		}()
	}
	for _, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				ch := fmt.Sprint("c", j%5)
				r.Locked(func(tx *Tx) {
					tx.Subscribe(s, ch)
					tx.PSubscribe(s, "c*")
				})
				r.Locked(func(tx *Tx) {
					tx.Unsubscribe(s, ch)
					tx.PUnsubscribe(s, "c*")
				})
			}
		}()
	}
	wg.Wait()
	if r.NumChannels() != 0 || r.NumPat() != 0 {
		t.Fatal("subscriptions left over")
	}
}
