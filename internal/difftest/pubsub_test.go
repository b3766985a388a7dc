package difftest

// Differential tests of Pub/Sub: subscription confirmations and messages
// are compared byte for byte, in RESP2 (arrays) and RESP3 (pushes).

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/redistest"
)

// silence is how long a test waits to be sure that nothing is delivered.
const silence = 100 * time.Millisecond

// receiveN reads n more replies from each server, requiring identical
// bytes.
func receiveN(t *testing.T, p *redistest.Pair, n int) {
	t.Helper()
	for range n {
		if !p.Receive() {
			return
		}
	}
}

// receiveUnordered reads n (un)subscribe confirmations from each server
// whose order Redis leaves to its hash table (UNSUBSCRIBE and SUNSUBSCRIBE
// without arguments): the counts must come in the same sequence and the
// confirmations must be the same set.
func receiveUnordered(t *testing.T, p *redistest.Pair, n int) {
	t.Helper()
	read := func(c *redistest.Conn) (names []string, counts []int64) {
		for range n {
			v, err := redistest.Parse(c.ReadReply())
			if err != nil || len(v.Elems) != 3 {
				t.Fatalf("bad confirmation %v %v", v, err)
			}
			names = append(names, v.Elems[0].Str+" "+v.Elems[1].Str)
			counts = append(counts, v.Elems[2].Int)
			// Everything but the channel name must be the same bytes.
			v.Elems[1] = redistest.Value{Kind: redistest.KindBulk}
		}
		slices.Sort(names)
		return names, counts
	}
	rn, rc := read(p.Runnel)
	sn, sc := read(p.Redis)
	if !slices.Equal(rn, sn) || !slices.Equal(rc, sc) {
		t.Errorf("unsubscribe confirmations differ:\nrunnel %q %v\nredis  %q %v", rn, rc, sn, sc)
	}
}

func TestPubSubSubscribeAndPublish(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := secondPair(t, s)
		p.Do("SUBSCRIBE", "news", "sport", "news") // a repeated channel is confirmed again
		receiveN(t, p, 2)
		q.Do("PUBLISH", "news", "hello")
		p.Receive()
		q.Do("PUBLISH", "sport", "a\r\nbinary\x00\xff message")
		p.Receive()
		q.Do("PUBLISH", "weather", "nobody listens")
		q.Do("PUBLISH", "news", "")
		p.Receive()
		q.Do("PUBSUB", "NUMSUB", "news", "sport", "weather")
		q.Do("PUBSUB", "NUMSUB")
		q.DoSorted("PUBSUB", "CHANNELS")
		q.DoSorted("PUBSUB", "CHANNELS", "n*")
		q.DoSorted("PUBSUB", "CHANNELS", "x*")

		p.Do("PSUBSCRIBE", "n*", "s?ort", "w[ae]ather")
		receiveN(t, p, 2)
		q.Do("PUBSUB", "NUMPAT")
		// A channel message first, then the pattern's.
		q.Do("PUBLISH", "news", "both")
		receiveN(t, p, 2)
		q.Do("PUBLISH", "weather", "pattern only")
		p.Receive()
		q.Do("PUBLISH", "nope", "pattern n*")
		p.Receive()

		p.Do("UNSUBSCRIBE", "news", "unknown")
		p.Receive()
		q.Do("PUBLISH", "news", "pattern only now")
		p.Receive()
		p.Do("PUNSUBSCRIBE", "n*", "nomatch")
		p.Receive()
		q.Do("PUBLISH", "news", "nobody")
		p.ExpectSilence(silence)
		q.Do("PUBLISH", "sport", "still")
		receiveN(t, p, 2) // channel, then s?ort
		p.Do("UNSUBSCRIBE")
		p.Do("PUNSUBSCRIBE")
		receiveN(t, p, 1)
		q.Do("PUBLISH", "sport", "nobody")
		q.Do("PUBSUB", "NUMPAT")
		q.Do("PUBSUB", "CHANNELS")
		p.ExpectSilence(silence)
		// Out of Pub/Sub mode: ordinary commands work again.
		p.Do("PING")
		p.Do("SET", "k", "v")
	})
}

// Unsubscribing from nothing still answers, with a null name and count 0.
func TestPubSubUnsubscribeNothing(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("UNSUBSCRIBE")
		p.Do("PUNSUBSCRIBE")
		p.Do("SUNSUBSCRIBE")
		p.Do("UNSUBSCRIBE", "a", "b")
		p.Receive()
		p.Do("PUNSUBSCRIBE", "a*")
		p.Do("SUNSUBSCRIBE", "x")
		p.Do("PING")
		// Subscribed to patterns only: UNSUBSCRIBE of channels answers
		// with the pattern count.
		p.Do("PSUBSCRIBE", "p1", "p2")
		p.Receive()
		p.Do("UNSUBSCRIBE")
		p.Do("SUNSUBSCRIBE")
		// Patterns leave in subscription order.
		p.Do("PSUBSCRIBE", "z", "a", "m")
		receiveN(t, p, 2)
		p.Do("PUNSUBSCRIBE")
		receiveN(t, p, 4)
		p.Do("PING")
	})
}

// UNSUBSCRIBE without arguments leaves the channels in hash table order.
func TestPubSubUnsubscribeAll(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := secondPair(t, s)
		var chans []string
		for i := range 20 {
			chans = append(chans, fmt.Sprintf("ch%d", i))
		}
		p.Do(append([]string{"SUBSCRIBE"}, chans...)...)
		receiveN(t, p, len(chans)-1)
		p.Do("PSUBSCRIBE", "ch1*")
		p.Runnel.WriteRaw(redistest.Command("UNSUBSCRIBE"))
		p.Redis.WriteRaw(redistest.Command("UNSUBSCRIBE"))
		receiveUnordered(t, p, len(chans))
		q.Do("PUBLISH", "ch3", "x")
		q.Do("PUBLISH", "ch12", "x")
		p.Receive()
		q.Do("PUBSUB", "NUMSUB", "ch1", "ch12")

		p.Do("SSUBSCRIBE", "s1", "s2", "s3")
		receiveN(t, p, 2)
		p.Runnel.WriteRaw(redistest.Command("SUNSUBSCRIBE"))
		p.Redis.WriteRaw(redistest.Command("SUNSUBSCRIBE"))
		receiveUnordered(t, p, 3)
		p.Do("PUNSUBSCRIBE")
		p.Do("PING")
	})
}

// Messages arrive in publishing order, however fast they are published.
func TestPubSubOrdering(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := secondPair(t, s)
		p.Do("SUBSCRIBE", "c1", "c2")
		p.Receive()
		p.Do("PSUBSCRIBE", "c*")
		var raw []byte
		const n = 200
		for i := range n {
			raw = append(raw, redistest.Command("PUBLISH", fmt.Sprintf("c%d", 1+i%2), fmt.Sprint("message ", i, strings.Repeat("x", i)))...)
		}
		q.WriteRaw(raw)
		receiveN(t, q, n)
		receiveN(t, p, 2*n)
		p.ExpectSilence(silence)
	})
}

// In RESP2 a subscribed client may only (un)subscribe, PING, QUIT and
// RESET; in RESP3 anything goes.
func TestPubSubContext(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := secondPair(t, s)
		p.Do("SUBSCRIBE", "a")
		p.Do("PING")
		p.Do("PING", "hello")
		p.Do("PING", "a", "b")
		p.Do("GET", "k")
		p.Do("SET", "k", "v")
		// Refused in RESP2; in RESP3 the message to itself comes before
		// the reply.
		if r, v := p.Runnel.Do("PUBLISH", "a", "self"), p.Redis.Do("PUBLISH", "a", "self"); !bytes.Equal(r, v) {
			t.Errorf("PUBLISH to itself: runnel %q, redis %q", r, v)
		} else if v[0] == '>' {
			p.Receive()
		}
		p.Do("PUBSUB", "CHANNELS")
		p.Do("PUBSUB", "NUMSUB", "a")
		p.Do("MULTI")
		p.Do("EXEC")
		p.Do("NOSUCHCOMMAND")
		p.Do("GET")
		p.Do("SUBSCRIBE")
		p.Do("SELECT", "1")
		p.DoLoosely("CLIENT", "ID") // ids differ
		p.Do("PSUBSCRIBE", "x*")
		p.Do("SSUBSCRIBE", "s")
		p.Do("UNSUBSCRIBE", "a")
		p.Do("PUNSUBSCRIBE", "x*")
		p.Do("GET", "k") // shard subscription still counts
		p.Do("PING")
		p.Do("SUNSUBSCRIBE", "s")
		p.Do("GET", "k")
		p.Do("PING")
		// RESET leaves Pub/Sub mode without confirmations.
		p.Do("SUBSCRIBE", "a")
		p.Do("PSUBSCRIBE", "b*")
		p.Do("SSUBSCRIBE", "c")
		p.Do("RESET")
		q.Do("PUBLISH", "a", "x")
		q.Do("PUBLISH", "bb", "x")
		q.Do("SPUBLISH", "c", "x")
		p.Do("PING")
		p.ExpectSilence(silence)
		// QUIT is allowed.
		p.Do("SUBSCRIBE", "a")
		p.Do("QUIT")
		p.Runnel.ExpectClosed()
		p.Redis.ExpectClosed()
		q.Do("PUBSUB", "NUMSUB", "a")
	})
}

func TestPubSubShard(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := secondPair(t, s)
		p.Do("SSUBSCRIBE", "s1", "s2")
		p.Receive()
		p.Do("SUBSCRIBE", "s1") // a separate namespace; counts apart
		q.Do("SPUBLISH", "s1", "shard message")
		p.Receive()
		q.Do("PUBLISH", "s1", "plain message")
		p.Receive()
		q.Do("SPUBLISH", "s3", "nobody")
		q.DoSorted("PUBSUB", "SHARDCHANNELS")
		q.DoSorted("PUBSUB", "SHARDCHANNELS", "*2")
		q.Do("PUBSUB", "SHARDNUMSUB", "s1", "s2", "s3")
		q.Do("PUBSUB", "SHARDNUMSUB")
		p.Do("PSUBSCRIBE", "s*") // patterns do not see shard messages
		q.Do("SPUBLISH", "s2", "shard only")
		p.Receive()
		p.ExpectSilence(silence)
		p.Do("SUNSUBSCRIBE", "s1", "s9")
		p.Receive()
		p.Do("UNSUBSCRIBE")
		p.Do("PUNSUBSCRIBE")
		p.Do("SUNSUBSCRIBE")
		p.Do("PING")
	})
}

func TestPubSubIntrospection(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		p.Do("PUBSUB")
		p.Do("PUBSUB", "HELP")
		p.Do("pubsub", "help")
		p.Do("PUBSUB", "HELP", "x")
		p.Do("PUBSUB", "NOSUCH")
		p.Do("PUBSUB", "CHANNELS", "a", "b")
		p.Do("PUBSUB", "SHARDCHANNELS", "a", "b")
		p.Do("PUBSUB", "NUMPAT", "x")
		p.Do("PUBSUB", "NUMSUB", "a", "b", "a")
		p.Do("PUBSUB", "SHARDNUMSUB", "a")
		p.Do("PUBSUB", "CHANNELS")
		p.Do("PUBLISH", "a")
		p.Do("PUBLISH", "a", "b", "c")
		p.Do("SPUBLISH", "a")
		p.Do("PUBLISH", "a", "b")
		p.Do("SPUBLISH", "a", "b")
		p.Do("SUBSCRIBE")
		p.Do("PSUBSCRIBE")
		p.Do("SSUBSCRIBE")
	})
}

// SUBSCRIBE inside MULTI is allowed (its confirmations are elements of the
// EXEC reply); SSUBSCRIBE is refused there.
func TestPubSubInMulti(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := secondPair(t, s)
		p.Do("MULTI")
		p.Do("PING")
		p.Do("SUBSCRIBE", "a", "b")
		p.Do("PING")
		p.Do("PSUBSCRIBE", "c*")
		p.Do("SSUBSCRIBE", "s")
		p.Do("PING", "x")
		p.Do("EXEC")
		q.Do("PUBLISH", "a", "after exec")
		p.Receive()
		q.Do("PUBLISH", "cc", "pattern")
		p.Receive()
		p.Do("UNSUBSCRIBE", "a", "b")
		p.Receive()
		p.Do("PUNSUBSCRIBE")
		p.Do("PING")
	})
}

// Glob patterns as Redis's stringmatchlen.
func TestPubSubPatterns(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := secondPair(t, s)
		pats := []string{"h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo", `h\*llo`, "*", "[", "a\\", "H*"}
		// Several patterns matching one channel are visited in Redis's hash
		// table order, so each pattern is tried on its own.
		chans := []string{"hello", "hallo", "hxllo", "heeeello", "h*llo", "hllo", "a\\", "[", "HELLO", ""}
		for _, pat := range pats {
			p.Do("PSUBSCRIBE", pat)
			delivered := 0
			for _, ch := range chans {
				q.Do("PUBLISH", ch, "m")
				if string(q.Redis.Do("PUBSUB", "NUMPAT")) != ":1\r\n" {
					t.Fatal("NUMPAT")
				}
				if string(q.Redis.Do("PUBLISH", ch, "again")) == ":1\r\n" {
					delivered++
				}
				q.Runnel.Do("PUBLISH", ch, "again")
			}
			// Each matched channel delivered "m" then "again" to both.
			receiveN(t, p, 2*delivered)
			p.Do("PUNSUBSCRIBE", pat)
		}
		p.ExpectSilence(silence)
	})
}

// Keyspace notifications are published on __keyspace@<db>__ and
// __keyevent@<db>__ channels when notify-keyspace-events selects them.
func TestPubSubKeyspaceNotifications(t *testing.T) {
	s := startServers(t)
	eachProto(t, s, func(t *testing.T, p *redistest.Pair) {
		q := secondPair(t, s)
		if !q.Do("CONFIG", "SET", "notify-keyspace-events", "KEA") {
			return
		}
		defer q.Do("CONFIG", "SET", "notify-keyspace-events", "")
		p.Do("PSUBSCRIBE", "__key*__:*")
		q.Do("SET", "foo", "bar")
		receiveN(t, p, 2)
		q.Do("DEL", "foo")
		receiveN(t, p, 2)
		q.Do("SELECT", "3")
		q.Do("SET", "k", "v")
		receiveN(t, p, 2)
		q.Do("SELECT", "0")
		q.Do("CONFIG", "SET", "notify-keyspace-events", "E$")
		q.Do("SET", "foo", "bar")
		p.Receive()
		q.Do("DEL", "foo") // generic events are not selected
		p.ExpectSilence(silence)
	})
}

// A subscriber that never reads is disconnected at the pub/sub hard output
// buffer limit (32mb), without blocking the publisher or other clients.
// Runnel only: the reference cannot be compared on timing.
func TestPubSubSlowSubscriberRunnel(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes about 64 MB")
	}
	_, addr := startRunnel(t)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(64 << 10) // keep what the kernel absorbs small
	}
	if _, err := nc.Write(redistest.Command("SUBSCRIBE", "firehose")); err != nil {
		t.Fatal(err)
	}
	pub := redistest.Dial(t, addr)
	other := redistest.Dial(t, addr)
	// Wait until the subscription is registered.
	deadline := time.Now().Add(5 * time.Second)
	for string(pub.Do("PUBSUB", "NUMSUB", "firehose")) != "*2\r\n$8\r\nfirehose\r\n:1\r\n" {
		if time.Now().After(deadline) {
			t.Fatal("subscription not registered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	msg := strings.Repeat("x", 256<<10)
	start := time.Now()
	dropped := false
	for i := range 400 { // up to 100 MB
		t0 := time.Now()
		got := string(pub.Do("PUBLISH", "firehose", msg))
		if d := time.Since(t0); d > 2*time.Second {
			t.Fatalf("PUBLISH %d took %v: the publisher is blocked", i, d)
		}
		if got == ":0\r\n" {
			dropped = true
			t.Logf("subscriber dropped after %d messages (%d MB) in %v", i, i*len(msg)>>20, time.Since(start))
			if i*len(msg) < 32<<20 {
				t.Fatalf("dropped after only %d bytes", i*len(msg))
			}
			break
		}
		if got != ":1\r\n" {
			t.Fatalf("PUBLISH replied %q", got)
		}
		if i%20 == 0 {
			if r := string(other.Do("PING")); r != "+PONG\r\n" {
				t.Fatalf("other client: %q", r)
			}
		}
	}
	if !dropped {
		t.Fatal("the subscriber that never reads was not disconnected")
	}
	// The dropped subscriber's connection is closed: reading drains what
	// was buffered and then ends.
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1<<20)
	for {
		if _, err := nc.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the dropped subscriber's connection is still open")
			}
			break
		}
	}
	if r := string(other.Do("PING")); r != "+PONG\r\n" {
		t.Fatalf("other client after: %q", r)
	}
}
